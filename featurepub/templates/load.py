"""One template folder: read, checked in all three tiers, and given the metadata it is published with."""

from __future__ import annotations

import os
from pathlib import Path

from featurepub.errors import Problem, Tier
from featurepub.features import archive
from featurepub.features.metadata import parse_metadata
from featurepub.features.model import Feature
from featurepub.kinds import TEMPLATE
from featurepub.templates.config import read_config
from featurepub.templates.enrich import enrich, layer_files
from featurepub.templates.validate import check_files, check_metadata


def load_template(directory: Path, *, expected_id: str | None) -> tuple[Feature | None, list[Problem]]:
    """The template in `directory` (None when an ERROR-tier problem stops it) and every finding, all tiers."""
    metadata_path = directory / TEMPLATE.metadata_file
    metadata, problems = parse_metadata(metadata_path, TEMPLATE.name)
    if not os.path.lexists(metadata_path):
        return None, problems  # not a template at all: that one line says it
    if metadata is not None:
        problems = check_metadata(metadata, metadata_path, expected_id=expected_id)
    config, config_problems = read_config(directory)
    problems.extend(config_problems)
    tree = archive.scan(directory, TEMPLATE.ignore_file)
    # One line per file: a file's own reading problem says more than the tree's.
    reported = {p.path for p in problems if p.tier is Tier.ERROR}
    problems.extend(p for p in tree.problems if p.path not in reported)
    if metadata is not None:
        problems.extend(check_files(metadata, metadata_path, tree))
    if metadata is None or config is None or any(p.tier is Tier.ERROR for p in problems):
        return None, problems
    published = enrich(metadata, directory, config.type, layer_files(tree), config.data)
    return Feature(directory, metadata, TEMPLATE, published), problems

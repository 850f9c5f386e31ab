"""A loaded feature or template: its folder, its kind and its parsed metadata (kept in file order).

With schema validation off, any field but id and version may have a shape the schema refuses;
the accessors below return what a consumer could use and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurepub.kinds import FEATURE, ArtifactKind

METADATA_FILE = FEATURE.metadata_file
INSTALL_SCRIPT = "install.sh"


@dataclass(frozen=True)
class Feature:
    """A feature, or a template (`kind`): both are loaded, packaged and published alike.

    `enriched` is what the kind adds to the metadata when it is packaged (a template's `type`,
    `files`, ...), computed once when the folder is loaded; None when the metadata goes out as written.
    """

    directory: Path
    metadata: dict[str, Any]
    kind: ArtifactKind = FEATURE
    enriched: dict[str, Any] | None = None

    @property
    def metadata_path(self) -> Path:
        return self.directory / self.kind.metadata_file

    @property
    def id(self) -> str:
        return str(self.metadata["id"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", self.id))

    @property
    def legacy_ids(self) -> list[str]:
        """Old ids it is also published under (features only: the reference CLI ignores them on templates)."""
        value = self.metadata.get("legacyIds") if self.kind.legacy_ids else None
        return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []

    @property
    def repository_names(self) -> list[str]:
        """Its id, then each legacy id once: the repositories it is published to."""
        return list(dict.fromkeys([self.id, *self.legacy_ids]))

    @property
    def depends_on(self) -> dict[str, Any]:
        """Feature reference -> options: an object, or a string (the shorthand for a version)."""
        value = self.metadata.get("dependsOn")
        return dict(value) if isinstance(value, dict) else {}

    @property
    def installs_after(self) -> list[str]:
        value = self.metadata.get("installsAfter")
        return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []

    @property
    def published_metadata(self) -> dict[str, Any]:
        """The metadata as consumers see it, in the layer and the annotation: a template's enriched
        metadata; for a feature with legacy ids the reference CLI appends `currentId`, so a feature
        fetched by an old id knows its current one. Otherwise the metadata as written (the same object)."""
        if self.enriched is not None:
            return self.enriched
        if self.kind.legacy_ids and self.metadata.get("legacyIds"):  # the reference CLI tests `.length > 0`
            return {**self.metadata, "currentId": self.id}
        return self.metadata

    @property
    def archive_name(self) -> str:
        return self.kind.archive_name(self.id)

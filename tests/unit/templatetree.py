"""Helpers that build template folders on disk for unit tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TEMPLATE_METADATA = "devcontainer-template.json"
CONFIG = ".devcontainer/devcontainer.json"
IMAGE_CONFIG = {"name": "x", "image": "mcr.microsoft.com/devcontainers/base:bookworm"}


def minimal_template(template_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": template_id, "version": "1.0.0", "name": f"The {template_id} template", **extra}


def write_template(
    parent: Path,
    template_id: str,
    metadata: dict[str, Any] | str | None = None,
    *,
    config: dict[str, Any] | str | None = None,
    files: Mapping[str, bytes | str] | None = None,
) -> Path:
    """Create `parent/template_id/` with its metadata (a dict or raw text), a devcontainer.json (an image's
    unless given; "" for none) and `files`."""
    folder = parent / template_id
    folder.mkdir(parents=True, exist_ok=True)
    if metadata is None:
        metadata = minimal_template(template_id)
    text = json.dumps(metadata, indent=4) if isinstance(metadata, dict) else metadata
    (folder / TEMPLATE_METADATA).write_text(text, encoding="utf-8")
    if config is None:
        config = IMAGE_CONFIG
    if config != "":
        (folder / ".devcontainer").mkdir(exist_ok=True)
        body = json.dumps(config, indent=4) if isinstance(config, dict) else config
        (folder / CONFIG).write_text(body, encoding="utf-8")
    for name, content in (files or {}).items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return folder

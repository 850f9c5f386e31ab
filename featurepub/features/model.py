"""A loaded feature: its folder and its parsed metadata (kept in file order)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

METADATA_FILE = "devcontainer-feature.json"
INSTALL_SCRIPT = "install.sh"


@dataclass(frozen=True)
class Feature:
    directory: Path
    metadata: dict[str, Any]

    @property
    def metadata_path(self) -> Path:
        return self.directory / METADATA_FILE

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
        return [str(x) for x in self.metadata.get("legacyIds") or []]

    @property
    def depends_on(self) -> dict[str, Any]:
        value = self.metadata.get("dependsOn") or {}
        return dict(value)

    @property
    def installs_after(self) -> list[str]:
        return [str(x) for x in self.metadata.get("installsAfter") or []]

    @property
    def published_metadata(self) -> dict[str, Any]:
        """The metadata as consumers see it: the reference CLI appends `currentId` when the
        feature has legacy ids, so a feature fetched by an old id knows its current one."""
        if self.legacy_ids:
            return {**self.metadata, "currentId": self.id}
        return self.metadata

    @property
    def archive_name(self) -> str:
        return f"devcontainer-feature-{self.id}.tgz"

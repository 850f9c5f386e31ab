"""A loaded feature: its folder and its parsed metadata (kept in file order).

With schema validation off, any field but id and version may have a shape the schema refuses;
the accessors below return what a consumer could use and nothing else.
"""

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
        value = self.metadata.get("legacyIds")
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
        """The metadata as consumers see it: the reference CLI appends `currentId` when the
        feature has legacy ids, so a feature fetched by an old id knows its current one."""
        if self.metadata.get("legacyIds"):  # the reference CLI tests `legacyIds.length > 0`
            return {**self.metadata, "currentId": self.id}
        return self.metadata

    @property
    def archive_name(self) -> str:
        return f"devcontainer-feature-{self.id}.tgz"

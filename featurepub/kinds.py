"""The two kinds of Dev Container artifact featurepub publishes, and every name that differs between them.

Features and templates go through the same loading, packaging, planning and publishing code; what
differs is data (the metadata file, the layer's file name, the ghcr.io package type, the collection's
key) plus the rules that check and enrich a folder, which live in featurepub.features and
featurepub.templates. The names follow the spec's distribution documents and what the reference CLI
writes (`devcontainer features|templates publish`).
"""

from __future__ import annotations

from dataclasses import dataclass

# Most file systems take at most 255 bytes in a file name; the layer's file name holds the id.
_MAX_FILE_NAME = 255


@dataclass(frozen=True)
class ArtifactKind:
    name: str  # "feature" or "template", as in devcontainer-<name>.json and the reference CLI's commands
    collection_key: str  # the list in devcontainer-collection.json: "features" or "templates"
    ignore_file: str | None  # a gitignore-style file in the folder that leaves files out of the layer
    legacy_ids: bool  # `legacyIds` entries are published as repositories of their own

    @property
    def metadata_file(self) -> str:
        return f"devcontainer-{self.name}.json"

    @property
    def package_type(self) -> str:
        """`com.github.package.type` on ghcr.io."""
        return f"devcontainer_{self.name}"

    @property
    def plural(self) -> str:
        return self.collection_key

    def archive_name(self, artifact_id: str) -> str:
        return f"devcontainer-{self.name}-{artifact_id}.tgz"

    @property
    def max_id_length(self) -> int:
        """The longest id whose layer file name still fits in a file name."""
        return _MAX_FILE_NAME - len(self.archive_name(""))

    def count(self, number: int) -> str:
        """`1 template`, `3 features`."""
        return f"{number} {self.name if number == 1 else self.plural}"


FEATURE = ArtifactKind("feature", "features", ignore_file=".featureignore", legacy_ids=True)
TEMPLATE = ArtifactKind("template", "templates", ignore_file=None, legacy_ids=False)
KINDS = (FEATURE, TEMPLATE)


def kind_named(name: str) -> ArtifactKind:
    """The kind called `name` ("feature" or "template"); ValueError for any other."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise ValueError(f"no artifact kind {name!r}")

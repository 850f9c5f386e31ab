"""Push an OCI image layout (one `publish --layout` wrote, or another tool) to a registry.

What goes where is read from each index.json descriptor's `org.opencontainers.image.ref.name`,
never guessed: `<repository>:<tag>` (what featurepub writes) goes to that repository, which
must lie under the namespace; a bare `<tag>` (what oras or `skopeo copy oci:DIR:TAG` write)
goes to `<namespace>/<repository>` for the repository given explicitly. A descriptor without a
ref name is never pushed. Every blob a selected descriptor needs is checked (present, right
size, right digest) before anything is pushed. index.json and every manifest are read
defensively (oci/document.py): a digest that is not one (`sha256:../../etc/passwd`) is refused
before any file is opened, and a manifest over 4 MiB before it is read.

The order is publish's safe order: per repository, blobs, then exact versions, then other
tags, `latest` last; the namespace's own repository (the collection) after every other. An
existing exact version (X.Y.Z) with other content is left alone unless forced, and then the
other tags of that manifest in that repository are held back too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from featurepub.cancel import Cancellation
from featurepub.errors import EXIT_INTERRUPTED, ContentError, FeaturepubError, InputError
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob, Descriptor
from featurepub.oci.digest import file_digest
from featurepub.oci.document import MAX_MANIFEST_BYTES, Document, parse_document
from featurepub.oci.layout import INDEX_FILE, MARKER_FILE, blob_path, read_index, ref_name
from featurepub.oci.manifest import Manifest
from featurepub.publishing.events import Event, EventKind, Listener, ignore
from featurepub.publishing.report import INCOMPLETE, Status
from featurepub.reference import has_explicit_registry, is_valid_tag, parse_repository
from featurepub.targets.base import Target

_EXACT_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?")
_MAX_DEPTH = 4


@dataclass(frozen=True)
class LayoutRef:
    """One descriptor of index.json and the ref name it carries (None when it has none)."""

    ref_name: str | None
    descriptor: Descriptor


@dataclass(frozen=True)
class PushItem:
    ref_name: str
    repository: str
    tag: str
    descriptor: Descriptor


@dataclass
class RefResult:
    ref_name: str
    repository: str
    tag: str
    digest: str
    status: Status = Status.NOT_ATTEMPTED
    bytes_uploaded: int = 0
    note: str | None = None
    error: str | None = None
    error_exit_code: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "refName": self.ref_name,
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
            "status": self.status.value,
            "bytesUploaded": self.bytes_uploaded,
        }
        if self.note:
            out["note"] = self.note
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class LayoutPushReport:
    layout: str
    target: str
    namespace: str
    results: list[RefResult] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # descriptors without a ref name, by digest
    dry_run: bool = False
    interrupted: str | None = None  # why the push was stopped before it finished (e.g. "SIGINT")

    @property
    def ok(self) -> bool:
        return all(r.status not in INCOMPLETE for r in self.results)

    @property
    def exit_code(self) -> int:
        if self.ok:
            return 0
        if self.interrupted:
            return EXIT_INTERRUPTED
        return next((r.error_exit_code for r in self.results if r.error_exit_code), 1)

    @property
    def bytes_uploaded(self) -> int:
        return sum(r.bytes_uploaded for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "layout": self.layout,
            "target": self.target,
            "namespace": self.namespace,
            "dryRun": self.dry_run,
            "interrupted": self.interrupted,
            "bytesUploaded": self.bytes_uploaded,
            "refs": [r.to_json() for r in self.results],
            "ignored": list(self.ignored),
        }


# --- reading the layout ------------------------------------------------------------------


class OciLayout:
    """A read-only view of an OCI image layout folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        marker = root / MARKER_FILE
        index_path = root / INDEX_FILE
        if not root.is_dir():
            raise InputError(f"{root}: not a folder", hint="give the folder `publish --layout` wrote")
        if not marker.is_file() or not index_path.is_file():
            raise InputError(
                f"{root}: not an OCI image layout (no oci-layout or index.json file)",
                hint="give the folder `publish --layout` (or skopeo, oras, buildx) wrote",
            )
        self.index = read_index(root)
        self.refs = [LayoutRef(ref_name(entry), Descriptor.from_json(entry)) for entry in self.index["manifests"]]

    @property
    def ref_names(self) -> list[str]:
        return [r.ref_name for r in self.refs if r.ref_name]

    def blob_path(self, digest: str) -> Path:
        return blob_path(self.root, digest)

    def checked_blob(self, descriptor: Descriptor) -> Blob:
        """The blob for `descriptor`, after checking it is there with the size and digest it claims."""
        path = self.blob_path(descriptor.digest)
        if not path.is_file():
            raise InputError(f"{self.root}: blob {descriptor.digest} is missing from blobs/")
        digest, size = file_digest(path)
        if digest != descriptor.digest or size != descriptor.size:
            raise InputError(
                f"{path}: content does not match its descriptor "
                f"(digest {digest}, size {size}; expected {descriptor.digest}, size {descriptor.size})"
            )
        return Blob.from_file(descriptor, path)

    def manifest(self, descriptor: Descriptor) -> tuple[Manifest, Document]:
        """A manifest or index the layout holds, checked against its descriptor, and read."""
        if descriptor.size > MAX_MANIFEST_BYTES:
            raise InputError(
                f"{self.blob_path(descriptor.digest)}: a manifest of {descriptor.size} bytes, over the "
                f"{MAX_MANIFEST_BYTES} bytes registries accept"
            )
        blob = self.checked_blob(descriptor)
        assert blob.path is not None
        data = blob.path.read_bytes()
        try:
            document = parse_document(data, descriptor.media_type, what=str(blob.path))
        except ContentError as exc:
            raise InputError(
                exc.message, hint="the layout holds a manifest that breaks the OCI image spec"
            ) from None
        return Manifest(data, document.media_type), document


@dataclass(frozen=True)
class Closure:
    """Everything one top-level descriptor needs, in push order: blobs, then child manifests."""

    top: Manifest
    blobs: tuple[Blob, ...]
    children: tuple[Manifest, ...]


def closure(layout: OciLayout, descriptor: Descriptor) -> Closure:
    blobs: dict[str, Blob] = {}
    children: list[Manifest] = []

    def visit(desc: Descriptor, depth: int) -> Manifest:
        if depth > _MAX_DEPTH:
            raise InputError(f"{layout.root}: indexes nested deeper than {_MAX_DEPTH} levels")
        manifest, document = layout.manifest(desc)
        if document.is_index:
            for entry in document.entries:
                child = visit(entry.descriptor, depth + 1)
                if child.digest not in {c.digest for c in children}:
                    children.append(child)
        else:
            for blob_desc in document.descriptors:
                if blob_desc.digest not in blobs:
                    blobs[blob_desc.digest] = layout.checked_blob(blob_desc)
        return manifest

    top = visit(descriptor, 0)
    return Closure(top, tuple(blobs.values()), tuple(children))


# --- deciding where each ref goes -----------------------------------------------------------


def destination(ref_name: str, namespace: str, repository: str | None) -> tuple[str, str]:
    """(repository, tag) for a ref name; see the module docstring for the rules."""
    if ":" not in ref_name and "/" not in ref_name and "@" not in ref_name:
        if not is_valid_tag(ref_name):
            raise InputError(f"ref name {ref_name!r} is not a valid tag")
        if repository is None:
            raise InputError(
                f"ref name {ref_name!r} is a bare tag: it does not say which repository it belongs to",
                hint=f"name it with --repository ID (pushed to {namespace}/ID)",
            )
        return parse_repository(f"{namespace}/{repository}"), ref_name
    path, sep, tag = ref_name.rpartition(":")
    if not sep or "/" in tag or not is_valid_tag(tag):
        raise InputError(f"ref name {ref_name!r} is not <repository>:<tag>")
    if has_explicit_registry(path):
        # e.g. `ghcr.io/org/features/x:1` (buildx, containerd): the host is not part of the repository.
        path = path.split("/", 1)[1]
    path = parse_repository(path, what=f"ref name {ref_name!r}: repository")
    if path != namespace and not path.startswith(namespace + "/"):
        raise InputError(
            f"ref name {ref_name!r} is not under the namespace {namespace!r}",
            hint="push with the --namespace the layout was written for (`publish --namespace`)",
        )
    return path, tag


def select(
    layout: OciLayout, namespace: str, refs: Iterable[str] = (), repository: str | None = None
) -> tuple[list[PushItem], list[str]]:
    """The descriptors to push (all named ones, or those named in `refs`), and those ignored."""
    namespace = parse_repository(namespace, what="namespace")
    wanted = list(dict.fromkeys(refs))
    named = [r for r in layout.refs if r.ref_name]
    ignored = [r.descriptor.digest for r in layout.refs if not r.ref_name]
    if not named:
        raise InputError(
            f"{layout.root}: no descriptor in index.json has an {mediatypes.ANNOTATION_REF_NAME} annotation",
            hint="featurepub pushes only what a ref name says where to push; name the descriptors",
        )
    by_name: dict[str, list[LayoutRef]] = {}
    for ref in named:
        assert ref.ref_name is not None
        by_name.setdefault(ref.ref_name, []).append(ref)
    for name, found in by_name.items():
        if len({r.descriptor.digest for r in found}) > 1:
            raise InputError(f"{layout.root}: ref name {name!r} is on several descriptors with different digests")
    missing = [name for name in wanted if name not in by_name]
    if missing:
        raise InputError(
            f"{layout.root}: no descriptor named {', '.join(repr(m) for m in missing)}",
            hint=f"the layout has: {', '.join(sorted(by_name))}",
        )
    chosen = wanted or list(by_name)
    if wanted:
        ignored = []
    items = []
    for name in chosen:
        descriptor = by_name[name][0].descriptor
        target_repository, tag = destination(name, namespace, repository)
        items.append(PushItem(name, target_repository, tag, descriptor))
    return _ordered(items, namespace), ignored


def _tag_rank(tag: str) -> int:
    if _EXACT_VERSION.fullmatch(tag):
        return 0
    return 2 if tag == "latest" else 1


def _ordered(items: list[PushItem], namespace: str) -> list[PushItem]:
    repositories = list(dict.fromkeys(i.repository for i in items))
    repositories.sort(key=lambda r: r == namespace)  # the collection last; stable otherwise
    ordered = []
    for repo in repositories:
        mine = [i for i in items if i.repository == repo]
        ordered.extend(sorted(mine, key=lambda i: _tag_rank(i.tag)))
    return ordered


# --- pushing ---------------------------------------------------------------------------------


def push_layout(
    layout_dir: Path,
    target: Target,
    namespace: str,
    *,
    refs: Iterable[str] = (),
    repository: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    keep_going: bool = False,
    emit: Listener = ignore,
    cancel: Cancellation | None = None,
) -> LayoutPushReport:
    cancel = cancel or Cancellation()
    layout = OciLayout(layout_dir)
    items, ignored = select(layout, namespace, refs, repository)
    # Check every blob of every selected descriptor before anything is pushed.
    closures = {item.descriptor.digest: closure(layout, item.descriptor) for item in items}
    report = LayoutPushReport(
        str(layout_dir), target.display_name, parse_repository(namespace, what="namespace"), dry_run=dry_run
    )
    report.ignored = ignored
    held_back: set[tuple[str, str]] = set()  # (repository, digest) whose exact version was skipped
    stopped = False
    for item in items:
        result = RefResult(item.ref_name, item.repository, item.tag, item.descriptor.digest)
        report.results.append(result)
        if stopped or cancel.cancelled:
            result.note = "the run was interrupted before this began" if cancel.cancelled else None
            continue
        try:
            _push_one(item, closures[item.descriptor.digest], target, result, held_back, force, dry_run, emit)
        except FeaturepubError as exc:
            if cancel.cancelled:  # the step that was cut short; what it pushed is in place
                result.status, result.note = Status.INTERRUPTED, "interrupted; a re-run finishes it"
                emit(Event(EventKind.INTERRUPTED, _subject(item), item.repository, result.note))
                continue
            result.status = Status.FAILED
            result.error = str(exc)
            result.error_exit_code = exc.exit_code
            emit(Event(EventKind.FAILED, _subject(item), item.repository, str(exc), error=exc))
            stopped = not keep_going
    if cancel.cancelled:
        report.interrupted = cancel.reason
    return report


def _subject(item: PushItem) -> str:
    return item.repository.rsplit("/", 1)[-1]


def _push_one(
    item: PushItem,
    content: Closure,
    target: Target,
    result: RefResult,
    held_back: set[tuple[str, str]],
    force: bool,
    dry_run: bool,
    emit: Listener,
) -> None:
    subject, repo, digest = _subject(item), item.repository, content.top.digest
    if (repo, digest) in held_back:
        result.status = Status.SKIPPED
        result.note = "held back: an exact version of this manifest was skipped in this repository"
        emit(Event(EventKind.SKIPPED, subject, repo, f"{item.tag}: {result.note}"))
        return
    existing = target.tag_digest(repo, item.tag)
    if existing == digest and not force:
        result.status = Status.UNCHANGED
        result.note = f"{item.tag} already points at {digest}"
        emit(Event(EventKind.UNCHANGED, subject, repo, result.note))
        return
    if existing is not None and _tag_rank(item.tag) == 0 and not force:
        held_back.add((repo, digest))
        result.status = Status.SKIPPED
        result.note = (
            f"{item.tag} already exists with different content ({existing}); "
            "bump the version, or use --force to replace it"
        )
        emit(Event(EventKind.SKIPPED, subject, repo, result.note))
        return
    if dry_run:
        result.status = Status.PLANNED
        emit(Event(EventKind.PLANNED, subject, repo, item.tag))
        return
    for blob in content.blobs:
        if target.has_blob(repo, blob.digest):
            emit(Event(EventKind.BLOB_EXISTS, subject, repo, blob.digest, blob.size))
            continue
        if blob.size == 0:
            raise InputError(
                f"{blob.digest} is a zero-byte blob the registry does not have; featurepub never uploads "
                "zero-byte blobs (AWS ECR and Google Artifact Registry refuse them)",
                hint="republish the feature from its source folder: featurepub writes a 2-byte config",
            )
        emit(Event(EventKind.BLOB_UPLOAD, subject, repo, blob.digest, blob.size))

        def progress(sent: int, _repo: str = repo) -> None:
            emit(Event(EventKind.BLOB_PROGRESS, subject, _repo, "", sent))

        result.bytes_uploaded += target.push_blob(repo, blob, progress)
        emit(Event(EventKind.BLOB_DONE, subject, repo, blob.digest, blob.size))
    for child in content.children:
        if target.tag_digest(repo, child.digest) is None:
            target.push_manifest(repo, child.digest, child)
    target.push_manifest(repo, item.tag, content.top)
    result.status = Status.PUBLISHED
    emit(Event(EventKind.TAG_PUSHED, subject, repo, item.tag))

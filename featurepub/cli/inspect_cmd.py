"""`featurepub inspect REF` and `featurepub tags REF`: read back what a registry holds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from featurepub.cli.auth_cmd import (
    CaFileOption,
    InsecureOption,
    PasswordStdinOption,
    UsernameOption,
    connection_keywords,
)
from featurepub.cli.common import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_TIME,
    DEFAULT_TIMEOUT,
    ConnectTimeoutOption,
    QuietOption,
    RetriesOption,
    RetryTimeOption,
    TimeoutOption,
    VerboseOption,
    fail,
    network_keywords,
)

if TYPE_CHECKING:
    from featurepub.cli.output import Console
    from featurepub.readback.results import InspectResult, TagsResult

READ_EXIT_CODES_HELP = (
    "Exit codes: 0 read; 1 no such repository, tag or digest; 2 invalid reference or option; "
    "3 credentials missing or refused; 4 the registry or network failed."
)

ReferenceArgument = Annotated[
    str,
    typer.Argument(
        metavar="REF",
        help="host[:port]/path/id[:tag|@sha256:...], e.g. ghcr.io/devcontainers/features/node:1 "
        "(no host: ghcr.io; no tag: latest).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def _rows(rows: list[tuple[str, str]], console: Console) -> str:
    width = max(len(key) for key, _ in rows)
    return "\n".join(f"{console.paint(key.ljust(width), 'bold')}  {value}" for key, value in rows)


def _short(digest: str) -> str:
    return digest[:19] + "..." if len(digest) > 19 else digest


def _option_text(name: str, spec: Any) -> str:
    if not isinstance(spec, dict):
        return name
    text = f"{name}: {spec.get('type', '?')}"
    if "default" in spec:
        text += f" = {json.dumps(spec['default'], ensure_ascii=False)}"
    choices = spec.get("enum") or spec.get("proposals")
    if isinstance(choices, list) and choices:
        text += f" ({'one of' if 'enum' in spec else 'e.g.'} {', '.join(map(str, choices))})"
    return text


def _kind_text(result: InspectResult, metadata: dict[str, Any]) -> str:
    """`feature hello 1.0.0 (Hello)`, `template go 2.1.0 (Go)`, `collection of 4 templates`, `other`."""
    kind = result.kind
    if kind in ("feature", "template") and metadata:
        name = f" ({metadata['name']})" if metadata.get("name") else ""
        return f"{kind} {metadata.get('id', '?')} {metadata.get('version', '?')}{name}"
    if kind == "collection" and result.collection is not None:
        from featurepub.kinds import kind_named

        return f"collection of {kind_named(result.collection_kind or 'feature').count(len(result.collection))}"
    return kind


def _template_rows(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """What packaging computed for a template: how it builds, its files, the features it uses."""
    rows: list[tuple[str, str]] = []
    if "type" in metadata:
        rows.append(("type", str(metadata["type"])))
    if "fileCount" in metadata:
        rows.append(("files", str(metadata["fileCount"])))
    for label in ("optionalPaths", "featureIds"):
        values = metadata.get(label)
        if isinstance(values, list):
            title = {"optionalPaths": "optional paths", "featureIds": "uses features"}[label]
            rows.extend((title if position == 0 else "", str(value)) for position, value in enumerate(values))
    return rows


def render_inspect(result: InspectResult, console: Console) -> str:
    from featurepub.cli.output import human_size
    from featurepub.readback.tags import sort_tags

    rows: list[tuple[str, str]] = [("reference", result.reference), ("digest", result.digest)]
    if result.index is not None:
        index = result.index
        rows.append(
            (
                "index",
                f"{index.digest} ({index.media_type}); platforms {', '.join(index.platforms)}; "
                f"showing {index.selected}",
            )
        )
    rows.append(("media type", result.media_type))
    if result.artifact_type:
        rows.append(("artifact type", result.artifact_type))
    metadata = result.metadata or {}
    rows.append(("kind", _kind_text(result, metadata)))
    parts = [f"manifest {human_size(result.manifest_size)}"]
    if result.config is not None:
        parts.append(f"config {human_size(result.config.size)}")
    parts.append(f"{len(result.layers)} layer{'s' if len(result.layers) != 1 else ''}")
    rows.append(("size", f"{human_size(result.size)} ({', '.join(parts)})"))
    if result.config is not None:
        config = result.config
        rows.append(("config", f"{config.media_type}  {human_size(config.size)}  {_short(config.digest)}"))
    for layer in result.layers:
        title = layer.annotations.get("org.opencontainers.image.title", "")
        rows.append(("layer", f"{layer.media_type}  {human_size(layer.size)}  {_short(layer.digest)}  {title}"))
    if result.metadata_source:
        source = {
            "annotation": "from the dev.containers.metadata annotation",
            "layer": "from devcontainer-feature.json in the layer",
        }
        rows.append(("metadata", source.get(result.metadata_source, result.metadata_source)))
    if result.kind == "template":
        rows.extend(_template_rows(metadata))
    options = metadata.get("options")
    if isinstance(options, dict):
        for position, (name, spec) in enumerate(options.items()):
            rows.append(("options" if position == 0 else "", _option_text(name, spec)))
    depends = metadata.get("dependsOn")
    if isinstance(depends, dict):
        for position, ref in enumerate(depends):
            rows.append(("depends on" if position == 0 else "", str(ref)))
    after = metadata.get("installsAfter")
    if isinstance(after, list):
        for position, ref in enumerate(after):
            rows.append(("installs after" if position == 0 else "", str(ref)))
    if result.collection is not None:
        label = "templates" if result.collection_kind == "template" else "features"
        for position, feature in enumerate(result.collection):
            rows.append((label if position == 0 else "", f"{feature.get('id')} {feature.get('version')}"))
    tags = ", ".join(sort_tags(result.tags)) or "(none)"
    if result.tags_here is not None:
        tags += f"  (pointing here: {', '.join(sort_tags(result.tags_here)) or 'none'})"
    rows.append(("tags", tags))
    verdict = console.paint("yes", "green") if result.consumable else console.paint("no", "red")
    rows.append(("reference CLI", f"{verdict}: {result.consumable_reason}"))
    for note in result.notes:
        rows.append(("note", note))
    return _rows(rows, console)


def inspect(
    reference: ReferenceArgument,
    platform: Annotated[
        str | None,
        typer.Option(
            metavar="OS/ARCH",
            help="For a tag on an index: the platform to read (os/arch[/variant]). Default linux/amd64, "
            "else the first.",
        ),
    ] = None,
    json_output: JsonOption = False,
    insecure: InsecureOption = None,
    username: UsernameOption = None,
    password_stdin: PasswordStdinOption = False,
    ca_file: CaFileOption = None,
    retries: RetriesOption = DEFAULT_RETRIES,
    retry_time: RetryTimeOption = DEFAULT_RETRY_TIME,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    connect_timeout: ConnectTimeoutOption = DEFAULT_CONNECT_TIMEOUT,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Show the manifest, metadata, tags, digest and size behind REF (a feature, a template or a collection),
    and whether the reference CLI can use it.

    Asks for every manifest kind (OCI and Docker, image and index); a tag on an index is resolved to one
    platform's manifest. Artifacts with a zero-byte config (reference CLI before 0.63.0) read fine.
    """
    from featurepub.api import inspect as run
    from featurepub.cli.output import Console
    from featurepub.errors import FeaturepubError

    console = Console(quiet=quiet, verbose=verbose)
    try:
        connection = connection_keywords(insecure, username, password_stdin, ca_file)
        network = network_keywords(retries, retry_time, timeout, connect_timeout)
        result = run(reference, platform=platform, log=console.request_log, **network, **connection)
    except FeaturepubError as exc:
        fail(exc, quiet)
    if json_output:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print(render_inspect(result, Console(stream=_stdout())))


def render_tags(result: TagsResult, console: Console) -> str:
    from featurepub.readback.tags import sort_tags

    if not result.tags:
        return ""
    if result.digests is None:
        return "\n".join(sort_tags(result.tags))
    width = max(len(tag) for tag in result.tags)
    return "\n".join(
        f"{console.paint(tag.ljust(width), 'bold')}  {result.digests.get(tag) or '-'}"
        for tag in sort_tags(result.tags)
    )


def tags(
    reference: ReferenceArgument,
    digests: Annotated[bool, typer.Option("--digests", help="Also show the manifest digest of each tag.")] = False,
    json_output: JsonOption = False,
    insecure: InsecureOption = None,
    username: UsernameOption = None,
    password_stdin: PasswordStdinOption = False,
    ca_file: CaFileOption = None,
    retries: RetriesOption = DEFAULT_RETRIES,
    retry_time: RetryTimeOption = DEFAULT_RETRY_TIME,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    connect_timeout: ConnectTimeoutOption = DEFAULT_CONNECT_TIMEOUT,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """List every tag of REF's repository (all pages), newest version first.

    --json prints {"publishedTags": [...]} in the registry's order, like `devcontainer features info tags`;
    unlike it, REF's own tag need not exist.
    """
    from featurepub.api import list_tags
    from featurepub.cli.output import Console
    from featurepub.errors import FeaturepubError

    console = Console(quiet=quiet, verbose=verbose)
    try:
        connection = connection_keywords(insecure, username, password_stdin, ca_file)
        network = network_keywords(retries, retry_time, timeout, connect_timeout)
        result = list_tags(reference, digests=digests, log=console.request_log, **network, **connection)
    except FeaturepubError as exc:
        fail(exc, quiet)
    if json_output:
        print(json.dumps(result.to_json(), indent=2))
        return
    text = render_tags(result, Console(stream=_stdout()))
    if text:
        print(text)
    else:
        console.info(f"{result.reference}: no tags")


def _stdout() -> Any:
    import sys

    return sys.stdout


def register(app: typer.Typer) -> None:
    app.command(epilog=READ_EXIT_CODES_HELP)(inspect)
    app.command(epilog=READ_EXIT_CODES_HELP)(tags)

"""The terminal experience: progress bars and colour on a TTY only, --quiet/--verbose, completion, fast --help."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from tests.support.proxy import RegistryProxy
from tests.support.publishing import featurepub
from tests.support.registry import RegistryServer

COMMANDS = ["validate", "package", "publish", "push-layout", "inspect", "tags", "docs"]


def big_feature(root: Path, size: int = 3 * 1024 * 1024) -> Path:
    folder = root / "src" / "big"
    folder.mkdir(parents=True)
    (folder / "devcontainer-feature.json").write_text('{"id": "big", "version": "1.0.0", "name": "Big"}')
    (folder / "install.sh").write_text("#!/bin/sh\n")
    (folder / "payload.bin").write_bytes(os.urandom(size))  # incompressible, several 1 MiB chunks
    return root


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "100"}, **extra)
    return env


def run_with_tty_stderr(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run featurepub with stderr on a pseudo-terminal (stdout stays a pipe, as with `| jq`)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "featurepub", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.stdout is not None
    stdout = process.stdout.read().decode()
    return process.wait(timeout=120), stdout, b"".join(chunks).decode("utf-8", "replace")


BAR = re.compile(
    r"(?P<label>[\w-]+)  \[[#.]+\]\s+(?P<percent>\d+)%  (?P<done>[\d.]+ \w+) / (?P<total>[\d.]+ \w+)"
    r"(?:  [^\r\n]*)?"  # rate and time left
)
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SIZES = {"big-a": 8 * 1024 * 1024, "big-b": 12 * 1024 * 1024}


def two_big_features(root: Path) -> Path:
    for feature_id, size in SIZES.items():
        folder = root / "src" / feature_id
        folder.mkdir(parents=True)
        (folder / "devcontainer-feature.json").write_text(
            json.dumps({"id": feature_id, "version": "1.0.0", "name": feature_id})
        )
        (folder / "install.sh").write_text("#!/bin/sh\n")
        (folder / "payload.bin").write_bytes(os.urandom(size))
    return root


def bar_rows(terminal: str) -> list[re.Match[str]]:
    """Every bar drawn, wherever it was redrawn: the text between carriage returns, newlines and escapes."""
    pieces = re.split(r"\r|\n", ESCAPE.sub("\n", terminal))
    return [m for m in (BAR.fullmatch(p.rstrip()) for p in pieces) if m]


def test_two_uploads_at_once_each_have_their_own_bar(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    # The proxy reads upload bodies at 3 MB/s, so both features' layers are in flight at once
    # (the registry profile publishes features in parallel).
    proxy = make_proxy(upload_rate=3e6)
    root = two_big_features(tmp_path / "collection")
    code, stdout, terminal = run_with_tty_stderr(
        ["publish", str(root), "-r", proxy.host, "-n", f"{namespace}/tty"], clean_env()
    )
    assert code == 0, terminal
    assert json.loads(stdout)["big-a"]["version"] == "1.0.0"  # stdout stays clean JSON (the reference line)
    rows = bar_rows(terminal)
    for feature_id, size in SIZES.items():
        total = f"{size / 1024 / 1024:.1f} MiB"
        own = [row for row in rows if row["label"] == feature_id]
        assert own, terminal
        assert {row["total"] for row in own} == {total}  # never the other's size, never a sum
        assert any(row["done"] == total and row["percent"] == "100" for row in own)  # ends at its own total
        assert all(float(row["done"].split()[0]) <= float(total.split(maxsplit=1)[0]) for row in own)
    # Both bars on screen at once, both under way: the two uploads overlapped.
    # A frame of two bars is `\r<first>\r\n<second>\r`: the end of one line and the start of the next.
    lines = ESCAPE.sub("", terminal).replace("\r\n", "\n").split("\n")
    frames = [
        (BAR.fullmatch(a.split("\r")[-1].rstrip()), BAR.fullmatch(b.split("\r")[0].rstrip()))
        for a, b in pairwise(lines)
    ]
    assert any(
        a and b and {a["label"], b["label"]} == set(SIZES) and int(a["percent"]) < 100 and int(b["percent"]) < 100
        for a, b in frames
    ), "no frame shows both uploads under way"
    plain = ESCAPE.sub("", terminal)
    assert re.search(rf"big-a \[{namespace}/tty/big-a\]: uploaded 8\.0 MiB in \d+\.\d s", plain)
    assert re.search(rf"big-b \[{namespace}/tty/big-b\]: uploaded 12\.0 MiB in \d+\.\d s", plain)
    # Colour on the statuses; the bars are gone and the cursor is back at the end.
    assert "\x1b[32mpushed tag\x1b[0m 1.0.0" in terminal
    assert "\x1b[32mdone\x1b[0m: 2 features to" in terminal
    assert terminal.rfind("\x1b[?25h") > terminal.rfind("\x1b[?25l")

    # The same run off a terminal (a CI log): plain lines, one when each upload starts and ends.
    run = featurepub("publish", root, "-r", proxy.host, "-n", f"{namespace}/plain", env=clean_env())
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stderr
    assert "\r" not in run.stderr
    lines = run.stderr.splitlines()
    started = [
        lines.index(f"{f} [{namespace}/plain/{f}]: uploading {s / 1024 / 1024:.1f} MiB") for f, s in SIZES.items()
    ]
    ended = [
        next(i for i, line in enumerate(lines) if line.startswith(f"{f} [{namespace}/plain/{f}]: uploaded "))
        for f in SIZES
    ]
    assert max(started) < min(ended)  # both were under way at once
    assert lines[ended[0]].startswith(f"big-a [{namespace}/plain/big-a]: uploaded 8.0 MiB in ")
    assert lines[ended[1]].startswith(f"big-b [{namespace}/plain/big-b]: uploaded 12.0 MiB in ")
    assert lines[-1].startswith(f"done: 2 features to {proxy.host} (2 published), 20.0 MiB uploaded")


def test_a_single_upload_bar_on_a_terminal(tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    root = big_feature(tmp_path)
    code, stdout, terminal = run_with_tty_stderr(
        ["publish", str(root), "-r", registry.host, "-n", namespace], clean_env()
    )
    assert code == 0, terminal
    assert json.loads(stdout)["big"]["version"] == "1.0.0"  # stdout stays clean JSON (the reference line)
    assert any(row["label"] == "big" and row["done"] == row["total"] == "3.0 MiB" for row in bar_rows(terminal))
    assert "[" + "#" * 24 + "]" in terminal  # wide terminal: the whole bar
    assert "\x1b[32mdone\x1b[0m: 1 feature to" in terminal


def test_no_color_keeps_the_bar_but_drops_colour(tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    root = big_feature(tmp_path)
    code, _, terminal = run_with_tty_stderr(
        ["publish", str(root), "-r", registry.host, "-n", namespace], clean_env(NO_COLOR="1")
    )
    assert code == 0, terminal
    assert "100%" in terminal
    assert "\x1b[3" not in terminal
    assert "pushed tag 1.0.0" in terminal


def test_ci_logs_get_plain_lines(tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    root = big_feature(tmp_path)
    run = featurepub("publish", root, "-r", registry.host, "-n", namespace, "-v", env=clean_env())
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stderr
    assert "\r" not in run.stderr
    lines = run.stderr.splitlines()
    assert f"big [{namespace}/big]: uploading sha256:" in "\n".join(lines)
    assert f"big [{namespace}/big]: pushed tag 1.0.0" in lines
    assert any(line.startswith("done: 1 feature to ") for line in lines)


def test_errors_are_coloured_on_a_terminal_only(tmp_path: Path) -> None:
    code, _, terminal = run_with_tty_stderr(["validate", str(tmp_path / "missing")], clean_env())
    assert code == 2
    assert "\x1b[31;1merror:\x1b[0m" in terminal
    piped = featurepub("validate", tmp_path / "missing", env=clean_env())
    assert piped.code == 2
    assert piped.stderr.startswith("error: ")


def test_quiet_and_verbose(tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    root = big_feature(tmp_path, size=1024)
    layout = tmp_path / "layout"
    assert featurepub("publish", root, "-n", namespace, "--layout", layout, "-q").stderr == ""
    quiet = featurepub("push-layout", layout, "-r", registry.host, "-n", namespace, "--quiet")
    assert quiet.code == 0, quiet.stderr
    assert quiet.stderr == ""
    assert json.loads(quiet.stdout)["ok"] is True
    verbose = featurepub("push-layout", layout, "-r", registry.host, "-n", namespace, "--verbose", "--force")
    assert verbose.code == 0, verbose.stderr
    assert "blob sha256:" in verbose.stderr  # the blobs are already there: only -v says so
    plain = featurepub("push-layout", layout, "-r", registry.host, "-n", namespace, "--force")
    assert "blob sha256:" not in plain.stderr
    assert "pushed tag 1.0.0" in plain.stderr


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_lists_exit_codes(command: str | None) -> None:
    run = featurepub(*([command] if command else []), "--help")
    assert run.code == 0
    assert "Exit codes: 0 " in run.stdout
    assert " 2 invalid" in run.stdout


def test_help_imports_nothing_heavy() -> None:
    # How fast --help starts is measured by bench/run.py; this keeps the heavy imports out of it.
    done = subprocess.run([sys.executable, "-m", "featurepub", "--help"], capture_output=True, check=True)
    assert b"push-layout" in done.stdout
    probe = (
        "import sys; sys.argv = ['featurepub', '--help']; from featurepub.cli.app import build_app\n"
        "try:\n    build_app(None)()\nexcept SystemExit:\n    pass\n"
        "heavy = ('httpx', 'featurepub.api', 'featurepub.readback', 'yaml')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)"
    )
    probed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert probed.stderr.strip() == "[]"


def test_shell_completion(tmp_path: Path, namespace: str) -> None:
    env = clean_env(_FEATUREPUB_COMPLETE="complete_bash", COMP_WORDS="featurepub pu", COMP_CWORD="1")
    script = [
        sys.executable,
        "-c",
        "import sys; sys.argv[0] = 'featurepub'; from featurepub.cli.app import main; main()",
    ]
    done = subprocess.run(script, capture_output=True, text=True, env=env, check=False)
    assert done.stdout.split() == ["publish", "push-layout"]
    # --ref completes from the layout's ref names.
    root = big_feature(tmp_path, size=10)
    layout = tmp_path / "layout"
    assert featurepub("publish", root, "-n", namespace, "--layout", layout).code == 0
    words = f"featurepub push-layout {layout} --ref {namespace}/big:1."
    env = clean_env(_FEATUREPUB_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD="4")
    done = subprocess.run(script, capture_output=True, text=True, env=env, check=False)
    assert sorted(done.stdout.split()) == [f"{namespace}/big:1.0", f"{namespace}/big:1.0.0"]
    # Installing it is one command (the shell is detected from the parent process).
    assert "--install-completion" in featurepub("--help").stdout

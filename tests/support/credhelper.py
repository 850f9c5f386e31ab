"""Fake docker credential helpers: `docker-credential-<name>` scripts put on PATH by tests.

They speak the docker-credential-helpers protocol (`get`, the server address on stdin, JSON
on stdout, "credentials not found in native keychain" with exit 1) and append each call to
`<bin>/<name>.calls` so tests can check what featurepub asked for.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_SCRIPT = """#!{python}
import json, sys, time
entries = json.loads({entries!r})
action = sys.argv[1] if len(sys.argv) > 1 else ""
server = sys.stdin.read().strip()
with open({calls!r}, "a") as log:
    log.write(json.dumps([action, server]) + "\\n")
time.sleep({sleep!r})
if {fail!r}:
    sys.stderr.write({fail!r})
    sys.exit(2)
if action == "get" and server in entries:
    user, secret = entries[server]
    print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
    sys.exit(0)
print("credentials not found in native keychain")
sys.exit(1)
"""


def install_helper(
    bin_dir: Path,
    name: str,
    entries: dict[str, tuple[str, str]],
    *,
    sleep: float = 0.0,
    fail: str = "",
) -> Path:
    """Write `docker-credential-<name>` into `bin_dir`; `entries` maps server address -> (user, secret)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    path.write_text(
        _SCRIPT.format(
            python=sys.executable,
            entries=json.dumps(entries),
            calls=str(bin_dir / f"{name}.calls"),
            sleep=sleep,
            fail=fail,
        ),
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def helper_calls(bin_dir: Path, name: str) -> list[list[str]]:
    path = bin_dir / f"{name}.calls"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

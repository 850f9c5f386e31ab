"""Fake docker credential helpers: `docker-credential-<name>` scripts put on PATH by tests.

They speak the docker-credential-helpers protocol (`get` and `erase` with the server address on
stdin, `store` with {"ServerURL", "Username", "Secret"} on stdin; "credentials not found in native
keychain" with exit 1), keep their entries in `<bin>/<name>.entries.json`, and append each call
(action and server, never the secret) to `<bin>/<name>.calls` so tests can check what featurepub asked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_SCRIPT = """#!{python}
import json, sys, time
with open({store!r}) as kept:
    entries = json.load(kept)
action = sys.argv[1] if len(sys.argv) > 1 else ""
given = sys.stdin.read().strip()
record = json.loads(given) if action == "store" else None
server = record["ServerURL"] if record else given
with open({calls!r}, "a") as log:
    log.write(json.dumps([action, server]) + "\\n")
time.sleep({sleep!r})
if {fail!r}:
    sys.stderr.write({fail!r})
    sys.exit(2)
if action == "store":
    entries[server] = [record["Username"], record["Secret"]]
elif action == "get" and server in entries:
    user, secret = entries[server]
    print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
    sys.exit(0)
elif action == "erase" and server in entries:
    del entries[server]
else:
    print("credentials not found in native keychain")
    sys.exit(1)
with open({store!r}, "w") as kept:
    json.dump(entries, kept)
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
    store = bin_dir / f"{name}.entries.json"
    store.write_text(json.dumps(entries), encoding="utf-8")
    path.write_text(
        _SCRIPT.format(
            python=sys.executable,
            store=str(store),
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


def helper_entries(bin_dir: Path, name: str) -> dict[str, list[str]]:
    """What helper `name` keeps now: server address -> [user, secret]."""
    entries: dict[str, list[str]] = json.loads((bin_dir / f"{name}.entries.json").read_text(encoding="utf-8"))
    return entries

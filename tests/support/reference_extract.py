"""The reference CLI downloading and extracting feature layers, as it does before every container build.

`devcontainer read-configuration --include-features-configuration` resolves the features of a
devcontainer.json and extracts each layer into its cache under $TMPDIR; `--docker-path` pointing at
`true` answers its container lookup with "none", so no Docker is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.support.consumers import DEVCONTAINER, ConsumerError


def extract_features(workspace: Path, features: dict[str, Any]) -> dict[str, Path]:
    """Feature id -> the folder the reference CLI extracted its layer to, for the `features` of a
    devcontainer.json (with whatever they depend on)."""
    config = workspace / ".devcontainer" / "devcontainer.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"image": "debian:bookworm", "features": features}), encoding="utf-8")
    cache = Path(os.environ.get("TMPDIR") or tempfile.gettempdir())  # where the CLI keeps its cache
    before = set(cache.glob("devcontainercli-*/container-features/*"))
    true = shutil.which("true")
    assert true is not None
    args = [DEVCONTAINER, "read-configuration", "--workspace-folder", str(workspace)]
    args += ["--include-features-configuration", "--docker-path", true, "--log-level", "trace"]
    done = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ),
    )
    if done.returncode != 0:
        raise ConsumerError(f"read-configuration exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    if "Files extracted from blob" not in done.stderr:
        raise ConsumerError(f"the reference CLI extracted no layer: {done.stderr.strip()[-2000:]}")
    (run_folder,) = set(cache.glob("devcontainercli-*/container-features/*")) - before
    # One folder per feature, named <id>_<index>, beside the layer cache.
    return {p.name.rsplit("_", 1)[0]: p for p in run_folder.iterdir() if p.is_dir() and p.name != "ociCache"}

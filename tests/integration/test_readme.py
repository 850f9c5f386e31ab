"""The README's Action, CLI and library sections, run as documented against the registry fixture.

Blocks marked `<!-- readme-test: NAME -->` are extracted from README.md; `ghcr.io` (and `localhost:5000`)
become the test registry and `my-org/features` the test's namespace, and they run as written in a folder
laid out like a checkout of this repository: `sample-features/` (its cross-feature references pointed at
the test's namespace) and `sample-templates/`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, copy_samples
from tests.support.actions import python3_on_path, run_composite
from tests.support.publishing import registry_tags, tag_digest
from tests.support.registry import RegistryServer

MARKED = re.compile(r"<!-- readme-test: (?P<name>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.S)


def readme_blocks() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return {m["name"]: (m["lang"], m["body"]) for m in MARKED.finditer(text)}


@pytest.fixture
def work(tmp_path: Path, registry: RegistryServer, namespace: str) -> Path:
    """A folder like a checkout of this repository, where the README's commands run."""
    folder = tmp_path / "work"
    folder.mkdir()
    copy_samples(folder / "sample-features", f"{registry.host}/{namespace}")
    shutil.copytree(ROOT / "sample-templates", folder / "sample-templates")
    return folder


def localise(text: str, registry: RegistryServer, namespace: str) -> str:
    text = text.replace("ghcr.io", registry.host).replace("localhost:5000", registry.host)
    text = text.replace("my-org/features", namespace)
    return text.replace("examples/release.py", str(ROOT / "examples" / "release.py"))


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_every_marked_block_is_found() -> None:
    blocks = readme_blocks()
    assert sorted(blocks) == ["action", "cli", "example", "library", "login", "templates", "usage"]
    assert blocks["action"][0] == "yaml"
    assert blocks["library"][0] == "python"


def test_readme_cli_commands(work: Path, registry: RegistryServer, namespace: str) -> None:
    _, body = readme_blocks()["cli"]
    done = shell(localise(body, registry, namespace), work)
    assert done.returncode == 0, done.stderr
    assert (work / "out" / "layout" / "index.json").is_file()
    assert (
        f'"{registry.host}/{namespace}/hello-cli:2": {{}}'
        in (work / "sample-features" / "src" / "hello-cli" / "README.md").read_text()
    )
    info = json.loads((work / "hello.json").read_text())
    assert info["referenceCli"]["consumable"] is True
    assert info["metadata"]["id"] == "hello-cli"
    assert tag_digest(registry.url, f"{namespace}/hello-cli", "2") == info["digest"]
    assert registry_tags(registry.url, f"{namespace}/hello-cli") == ["2", "2.0", "2.0.1", "latest"]
    assert done.stdout.splitlines()[-4:] == ["latest", "2", "2.0", "2.0.1"]  # `featurepub tags`, newest first


def test_readme_usage_block(work: Path, registry: RegistryServer, namespace: str) -> None:
    _, body = readme_blocks()["usage"]
    assert "./src" not in body  # every path is one the repository has
    done = shell(localise(body, registry, namespace), work)
    assert done.returncode == 0, done.stderr
    packed = sorted(p.name for p in (work / "out").iterdir() if p.is_file())
    assert len(packed) == 6 and "devcontainer-collection.json" in packed  # five layers and the collection
    assert (work / "out" / "layout" / "index.json").is_file()
    assert registry_tags(registry.url, f"{namespace}/hello-cli") == ["2", "2.0", "2.0.1", "latest"]
    assert "would push tags" in done.stderr  # the dry run against `localhost:5000`, here the test registry


def test_readme_login_block(work: Path, registry: RegistryServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _, body = readme_blocks()["login"]
    monkeypatch.setenv("TOKEN", "a-token-for-the-readme")
    done = shell(localise(body, registry, "my-org/features"), work)
    assert done.returncode == 0, done.stderr
    assert f"logged in to {registry.host} as octocat" in done.stderr
    assert f"removed the credentials for {registry.host}" in done.stderr
    assert "a-token-for-the-readme" not in done.stdout + done.stderr


def test_readme_templates_block(work: Path, registry: RegistryServer, namespace: str) -> None:
    _, body = readme_blocks()["templates"]
    script = localise(body, registry, namespace).replace("my-org/templates", f"{namespace}/templates")
    done = shell(script, work)
    assert done.returncode == 0, done.stderr
    assert registry_tags(registry.url, f"{namespace}/templates/python-app") == ["2", "2.0", "2.0.1", "latest"]
    config = (work / "my-project" / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8")
    assert '"PYTHON_VERSION": "3.13"' in config


def test_readme_library_block(work: Path, registry: RegistryServer, namespace: str) -> None:
    _, body = readme_blocks()["library"]
    script = work / "release.py"
    script.write_text(localise(body, registry, namespace))
    done = subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "hello-cli 2.0.1 planned ['2.0.1', '2.0', '2', 'latest']" in done.stdout
    digest = tag_digest(registry.url, f"{namespace}/hello-cli", "2")
    assert f"{digest} True 2.0.1" in done.stdout
    assert done.stderr == ""  # the library prints nothing of its own


def test_readme_example_script(work: Path, registry: RegistryServer, namespace: str) -> None:
    _, body = readme_blocks()["example"]
    done = shell(localise(body, registry, namespace), work)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert done.stderr.count("verified: ") == 5
    # Again: everything is there, nothing is pushed, the verification still passes.
    again = shell(localise(body, registry, namespace), work)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["bytesUploaded"] == 0


def test_readme_action_workflow(work: Path, tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    _, body = readme_blocks()["action"]
    workflow = yaml.safe_load(body)
    job = workflow["jobs"]["release"]
    assert job["permissions"] == {"contents": "write", "packages": "write"}
    step = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("featurepub/featurepub@"))
    inputs = {k: str(v) for k, v in step["with"].items()}
    # The documented step, pointed at the test registry; featurepub is already installed here.
    inputs.update({"oci-registry": registry.host, "features-namespace": namespace, "install": "false"})
    inputs["disable-repo-tagging"] = "true"  # the work folder is not a git checkout
    bin_dir = tmp_path / "bin"
    python3_on_path(bin_dir)
    (tmp_path / "runner-temp").mkdir()
    run = run_composite(
        ROOT,
        inputs,
        workspace=work / "sample-features",  # a feature repository: features in ./src
        runner_temp=tmp_path / "runner-temp",
        github={"repository": "my-org/features", "sha": "0" * 40, "actor": "octocat"},
        env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
    )
    assert run.code == 0, run.stdout + run.stderr
    digests = json.loads(run.outputs["digests"])
    assert tag_digest(registry.url, f"{namespace}/hello-cli", "2.0.1") == digests["hello-cli"]
    assert "| `hello-cli` | 2.0.1 |" in run.summary
    assert "hello-cli" in json.loads(run.outputs["published"])  # publish-features: "true"

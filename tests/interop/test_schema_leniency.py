"""--no-schema-validation publishes what the reference CLI publishes although the spec's schema refuses it,
and the reference CLI reads it back with its metadata exactly as written."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import json5
import pytest

from tests.support import consumers
from tests.support.publishing import featurepub
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.interop

FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "fixtures"
    / "validation"
    / "schema-invalid"
    / "boolean-default-latest"
)
FEATURE_ID = FIXTURE.name


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "collection" / "src" / FEATURE_ID)
    return tmp_path / "collection"


def test_the_reference_cli_publishes_it(collection: Path, registry: RegistryServer, namespace: str) -> None:
    done = subprocess.run(
        [
            consumers.DEVCONTAINER,
            "features",
            "publish",
            str(collection / "src"),
            "-r",
            registry.host,
            "-n",
            namespace,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])[FEATURE_ID]["version"] == "1.0.0"


def test_refused_by_default_published_without_schema_validation_and_read_back(
    collection: Path, registry: RegistryServer, namespace: str
) -> None:
    refused = featurepub("publish", collection, "-r", registry.host, "-n", namespace)
    assert refused.code == 2
    assert "options.install.default: must be a boolean" in refused.stderr
    lenient = featurepub("publish", collection, "-r", registry.host, "-n", namespace, "--no-schema-validation")
    assert lenient.code == 0, lenient.stderr
    warnings = [line for line in lenient.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2 and all("the spec's JSON schema refuses it" in w for w in warnings)
    assert lenient.json[FEATURE_ID]["publishedTags"] == ["1", "1.0", "1.0.0", "latest"]

    info = consumers.info_manifest(f"{registry.host}/{namespace}/{FEATURE_ID}:1")
    annotation = info["manifest"]["annotations"]["dev.containers.metadata"]
    written = json5.loads((collection / "src" / FEATURE_ID / "devcontainer-feature.json").read_text())
    assert json.loads(annotation) == written  # exactly the file: nothing was "fixed" on the way
    assert sorted(consumers.info_tags(f"{registry.host}/{namespace}/{FEATURE_ID}")) == [
        "1",
        "1.0",
        "1.0.0",
        "latest",
    ]

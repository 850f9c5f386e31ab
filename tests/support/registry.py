"""A real CNCF distribution registry (Debian's docker-registry, 2.8.2) on 127.0.0.1 with a free port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BINARY = "docker-registry"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class TokenAuth:
    """distribution's `auth: token:` settings: a realm that issues JWTs signed by a key whose
    certificate is in `rootcertbundle` (see tests/support/tokenserver.py)."""

    realm: str
    service: str
    issuer: str
    rootcertbundle: Path


class RegistryServer:
    """Starts `docker-registry serve` with filesystem storage in `root`; optional htpasswd Basic auth,
    optional token (Bearer) auth, optional TLS with the given certificate chain and key files."""

    def __init__(
        self,
        root: Path,
        *,
        htpasswd: Path | None = None,
        token: TokenAuth | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.root = root
        self.htpasswd = htpasswd
        self.token = token
        self.tls = tls
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "registry.log"

    @property
    def host(self) -> str:
        """The address featurepub and the reference CLI use (the CLI speaks plain HTTP only to localhost)."""
        return f"localhost:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _config(self) -> str:
        auth = ""
        if self.htpasswd is not None:
            auth = f"auth:\n  htpasswd:\n    realm: featurepub-test\n    path: {self.htpasswd}\n"
        if self.token is not None:
            auth = (
                f"auth:\n  token:\n    realm: {self.token.realm}\n    service: {self.token.service}\n"
                f"    issuer: {self.token.issuer}\n    rootcertbundle: {self.token.rootcertbundle}\n"
            )
        tls = ""
        if self.tls is not None:
            tls = f"  tls:\n    certificate: {self.tls[0]}\n    key: {self.tls[1]}\n"
        return (
            "version: 0.1\n"
            "log:\n  level: info\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.root / 'storage'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n{tls}"
            f"{auth}"
        )

    def start(self) -> RegistryServer:
        if shutil.which(BINARY) is None:
            raise RuntimeError(f"{BINARY} is not installed: run .ci/run, or apt-get install docker-registry")
        for _ in range(5):
            self.port = free_port()
            config = self.root / "config.yml"
            config.write_text(self._config(), encoding="utf-8")
            log = self.log_path.open("ab")
            self.process = subprocess.Popen([BINARY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                return self
            self.stop()
        raise RuntimeError(f"registry did not start; see {self.log_path}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            try:
                response = httpx.get(f"{self.url}/v2/", timeout=1, verify=False)  # only: is it up?
                if response.status_code in (200, 401):
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

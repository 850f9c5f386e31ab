"""A token server for CNCF distribution's `auth: token:` mode, over TLS, issuing real JWTs.

distribution ("Token Authentication Specification", "Token Authentication Implementation",
"OAuth2 Token Authentication") checks each Bearer token it is sent: a JWT signed with RS256
whose `x5c` header holds the signing certificate, which must chain to `rootcertbundle`;
`iss` = the configured issuer, `aud` = the service, `exp`/`nbf`, and an `access` list of
{type, name, actions}. This server signs with its own key, whose self-signed certificate is
the bundle, and serves:

- GET  /token?service=&scope=  with Basic credentials (docker's flow; anonymous gets no access);
- POST /token grant_type=refresh_token (Azure ACR's identity-token flow) or grant_type=password,
  answering `access_token` and a `refresh_token`.

Every request is recorded, so tests can assert which flow featurepub used.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SERVICE = "featurepub-test"
ISSUER = "featurepub-test-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenRequest:
    method: str
    grant: str  # "basic", "anonymous", "refresh_token", "password"
    scopes: list[str]
    user: str | None  # who it was issued to; None when refused
    user_agent: str


@dataclass
class TokenServer:
    users: dict[str, str] = field(default_factory=dict)  # user -> password
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> user
    lifetime: int = 300
    requests: list[TokenRequest] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # every token and refresh token handed out

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "featurepub test token signer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.signing_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self._server: ThreadingHTTPServer | None = None

    # --- what distribution is configured with ----------------------------------------------------------
    def write_bundle(self, path: Path) -> Path:
        path.write_bytes(self.signing_cert.public_bytes(serialization.Encoding.PEM))
        return path

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def realm(self) -> str:
        return f"https://localhost:{self.port}/token"

    # --- tokens --------------------------------------------------------------------------------------
    def mint(self, user: str, scopes: list[str]) -> str:
        """A token distribution accepts, granting `scopes` (e.g. repository:ns/x:pull,push)."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind and name:
                access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        now = int(time.time())
        header = {
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [base64.b64encode(self.signing_cert.public_bytes(serialization.Encoding.DER)).decode()],
        }
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": SERVICE,
            "exp": now + self.lifetime,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def _answer(self, user: str, scopes: list[str], *, refresh: bool) -> dict[str, object]:
        token = self.mint(user, scopes)
        body: dict[str, object] = {"expires_in": self.lifetime, "issued_at": "2024-01-01T00:00:00Z"}
        if refresh:
            new_refresh = "rt-" + secrets.token_urlsafe(24)
            with self._lock:
                self.refresh_tokens[new_refresh] = user
                self.issued.append(new_refresh)
            body.update(access_token=token, refresh_token=new_refresh)
        else:
            body.update(token=token, access_token=token)
        with self._lock:
            self.issued.append(token)
        return body

    def _record(self, request: TokenRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, object]]:
        parts = urlsplit(path)
        agent = headers.get("user-agent", "")
        if parts.path != "/token":
            return 404, {"errors": [{"code": "NOT_FOUND"}]}
        if method == "GET":
            query = parse_qs(parts.query)
            scopes = query.get("scope", [])
            auth = headers.get("authorization", "")
            if not auth:
                self._record(TokenRequest("GET", "anonymous", scopes, "", agent))
                return 200, self._answer("", [], refresh=False)
            scheme, _, value = auth.partition(" ")
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            if scheme.lower() != "basic" or self.users.get(user) != password or not password:
                self._record(TokenRequest("GET", "basic", scopes, None, agent))
                return 401, {"details": "incorrect username or password"}
            self._record(TokenRequest("GET", "basic", scopes, user, agent))
            return 200, self._answer(user, scopes, refresh=query.get("offline_token") == ["true"])
        form = parse_qs(body.decode())
        grant = form.get("grant_type", [""])[0]
        scopes = " ".join(form.get("scope", [])).split()
        if grant == "refresh_token":
            who = self.refresh_tokens.get(form.get("refresh_token", [""])[0])
        elif grant == "password":
            user = form.get("username", [""])[0]
            who = user if self.users.get(user) == form.get("password", [""])[0] else None
        else:
            who = None
        self._record(TokenRequest("POST", grant, scopes, who, agent))
        if who is None:
            return 401, {"error": "invalid_grant"}
        return 200, self._answer(who, scopes, refresh=True)

    # --- serving -------------------------------------------------------------------------------------
    def start(self, certfile: Path, keyfile: Path) -> TokenServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: a body written after its headers would otherwise wait ~40 ms for the
            # client's delayed ACK (Nagle), on every proxied answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                return

            def setup(self) -> None:
                # The handshake happens here, in this connection's own thread, as TLS servers do it
                # (not in accept(), where one slow client would stall every other).
                self.request.do_handshake()  # a client that gives up (an untrusted certificate) raises here
                super().setup()

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = server.handle(self.command, self.path, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(
                self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
            ) -> None:
                if not isinstance(sys.exc_info()[1], OSError):  # ssl.SSLError is one: a refused handshake
                    super().handle_error(request, client_address)

        httpd = Server(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certfile), str(keyfile))
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._server = httpd
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

"""The one place secrets are taken out of text before anyone sees it.

Every error message (FeaturepubError), every `--verbose` line and every request-log
line passes through `redact()`. It removes two kinds of secret:

- values featurepub knows are secret: passwords, identity tokens and bearer tokens are
  registered with `register_secret()` the moment they are read or received, so they are
  replaced wherever they appear, whatever surrounds them;
- anything that looks like one: the value of an Authorization, Proxy-Authorization,
  Cookie or Set-Cookie header, `Basic`/`Bearer` credentials, the password in a URL's
  user-info, and token-like query parameters and JSON fields.
"""

from __future__ import annotations

import base64
import re
import threading

MASK = "***"
# Shorter values are not registered: replacing every "ab" in a message would hide more than it protects.
_MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: list[str] = []

_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|set-cookie|cookie|x-registry-auth|x-amz-security-token)"
    r"(\s*[:=]\s*)([^\r\n]+)"
)
# A credential after the scheme word, not a challenge parameter (`realm="..."`) nor a word of prose.
_SCHEME_CREDENTIAL = re.compile(
    r"(?i)\b(basic|bearer)(\s+)(?![a-z_]+=\s*(?:\"|[a-z0-9]))(?=[a-z]*[0-9._~+/=-])([A-Za-z0-9._~+/-]+=*)"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):([^/\s@]+)@")
_SECRET_NAMES = (
    r"access_token|refresh_token|id_token|identity_?token|token|password|passwd|secret|client_secret|"
    r"auth|x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|se?cret_?key|api_?key"
)
_QUERY = re.compile(rf"(?i)([?&;](?:{_SECRET_NAMES})=)([^&#\s\"']+)")
_JSON_FIELD = re.compile(rf'(?i)("(?:{_SECRET_NAMES})"\s*:\s*")((?:[^"\\]|\\.)+)(")')
_FORM_FIELD = re.compile(rf"(?i)(^|[\s&])((?:{_SECRET_NAMES})=)([^&\s\"']+)")


def register_secret(value: str | None) -> None:
    """Remember `value` as secret: from now on `redact()` hides it anywhere it appears."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a secret that contains another is hidden whole.
        _ordered.append(value)
        _ordered.sort(key=len, reverse=True)


def register_credential(username: str, password: str) -> None:
    """Register a password, and the base64 `user:password` form a Basic header or Docker config holds."""
    register_secret(password)
    if password:
        raw = f"{username}:{password}".encode()
        register_secret(base64.b64encode(raw).decode("ascii"))
        register_secret(base64.urlsafe_b64encode(raw).decode("ascii"))


def redact(text: str) -> str:
    """`text` with every known secret and every secret-looking value replaced by ***."""
    if not text:
        return text
    with _lock:
        known = list(_ordered)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _SCHEME_CREDENTIAL.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = _QUERY.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _JSON_FIELD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    return _FORM_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def forget_secrets() -> None:
    """Drop every registered secret (for tests that check registration itself)."""
    with _lock:
        _secrets.clear()
        _ordered.clear()

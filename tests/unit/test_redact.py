"""featurepub.redact: the one function every message, error and log line passes through."""

from __future__ import annotations

import pytest

from featurepub.errors import AuthError, FeaturepubError, RegistryContext
from featurepub.redact import MASK, redact, register_credential, register_secret


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def.ghi", "Authorization: ***"),
        ("proxy-authorization=Basic dXNlcjpwYXNz", "proxy-authorization=***"),
        ("Cookie: session=abc123; other=x", "Cookie: ***"),
        ("set-cookie: id=42; HttpOnly", "set-cookie: ***"),
        ("sent Basic dXNlcjpwYXNzd29yZA== to it", "sent Basic *** to it"),
        ("token Bearer eyJhbGciOi.eyJzdWIi.sig-nature", "token Bearer ***"),
        ("https://user:hunter2@registry.example/v2/", "https://user:***@registry.example/v2/"),
        (
            "GET https://s3.example/blob?X-Amz-Signature=abc123&X-Amz-Expires=60",
            "GET https://s3.example/blob?X-Amz-Signature=***&X-Amz-Expires=60",
        ),
        ("https://auth/token?access_token=zzz&scope=repo", "https://auth/token?access_token=***&scope=repo"),
        ('{"token": "abc", "expires_in": 300}', '{"token": "***", "expires_in": 300}'),
        ('{"refresh_token":"r-1","access_token":"a-2"}', '{"refresh_token":"***","access_token":"***"}'),
        (
            "grant_type=refresh_token&refresh_token=rt-9&service=x",
            "grant_type=refresh_token&refresh_token=***&service=x",
        ),
    ],
)
def test_secret_looking_values_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'Bearer realm="https://auth.example/token",service="registry.example"',
        "Basic and Bearer token authentication are both handled",
        "the registry refused the credentials from DEVCONTAINERS_OCI_AUTH",
        "PUT https://localhost:5000/v2/ns/x/blobs/uploads/uuid?_state=abc&digest=sha256:00ff",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_registered_secrets_are_masked_anywhere() -> None:
    register_secret("s3cr3t-value-1")
    assert redact("x=s3cr3t-value-1;") == f"x={MASK};"
    assert redact("a s3cr3t-value-1s3cr3t-value-1 b") == f"a {MASK}{MASK} b"
    register_secret("abc")  # too short to register: it would mask ordinary words
    assert redact("abc") == "abc"


def test_registered_credential_masks_its_basic_form() -> None:
    register_credential("bob", "builder-99")
    import base64

    encoded = base64.b64encode(b"bob:builder-99").decode()
    assert redact(f"auth {encoded} in config") == f"auth {MASK} in config"


def test_errors_are_redacted_at_construction() -> None:
    register_secret("tok-in-error-123")
    error = FeaturepubError("failed with tok-in-error-123", hint="Authorization: Bearer tok-in-error-123")
    assert "tok-in-error-123" not in str(error)
    assert error.message == f"failed with {MASK}"
    assert error.hint == f"Authorization: {MASK}"
    auth = AuthError("Cookie: a=b", context=RegistryContext("r.example", "ns", "op"))
    assert "a=b" not in auth.message

"""featurepub.registry.wire: OCI error bodies and the errors built from unexpected responses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from featurepub.errors import EXIT_AUTH, EXIT_REGISTRY, AuthError, Diagnostic, RegistryContext, RegistryError
from featurepub.registry.wire import error_from_response, expect, parse_diagnostics

# Statuses that mean "try again" (distribution spec and vendor docs, see shared/reference).
RETRYABLE = (408, 429, 500, 502, 503, 504)
CONTEXT = RegistryContext("ghcr.io", "owner/feat", "push manifest")


def response(status: int, body: bytes | str = b"", **kwargs: Any) -> httpx.Response:
    content = body.encode("utf-8") if isinstance(body, str) else body
    request = httpx.Request("PUT", "https://ghcr.io/v2/owner/feat/manifests/1.0.0")
    return httpx.Response(status, content=content, request=request, **kwargs)


def oci_error(*errors: Any) -> bytes:
    return json.dumps({"errors": list(errors)}).encode()


# --- parse_diagnostics -----------------------------------------------------------------------------------


def test_oci_error_body() -> None:
    body = oci_error(
        {"code": "MANIFEST_INVALID", "message": "manifest invalid", "detail": "layer missing"},
        {"code": "DENIED", "message": "requested access to the resource is denied"},
    )
    assert parse_diagnostics(body) == [
        Diagnostic("MANIFEST_INVALID", "manifest invalid", "layer missing"),
        Diagnostic("DENIED", "requested access to the resource is denied", ""),
    ]


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ({"Tag": "1.0"}, '{"Tag": "1.0"}'),
        ([1, 2], "[1, 2]"),
        (None, ""),
        ("", ""),
        (0, ""),
        (7, "7"),
        (True, "true"),
    ],
)
def test_structured_detail_becomes_json_text(detail: Any, expected: str) -> None:
    assert parse_diagnostics(oci_error({"code": "X", "detail": detail})) == [Diagnostic("X", "", expected)]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"null",
        b"[]",
        b'"errors"',
        b"42",
        b'{"errors": null}',
        b'{"errors": {"code": "X"}}',
        b'{"errors": "broken"}',
        b'{"error": "unauthorized"}',
        b"[" * 100_000,
    ],
)
def test_bodies_without_diagnostics(body: bytes) -> None:
    assert parse_diagnostics(body) == []


def test_weird_items_are_skipped_or_coerced() -> None:
    body = oci_error(
        "a string", 5, None, [], {}, {"code": 12, "message": ["m"]}, {"code": None, "message": None, "detail": {}}
    )
    assert parse_diagnostics(body) == [
        Diagnostic("UNKNOWN", "", ""),
        Diagnostic("12", "['m']", ""),
        Diagnostic("UNKNOWN", "", ""),
    ]


def test_utf16_json_is_read() -> None:
    assert parse_diagnostics(oci_error({"code": "X"}).decode().encode("utf-16")) == [Diagnostic("X")]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_ERROR_ITEM = st.fixed_dictionaries(
    {}, optional={"code": _JSON, "message": _JSON, "detail": _JSON, "extra": _JSON}
)


@settings(deadline=None, max_examples=200)
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes_never_raise(body: bytes) -> None:
    found = parse_diagnostics(body)
    assert all(isinstance(d, Diagnostic) for d in found)


@settings(deadline=None, max_examples=200)
@given(
    st.one_of(
        _JSON,
        st.fixed_dictionaries({"errors": _JSON}),
        st.fixed_dictionaries({"errors": st.lists(_ERROR_ITEM | _JSON, max_size=4)}),
    )
)
def test_fuzz_arbitrary_json_never_raises(value: Any) -> None:
    found = parse_diagnostics(json.dumps(value).encode())
    for diagnostic in found:
        assert isinstance(diagnostic.code, str)
        assert diagnostic.code
        assert isinstance(diagnostic.message, str)
        assert isinstance(diagnostic.detail, str)
    errors = value.get("errors") if isinstance(value, dict) else None
    expected = sum(isinstance(e, dict) for e in errors) if isinstance(errors, list) else 0
    assert len(found) == expected


@settings(deadline=None, max_examples=100)
@given(st.integers(min_value=400, max_value=599), st.binary(max_size=300))
def test_fuzz_error_from_response_never_raises(status: int, body: bytes) -> None:
    error = error_from_response(response(status, body), CONTEXT)
    assert isinstance(error, RegistryError)
    assert error.status == status
    assert f"HTTP {status}" in error.message


# --- error_from_response ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_statuses_give_auth_error(status: int) -> None:
    error = error_from_response(response(status, oci_error({"code": "DENIED", "message": "no"})), CONTEXT)
    assert isinstance(error, AuthError)
    assert error.exit_code == EXIT_AUTH == 3
    assert error.retryable is False
    assert error.codes == {"DENIED"}


@pytest.mark.parametrize("status", RETRYABLE)
def test_retryable_statuses(status: int) -> None:
    error = error_from_response(response(status), CONTEXT)
    assert type(error) is RegistryError
    assert error.retryable is True
    assert error.exit_code == EXIT_REGISTRY == 4


@pytest.mark.parametrize("status", [400, 404, 405, 409, 413, 416, 501])
def test_other_statuses_are_not_retryable(status: int) -> None:
    error = error_from_response(response(status), CONTEXT)
    assert not isinstance(error, AuthError)
    assert error.retryable is False


def test_message_carries_context_status_code_and_message() -> None:
    body = oci_error(
        {"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry"},
        {"code": "TAG_INVALID", "message": ""},
    )
    error = error_from_response(response(400, body), CONTEXT, hint="push the blobs first")
    assert error.message == (
        "push manifest on ghcr.io/owner/feat: "
        "HTTP 400 MANIFEST_BLOB_UNKNOWN: blob unknown to registry; TAG_INVALID"
    )
    assert str(error) == f"{error.message} (push the blobs first)"
    assert error.codes == {"MANIFEST_BLOB_UNKNOWN", "TAG_INVALID"}
    assert error.context is CONTEXT
    assert error.status == 400


def test_html_body_is_summarised_without_the_html() -> None:
    html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>"
    error = error_from_response(response(502, html), CONTEXT)
    assert "<" not in error.message
    assert "nginx" not in error.message
    assert error.message.endswith("HTTP 502 (Bad Gateway)")
    assert error.retryable


def test_html_with_leading_whitespace_is_still_html() -> None:
    error = error_from_response(response(500, "\n\n   <html>oops</html>"), CONTEXT)
    assert error.message.endswith("HTTP 500 (Internal Server Error)")


def test_empty_body_uses_the_reason_phrase() -> None:
    assert error_from_response(response(404), CONTEXT).message.endswith("HTTP 404 (Not Found)")


def test_unknown_status_without_reason() -> None:
    error = error_from_response(response(499), CONTEXT)
    assert error.message.endswith("HTTP 499 (no explanation in the response body)")


def test_plain_text_body_is_shown_on_one_line_and_truncated() -> None:
    text = "upstream\nconnect   error\tor disconnect " + "x" * 500
    error = error_from_response(response(503, text), CONTEXT)
    shown = error.message.split("HTTP 503 ", 1)[1]
    assert shown.startswith("upstream connect error or disconnect x")
    assert "\n" not in shown
    assert len(shown) <= 200


def test_invalid_utf8_body_does_not_raise() -> None:
    error = error_from_response(response(500, b"bad \xff\xfe bytes"), CONTEXT)
    assert "bad" in error.message


def test_context_formatting() -> None:
    assert str(RegistryContext("ghcr.io")) == "ghcr.io"
    assert str(RegistryContext("ghcr.io", "a/b")) == "ghcr.io/a/b"
    assert str(RegistryContext("ghcr.io", operation="ping")) == "ping on ghcr.io"


def test_expect_passes_expected_statuses_and_raises_others() -> None:
    ok = response(201)
    assert expect(ok, CONTEXT, 201, 202) is ok
    with pytest.raises(AuthError):
        expect(response(401), CONTEXT, 200)
    with pytest.raises(RegistryError) as info:
        expect(response(404, oci_error({"code": "NAME_UNKNOWN"})), CONTEXT, 200)
    assert info.value.codes == {"NAME_UNKNOWN"}


def test_error_from_a_streamed_response_reads_the_body() -> None:
    request = httpx.Request("GET", "https://ghcr.io/v2/")
    streamed = httpx.Response(
        400, stream=httpx.ByteStream(oci_error({"code": "X", "message": "y"})), request=request
    )
    assert error_from_response(streamed, CONTEXT).codes == {"X"}

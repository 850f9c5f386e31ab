"""Errors on the wire: parse OCI error bodies and turn unexpected responses into RegistryError."""

from __future__ import annotations

import json
from typing import Any

import httpx

from featurepub.errors import AuthError, ContentError, Diagnostic, RegistryContext, RegistryError
from featurepub.oci.document import load_json
from featurepub.registry.bodies import BodyRefused
from featurepub.registry.retry import RETRYABLE_STATUS, parse_retry_after

_MAX_BODY_SHOWN = 200


def parse_diagnostics(body: bytes) -> list[Diagnostic]:
    """`{"errors":[{"code","message","detail"}]}`; anything else (HTML, empty, junk, JSON nested
    too deep) gives []."""
    try:
        data: Any = load_json(body, "the error body")
    except ContentError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return []
    found = []
    for item in errors:
        if isinstance(item, dict):
            detail = item.get("detail")
            found.append(
                Diagnostic(
                    code=str(item.get("code") or "UNKNOWN"),
                    message=str(item.get("message") or ""),
                    detail=detail if isinstance(detail, str) else (json.dumps(detail) if detail else ""),
                )
            )
    return found


def _summary(response: httpx.Response, body: bytes, diagnostics: list[Diagnostic]) -> str:
    status = f"HTTP {response.status_code}"
    if diagnostics:
        parts = [f"{d.code}: {d.message}".rstrip(": ") for d in diagnostics[:5]]
        return f"{status} {'; '.join(parts)}"[:1000]
    text = body[:_MAX_BODY_SHOWN].decode("utf-8", "replace").strip()
    if not text or text.lstrip().startswith("<"):
        reason = response.reason_phrase or "no explanation in the response body"
        return f"{status} ({reason})"
    return f"{status} {' '.join(text.split())}"


def error_from_response(
    response: httpx.Response, context: RegistryContext, hint: str | None = None
) -> RegistryError:
    body = _body_of(response)
    diagnostics = parse_diagnostics(body)
    message = _summary(response, body, diagnostics)
    if response.status_code in (401, 403):
        return AuthError(message, context=context, status=response.status_code, diagnostics=diagnostics, hint=hint)
    return RegistryError(
        message,
        context=context,
        status=response.status_code,
        diagnostics=diagnostics,
        hint=hint,
        retryable=response.status_code in RETRYABLE_STATUS,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _body_of(response: httpx.Response) -> bytes:
    """An error's body (the transport cuts it at 64 KiB); empty when it cannot be read: the status
    alone still makes the error."""
    try:
        return response.read()
    except (httpx.HTTPError, httpx.StreamError, BodyRefused):
        return b""
    finally:
        response.close()


def expect(response: httpx.Response, context: RegistryContext, *statuses: int) -> httpx.Response:
    """The one gate every response passes: the status is one we expect, or it becomes an error."""
    if response.status_code not in statuses:
        raise error_from_response(response, context)
    return response

"""Errors on the wire: parse OCI error bodies and turn unexpected responses into RegistryError."""

from __future__ import annotations

import json
from typing import Any

import httpx

from featurepub.errors import AuthError, Diagnostic, RegistryContext, RegistryError
from featurepub.registry.retry import RETRYABLE_STATUS

_MAX_BODY_SHOWN = 200


def parse_diagnostics(body: bytes) -> list[Diagnostic]:
    """`{"errors":[{"code","message","detail"}]}`; anything else (HTML, empty, junk) gives []."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
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


def _summary(response: httpx.Response, diagnostics: list[Diagnostic]) -> str:
    status = f"HTTP {response.status_code}"
    if diagnostics:
        parts = [f"{d.code}: {d.message}".rstrip(": ") for d in diagnostics]
        return f"{status} {'; '.join(parts)}"
    text = response.content[:_MAX_BODY_SHOWN].decode("utf-8", "replace").strip()
    if not text or text.lstrip().startswith("<"):
        reason = response.reason_phrase or "no explanation in the response body"
        return f"{status} ({reason})"
    return f"{status} {' '.join(text.split())}"


def error_from_response(
    response: httpx.Response, context: RegistryContext, hint: str | None = None
) -> RegistryError:
    response.read()
    diagnostics = parse_diagnostics(response.content)
    message = _summary(response, diagnostics)
    if response.status_code in (401, 403):
        return AuthError(message, context=context, status=response.status_code, diagnostics=diagnostics, hint=hint)
    return RegistryError(
        message,
        context=context,
        status=response.status_code,
        diagnostics=diagnostics,
        hint=hint,
        retryable=response.status_code in RETRYABLE_STATUS,
    )


def expect(response: httpx.Response, context: RegistryContext, *statuses: int) -> httpx.Response:
    """The one gate every response passes: the status is one we expect, or it becomes an error."""
    if response.status_code not in statuses:
        raise error_from_response(response, context)
    return response

"""Finish a blob upload despite lost sessions, transient failures and expired tokens.

After a failed attempt the blob is HEADed first (the registry may have committed it before
the answer was lost); otherwise a fresh session is started from a new POST. A dead session
is never resent into. A 401 in the middle of an upload restarts it: the auth flow has
fetched a new token by then; two 401s in a row mean the credentials are refused. None of
oras-go, go-containerregistry, regclient or containers/image restarts a session within one
push; this is where featurepub differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from featurepub.errors import AuthError, RegistryContext, RegistryError
from featurepub.oci.descriptor import Blob
from featurepub.registry.client import RegistryClient
from featurepub.registry.retry import RetryPolicy, is_retryable, session_lost


def upload_with_recovery(
    client: RegistryClient,
    repository: str,
    blob: Blob,
    attempt_upload: Callable[[], int],
    policy: RetryPolicy | None = None,
) -> int:
    """Run `attempt_upload` (one whole upload from a new session) until the blob is in place."""
    policy = policy or client.retry
    started = time.monotonic()
    attempt = 1
    last_was_401 = False
    while True:
        try:
            return attempt_upload()
        except AuthError as exc:
            if exc.status != 401 or last_was_401:
                raise
            last_was_401 = True
            reason, wait = "the token expired during the upload", 0.0
        except RegistryError as exc:
            last_was_401 = False
            if not (is_retryable(exc) or session_lost(exc)):
                raise
            wait = policy.delay(attempt, exc.retry_after)  # Retry-After, as every other retry honours it
            if not policy.allows(attempt, started, wait):
                raise
            reason = exc.reason  # the hook is given where separately
            if exc.retry_after is not None:
                reason += f" (Retry-After {exc.retry_after:g} s)"
        if client.on_retry is not None:
            context = RegistryContext(client.registry, repository, f"upload blob {blob.digest[:19]}")
            client.on_retry(context, f"{reason}; starting a new upload session", attempt, wait)
        policy.sleep(wait)
        if client.blob_exists(repository, blob.digest):
            return 0
        attempt += 1

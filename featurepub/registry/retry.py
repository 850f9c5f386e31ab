"""The one retry policy: which failures are worth another try, and how long to wait.

Retried: 408, 429, 500, 502, 503, 504 and connection failures or timeouts, with
exponential backoff and jitter, honouring Retry-After (seconds or an HTTP date) up to a
cap, bounded both in attempts and in total time. Callers decide what is safe to repeat:
a request whose body can be sent again is retried as-is; a streamed upload is restarted
from a new session instead (see recovery.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from featurepub.errors import RegistryError

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Upload sessions that are gone or broken: restart from a new POST, never resend into them.
SESSION_LOST_CODES = frozenset({"BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID"})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # str.isdigit alone accepts "²", which float() refuses
        return float(text)
    from email.utils import parsedate_to_datetime  # rarely needed, and a slow import

    try:
        when = parsedate_to_datetime(text)
        if when is None:
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, IndexError, OverflowError, OSError):  # year 99999, say
        return None


@dataclass
class RetryPolicy:
    max_attempts: int = 6  # including the first
    max_elapsed: float = 300.0  # seconds for one operation, waits included
    base_delay: float = 0.5
    max_delay: float = 30.0  # the longest single wait, Retry-After included
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """How long to wait before try number `attempt + 1` (attempt counts from 1)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay)
        # "Full jitter": spread retries from many clients over the whole window.
        return backoff / 2 + self.rng.uniform(0, backoff / 2)

    def allows(self, attempt: int, started: float, wait: float) -> bool:
        """Whether try number `attempt + 1` fits in the attempt and time bounds."""
        return attempt < self.max_attempts and (time.monotonic() - started) + wait <= self.max_elapsed


NO_RETRIES = RetryPolicy(max_attempts=1)


def is_retryable(error: RegistryError) -> bool:
    return error.retryable or (error.status in RETRYABLE_STATUS)


def session_lost(error: RegistryError) -> bool:
    """The upload session cannot continue; a new one may succeed."""
    return bool(error.codes & SESSION_LOST_CODES) or error.status == 416

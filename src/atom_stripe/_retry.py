"""When to retry, and how long to wait: pure functions of the response and the attempt."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import anyio

from ._constants import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRY_AFTER_HEADER,
    RETRYABLE_STATUS,
    SHOULD_RETRY_HEADER,
)

#: How the retry loop waits (anyio's, so it works on asyncio and trio alike).
sleep = anyio.sleep


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an HTTP error response is worth another attempt.

    ``Stripe-Should-Retry`` decides when present; otherwise 409, 429 and 5xx are retried.
    """
    hint = headers.get(SHOULD_RETRY_HEADER)
    if hint == "true":
        return True
    if hint == "false":
        return False
    return status in RETRYABLE_STATUS or status >= 500


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``Retry-After`` (seconds or an HTTP date)."""
    value = headers.get(RETRY_AFTER_HEADER)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


def backoff_delay(retry_number: int) -> float:
    """Exponential backoff with full jitter for retry number 1, 2, ...

    The base delays come from ``backoff.expo`` (0.5, 1, 2, 4, 5, 5, ... s) and the
    jitter from ``backoff.full_jitter``, floored at half the base so a retry is
    never immediate.
    """
    import backoff  # here, not at import time: it imports asyncio, which trio users need not load

    waits = backoff.expo(base=2, factor=INITIAL_RETRY_DELAY, max_value=MAX_RETRY_DELAY)
    next(waits)  # backoff's generators yield a throwaway value first
    base = next(itertools.islice(waits, retry_number - 1, None))
    return max(base / 2, backoff.full_jitter(base))


def retry_delay(retry_number: int, headers: Mapping[str, str] | None = None) -> float:
    """How long to wait before retry ``retry_number``: ``Retry-After`` if given, else backoff."""
    if headers is not None:
        asked = retry_after(headers)
        if asked is not None:
            return asked
    return backoff_delay(retry_number)

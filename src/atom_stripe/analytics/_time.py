"""Times given to analytics calls: aware datetimes, dates (midnight UTC) or Unix timestamps."""

from __future__ import annotations

import datetime as dt
import time
from typing import Union

# A Union, not X | Y: a type alias is evaluated at run time, and X | Y needs Python 3.10 types.
from .._errors import StripeValueError

When = Union[dt.datetime, dt.date, int]  # noqa: UP007


def epoch(value: When | None, param: str) -> int:
    """Seconds since the epoch; None is now. A naive datetime is refused (its zone is unknown)."""
    if value is None:
        return int(time.time())
    if isinstance(value, bool):
        raise StripeValueError(param, "must be a datetime, a date or a Unix timestamp, not bool")
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise StripeValueError(param, "is a naive datetime: give a zone (datetime(..., tzinfo=timezone.utc))")
        return int(value.timestamp())
    if isinstance(value, dt.date):
        return int(dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc).timestamp())
    raise StripeValueError(param, f"must be a datetime, a date or a Unix timestamp, not {type(value).__name__}")


def span(start: When, end: When | None) -> tuple[int, int]:
    """``[start, end)`` in seconds; end defaults to now and must come after start."""
    first, last = epoch(start, "start"), epoch(end, "end")
    if last <= first:
        raise StripeValueError("end", "must come after start")
    return first, last

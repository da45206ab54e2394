"""A client's settings: the API key and the URLs it may go to, the API version, timeouts,
retries, the response size cap, rates and waits; and the ``Idempotency-Key`` of a call."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._constants import CONNECT_TIMEOUT, MAX_IDEMPOTENCY_KEY
from .._errors import StripeValueError


def check_timeout(value: float | httpx.Timeout) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise StripeValueError("timeout", "must be a positive number of seconds or an httpx.Timeout")
    return httpx.Timeout(float(value), connect=min(float(value), CONNECT_TIMEOUT))


def check_total_timeout(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise StripeValueError("total_timeout", "must be a positive number of seconds, or None for no cap")
    return float(value)


def check_max_response_size(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StripeValueError("max_response_size", "must be a positive number of bytes")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_header_text(value: str) -> bool:
    """Whether ``value`` can go in an HTTP header as is: printable ASCII (no CR, LF or NUL).
    Checked when a client is made, so a bad value is refused once, by name, and never reaches
    the wire, where the HTTP library's error would quote the whole header (the key) back."""
    return value.isascii() and value.isprintable()


def check_key(api_key: Any, base_url: str, files_base_url: str | None = None) -> str:
    """An API key, and the URLs it goes to (the error names the one at fault): a live key goes
    only over https or to a loopback host. Never echoes the key."""
    if not isinstance(api_key, str) or not api_key.strip() or api_key != api_key.strip():
        raise StripeValueError("api_key", "must be a non-empty string without surrounding spaces")
    if not is_header_text(api_key):
        raise StripeValueError("api_key", "must be printable ASCII (no control characters: it is sent as a header)")
    if api_key.startswith("pk_"):
        raise StripeValueError("api_key", "a publishable key (pk_...) cannot make server calls; use a secret key")
    live = api_key.startswith(("sk_live_", "rk_live_"))
    urls = {"base_url": base_url, "files_base_url": files_base_url}
    for name, url in urls.items():
        if url is None:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise StripeValueError(name, "must be an http(s) URL with a host")
        if parts.scheme == "http" and live and not is_loopback(parts.hostname):
            raise StripeValueError(name, "a live key is only sent over https (or to a loopback host)")
    return api_key


def check_api_version(api_version: Any) -> str:
    """A ``Stripe-Version`` value: a non-empty header-safe string such as ``2026-10-28.endive``."""
    if not isinstance(api_version, str) or not api_version.strip() or not is_header_text(api_version):
        raise StripeValueError("api_version", "must be a non-empty printable ASCII string such as '2026-10-28.endive'")
    return api_version


def check_retries(max_retries: int) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise StripeValueError("max_retries", "must be an integer >= 0")
    return max_retries


def check_rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise StripeValueError(name, "must be a positive number")
    return float(value)


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise StripeValueError("idempotency_key", f"must be a string of 1 to {MAX_IDEMPOTENCY_KEY} characters")
    if not key.isprintable() or not key.isascii():
        raise StripeValueError("idempotency_key", "must be printable ASCII")
    return key

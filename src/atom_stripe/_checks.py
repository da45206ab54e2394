"""Checks on settings and parameter values, made before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._errors import StripeValueError, typename
from .money import check_amount, normalize_currency

#: The connect timeout when ``timeout`` is given as a number of seconds.
CONNECT_TIMEOUT = 5.0
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
_BAD_ID_CHARS = re.compile(r"[/?#%\s\\]")

#: Calls that need one of several parameters Stripe types as optional: (verb, path) -> names.
ONE_OF_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/refunds"): ("payment_intent", "charge"),
}

#: Paths whose amounts Stripe takes only positive (or zero, per ``AMOUNT_KEYS``): money that
#: moves from a payer. Elsewhere (customer balance transactions, invoice items, credit notes,
#: tax reversals, ...) an amount may be negative: a credit.
POSITIVE_AMOUNT_PATHS = (
    "/v1/payment_intents",
    "/v1/charges",
    "/v1/refunds",
    "/v1/payouts",
    "/v1/transfers",
    "/v1/topups",
    "/v1/setup_intents",
    "/v1/checkout/sessions",
    "/v1/payment_links",
    "/v1/prices",
    "/v1/products",
    "/v1/plans",
    "/v1/subscriptions",
    "/v1/subscription_items",
    "/v1/application_fees",
)


def amounts_signed(path: str) -> bool:
    """Whether amounts of calls on ``path`` may be negative (credits, reversals)."""
    return not path.startswith(POSITIVE_AMOUNT_PATHS)


#: Amount parameters: name -> whether zero is allowed.
AMOUNT_KEYS = {
    "amount": False,
    "amount_to_capture": False,
    "application_fee_amount": True,
    "unit_amount": True,
}


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


def _is_loopback(host: str) -> bool:
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
        if parts.scheme == "http" and live and not _is_loopback(parts.hostname):
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


def check_account(stripe_account: Any) -> str | None:
    """A ``Stripe-Account`` value: None, or a non-empty account id (printable ASCII: it is a header)."""
    if stripe_account is not None and (
        not isinstance(stripe_account, str) or not stripe_account.strip() or not is_header_text(stripe_account)
    ):
        raise StripeValueError("stripe_account", "must be a non-empty account id such as 'acct_...'")
    return stripe_account


def check_id(name: str, value: Any) -> str:
    """A path id: a non-empty string that cannot change the URL it goes into.

    ``.`` and ``..`` are refused too: URL normalization would collapse them
    (``payments.confirm("..")`` would become ``POST /v1/confirm``).
    """
    if not isinstance(value, str) or not value:
        raise StripeValueError(name, f"must be a non-empty id string, not {typename(value)}")
    if _BAD_ID_CHARS.search(value) or not value.isprintable() or value in (".", ".."):
        raise StripeValueError(name, "must not be '.' or '..' nor contain '/', '?', '#', '%', '\\' or whitespace")
    return value


def check_metadata(metadata: Any, param: str = "metadata") -> None:
    if metadata == "":
        return
    if not isinstance(metadata, Mapping):
        raise StripeValueError(param, "must be a mapping of strings to strings (or '' to clear it)")
    if len(metadata) > MAX_METADATA_KEYS:
        raise StripeValueError(param, f"has {len(metadata)} keys; Stripe allows {MAX_METADATA_KEYS}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > MAX_METADATA_KEY or "[" in key or "]" in key:
            raise StripeValueError(
                param, f"keys must be 1 to {MAX_METADATA_KEY} characters without '[' or ']': {str(key)[:50]!r}"
            )
        if not isinstance(value, str):
            raise StripeValueError(f"{param}[{key}]", f"must be a string, not {type(value).__name__}")
        if len(value) > MAX_METADATA_VALUE:
            raise StripeValueError(f"{param}[{key}]", f"is longer than {MAX_METADATA_VALUE} characters")


def check_values(params: Mapping[str, Any], prefix: str = "", *, signed: bool = False) -> Mapping[str, Any]:
    """Check amounts, currencies and metadata anywhere in the parameters.

    Returns the parameters with currencies lower-cased (``"USD"`` is sent as ``usd``): the
    same mapping when nothing needed changing, else a copy; the caller's mappings are
    never changed.
    """
    out: dict[str, Any] | None = None
    currency = params.get("currency")
    if currency is not None:
        code = normalize_currency(currency, param=_name(prefix, "currency"))
        if code != currency:
            out = dict(params)
            out["currency"] = code
        currency = code
    for key, value in params.items():
        if key in _VALUE_KEYS and value is not None:
            if key == "metadata":
                check_metadata(value, _name(prefix, key))
                continue
            if not _is_mapping(value):
                if value != "":
                    check_amount(
                        value,
                        currency=currency,
                        param=_name(prefix, key),
                        allow_zero=AMOUNT_KEYS[key],
                        allow_negative=signed,
                    )
                continue
        if type(value) in _SCALARS:
            continue
        if _is_mapping(value):
            checked = check_values(value, _name(prefix, key), signed=signed)
            if checked is not value:
                out = out if out is not None else dict(params)
                out[key] = checked
        elif isinstance(value, (list, tuple)):
            items = [
                check_values(item, f"{_name(prefix, key)}[{index}]", signed=signed) if _is_mapping(item) else item
                for index, item in enumerate(value)
            ]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                out = out if out is not None else dict(params)
                out[key] = items
    return params if out is None else out


#: Keys ``check_values`` looks at whatever their value; and the values with nothing in them to check.
_VALUE_KEYS = frozenset([*AMOUNT_KEYS, "metadata"])
_SCALARS = frozenset([str, int, float, bool, type(None)])


def _is_mapping(value: Any) -> bool:
    kind = type(value)
    return kind is dict or (kind not in _SCALARS and isinstance(value, Mapping))


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def check_one_of(method: str, path: str, params: Mapping[str, Any]) -> None:
    """Refuse a call that lacks all of the parameters one of which it needs."""
    names = ONE_OF_REQUIRED.get((method, path))
    if names is not None and all(params.get(name) is None for name in names):
        raise StripeValueError(names[0], f"give the {' or the '.join(names)}")

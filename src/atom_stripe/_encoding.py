"""Stripe's form encoding: ``a[b][c]=v``, indexed arrays, ``true``/``false``, ``None`` left out.

An empty mapping or list is sent as ``key=``, which Stripe reads as "clear it" where the field
takes an empty string (``metadata=``). Where it does not (``affirm``: an object with no
empty-string form), the parameter check names the empty mapping and :func:`without` leaves it
out before encoding, as stripe-python 16.1.0 does for every empty mapping (``stripe/_encode.py``,
``_api_encode``: a dict is expanded by ``_encode_nested_dict`` into its items, so ``{}`` yields
no pair at all).

The rules of what a user may pass are checked before this (``_validation``); what this module
still refuses protects the wire itself (a key that would change the bracket structure, a value
with no form encoding), as ``extra_params`` and ``client.request(...)`` reach it untyped.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ._errors import StripeValueError

Pairs = list[tuple[str, str]]


def flatten(params: Mapping[str, Any]) -> Pairs:
    """Flatten nested parameters into Stripe's ``key[sub][0]=value`` pairs, in order."""
    pairs: Pairs = []
    for key, value in params.items():
        _flatten(pairs, key, value)
    return pairs


def without(params: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """A copy of ``params`` without the values at ``names`` (wire names: ``a[b][0][c]``); the
    containers on the way are copied, the caller's own are left as they were. A mapping left
    empty by this is left out too (``{"card": {}}`` sends nothing, not a clearing ``key=``)."""
    out: dict[str, Any] = _without(params, "", frozenset(names))
    return out


def _without(value: Any, name: str, names: frozenset[str]) -> Any:
    if name and not any(n.startswith(f"{name}[") for n in names):
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            sub = f"{name}[{key}]" if name else key
            if sub not in names:
                kept = _without(item, sub, names)
                if not (kept == {} and item):  # emptied here, not given empty
                    out[key] = kept
        return out
    if isinstance(value, (list, tuple)):
        return [_without(item, f"{name}[{index}]", names) for index, item in enumerate(value)]
    return value


def _flatten(pairs: Pairs, key: str, value: Any) -> None:
    kind = type(value)
    if kind is str:  # the common cases first, by exact type
        if not value.isascii():
            scalar(key, value)
        pairs.append((key, value))
        return
    if kind is int:
        pairs.append((key, str(value)))
        return
    if value is None:
        return
    if kind is dict or isinstance(value, Mapping):
        if not value:
            # An empty mapping is how Stripe clears an object (``metadata=``).
            pairs.append((key, ""))
        for sub, item in value.items():
            if not isinstance(sub, str) or not sub or "[" in sub or "]" in sub:
                raise StripeValueError(key, f"keys must be non-empty strings without '[' or ']', not {sub!r}")
            if type(item) is str and item.isascii():  # the common leaf (metadata), without a call
                pairs.append((f"{key}[{sub}]", item))
            else:
                _flatten(pairs, f"{key}[{sub}]", item)
    elif isinstance(value, (list, tuple)):
        if not value:
            pairs.append((key, ""))
        for index, item in enumerate(value):
            if item is None:
                raise StripeValueError(f"{key}[{index}]", "a list cannot hold None")
            _flatten(pairs, f"{key}[{index}]", item)
    else:
        pairs.append((key, scalar(key, value)))


def scalar(key: str, value: Any) -> str:
    """One value as Stripe reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return scalar(key, value.value)
    if isinstance(value, str):
        if not value.isascii() and not _encodable(value):
            raise StripeValueError(key, "is not valid Unicode text (it holds a lone surrogate)")
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise StripeValueError(key, f"must be a finite number, not {value}")
        return format(value, "f")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise StripeValueError(key, f"must be a finite number, not {value}")
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise StripeValueError(key, "a datetime must carry a time zone")
        return str(int(value.timestamp()))
    if isinstance(value, datetime.date):
        raise StripeValueError(key, "send a timezone-aware datetime, not a date")
    raise StripeValueError(key, f"cannot send a value of type {type(value).__name__}")


# Stripe accepts brackets unescaped, and unescaped brackets keep logs readable.
_SAFE = "[]"
# Text made only of these needs no quoting (the common case: ids, amounts, keys).
_KEY_CHARS = r"[A-Za-z0-9_.\-~\[\]]*"
_VALUE_CHARS = r"[A-Za-z0-9_.\-~]*"
_PLAIN_KEY = re.compile(_KEY_CHARS)
_PLAIN_VALUE = re.compile(_VALUE_CHARS)
_PLAIN_PAIRS = re.compile(f"{_KEY_CHARS}={_VALUE_CHARS}(?:&{_KEY_CHARS}={_VALUE_CHARS})*")


def urlencode(pairs: Sequence[tuple[str, str]]) -> str:
    """``application/x-www-form-urlencoded`` text for the pairs."""
    text = "&".join(map("=".join, pairs))
    # All plain, and one '&' per pair boundary (so none inside a key or value): nothing to quote.
    if text.count("&") == len(pairs) - 1 and _PLAIN_PAIRS.fullmatch(text):
        return text
    plain_key, plain_value = _PLAIN_KEY.fullmatch, _PLAIN_VALUE.fullmatch
    try:
        return "&".join(
            f"{k if plain_key(k) else quote(k, safe=_SAFE)}={v if plain_value(v) else quote(v, safe='')}"
            for k, v in pairs
        )
    except UnicodeEncodeError:
        for k, v in pairs:
            for text in (k, v):
                if not _encodable(text):
                    raise StripeValueError(k, "is not valid Unicode text (it holds a lone surrogate)") from None
        raise


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

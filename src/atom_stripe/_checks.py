"""Checks on parameter values that Stripe would refuse anyway, made before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import StripeValueError
from .money import check_amount, normalize_currency

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500

#: Amount parameters: name -> whether zero is allowed.
AMOUNT_KEYS = {
    "amount": False,
    "amount_to_capture": False,
    "application_fee_amount": True,
    "unit_amount": True,
}


def check_account(stripe_account: Any) -> str | None:
    """A ``Stripe-Account`` value: None, or a non-empty account id."""
    if stripe_account is not None and (not isinstance(stripe_account, str) or not stripe_account.strip()):
        raise StripeValueError("stripe_account", "must be a non-empty account id such as 'acct_...'")
    return stripe_account


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


def check_values(params: Mapping[str, Any], prefix: str = "") -> Mapping[str, Any]:
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
        if value is None:
            continue
        if key in AMOUNT_KEYS:
            if value != "":
                check_amount(value, currency=currency, param=_name(prefix, key), allow_zero=AMOUNT_KEYS[key])
        elif key == "metadata":
            check_metadata(value, _name(prefix, key))
        elif type(value) is str:
            continue
        elif isinstance(value, Mapping):
            checked = check_values(value, _name(prefix, key))
            if checked is not value:
                out = out if out is not None else dict(params)
                out[key] = checked
        elif isinstance(value, (list, tuple)):
            items = [
                check_values(item, f"{_name(prefix, key)}[{index}]") if isinstance(item, Mapping) else item
                for index, item in enumerate(value)
            ]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                out = out if out is not None else dict(params)
                out[key] = items
    return params if out is None else out


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key

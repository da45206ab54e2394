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


def check_values(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Check amounts, currencies and metadata anywhere in the parameters.

    Returns a copy in which currencies are lower-cased (``"USD"`` is sent as ``usd``);
    the caller's mappings are left as they were.
    """
    out = dict(params)
    currency = out.get("currency")
    if currency is not None:
        currency = out["currency"] = normalize_currency(currency, param=_name(prefix, "currency"))
    else:
        currency = None
    for key, value in out.items():
        name = _name(prefix, key)
        if key in AMOUNT_KEYS and value is not None and value != "":
            check_amount(value, currency=currency, param=name, allow_zero=AMOUNT_KEYS[key])
        elif key == "metadata" and value is not None:
            check_metadata(value, name)
        elif isinstance(value, Mapping):
            out[key] = check_values(value, name)
        elif isinstance(value, (list, tuple)):
            out[key] = [
                check_values(item, f"{name}[{index}]") if isinstance(item, Mapping) else item
                for index, item in enumerate(value)
            ]
    return out


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key

"""A call's values: amounts, currencies, metadata, ids, the account header, the one-of rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._errors import StripeValueError, typename
from ..money import check_amount, normalize_currency
from ._settings import is_header_text

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

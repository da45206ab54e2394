"""The pre-send path as it was before it was compiled (commit 0e4cce9), kept verbatim as an
oracle: ``test_params_equivalence`` checks that the fast path accepts, refuses, names and
encodes exactly as this did."""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal, TypedDict, Union

from typing_extensions import is_typeddict

from atom_stripe._encoding import _PLAIN_KEY, _PLAIN_VALUE, _SAFE, Pairs, _encodable, scalar
from atom_stripe._errors import StripeValueError
from atom_stripe._validation import AMOUNT_KEYS, check_metadata
from atom_stripe.money import ISO_CURRENCIES, THREE_DECIMAL, WHOLE_UNITS_TIMES_100, max_amount

# -- _params.check_params ------------------------------------------------------------------------

_NoneType = type(None)
_hints: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}
_plans: dict[Any, tuple[Any, tuple[Any, ...]]] = {}


class _Mismatch(Exception):
    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message


def check_params(schema: type, params: Mapping[str, Any]) -> None:
    # Its plans were keyed by annotation, and ``Union`` compares equal whatever its order: the
    # order in a message came from whichever equal union was checked first in the process. The
    # oracle is the walk as in a fresh process (the new one follows each annotation's own order).
    _plans.clear()
    try:
        _check_dict(schema, params, "", top=True)
    except _Mismatch as mismatch:
        raise StripeValueError(mismatch.name or "params", mismatch.message) from None


def _fields(schema: type) -> tuple[dict[str, Any], frozenset[str]]:
    found = _hints.get(schema)
    if found is None:
        module = sys.modules[schema.__module__]
        hints = typing.get_type_hints(schema, globalns=vars(module))
        found = _hints[schema] = (hints, frozenset(getattr(schema, "__required_keys__", ())))
    return found


def _join(prefix: str, key: object) -> str:
    return f"{prefix}[{key}]" if prefix else str(key)


def _check_dict(schema: type, value: Any, name: str, top: bool = False) -> None:
    if not isinstance(value, Mapping):
        raise _Mismatch(name, f"must be a mapping (a dict), not {type(value).__name__}")
    hints, required = _fields(schema)
    for key, item in value.items():
        tp = hints.get(key) if isinstance(key, str) else None
        if tp is None:
            hint = " (pass untyped ones in extra_params=)" if top else ""
            where = "this call" if top else (name or "this call")
            raise _Mismatch(_join(name, key), f"is not a parameter of {where}{hint}")
        _check(item, tp, _join(name, key))
    for key in required:
        if key not in value:
            raise _Mismatch(_join(name, key), "is required")


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (list, typing.List):  # noqa: UP006
        return "a list"
    if origin in (dict, typing.Dict):  # noqa: UP006
        return "a mapping"
    if is_typeddict(tp):
        return "a mapping"
    if tp is _NoneType:
        return "None"
    return f"a {getattr(tp, '__name__', str(tp))}"


def _check(value: Any, tp: Any, name: str) -> None:
    if tp is Any:
        return
    if tp is str:
        if not isinstance(value, str):
            raise _Mismatch(name, f"must be a string, not {type(value).__name__}")
        return
    if tp is bool:
        if not isinstance(value, bool):
            raise _Mismatch(name, f"must be True or False, not {type(value).__name__}")
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Mismatch(name, f"must be an integer, not {type(value).__name__}")
        return
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Mismatch(name, f"must be a number, not {type(value).__name__}")
        return
    if tp is Decimal:
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
            raise _Mismatch(name, f"must be a decimal (Decimal, int or str), not {type(value).__name__}")
        try:
            finite = Decimal(value).is_finite()
        except ArithmeticError:
            finite = False
        if not finite:
            raise _Mismatch(name, f"must be a finite decimal number, not {value!r}"[:120])
        return
    if tp is _NoneType:
        if value is not None:
            raise _Mismatch(name, "must be None")
        return
    origin, args = _plan(tp)
    if origin is TypedDict:
        _check_dict(tp, value, name)
        return
    if origin is Literal:
        if not _in_literal(value, args):
            raise _Mismatch(name, "must be " + _describe(tp) + f", not {value!r}"[:120])
        return
    if origin is Union:
        _check_union(value, args, name)
        return
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch(name, f"must be a list, not {type(value).__name__}")
        for index, item in enumerate(value):
            _check(item, args[0], f"{name}[{index}]")
        return
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _Mismatch(name, f"must be a mapping, not {type(value).__name__}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Mismatch(name, f"keys must be strings, not {type(key).__name__}")
            _check(item, args[1], _join(name, key))
        return
    raise _Mismatch(name, f"has a type atom_stripe cannot check ({tp!r})")  # pragma: no cover


def _plan(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    found = _plans.get(tp)
    if found is None:
        if is_typeddict(tp):
            found = (TypedDict, ())
        else:
            origin = typing.get_origin(tp)
            if origin is types.UnionType:
                origin = Union
            elif origin is typing.List:  # noqa: UP006
                origin = list
            elif origin is typing.Dict:  # noqa: UP006
                origin = dict
            found = (origin, typing.get_args(tp))
        _plans[tp] = found
    return found


def _in_literal(value: Any, args: tuple[Any, ...]) -> bool:
    return any(type(value) is type(a) and value == a for a in args)


def _check_union(value: Any, args: tuple[Any, ...], name: str) -> None:
    mismatches: list[_Mismatch] = []
    for arg in args:
        origin, literals = _plan(arg)
        if origin is Literal:
            if _in_literal(value, literals):
                return
            continue
        try:
            _check(value, arg, name)
        except _Mismatch as mismatch:
            mismatches.append(mismatch)
        else:
            return
    deeper = [m for m in mismatches if len(m.name) > len(name)]
    if deeper:
        raise max(deeper, key=lambda m: len(m.name))
    kinds = []
    for arg in args:
        text = _describe(arg)
        if text not in kinds:
            kinds.append(text)
    raise _Mismatch(name, f"must be {' or '.join(kinds)}, not {type(value).__name__}")


# -- _validation.check_values (with money.check_amount and normalize_currency) ---------------------


def normalize_currency(currency: str, *, param: str = "currency") -> str:
    if not isinstance(currency, str):
        raise StripeValueError(param, f"must be a three-letter ISO currency code, not {type(currency).__name__}")
    code = currency.strip().lower()
    if code not in ISO_CURRENCIES:
        raise StripeValueError(param, f"{currency!r} is not a known ISO 4217 currency code")
    return code


def check_amount(
    amount: object,
    *,
    currency: str | None = None,
    param: str = "amount",
    allow_zero: bool = False,
    allow_negative: bool = False,
) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise StripeValueError(
            param,
            f"must be an int, not {type(amount).__name__}: Stripe amounts are integers in the currency's minor "
            "unit (2000 is 20.00 USD, 2000 JPY is 2000 yen); convert with "
            "atom_stripe.money.to_minor_units(Decimal('20.00'), 'usd')",
        )
    if not allow_negative and (amount < 0 or (amount == 0 and not allow_zero)):
        raise StripeValueError(param, f"must be {'zero or more' if allow_zero else 'positive'}, not {amount}")
    limit = max_amount(currency)
    if abs(amount) > limit:
        raise StripeValueError(param, f"{amount} is above Stripe's maximum of {limit}")
    if currency is not None:
        code = normalize_currency(currency)
        if code in WHOLE_UNITS_TIMES_100 and abs(amount) % 100:
            raise StripeValueError(param, f"{code.upper()} amounts must be a multiple of 100 (whole units)")
        if code in THREE_DECIMAL and abs(amount) % 10:
            raise StripeValueError(param, f"{code.upper()} amounts must end in 0")
    return amount


def check_values(params: Mapping[str, Any], prefix: str = "", *, signed: bool = False) -> Mapping[str, Any]:
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
        if key in AMOUNT_KEYS and not isinstance(value, Mapping):
            if value != "":
                check_amount(
                    value,
                    currency=currency,
                    param=_name(prefix, key),
                    allow_zero=AMOUNT_KEYS[key],
                    allow_negative=signed,
                )
        elif key == "metadata":
            check_metadata(value, _name(prefix, key))
        elif type(value) is str:
            continue
        elif isinstance(value, Mapping):
            checked = check_values(value, _name(prefix, key), signed=signed)
            if checked is not value:
                out = out if out is not None else dict(params)
                out[key] = checked
        elif isinstance(value, (list, tuple)):
            items = [
                check_values(item, f"{_name(prefix, key)}[{index}]", signed=signed)
                if isinstance(item, Mapping)
                else item
                for index, item in enumerate(value)
            ]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                out = out if out is not None else dict(params)
                out[key] = items
    return params if out is None else out


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


# -- _encoding.flatten and urlencode -------------------------------------------------------------


def flatten(params: Mapping[str, Any]) -> Pairs:
    pairs: Pairs = []
    for key, value in params.items():
        _flatten(pairs, key, value)
    return pairs


def _flatten(pairs: Pairs, key: str, value: Any) -> None:
    kind = type(value)
    if kind is str:
        if not value.isascii():
            scalar(key, value)
        pairs.append((key, value))
        return
    if kind is int:
        pairs.append((key, str(value)))
        return
    if value is None:
        return
    if isinstance(value, Mapping):
        if not value:
            pairs.append((key, ""))
        for sub, item in value.items():
            if not isinstance(sub, str) or not sub or "[" in sub or "]" in sub:
                raise StripeValueError(key, f"keys must be non-empty strings without '[' or ']', not {sub!r}")
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


def urlencode(pairs: list[tuple[str, str]]) -> str:
    from urllib.parse import quote

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

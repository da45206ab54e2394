"""Checking a call's parameters against its typed parameters, at every depth, before sending.

The generated ``...Params`` TypedDicts are the single source: this walks a call's values
along their annotations (resolved lazily, one TypedDict at a time, only where the call has
values) and names the first misfit the way Stripe does (``address[cty]``, ``items[0][price]``).
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal, TypedDict, Union

from typing_extensions import is_typeddict

from ._errors import StripeValueError

_NoneType = type(None)
_hints: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}
_plans: dict[Any, tuple[Any, tuple[Any, ...]]] = {}


class _Misfit(Exception):
    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message


def check_params(schema: type, params: Mapping[str, Any]) -> None:
    """Raise :class:`StripeValueError` naming the first parameter that does not fit ``schema``."""
    try:
        _check_dict(schema, params, "", top=True)
    except _Misfit as misfit:
        raise StripeValueError(misfit.name or "params", misfit.message) from None


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
        raise _Misfit(name, f"must be a mapping (a dict), not {type(value).__name__}")
    hints, required = _fields(schema)
    for key, item in value.items():
        tp = hints.get(key) if isinstance(key, str) else None
        if tp is None:
            hint = " (pass untyped ones in extra_params=)" if top else ""
            where = "this call" if top else (name or "this call")
            raise _Misfit(_join(name, key), f"is not a parameter of {where}{hint}")
        _check(item, tp, _join(name, key))
    for key in required:
        if key not in value:
            raise _Misfit(_join(name, key), "is required")


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
            raise _Misfit(name, f"must be a string, not {type(value).__name__}")
        return
    if tp is bool:
        if not isinstance(value, bool):
            raise _Misfit(name, f"must be True or False, not {type(value).__name__}")
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Misfit(name, f"must be an integer, not {type(value).__name__}")
        return
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Misfit(name, f"must be a number, not {type(value).__name__}")
        return
    if tp is Decimal:
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
            raise _Misfit(name, f"must be a decimal (Decimal, int or str), not {type(value).__name__}")
        try:
            finite = Decimal(value).is_finite()
        except ArithmeticError:
            finite = False
        if not finite:
            raise _Misfit(name, f"must be a finite decimal number, not {value!r}"[:120])
        return
    if tp is _NoneType:
        if value is not None:
            raise _Misfit(name, "must be None")
        return
    origin, args = _plan(tp)
    if origin is TypedDict:
        _check_dict(tp, value, name)
        return
    if origin is Literal:
        if not _in_literal(value, args):
            raise _Misfit(name, "must be " + _describe(tp) + f", not {value!r}"[:120])
        return
    if origin is Union:
        _check_union(value, args, name)
        return
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise _Misfit(name, f"must be a list, not {type(value).__name__}")
        for index, item in enumerate(value):
            _check(item, args[0], f"{name}[{index}]")
        return
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _Misfit(name, f"must be a mapping, not {type(value).__name__}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Misfit(name, f"keys must be strings, not {type(key).__name__}")
            _check(item, args[1], _join(name, key))
        return
    raise _Misfit(name, f"has a type atom_stripe cannot check ({tp!r})")  # pragma: no cover


def _plan(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """What kind of annotation ``tp`` is (``TypedDict``, ``Literal``, ``Union``, ``list``,
    ``dict``) and its arguments: worked out once per annotation."""
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
    misfits: list[_Misfit] = []
    for arg in args:
        origin, literals = _plan(arg)
        if origin is Literal:
            # Checked here, without an exception: its message would never be read (a misfit
            # of the union itself is told from the union's arguments below).
            if _in_literal(value, literals):
                return
            continue
        try:
            _check(value, arg, name)
        except _Misfit as misfit:
            misfits.append(misfit)
        else:
            return
    deeper = [m for m in misfits if len(m.name) > len(name)]
    if deeper:
        raise max(deeper, key=lambda m: len(m.name))
    kinds = []
    for arg in args:
        text = _describe(arg)
        if text not in kinds:
            kinds.append(text)
    raise _Misfit(name, f"must be {' or '.join(kinds)}, not {type(value).__name__}")

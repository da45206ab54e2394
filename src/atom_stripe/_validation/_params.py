"""Checking a call's parameters against its typed parameters, at every depth, before sending.

The generated ``...Params`` TypedDicts are the single source: this walks a call's values
along their annotations and names the first mismatch the way Stripe does (``address[cty]``,
``items[0][price]``). Each TypedDict's annotations are resolved once, lazily (only those a
call has values for), and each field is compiled the first time a value reaches it into a
*plan*: a check function, and the exact types the field takes as they are (``str`` for
``Literal[...] | str``, ``int`` for ``int``). The common value costs one set lookup, and no
typing introspection or hashing of annotations happens once a field is compiled.

The walk also names the empty mappings Stripe would refuse as ``key=``: a field typed as a
mapping without a ``Literal['']`` branch (``affirm``, ``offline``) takes no empty string, so
``{}`` there is left out, as stripe-python leaves it out; where the type admits ``""``
(``metadata``, a PaymentIntent's ``payment_method_options[card]``) ``{}`` is sent as ``key=``,
Stripe's "clear it". Which fields are which is decided once per field, when it is compiled.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any, Literal, Union

from typing_extensions import is_typeddict

from .._errors import StripeValueError, typename

_NoneType = type(None)
#: Checks one value, raising ``_Mismatch`` (the name is the value's parameter name); returns the
#: names of the empty mappings inside it to leave out, or None (the usual case: none).
Check = Callable[[Any, str], "list[str] | None"]
#: A compiled annotation: the exact types it takes as they are (a caller skips the check, and
#: building the parameter's name, for those), and the check for every other value.
Plan = tuple[frozenset[type], Check]

#: Each TypedDict's annotations, required keys, the fields compiled so far (a field is compiled
#: when a value first reaches it), and those of them where an empty mapping is left out.
_schemas: dict[type, tuple[dict[str, Any], frozenset[str], dict[str, Plan], set[str]]] = {}


class _Mismatch(Exception):
    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message


def check_params(schema: type, params: Mapping[str, Any]) -> None:
    """Raise :class:`~atom_stripe.StripeValueError` naming the first parameter of ``params`` that
    does not fit ``schema`` (a generated params TypedDict), at any depth, as a call would
    (``address[city]``, ``items[0][price]``)."""
    checked_params(schema, params)


def checked_params(schema: type, params: Mapping[str, Any]) -> list[str] | None:
    """:func:`check_params`, returning the names (``payment_method_data[affirm]``) of the empty
    mappings to leave out of the request, or None when there are none."""
    try:
        return _check_dict(schema, params, "", top=True)
    except _Mismatch as mismatch:
        raise StripeValueError(mismatch.name or "params", mismatch.message) from None


def fields_of(schema: type) -> tuple[dict[str, Any], frozenset[str]]:
    """A params TypedDict's resolved annotations and its required keys: the one walk the client,
    the fake's wire checks and the FastAPI router share (resolved once per TypedDict)."""
    hints, required, _, _ = _schema(schema)
    return hints, required


def _schema(schema: type) -> tuple[dict[str, Any], frozenset[str], dict[str, Plan], set[str]]:
    found = _schemas.get(schema)
    if found is None:
        hints = typing.get_type_hints(schema, globalns=vars(sys.modules[schema.__module__]))
        found = _schemas[schema] = (hints, frozenset(getattr(schema, "__required_keys__", ())), {}, set())
    return found


def _join(prefix: str, key: object) -> str:
    return f"{prefix}[{key}]" if prefix else str(key)


def _check_dict(schema: type, value: Any, name: str, top: bool = False) -> list[str] | None:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _Mismatch(name, f"must be a mapping (a dict), not {type(value).__name__}")
    hints, required, plans, omit_empty = _schema(schema)
    omitted: list[str] | None = None
    for key, item in value.items():
        plan = plans.get(key) if isinstance(key, str) else None
        if plan is None:
            tp = hints.get(key) if isinstance(key, str) else None
            if tp is None:
                hint = " (pass untyped ones in extra_params=)" if top else ""
                where = "this call" if top else (name or "this call")
                raise _Mismatch(_join(name, key), f"is not a parameter of {where}{hint}")
            plan = plans[key] = _plan(tp)
            if _refuses_empty_string_for_a_mapping(tp):
                omit_empty.add(key)
        if type(item) not in plan[0]:
            inner = plan[1](item, _join(name, key))
            if inner is not None:
                omitted = inner if omitted is None else omitted + inner
            if not item and key in omit_empty and isinstance(item, Mapping):
                omitted = [*(omitted or ()), _join(name, key)]
    for key in required:
        if key not in value:
            raise _Mismatch(_join(name, key), "is required")
    return omitted


def _refuses_empty_string_for_a_mapping(tp: Any) -> bool:
    """A mapping-typed field (a TypedDict or ``Dict``) with no ``Literal['']`` branch: Stripe's
    spec has no empty-string form for it, so ``key=`` would be refused."""
    branches = typing.get_args(tp) if typing.get_origin(tp) in (Union, types.UnionType) else (tp,)
    mapping = any(is_typeddict(b) or typing.get_origin(b) in (dict, typing.Dict) for b in branches)  # noqa: UP006
    empty = any(typing.get_origin(b) is Literal and "" in typing.get_args(b) for b in branches)
    return mapping and not empty


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


def _any(value: Any, name: str) -> None:
    pass


def _str(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise _Mismatch(name, f"must be a string, not {typename(value)}")


def _bool(value: Any, name: str) -> None:
    if not isinstance(value, bool):
        raise _Mismatch(name, f"must be True or False, not {type(value).__name__}")


def _int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Mismatch(name, f"must be an integer, not {type(value).__name__}")


def _float(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Mismatch(name, f"must be a number, not {type(value).__name__}")


def _decimal(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise _Mismatch(name, f"must be a decimal (Decimal, int or str), not {type(value).__name__}")
    try:
        finite = Decimal(value).is_finite()
    except ArithmeticError:
        finite = False
    if not finite:
        raise _Mismatch(name, f"must be a finite decimal number, not {value!r}"[:120])


def _none(value: Any, name: str) -> None:
    if value is not None:
        raise _Mismatch(name, "must be None")


_SCALARS: dict[Any, Plan] = {
    str: (frozenset({str}), _str),
    bool: (frozenset({bool}), _bool),
    int: (frozenset({int}), _int),
    float: (frozenset({int, float}), _float),
    Decimal: (frozenset(), _decimal),
    _NoneType: (frozenset({_NoneType}), _none),
}


def _plan(tp: Any) -> Plan:
    """Compile one annotation (nested TypedDicts stay unresolved until a value reaches them)."""
    if tp is Any:
        return frozenset(), _any
    if is_typeddict(tp):
        return frozenset(), partial(_check_dict, tp)
    scalar = _SCALARS.get(tp)
    if scalar is not None:
        return scalar
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return frozenset(), _one_of(tp)
    if origin in (Union, types.UnionType):
        return _union(args)
    if origin in (list, typing.List):  # noqa: UP006
        return frozenset(), _list_of(_plan(args[0]))
    if origin in (dict, typing.Dict):  # noqa: UP006
        return frozenset(), _dict_of(_plan(args[1]))
    return frozenset(), partial(_uncheckable, tp)  # pragma: no cover


def _uncheckable(tp: Any, value: Any, name: str) -> None:  # pragma: no cover
    raise _Mismatch(name, f"has a type atom_stripe cannot check ({tp!r})")


def _literals(literals: list[Any]) -> tuple[frozenset[type], frozenset[tuple[type, Any]]]:
    """The values of ``Literal[...]`` annotations, each with its exact type (``1`` is not ``True``)."""
    values = frozenset((type(a), a) for tp in literals for a in typing.get_args(tp))
    return frozenset(kind for kind, _ in values), values


def _one_of(tp: Any) -> Check:
    kinds, values = _literals([tp])

    def check(value: Any, name: str) -> None:
        if not (type(value) in kinds and (type(value), value) in values):
            raise _Mismatch(name, "must be " + _describe(tp) + f", not {value!r}"[:120])

    return check


def _union(args: tuple[Any, ...]) -> Plan:
    literals = [a for a in args if typing.get_origin(a) is Literal]
    kinds, values = _literals(literals)
    plans = [_plan(a) for a in args if typing.get_origin(a) is not Literal]
    checks = [check for _, check in plans]

    def check(value: Any, name: str) -> list[str] | None:
        if type(value) in kinds and (type(value), value) in values:
            return None
        mismatches: list[_Mismatch] = []
        for branch in checks:
            try:
                omitted = branch(value, name)
            except _Mismatch as mismatch:
                mismatches.append(mismatch)
            else:
                return omitted
        deeper = [m for m in mismatches if len(m.name) > len(name)]
        if deeper:
            raise max(deeper, key=lambda m: len(m.name))
        described = dict.fromkeys(_describe(a) for a in args)
        raise _Mismatch(name, f"must be {' or '.join(described)}, not {typename(value)}")

    return frozenset().union(*(taken for taken, _ in plans)), check


def _list_of(item: Plan) -> Check:
    taken, check_item = item

    def check(value: Any, name: str) -> list[str] | None:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch(name, f"must be a list, not {type(value).__name__}")
        omitted: list[str] | None = None
        for index, entry in enumerate(value):
            if type(entry) not in taken:
                inner = check_item(entry, f"{name}[{index}]")
                if inner is not None:
                    omitted = inner if omitted is None else omitted + inner
        return omitted

    return check


def _dict_of(item: Plan) -> Check:
    taken, check_item = item

    def check(value: Any, name: str) -> list[str] | None:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise _Mismatch(name, f"must be a mapping, not {type(value).__name__}")
        omitted: list[str] | None = None
        for key, entry in value.items():
            if not isinstance(key, str):
                raise _Mismatch(name, f"keys must be strings, not {type(key).__name__}")
            if type(entry) not in taken:
                inner = check_item(entry, _join(name, key))
                if inner is not None:
                    omitted = inner if omitted is None else omitted + inner
        return omitted

    return check

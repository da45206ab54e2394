"""The compiled pre-send path against the one it replaced (``params_reference``, kept verbatim):
random nested parameters, drawn along the TypedDicts of a sample of endpoints and spoiled at
random depths, must be accepted, refused (same parameter name, same message), normalized and
encoded exactly as before."""

from __future__ import annotations

import datetime
import enum
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import is_typeddict

from atom_stripe import StripeValueError
from atom_stripe._encoding import flatten, urlencode
from atom_stripe._generated.endpoints import ENDPOINTS
from atom_stripe._validation import check_values
from atom_stripe.types import check_params
from atom_stripe.types import fields_of as _fields

from .. import params_reference as before


class Color(enum.Enum):
    RED = "red"


class Text(str):
    pass


# Values that fit somewhere and mismatch elsewhere: the corners of every check.
ODD: list[Any] = [
    None, "", "x", "any", "manual", "USD", " eur ", "jpy", "xxx", "a[b]", "a&b=c", "Zoë", "\ud800", Text("usd"),
    0, 1, -5, 7, 150, 10**12, True, False, 1.5, float("nan"), Decimal("2.5"), Decimal("NaN"), Decimal("1E+999999"),
    b"x", Color.RED, datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), datetime.date(2026, 1, 1),
    [], ["a", None], ("a", 1), {}, {"x": "y"}, {"": "v"}, {"k[": "v"}, {1: "v"}, {"k": 5}, {"k": "v" * 501},
    {f"k{i}": "v" for i in range(51)},
]  # fmt: skip
odd = st.sampled_from(ODD)
SCHEMAS = sorted({e.params for e in ENDPOINTS.values() if e.params})
NAMES = ["amount", "currency", "metadata", "unit_amount", "application_fee_amount", "zzz", "card", "0"]


def values(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    """Mostly values that fit ``tp`` (so that mismatches come at every depth), one in five odd."""
    return rarely(odd, fitting(tp, depth)) if depth < 4 else odd


def rarely(odd: st.SearchStrategy[Any], usual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.integers(0, 4).flatmap(lambda n: odd if n == 0 else usual)


def fitting(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    if is_typeddict(tp):
        return st.deferred(lambda: mappings(tp, depth + 1))
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([fitting(a, depth) for a in args])
    if origin is list:
        return st.lists(st.deferred(lambda: values(args[0], depth + 1)), max_size=3)
    if origin is dict:
        return st.dictionaries(st.sampled_from(["k", "order", "x"]), values(args[1], depth + 1), max_size=3)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.sampled_from(["usd", "x", "cus_1", "Zoë & = ?", Text("s")]),
        int: st.integers(-10, 10**9),
        float: st.floats(allow_nan=True),
        bool: st.booleans(),
        Decimal: st.decimals(allow_nan=True),
        type(None): st.none(),
    }
    return simple.get(tp, odd)


def mappings(schema: type, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    hints, required = _fields(schema)
    keys = sorted(hints)
    pick = st.lists(st.sampled_from(keys), max_size=4, unique=True) if keys else st.just([])
    extra = rarely(st.lists(st.sampled_from(NAMES), min_size=1, max_size=1), st.just([]))

    def build(chosen: list[str], unknown: list[str], with_required: bool) -> st.SearchStrategy[dict[str, Any]]:
        names = chosen + [k for k in sorted(required) if with_required and k not in chosen]
        fields = {k: values(hints[k], depth) for k in names}
        fields.update({k: odd for k in unknown if k not in fields})
        return st.fixed_dictionaries(fields)

    return st.tuples(pick, extra, rarely(st.just(False), st.just(True))).flatmap(lambda t: build(*t))


@st.composite
def calls(draw: st.DrawFn) -> tuple[type, dict[str, Any]]:
    ref = draw(st.sampled_from(SCHEMAS))
    schema = ENDPOINTS[next(k for k, e in ENDPOINTS.items() if e.params == ref)].params_type
    assert schema is not None
    return schema, draw(mappings(schema, 0))


def outcome(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return "ok", call(*args, **kwargs)
    except StripeValueError as exc:
        return "refused", (exc.param, str(exc))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(calls(), st.booleans())
def test_checks_and_encoding_match_the_previous_walk(call: tuple[type, dict[str, Any]], signed: bool) -> None:
    schema, params = call
    assert outcome(check_params, schema, params) == outcome(before.check_params, schema, params)
    new = outcome(check_values, params, signed=signed)
    old = outcome(before.check_values, params, signed=signed)
    assert new == old
    if new[0] == "ok":
        assert (new[1] is params) == (old[1] is params)  # a copy only when a currency was normalized
        pairs = outcome(flatten, new[1])
        assert pairs == outcome(before.flatten, old[1])
        if pairs[0] == "ok":
            assert outcome(urlencode, pairs[1]) == outcome(before.urlencode, pairs[1])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=5))
def test_urlencode_matches_pair_by_pair_quoting(pairs: list[tuple[str, str]]) -> None:
    # Keys and values made of '&', '=', brackets and plain text, which the one-pass check must not misread.
    assert outcome(urlencode, pairs) == outcome(before.urlencode, pairs)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "=", "&", "[", "]", "a=b&c", "%", ""]),
            st.sampled_from(["v", "=", "&", "[x]", "", "w&k=v"]),
        ),
        max_size=4,
    )
)
def test_urlencode_separators_inside_keys_and_values(pairs: list[tuple[str, str]]) -> None:
    assert urlencode(pairs) == before.urlencode(pairs)


def test_every_field_of_every_schema_compiles_and_takes_what_it_took() -> None:
    """Each annotation of every endpoint's TypedDict (nested ones included), with each odd value."""
    seen: set[type] = set()
    todo = [ENDPOINTS[k].params_type for k in sorted(ENDPOINTS) if ENDPOINTS[k].params]
    while todo:
        schema = todo.pop()
        if schema is None or schema in seen:
            continue
        seen.add(schema)
        hints, _ = _fields(schema)
        for key, tp in hints.items():
            todo.extend(nested(tp))
            for value in ODD:
                params: Mapping[str, Any] = {key: value}
                got = outcome(check_params, schema, params)
                assert got == outcome(before.check_params, schema, params), (schema, key, value)
    assert len(seen) > 2000


def nested(tp: Any) -> list[type]:
    if is_typeddict(tp):
        return [tp]
    return [found for arg in typing.get_args(tp) for found in nested(arg)]

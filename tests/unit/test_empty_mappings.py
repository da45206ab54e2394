"""An empty mapping is sent as ``key=`` only where Stripe takes an empty string for that field
(its params type has a ``Literal['']`` branch: "clear it", as ``metadata={}``); elsewhere it is
left out, as stripe-python 16.1.0 leaves out every empty mapping (``stripe/_encode.py``,
``_api_encode``: an empty dict yields no pair)."""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Any, Literal

import pytest
import respx
from typing_extensions import is_typeddict

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe._encoding import flatten
from atom_stripe._generated.endpoints import ENDPOINTS
from atom_stripe._validation import wire_params
from atom_stripe.types import fields_of as _fields

from ..helpers import form


def _branches(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def _is_mapping(tp: Any) -> bool:
    return is_typeddict(tp) or typing.get_origin(tp) is dict


def _admits_empty_string(tp: Any) -> bool:
    return any(typing.get_origin(b) is Literal and "" in typing.get_args(b) for b in _branches(tp))


def _fitting(tp: Any) -> Any:
    """A value that fits ``tp`` (for the required keys around the field under test)."""
    for branch in _branches(tp):
        if typing.get_origin(branch) is Literal:
            values = [a for a in typing.get_args(branch) if a != ""]
            if values:
                return values[0]
        elif is_typeddict(branch):
            hints, required = _fields(branch)
            return {key: _fitting(hints[key]) for key in sorted(required)}
        elif typing.get_origin(branch) is list:
            return [_fitting(typing.get_args(branch)[0])]
        elif typing.get_origin(branch) is dict:
            return {"k": _fitting(typing.get_args(branch)[1])}
        elif branch in (str, int, float, bool, Decimal):
            return {str: "usd", int: 1, float: 1.0, bool: True, Decimal: Decimal(1)}[branch]
        elif branch is Any:
            return "x"
    raise AssertionError(f"no fitting value for {tp!r}")


def _mapping_fields() -> list[tuple[type, str, Any]]:
    """Every mapping-typed field of every params TypedDict the table reaches, nested ones included."""
    found: list[tuple[type, str, Any]] = []
    seen: set[type] = set()
    todo = [e.params_type for _, e in sorted(ENDPOINTS.items()) if e.params]
    while todo:
        schema = todo.pop()
        if schema is None or schema in seen:
            continue
        seen.add(schema)
        hints, _ = _fields(schema)
        for key, tp in sorted(hints.items()):
            todo += [b for b in _nested(tp) if b not in seen]
            if any(_is_mapping(b) for b in _branches(tp)):
                found.append((schema, key, tp))
    return found


def _nested(tp: Any) -> list[type]:
    if is_typeddict(tp):
        return [tp]
    return [found for arg in typing.get_args(tp) for found in _nested(arg)]


def test_every_mapping_field_sends_an_empty_mapping_only_where_stripe_takes_an_empty_string() -> None:
    fields = _mapping_fields()
    assert len(fields) > 3000
    sent_empty = left_out = 0
    for schema, key, tp in fields:
        hints, required = _fields(schema)
        params = {k: _fitting(hints[k]) for k in sorted(required) if k != key}
        params[key] = {}
        mappings = [b for b in _branches(tp) if _is_mapping(b)]
        if all(is_typeddict(b) and _fields(b)[1] for b in mappings):
            # {} misses the mapping's required keys: refused before anything is sent
            with pytest.raises(StripeValueError) as refused:
                wire_params(schema, params)
            assert refused.value.param.startswith(f"{key}["), (schema, key)
            continue
        pairs = [(k, v) for k, v in flatten(wire_params(schema, params)) if k == key or k.startswith(f"{key}[")]
        if _admits_empty_string(tp):
            assert pairs == [(key, "")], (schema, key, tp)
            sent_empty += 1
        else:
            assert pairs == [], (schema, key, tp)
            left_out += 1
    assert sent_empty > 300 and left_out > 1000


def test_an_empty_mapping_in_a_list_item_is_left_out_at_its_own_depth() -> None:
    schema = ENDPOINTS["payment_intents.create"].params_type
    assert schema is not None
    params = {"amount": 100, "currency": "usd", "payment_method_data": {"type": "affirm", "affirm": {}}}
    assert flatten(wire_params(schema, params)) == [
        ("amount", "100"),
        ("currency", "usd"),
        ("payment_method_data[type]", "affirm"),
    ]
    assert params["payment_method_data"] == {"type": "affirm", "affirm": {}}  # the caller's dict is untouched


def _body(route: respx.Route) -> list[tuple[str, str]]:
    return form(route.calls.last.request)


async def test_payment_method_create_leaves_out_an_empty_type_hash(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v1/payment_methods").respond(200, json={"id": "pm_1", "object": "payment_method"})
    await client.payment_methods.create(type="affirm", affirm={})
    assert route.calls.last.request.content == b"type=affirm"


async def test_payment_intent_leaves_out_empty_payment_method_data_and_offline_acceptance(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v1/payment_intents").respond(200, json={"id": "pi_1", "object": "payment_intent"})
    await client.payment_intents.create(
        amount=1000,
        currency="usd",
        payment_method_data={"type": "affirm", "affirm": {}},
        mandate_data={"customer_acceptance": {"type": "offline", "offline": {}}},
        payment_method_options={"affirm": {}, "card": {}},
        metadata={},
    )
    # payment_method_options[<type>] takes "" on a PaymentIntent (it clears the options): sent;
    # metadata takes none on a create (nothing to clear): left out
    assert _body(route) == [
        ("amount", "1000"),
        ("currency", "usd"),
        ("payment_method_data[type]", "affirm"),
        ("mandate_data[customer_acceptance][type]", "offline"),
        ("payment_method_options[affirm]", ""),
        ("payment_method_options[card]", ""),
    ]


async def test_setup_intent_leaves_out_empty_option_and_data_hashes(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v1/setup_intents").respond(200, json={"id": "seti_1", "object": "setup_intent"})
    await client.setup_intents.create(
        payment_method_data={"type": "affirm", "affirm": {}},
        mandate_data={"customer_acceptance": {"type": "offline", "offline": {}}},
        payment_method_options={"card": {}, "acss_debit": {}},
    )
    assert route.calls.last.request.content.decode() == (
        "payment_method_data[type]=affirm&mandate_data[customer_acceptance][type]=offline"
    )


async def test_confirmation_token_leaves_out_an_empty_type_hash(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v1/test_helpers/confirmation_tokens").respond(
        200, json={"id": "ctoken_1", "object": "confirmation_token"}
    )
    await client.test_helpers.confirmation_tokens.create(payment_method_data={"type": "affirm", "affirm": {}})
    assert route.calls.last.request.content.decode() == "payment_method_data[type]=affirm"

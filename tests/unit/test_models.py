"""Models: Stripe's own example objects parse with nothing left over, and the fields match stripe-python's."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from pydantic import BaseModel

from atom_stripe import models
from atom_stripe.models import Customer, Invoice, StripeObject, UnknownEvent, parse_event

#: fixtures3.json object type -> (our model, stripe-python's class)
IN_SCOPE: dict[str, tuple[type[StripeObject], type[Any]]] = {
    "account": (models.Account, stripe.Account),
    "balance": (models.Balance, stripe.Balance),
    "balance_transaction": (models.BalanceTransaction, stripe.BalanceTransaction),
    "charge": (models.Charge, stripe.Charge),
    "customer": (models.Customer, stripe.Customer),
    "payment_intent": (models.PaymentIntent, stripe.PaymentIntent),
    "price": (models.Price, stripe.Price),
    "product": (models.Product, stripe.Product),
    "refund": (models.Refund, stripe.Refund),
    "subscription": (models.Subscription, stripe.Subscription),
    "subscription_item": (models.SubscriptionItem, stripe.SubscriptionItem),
}


def leftover_extras(model: BaseModel, path: str = "") -> list[str]:
    """Fields that landed in extras anywhere in a typed model (generic StripeObjects excepted)."""
    found: list[str] = []
    if type(model) is not StripeObject and model.model_extra:
        found += [f"{path}.{k}" for k in model.model_extra]
    for name in type(model).model_fields:
        found += _walk(getattr(model, name), f"{path}.{name}")
    return found


def _walk(value: Any, path: str) -> list[str]:
    if isinstance(value, BaseModel):
        return leftover_extras(value, path)
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _walk(v, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _walk(v, f"{path}[{k}]")]
    return []


@pytest.mark.parametrize("object_type", sorted(IN_SCOPE))
def test_fixture_parses_with_no_field_left_in_extras(fixtures: dict[str, Any], object_type: str) -> None:
    model = IN_SCOPE[object_type][0].model_validate(fixtures[object_type])
    assert leftover_extras(model) == []
    assert model.model_dump(exclude_none=True, by_alias=True).keys() <= fixtures[object_type].keys()


def stripe_fields(cls: type[Any]) -> set[str]:
    return {
        name for name, ann in cls.__annotations__.items() if not name.startswith("_") and "ClassVar" not in str(ann)
    }


def our_fields(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


@pytest.mark.parametrize("object_type", sorted(IN_SCOPE))
def test_every_field_stripe_python_annotates_is_declared(object_type: str) -> None:
    ours, theirs = IN_SCOPE[object_type]
    assert our_fields(ours) == stripe_fields(theirs)
    # And on every nested object stripe-python declares as an inner class.
    for name, inner in vars(theirs).items():
        if isinstance(inner, type) and issubclass(inner, stripe.StripeObject) and not name.startswith("_"):
            our_inner = _nested(ours, inner)
            assert our_fields(our_inner) == stripe_fields(inner), name


def _nested(ours: type[BaseModel], inner: type[Any]) -> type[BaseModel]:
    import importlib

    module = importlib.import_module(ours.__module__)
    found: type[BaseModel] = getattr(module, inner.__qualname__.replace(".", ""))
    return found


def test_unknown_enum_values_and_new_fields_are_kept(fixtures: dict[str, Any]) -> None:
    data = {**fixtures["customer"], "tax_exempt": "something_new", "brand_new_field": {"a": 1}}
    customer = models.Customer.model_validate(data)
    assert customer.tax_exempt == "something_new"
    assert customer.model_extra == {"brand_new_field": {"a": 1}}


def test_expandable_fields_take_an_id_or_the_object(fixtures: dict[str, Any]) -> None:
    pi = models.PaymentIntent.model_validate({**fixtures["payment_intent"], "customer": "cus_1"})
    assert pi.customer == "cus_1"
    pi = models.PaymentIntent.model_validate({**fixtures["payment_intent"], "customer": fixtures["customer"]})
    assert isinstance(pi.customer, models.Customer)
    assert pi.customer.id == fixtures["customer"]["id"]


def test_secrets_are_masked_in_reprs(fixtures: dict[str, Any]) -> None:
    pi = models.PaymentIntent.model_validate({**fixtures["payment_intent"], "client_secret": "pi_1_secret_abc"})
    assert "pi_1_secret_abc" not in repr(pi)
    assert "pi_1_secret_abc" not in str(pi)
    assert pi.client_secret == "pi_1_secret_abc"


def test_rich_shows_models_with_secrets_masked(fixtures: dict[str, Any]) -> None:
    import io

    from rich.console import Console

    pi = models.PaymentIntent.model_validate({**fixtures["payment_intent"], "client_secret": "pi_1_secret_abc"})
    out = io.StringIO()
    Console(file=out, width=100).print(pi)
    text = out.getvalue()
    assert "PaymentIntent(" in text and "client_secret='**********'" in text
    assert "pi_1_secret_abc" not in text


def test_any_event_round_trips_its_typed_object(fixtures: dict[str, Any]) -> None:
    event = parse_event(
        {**fixtures["event"], "type": "invoice.paid", "data": {"object": {**fixtures["invoice"], "x_new": 1}}}
    )
    assert isinstance(event, UnknownEvent) and isinstance(event.data.object, Invoice)
    dumped = event.model_dump(mode="json")
    assert dumped["data"]["object"]["amount_due"] == fixtures["invoice"]["amount_due"]
    assert dumped["data"]["object"]["x_new"] == 1
    again = parse_event(json.loads(event.model_dump_json()))
    assert isinstance(again.data.object, Invoice) and again == event


def test_include_and_exclude_reach_inside_other_object_types(fixtures: dict[str, Any]) -> None:
    customer = Customer.model_validate({**fixtures["customer"], "default_source": fixtures["card"]})
    assert customer.model_dump(include={"default_source": {"id"}}) == {"default_source": {"id": fixtures["card"]["id"]}}
    dumped = customer.model_dump(exclude={"default_source": {"last4"}})
    assert "last4" not in dumped["default_source"] and dumped["default_source"]["id"] == fixtures["card"]["id"]

"""A field that does not fit its model never loses the object, the page or the call."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import AsyncStripeClient
from atom_stripe.models import Customer, Subscription
from atom_stripe.models import _base as _models


def cus(cid: str, **fields: Any) -> dict[str, Any]:
    return {"id": cid, "object": "customer", "created": 1_800_000_000, "livemode": False, **fields}


async def test_a_page_of_three_with_one_odd_customer_yields_three(
    client: AsyncStripeClient, api: respx.MockRouter, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_models, "_logged", set())
    odd = cus("cus_2", email=5, created="yesterday", address={"city": ["not", "text"], "line1": "1 Main St"})
    api.get("/v1/customers").mock(
        return_value=httpx.Response(
            200, json={"object": "list", "has_more": False, "data": [cus("cus_1"), odd, cus("cus_3")]}
        )
    )
    with caplog.at_level(logging.WARNING, logger="atom_stripe"):
        seen = [c async for c in client.customers.list()]
        page = await client.customers.list()
    assert [c.id for c in seen] == ["cus_1", "cus_2", "cus_3"]
    assert all(isinstance(c, Customer) for c in seen)
    second = seen[1]
    # Typed access stays typed (the default), the raw value is kept and named.
    assert second.email is None and second.created is None
    assert second.model_invalid == {"email": 5, "created": "yesterday"}
    assert second.address is not None and second.address.line1 == "1 Main St"
    assert second.address.city is None and second.address.model_invalid == {"city": ["not", "text"]}
    assert seen[0].model_invalid == {}
    assert second.model_dump(exclude_none=True)["email"] == 5  # nothing is lost on export
    assert len(page.data) == 3
    # Logged once per model and field, however often it is seen; the value is not logged.
    warnings = [r.getMessage() for r in caplog.records if "does not fit" in r.getMessage()]
    assert sorted(warnings) == sorted(set(warnings))
    assert any("Customer.email" in w for w in warnings) and any("CustomerAddress.city" in w for w in warnings)
    assert not any("yesterday" in w for w in warnings)


async def test_a_created_subscription_with_a_null_field_is_returned(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    body = {**fixtures["subscription"], "livemode": None, "status": 7}
    api.post("/v1/subscriptions").mock(return_value=httpx.Response(200, json=body))
    sub = await client.subscriptions.create(customer="cus_1", items=[{"price": "price_1"}])
    assert isinstance(sub, Subscription)
    assert sub.id == fixtures["subscription"]["id"]
    assert sub.model_invalid == {"livemode": None, "status": 7}


def test_the_base_class_does_it_for_any_model() -> None:
    customer = Customer.model_validate(cus("cus_9", balance="lots"))
    assert customer.balance is None and customer.model_invalid == {"balance": "lots"}
    again = Customer.model_validate_json(b'{"id": "cus_9", "object": "customer", "livemode": "maybe"}')
    assert again.model_invalid == {"livemode": "maybe"}


def test_an_odd_field_inside_an_event_keeps_the_typed_event() -> None:
    from atom_stripe.models import SubscriptionEvent, parse_event

    from ..helpers import examples

    fixtures = examples()
    odd = {**fixtures["subscription"], "billing_cycle_anchor": None}  # localstripe sends this null
    event = {**fixtures["event"], "type": "customer.subscription.created", "data": {"object": odd}}
    parsed = parse_event(event)
    assert isinstance(parsed, SubscriptionEvent)
    assert parsed.data.object.id == odd["id"]
    assert parsed.data.object.model_invalid == {"billing_cycle_anchor": None}

"""Every operation of the table of endpoints against the fake Stripe, with valid parameters: a 2xx
answer with the object type the table promises, or, for an operation the fake does not simulate,
its 400 ``fake_not_simulated`` naming the operation (asyncio; a sample under trio too)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, InvalidRequestError
from atom_stripe._generated.endpoints import ENDPOINTS
from atom_stripe._generated.models import OBJECTS
from atom_stripe._pagination import Page, SearchPage
from atom_stripe.testing import FakeStripe
from atom_stripe.testing._engine import simulation
from atom_stripe.testing._statuses import ACTIONS

from ..stripe_oracle import sample_params
from ..surface.test_surface import SAMPLE, assert_result, method_of

NAMES = sorted(n for n in ENDPOINTS if not n.startswith("v2."))  # v2 against the fake: test_v2_fake
MODEL_OBJECTS = {model: obj for obj, model in OBJECTS.items()}
#: Parameters Stripe needs beyond the typed required ones for the call to make sense.
EXTRA: dict[str, dict[str, Any]] = {
    "subscriptions.create": {"customer": "x_1", "items": [{"price": "x_1"}]},
    "billing_portal.sessions.create": {"customer": "x_1"},
    "customer_sessions.create": {"customer": "x_1"},
    "issuing.cards.create": {"cardholder": "x_1"},
    "issuing.disputes.create": {"transaction": "x_1"},
    "prices.create": {"product": "x_1"},
    "invoice_items.create": {"customer": "x_1", "amount": 100, "currency": "usd"},
    "invoices.pay": {"paid_out_of_band": True},
    "invoices.create": {"customer": "x_1"},
    "subscription_items.create": {"subscription": "x_1", "price": "x_1"},
    "charges.create": {"amount": 1000, "currency": "usd"},
    "payment_intents.confirm": {"payment_method": "pm_card_visa"},
    "setup_intents.confirm": {"payment_method": "pm_card_visa"},
    # Money between accounts: within the seeded balance (one 100 usd transaction) and fee (100).
    "transfers.create": {"amount": 100, "currency": "usd", "destination": "account_1"},
    "transfers.reversals.create": {"amount": 100},
    "payouts.create": {"amount": 100, "currency": "usd"},
    "application_fees.refunds.create": {"amount": 100},
    # Summaries of a range aligned with minutes; the cancel of an event received (seeded).
    "billing.meters.event_summaries.list": {"start_time": 0, "end_time": 3600},
    "billing.meter_event_adjustments.create": {"cancel": {"identifier": "x_1"}},
}
#: The state an operation needs to act on (as Stripe would refuse it otherwise).
STATE: dict[str, dict[str, Any]] = {
    "subscriptions.resume": {"id": "subscription_1", "status": "paused"},
    "invoices.mark_uncollectible": {"id": "invoice_1", "status": "open"},
    "invoices.void_invoice": {"id": "invoice_1", "status": "open"},
    "setup_intents.confirm": {"id": "intent_1", "status": "requires_payment_method"},
    "setup_intents.cancel": {"id": "intent_1", "status": "requires_payment_method"},
    "payment_intents.capture": {
        "id": "intent_1",
        "status": "requires_capture",
        "amount": 1000,
        "amount_capturable": 1000,
        "latest_charge": "ch_1",
    },
}


def shape(path: str) -> str:
    return re.sub(r"\{\w+\}", "{}", path)


def object_at(path: str) -> str:
    """The type of object a path that ends in an id names."""
    found = [e for e in ENDPOINTS.values() if shape(e.path) == shape(path) and e.kind == "object"]
    found.sort(key=lambda e: e.method != "GET")
    name = found[0].result.split(" | ")[0].removeprefix("Deleted") if found else ""
    return MODEL_OBJECTS.get(name, name)


def seeded() -> FakeStripe:
    """A fake holding ``x_1`` of every type (the samples' ids) and every path id the table uses."""
    fake = FakeStripe()
    for object_name in fake.store.fixtures:
        if not object_name.startswith("deleted_"):
            fake.add(object_name, id="x_1", **({"status": "disabled"} if object_name == "webhook_endpoint" else {}))
    for endpoint in ENDPOINTS.values():
        for id_name in endpoint.ids:
            path = endpoint.path[: endpoint.path.index("{" + id_name + "}") + len(id_name) + 2]
            fake.add(object_at(path), id=f"{id_name}_1")
    fake.add("charge", id="ch_1", amount=1000, amount_captured=1000, amount_refunded=0, captured=True)
    fake.add("payment_intent", id="pi_1", status="succeeded", latest_charge="ch_1")
    fake.add("test_helpers.test_clock", id="test_clock_1", frozen_time=0)
    # An Express account: login links are for accounts with the Express Dashboard.
    express = {"type": "application", "stripe_dashboard": {"type": "express"}}
    fake.add("account", id="account_1", type="express", controller=express)
    recurring = {"interval": "month", "interval_count": 1, "usage_type": "licensed"}
    price = fake.add(
        "price", id="x_1", product="x_1", unit_amount=1000, unit_amount_decimal="1000", recurring=recurring
    )
    # A subscription as Stripe holds one: its item names it, it lists its item.
    other = fake.add("price", id="x_2", product="x_1", unit_amount=500, unit_amount_decimal="500", recurring=recurring)
    made = [
        fake.add("subscription_item", id=f"item_{n}", subscription="subscription_1", price=p, quantity=1)
        for n, p in ((1, price), (2, other))
    ]
    # Two items: deleting one leaves the subscription one (Stripe refuses to delete the last).
    items = {"object": "list", "data": made, "has_more": False, "url": "/v1/subscription_items"}
    fake.add("subscription", id="subscription_1", customer="x_1", status="active", items=items)
    # A meter event received, to cancel (the fake keeps meter events as Stripe does: per account).
    event = b"event_name=x_1&identifier=x_1&payload[value]=1"
    headers = {"authorization": "Bearer sk_test_seed", "content-type": "application/x-www-form-urlencoded"}
    assert fake.handle("POST", "/v1/billing/meter_events", "", event, headers)[0] == 200
    return fake


@pytest.fixture(scope="module")
def seed() -> bytes:
    return seeded().snapshot()


@pytest.fixture
def fake(seed: bytes) -> Iterator[FakeStripe]:
    """The seeded objects, afresh for each test (a delete or a cancel changes them)."""
    made = FakeStripe()
    made.restore(seed)
    yield made
    made.close()


async def call(client: AsyncStripeClient, name: str, ids: list[str] | None = None) -> Any:
    """The operation with every parameter it takes (sample values). A parameter the fake does
    not simulate is refused by name (``fake_not_simulated`` with ``param``): the call is made
    again without it, so the rest is still answered."""
    endpoint = ENDPOINTS[name]
    params = {**sample_params(endpoint), **EXTRA.get(name, {})}
    ids = ids or [f"{i}_1" for i in endpoint.ids]
    if simulation(name) == "refused":
        with pytest.raises(InvalidRequestError) as info:
            await method_of(client, name)(*ids, **params)
        assert info.value.code == "fake_not_simulated" and info.value.param is None
        assert f"does not simulate {name} ({endpoint.method} {endpoint.path})" in info.value.message
        return None
    while True:
        try:
            return await method_of(client, name)(*ids, **params)
        except InvalidRequestError as exc:
            top = str(exc.param or "").split("[")[0]
            if exc.code != "fake_not_simulated" or top not in params or top in EXTRA.get(name, {}):
                raise
            del params[top]


def set_scene(fake: FakeStripe, name: str) -> None:
    """The object an operation acts on, in a state Stripe lets it act from."""
    if name in STATE:
        kinds = {"PaymentIntent": "payment_intent", "SetupIntent": "setup_intent", "Invoice": "invoice"}
        kind = kinds.get(ENDPOINTS[name].result, "subscription")
        held = fake.store.find(STATE[name]["id"], kind)
        if held is not None:
            held.update(STATE[name])
        else:
            fake.add(kind, **STATE[name])
    if name in ACTIONS:
        path = ENDPOINTS[name].path
        target = fake.store.find(f"{ENDPOINTS[name].ids[-1]}_1", object_at(path[: path.rfind("}") + 1]))
        assert target is not None
        target["status"] = ACTIONS[name].start[0]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("name", NAMES)
async def test_every_operation(fake: FakeStripe, name: str) -> None:
    set_scene(fake, name)
    client = fake.client(max_retries=0, files_base_url="https://files.stripe.com")
    check(name, await call(client, name))


def check(name: str, result: Any) -> None:
    """The answer has the type the table promises (each item, for a page: it may be empty)."""
    if result is None:
        assert simulation(name) == "refused"
        return
    if ENDPOINTS[name].kind in ("list", "search"):
        for item in result.data:
            assert_result(name, type(result)(**{**dict(result), "data": [item]}))
        assert isinstance(result, SearchPage if ENDPOINTS[name].kind == "search" else Page)
        return
    assert_result(name, result)


@pytest.mark.parametrize("name", SAMPLE)
async def test_sample_under_both_backends(seed: bytes, name: str) -> None:
    async with FakeStripe() as fake:
        fake.restore(seed)
        set_scene(fake, name)
        check(name, await call(fake.client(max_retries=0), name))

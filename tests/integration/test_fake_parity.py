"""The same flows on the fake Stripe and on localstripe (a stateful fake of its own), to keep the
fake honest: same outcomes, and on every object the fields both fill have the same JSON types."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, CardError, NotFoundError
from atom_stripe import models as m
from atom_stripe.testing import FakeStripe


@pytest.fixture(params=["fake", "localstripe"])
async def stripe(request: pytest.FixtureRequest, localstripe_url: str) -> AsyncIterator[AsyncStripeClient]:
    if request.param == "fake":
        async with FakeStripe() as fake:
            yield fake.client(max_retries=0)
        return
    async with AsyncStripeClient("sk_test_local", base_url=localstripe_url, max_retries=0) as local:
        yield local


Flow = Callable[[AsyncStripeClient, dict[str, dict[str, dict[str, Any]]]], Awaitable[None]]


def on_fake(stripe: AsyncStripeClient) -> bool:
    return stripe.base_url == "https://api.stripe.com"


def record(shapes: dict[str, dict[str, dict[str, Any]]], stripe: AsyncStripeClient, *objects: Any) -> None:
    backend = "fake" if on_fake(stripe) else "localstripe"
    for obj in objects:
        shapes.setdefault(obj.object, {})[backend] = obj.model_dump(mode="json")


async def card(stripe: AsyncStripeClient, number: str) -> str:
    pm = await stripe.payment_methods.create(
        type="card", card={"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    )
    return pm.id


async def customers(stripe: AsyncStripeClient, shapes: dict[str, dict[str, dict[str, Any]]]) -> None:
    email = f"parity-{uuid.uuid4().hex[:8]}@example.com"
    customer = await stripe.customers.create(email=email, name="Par Ity", metadata={"k": "v"})
    assert customer.id.startswith("cus_") and customer.metadata == {"k": "v"}
    updated = await stripe.customers.update(customer.id, metadata={"more": "1"})
    assert updated.metadata == {"k": "v", "more": "1"}
    listed = await stripe.customers.list(email=email)
    assert [c.id for c in listed.data] == [customer.id]
    record(shapes, stripe, updated)
    assert (await stripe.customers.delete(customer.id)).deleted is True
    if on_fake(stripe):
        # Stripe answers a deleted customer with {"id", "object", "deleted": true}
        # (docs.stripe.com/api/customers/retrieve); localstripe answers 404.
        assert (await stripe.customers.retrieve(customer.id)).deleted is True
    else:
        with pytest.raises(NotFoundError):
            await stripe.customers.retrieve(customer.id)
    assert email not in [c.email for c in (await stripe.customers.list(email=email)).data]


async def manual_capture_and_partial_refund(
    stripe: AsyncStripeClient, shapes: dict[str, dict[str, dict[str, Any]]]
) -> None:
    pm = await card(stripe, "4242424242424242")
    created = await stripe.payments.create(amount=2000, currency="usd", capture_method="manual", payment_method=pm)
    assert created.status == "requires_confirmation"
    assert (await stripe.payments.confirm(created.id)).status == "requires_capture"
    captured = await stripe.payments.capture(created.id)
    assert captured.status == "succeeded"
    expanded = await stripe.payments.retrieve(created.id, expand=["latest_charge"])
    assert isinstance(expanded.latest_charge, m.Charge) and expanded.latest_charge.amount == 2000
    refund = await stripe.refunds.create(payment_intent=created.id, amount=500)
    assert refund.amount == 500 and refund.status == "succeeded"
    assert [r.id for r in (await stripe.refunds.list(payment_intent=created.id)).data] == [refund.id]
    charge = await stripe.charges.retrieve(expanded.latest_charge.id)
    assert charge.payment_intent == created.id and charge.amount_refunded == 500
    record(shapes, stripe, captured, refund, charge)


async def test_declined_card_and_cancel(stripe: AsyncStripeClient) -> None:
    pm = await card(stripe, "4000000000000341")
    with pytest.raises(CardError) as declined:
        await stripe.payments.create(amount=1500, currency="eur", payment_method=pm, confirm=True)
    assert declined.value.status_code == 402 and declined.value.code == "card_declined"
    open_payment = await stripe.payments.create(amount=999, currency="eur")
    assert (await stripe.payments.cancel(open_payment.id)).status == "canceled"


async def products_and_events(stripe: AsyncStripeClient, shapes: dict[str, dict[str, dict[str, Any]]]) -> None:
    product = await stripe.products.create(name=f"Shirt {uuid.uuid4().hex[:6]}", metadata={"sku": "S-1"})
    assert (await stripe.products.update(product.id, description="cotton")).description == "cotton"
    events = [e async for e in stripe.events.list(limit=20)]
    mine = [e for e in events if e.type == "product.created" and getattr(e.data.object, "id", None) == product.id]
    assert len(mine) == 1
    record(shapes, stripe, product)


async def test_cards_are_checked_when_attached(stripe: AsyncStripeClient) -> None:
    customer = await stripe.customers.create(email=f"attach-{uuid.uuid4().hex[:6]}@example.com")
    for number in ("4000000000000002", "4000000000009995", "4000000000000069"):
        with pytest.raises(CardError) as declined:
            await stripe.payment_methods.attach(await card(stripe, number), customer=customer.id)
        assert declined.value.status_code == 402 and declined.value.code in ("card_declined", "expired_card")
    # localstripe answers code card_declined for every decline card; the fake gives each card's
    # own code as Stripe does (expired_card for 0069), hence the pair above.
    attached = await stripe.payment_methods.attach(await card(stripe, "4000000000000341"), customer=customer.id)
    assert attached.customer == customer.id
    listed = await stripe.payment_methods.list(customer=customer.id, type="card")
    assert [pm.id for pm in listed.data] == [attached.id]


async def setup_intents(stripe: AsyncStripeClient, shapes: dict[str, dict[str, dict[str, Any]]]) -> None:
    customer = await stripe.customers.create(email=f"setup-{uuid.uuid4().hex[:6]}@example.com")
    si = await stripe.setup_intents.create(customer=customer.id)
    assert si.status == "requires_payment_method" and si.usage == "off_session"
    assert si.client_secret is not None and si.client_secret.startswith(f"{si.id}_secret_")
    done = await stripe.setup_intents.confirm(si.id, payment_method=await card(stripe, "4242424242424242"))
    assert done.status == "succeeded" and done.next_action is None
    if on_fake(stripe):
        # Stripe attaches the payment method to the SetupIntent's customer when it succeeds
        # (docs.stripe.com/api/setup_intents/object#setup_intent_object-customer); localstripe does not.
        listed = await stripe.payment_methods.list(customer=customer.id, type="card")
        assert [pm.id for pm in listed.data] == [done.payment_method]
    three_ds = await stripe.setup_intents.create(customer=customer.id)
    asked = await stripe.setup_intents.confirm(three_ds.id, payment_method=await card(stripe, "4000002500003155"))
    assert asked.status == "requires_action" and asked.next_action is not None
    assert asked.next_action.type == "use_stripe_sdk"
    declining = await stripe.setup_intents.create()
    with pytest.raises(CardError) as declined:
        await stripe.setup_intents.confirm(declining.id, payment_method=await card(stripe, "4000000000000002"))
    assert declined.value.status_code == 402 and declined.value.code == "card_declined"
    # After a decline Stripe leaves the SetupIntent requires_payment_method (another payment
    # method may be tried, docs.stripe.com/payments/intents#setup-intent); localstripe cancels it.
    status = (await stripe.setup_intents.retrieve(declining.id)).status
    assert status == ("requires_payment_method" if on_fake(stripe) else "canceled")
    record(shapes, stripe, done)


async def test_3ds_and_off_session(stripe: AsyncStripeClient) -> None:
    pm = await card(stripe, "4000002760003184")
    asked = await stripe.payments.create(amount=1200, currency="usd", payment_method=pm, confirm=True)
    assert asked.status == "requires_action" and asked.next_action is not None
    assert asked.next_action.type == "use_stripe_sdk"
    paid = await stripe.payments.create(
        amount=1200,
        currency="usd",
        payment_method=await card(stripe, "4242424242424242"),
        confirm=True,
        off_session=True,
    )
    assert paid.status == "succeeded"
    # Off session, a card that always asks for 3-D Secure declines with authentication_required
    # on Stripe (docs.stripe.com/testing#regulatory-cards); localstripe leaves it requires_action.
    if on_fake(stripe):
        with pytest.raises(CardError) as declined:
            await stripe.payments.create(amount=1200, currency="usd", payment_method=pm, confirm=True, off_session=True)
        assert declined.value.code == "authentication_required"


def _kind(value: Any) -> str:
    """A JSON value's type; an expanded object counts as its id (localstripe expands some ids unasked)."""
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return "string"
    return {bool: "bool", int: "number", float: "number", str: "string", dict: "object", list: "array"}[type(value)]


@pytest.mark.parametrize(
    ("flow", "objects", "least"),
    [  # least: the fields both fill today (66 in all), so a shrinking comparison fails
        (customers, {"customer"}, 9),
        (manual_capture_and_partial_refund, {"payment_intent", "refund", "charge"}, 38),
        (products_and_events, {"product"}, 8),
        (setup_intents, {"setup_intent"}, 11),
    ],
)
async def test_both_backends_agree(flow: Flow, objects: set[str], least: int, localstripe_url: str) -> None:
    """One flow on the fake, then on localstripe; on every object both answered, the fields both
    fill have the same JSON types. Each test holds its own shapes, so it runs on any worker."""
    shapes: dict[str, dict[str, dict[str, Any]]] = {}
    async with FakeStripe() as fake:
        await flow(fake.client(max_retries=0), shapes)
    async with AsyncStripeClient("sk_test_local", base_url=localstripe_url, max_retries=0) as local:
        await flow(local, shapes)
    assert set(shapes) == objects and all(set(by_backend) == {"fake", "localstripe"} for by_backend in shapes.values())
    compared = 0
    for object_name, by_backend in shapes.items():
        fake_json, local_json = by_backend["fake"], by_backend["localstripe"]
        for key in sorted(set(fake_json) & set(local_json)):
            if fake_json[key] is None or local_json[key] is None:
                continue
            assert _kind(fake_json[key]) == _kind(local_json[key]), (object_name, key, fake_json[key], local_json[key])
            compared += 1
    assert compared >= least, compared

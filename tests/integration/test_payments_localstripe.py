"""Payments, refunds, products and events against localstripe (a real, stateful fake Stripe)."""

from __future__ import annotations

import uuid

import pytest

from atom_stripe import AsyncStripeClient, CardError, NotFoundError
from atom_stripe import models as m

from .cards import payment_method


async def test_manual_capture_then_partial_refund(local: AsyncStripeClient) -> None:
    pm = await payment_method(local, "4242424242424242")
    created = await local.payments.create(
        amount=2000, currency="USD", capture_method="manual", payment_method=pm, metadata={"order": "42"}
    )
    assert created.status == "requires_confirmation"
    assert created.currency == "usd"

    confirmed = await local.payments.confirm(created.id)
    assert confirmed.status == "requires_capture"

    captured = await local.payments.capture(created.id)
    assert captured.status == "succeeded"

    expanded = await local.payments.retrieve(created.id, expand=["latest_charge"])
    assert isinstance(expanded.latest_charge, m.Charge)
    assert expanded.latest_charge.amount == 2000

    refund = await local.refunds.create(payment_intent=created.id, amount=500, metadata={"reason": "damaged"})
    assert isinstance(refund, m.Refund)
    assert refund.amount == 500 and refund.status == "succeeded"
    again = await local.refunds.retrieve(refund.id)
    assert again.id == refund.id
    refunds = await local.refunds.list(payment_intent=created.id)
    assert [r.id for r in refunds.data] == [refund.id]

    charge = await local.charges.retrieve(expanded.latest_charge.id)
    assert charge.payment_intent == created.id


async def test_declined_card_raises_card_error(local: AsyncStripeClient) -> None:
    pm = await payment_method(local, "4000000000000341")
    with pytest.raises(CardError) as info:
        await local.payments.create(amount=1500, currency="eur", payment_method=pm, confirm=True)
    assert info.value.status_code == 402
    assert info.value.code == "card_declined"


async def test_cancel_a_payment(local: AsyncStripeClient) -> None:
    created = await local.payments.create(amount=999, currency="eur")
    canceled = await local.payments.cancel(created.id)
    assert canceled.status == "canceled"


async def test_products_crud_and_listing(local: AsyncStripeClient) -> None:
    name = f"T-shirt {uuid.uuid4().hex[:6]}"
    product = await local.products.create(name=name, description="cotton", metadata={"sku": "TS-1"})
    assert isinstance(product, m.Product) and product.name == name
    updated = await local.products.update(product.id, description="organic cotton")
    assert updated.description == "organic cotton"
    listed = [p.id async for p in local.products.list(limit=2)]
    assert product.id in listed
    gone = await local.products.delete(product.id)
    assert gone.deleted is True
    with pytest.raises(NotFoundError):
        await local.products.retrieve(product.id)


async def test_events_after_actions(local: AsyncStripeClient) -> None:
    customer = await local.customers.create(email=f"ev-{uuid.uuid4().hex[:6]}@example.com")
    events = [e async for e in local.events.list(limit=50)]
    mine = [e for e in events if isinstance(e, m.CustomerEvent) and e.data.object.id == customer.id]
    assert [e.type for e in mine] == ["customer.created"]
    fetched = await local.events.retrieve(mine[0].id)
    assert isinstance(fetched, m.CustomerEvent)
    assert isinstance(fetched.data.object, m.Customer)

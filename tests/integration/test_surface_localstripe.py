"""Flows through the generated namespaces against localstripe, a real stateful fake Stripe:
payment methods attached to customers, a subscription billed by an invoice, coupons, refunds."""

from __future__ import annotations

import uuid

from atom_stripe import AsyncStripeClient, NotFoundError
from atom_stripe import models as m

from .cards import payment_method


async def subscribed(local: AsyncStripeClient) -> tuple[m.Customer, m.Subscription, str]:
    """A customer with a card attached and made default, subscribed to a monthly plan."""
    tag = uuid.uuid4().hex[:6]
    product = await local.products.create(name=f"Pro {tag}")
    plan = await local.plans.create(amount=1500, currency="usd", interval="month", product=product.id)
    customer = await local.customers.create(email=f"sub-{tag}@example.com")
    pm = await payment_method(local, "4242424242424242")
    attached = await local.payment_methods.attach(pm, customer=customer.id)
    assert attached.customer == customer.id
    customer = await local.customers.update(customer.id, invoice_settings={"default_payment_method": pm})
    subscription = await local.subscriptions.create(customer=customer.id, items=[{"plan": plan.id}])
    return customer, subscription, pm


async def test_attach_a_card_and_list_it(local: AsyncStripeClient) -> None:
    customer, _, pm = await subscribed(local)
    assert customer.invoice_settings is not None
    assert customer.invoice_settings.default_payment_method == pm
    cards = await local.payment_methods.list(customer=customer.id, type="card")
    assert [p.id for p in cards.data] == [pm]
    assert isinstance(cards.data[0], m.PaymentMethod) and cards.data[0].card is not None
    assert cards.data[0].card.last4 == "4242"
    detached = await local.payment_methods.detach(pm)
    assert detached.customer is None


async def test_subscription_is_billed_by_a_paid_invoice(local: AsyncStripeClient) -> None:
    customer, subscription, _ = await subscribed(local)
    assert subscription.status == "active"
    invoices = await local.invoices.list(customer=customer.id)
    assert len(invoices.data) == 1
    invoice = await local.invoices.retrieve(invoices.data[0].id, expand=["subscription"])
    assert isinstance(invoice, m.Invoice)
    assert invoice.status == "paid" and invoice.amount_paid == 1500 and invoice.currency == "usd"
    lines = await local.invoices.line_items.list(invoice.id)
    assert [line.amount for line in lines.data] == [1500]
    canceled = await local.subscriptions.cancel(subscription.id)
    assert canceled.status == "canceled"


async def test_coupons_life_cycle(local: AsyncStripeClient) -> None:
    coupon = await local.coupons.create(percent_off=25, duration="once", id=f"SAVE25-{uuid.uuid4().hex[:6]}")
    assert isinstance(coupon, m.Coupon) and coupon.percent_off == 25
    assert (await local.coupons.retrieve(coupon.id)).duration == "once"
    assert coupon.id in [c.id async for c in local.coupons.list(limit=100)]
    deleted = await local.coupons.delete(coupon.id)
    assert deleted.deleted is True and deleted.id == coupon.id
    try:
        await local.coupons.retrieve(coupon.id)
    except NotFoundError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a deleted coupon was found")


async def test_refund_a_charge_through_the_refunds_namespace(local: AsyncStripeClient) -> None:
    pm = await payment_method(local, "4242424242424242")
    intent = await local.payment_intents.create(amount=3000, currency="usd", payment_method=pm, confirm=True)
    assert intent.status == "succeeded"
    refund = await local.refunds.create(payment_intent=intent.id, amount=1000)
    assert refund.amount == 1000 and refund.status == "succeeded"
    latest = intent.latest_charge
    assert latest is not None
    charge = await local.charges.retrieve(latest if isinstance(latest, str) else latest.id)
    assert charge.amount_refunded == 1000 and charge.refunded is False

"""Canceling a subscription on the fake Stripe with ``prorate`` (a proration invoice item that
credits the unused time until the period's end) and ``invoice_now`` (a final invoice of the
pending proration items), as Stripe documents them
(https://docs.stripe.com/api/subscriptions/cancel)."""

from __future__ import annotations

from typing import Any

from atom_stripe import AsyncStripeClient
from atom_stripe.testing import FakeStripe

from .test_fake_billing_changes import DAY, share, subscribed
from .test_fake_billing_payments import START, assert_clean, customer_with, plan, types


async def pending(stripe: AsyncStripeClient, customer: str) -> list[Any]:
    """The customer's invoice items on no invoice yet."""
    return [ii for ii in (await stripe.invoice_items.list(customer=customer)).data if ii.invoice is None]


async def test_cancel_with_prorate_and_invoice_now_credits_the_unused_time(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    _, customer, sub = await subscribed(stripe_client)
    when = START + 10 * DAY
    canceled = await stripe_client.subscriptions.cancel(
        sub.id, prorate=True, invoice_now=True, expand=["latest_invoice"]
    )
    assert canceled.status == "canceled" and canceled.canceled_at == when
    final = canceled.latest_invoice
    assert final is not None and not isinstance(final, str)
    assert_clean(final)
    assert final.id != sub.latest_invoice
    [line] = final.lines.data
    details = line.parent.subscription_item_details if line.parent else None
    assert (line.amount, details.proration if details else None) == (-share(1200, when), True)
    # A credit: nothing to pay, the customer's balance holds it for the next invoices.
    assert (final.total, final.amount_due, final.status) == (-share(1200, when), 0, "paid")
    assert (await stripe_client.customers.retrieve(customer.id)).balance == -share(1200, when)
    assert await pending(stripe_client, customer.id) == []
    assert "invoice.finalized" in types(stripe_fake)
    [deleted] = stripe_fake.events("customer.subscription.deleted")
    assert deleted["data"]["object"]["latest_invoice"] == final.id


async def test_cancel_with_invoice_now_bills_pending_prorations(stripe_client: AsyncStripeClient) -> None:
    _, customer, sub = await subscribed(stripe_client)
    pro = await plan(stripe_client, 3000)
    when = START + 10 * DAY
    await stripe_client.subscriptions.update(sub.id, items=[{"id": sub.items.data[0].id, "price": pro.id}])
    waiting = await pending(stripe_client, customer.id)
    assert sorted(ii.amount for ii in waiting) == [-share(1200, when), share(3000, when)]

    canceled = await stripe_client.subscriptions.cancel(sub.id, invoice_now=True, expand=["latest_invoice"])
    final = canceled.latest_invoice
    assert final is not None and not isinstance(final, str)
    assert final.billing_reason == "subscription_update" and final.status == "paid"
    assert final.amount_paid == share(3000, when) - share(1200, when)
    assert await pending(stripe_client, customer.id) == []


async def test_cancel_without_invoice_now_leaves_the_proration_pending(stripe_client: AsyncStripeClient) -> None:
    _, customer, sub = await subscribed(stripe_client)
    when = START + 10 * DAY
    canceled = await stripe_client.subscriptions.cancel(sub.id, prorate=True)
    assert canceled.status == "canceled" and canceled.latest_invoice == sub.latest_invoice
    [credit] = await pending(stripe_client, customer.id)
    assert (credit.amount, credit.proration) == (-share(1200, when), True)


async def test_cancel_with_nothing_to_invoice_makes_no_invoice(stripe_client: AsyncStripeClient) -> None:
    _, customer, sub = await subscribed(stripe_client)
    canceled = await stripe_client.subscriptions.cancel(sub.id, invoice_now=True)
    assert canceled.status == "canceled" and canceled.latest_invoice == sub.latest_invoice
    assert len((await stripe_client.invoices.list(customer=customer.id)).data) == 1


async def test_a_trial_has_no_unused_time_to_credit(stripe_client: AsyncStripeClient) -> None:
    customer = await customer_with(stripe_client, "pm_card_visa")
    basic = await plan(stripe_client, 1200)
    sub = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": basic.id}], trial_period_days=14
    )
    canceled = await stripe_client.subscriptions.cancel(sub.id, prorate=True, invoice_now=True)
    assert canceled.status == "canceled" and canceled.latest_invoice == sub.latest_invoice
    assert (await stripe_client.invoice_items.list(customer=customer.id)).data == []

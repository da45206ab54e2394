"""One-off invoices and subscription endings on the fake Stripe as a billing service makes them:
invoice items, a manual invoice finalized and paid through its PaymentIntent, void and
uncollectible, and a subscription canceled at the end of its period."""

from __future__ import annotations

import pytest

from atom_stripe import AsyncStripeClient, CardError, InvalidRequestError
from atom_stripe.testing import FakeStripe

from .test_fake_billing_payments import START, assert_clean, customer_with, plan, types

FEB_1 = 1_769_904_000


async def test_a_manual_invoice_of_invoice_items_is_paid_through_its_payment_intent(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customer = await customer_with(stripe_client, "pm_card_visa")
    await stripe_client.invoice_items.create(customer=customer.id, amount=2500, currency="usd", description="Setup")
    draft = await stripe_client.invoices.create(customer=customer.id, pending_invoice_items_behavior="include")
    assert draft.status == "draft" and draft.amount_due == 2500 and draft.billing_reason == "manual"
    assert [line.amount for line in draft.lines.data] == [2500]
    opened = await stripe_client.invoices.finalize_invoice(draft.id, expand=["confirmation_secret"])
    assert opened.status == "open" and opened.number is not None and opened.confirmation_secret is not None
    paid = await stripe_client.invoices.pay(opened.id, expand=["payments"])
    assert paid.status == "paid" and paid.amount_paid == 2500
    assert paid.payments is not None and paid.payments.data[0].status == "paid"
    assert {"invoice.created", "invoice.finalized", "payment_intent.succeeded", "invoice.paid"} <= set(
        types(stripe_fake)
    )
    listed = (await stripe_client.invoice_items.list(customer=customer.id)).data
    assert [i.invoice for i in listed] == [paid.id]
    assert_clean(paid)


async def test_pending_items_stay_out_of_a_manual_invoice_unless_included(stripe_client: AsyncStripeClient) -> None:
    customer = await customer_with(stripe_client, "pm_card_visa")
    await stripe_client.invoice_items.create(customer=customer.id, amount=700, currency="usd")
    empty = await stripe_client.invoices.create(customer=customer.id)
    assert empty.amount_due == 0 and empty.lines.data == []


async def test_void_and_uncollectible_close_the_payment_intent(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customer = await customer_with(stripe_client, "pm_card_chargeCustomerFail")
    invoices = []
    for amount in (1000, 2000):
        await stripe_client.invoice_items.create(customer=customer.id, amount=amount, currency="usd")
        draft = await stripe_client.invoices.create(customer=customer.id, pending_invoice_items_behavior="include")
        invoices.append(await stripe_client.invoices.finalize_invoice(draft.id))
    with pytest.raises(CardError):
        await stripe_client.invoices.pay(invoices[0].id)
    voided = await stripe_client.invoices.void_invoice(invoices[0].id, expand=["payments"])
    assert voided.status == "void" and voided.status_transitions.voided_at is not None
    assert voided.payments is not None
    pi = await stripe_client.payment_intents.retrieve(str(voided.payments.data[0].payment.payment_intent))
    assert pi.status == "canceled" and pi.cancellation_reason == "void_invoice"
    written_off = await stripe_client.invoices.mark_uncollectible(invoices[1].id)
    assert written_off.status == "uncollectible"
    with pytest.raises(InvalidRequestError):
        await stripe_client.invoices.void_invoice(voided.id)
    assert {"invoice.voided", "invoice.marked_uncollectible"} <= set(types(stripe_fake))


async def test_cancel_at_period_end_ends_the_subscription_at_renewal(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe_client, "pm_card_visa", clock.id)
    price = await plan(stripe_client)
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    marked = await stripe_client.subscriptions.update(sub.id, cancel_at_period_end=True)
    assert marked.cancel_at_period_end is True and marked.status == "active"
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 3600)
    ended = await stripe_client.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled" and ended.ended_at == FEB_1
    assert len((await stripe_client.invoices.list(subscription=sub.id)).data) == 1
    deleted = stripe_fake.events("customer.subscription.deleted")
    assert len(deleted) == 1 and deleted[0]["request"]["id"] is None


async def test_pause_then_resume_starts_a_new_billed_period(stripe_client: AsyncStripeClient) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe_client, "pm_card_visa", clock.id)
    price = await plan(stripe_client)
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    assert (await stripe_client.subscriptions.pause(sub.id)).status == "paused"
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 10 * 86_400)
    resumed = await stripe_client.subscriptions.resume(sub.id, billing_cycle_anchor={"type": "now"})
    assert resumed.status == "active" and resumed.billing_cycle_anchor == START + 10 * 86_400
    assert resumed.items.data[0].current_period_start == START + 10 * 86_400
    invoice = await stripe_client.invoices.retrieve(str(resumed.latest_invoice))
    assert invoice.status == "paid" and invoice.amount_paid == 1200
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.subscriptions.resume(sub.id, billing_cycle_anchor={"type": "unchanged"})
    assert info.value.code == "fake_not_simulated"


async def test_send_invoice_subscriptions_are_active_with_a_due_date(stripe_client: AsyncStripeClient) -> None:
    customer = await customer_with(stripe_client, None)
    price = await plan(stripe_client)
    sub = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": price.id}], collection_method="send_invoice", days_until_due=14
    )
    assert sub.status == "active"
    invoice = await stripe_client.invoices.retrieve(str(sub.latest_invoice))
    assert invoice.status == "open" and not invoice.attempted and invoice.collection_method == "send_invoice"
    assert invoice.due_date == invoice.created + 14 * 86_400


async def test_a_one_time_price_is_no_subscription_item(stripe_client: AsyncStripeClient) -> None:
    product = await stripe_client.products.create(name="Once")
    once = await stripe_client.prices.create(product=product.id, currency="usd", unit_amount=900)
    customer = await customer_with(stripe_client, "pm_card_visa")
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": once.id}])
    assert info.value.param == "items[0][price]"


async def test_usage_based_prices_are_refused_not_billed_as_zero(stripe_client: AsyncStripeClient) -> None:
    product = await stripe_client.products.create(name="API calls")
    metered = await stripe_client.prices.create(
        product=product.id,
        currency="usd",
        unit_amount=1,
        recurring={"interval": "month", "usage_type": "metered"},
    )
    customer = await customer_with(stripe_client, "pm_card_visa")
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": metered.id}])
    assert info.value.code == "fake_not_simulated" and info.value.param == "items[0][price]"


async def test_an_invoices_payments_and_confirmation_secret_come_only_when_expanded(
    stripe_client: AsyncStripeClient,
) -> None:
    """Stripe leaves both out unless asked for: code that reads them without ``expand`` fails in
    production, so it fails on the fake too."""
    price = await plan(stripe_client)
    customer = await customer_with(stripe_client, "pm_card_visa")
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    plain = await stripe_client.invoices.retrieve(str(sub.latest_invoice))
    assert plain.payments is None and plain.confirmation_secret is None
    both = await stripe_client.invoices.retrieve(plain.id, expand=["payments", "confirmation_secret"])
    assert both.payments is not None and both.confirmation_secret is not None
    listed = await stripe_client.invoices.list(customer=customer.id, expand=["data.payments"])
    assert listed.data[0].payments is not None and listed.data[0].confirmation_secret is None
    nested = await stripe_client.subscriptions.retrieve(sub.id, expand=["latest_invoice"])
    assert not isinstance(nested.latest_invoice, str) and nested.latest_invoice is not None
    assert nested.latest_invoice.payments is None

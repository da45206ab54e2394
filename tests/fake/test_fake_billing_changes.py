"""Subscription item changes on the fake Stripe as a billing service makes them (upgrades, seats,
add-ons) with ``proration_behavior`` ``create_prorations``, ``always_invoice`` and ``none``, and
``pending_if_incomplete``; prorations to the second as Stripe computes them
(https://docs.stripe.com/billing/subscriptions/prorations)."""

from __future__ import annotations

from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, CardError
from atom_stripe.testing import FakeStripe

from .test_fake_billing_payments import START, assert_clean, customer_with, plan, types

DAY = 86_400
FEB_1 = 1_769_904_000  # the end of the first monthly period that starts on START


async def subscribed(stripe: AsyncStripeClient, card: str = "pm_card_visa") -> tuple[Any, Any, Any]:
    """A monthly subscription at 1200 on a test clock at 2026-01-01, the clock then 10 days on."""
    clock = await stripe.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe, card, clock.id)
    basic = await plan(stripe, 1200)
    sub = await stripe.subscriptions.create(customer=customer.id, items=[{"price": basic.id}])
    assert sub.status == "active" and sub.items.data[0].current_period_end == FEB_1
    await stripe.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 10 * DAY)
    return clock, customer, sub


def share(amount: int, when: int) -> int:
    """Stripe's proration of ``amount`` for the rest of the January period after ``when``."""
    return round(amount * (FEB_1 - when) / (FEB_1 - START))


async def test_upgrade_with_always_invoice_bills_the_difference_now(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    _, customer, sub = await subscribed(stripe_client)
    pro = await plan(stripe_client, 3000)
    when = START + 10 * DAY
    updated = await stripe_client.subscriptions.update(
        sub.id,
        items=[{"id": sub.items.data[0].id, "price": pro.id}],
        proration_behavior="always_invoice",
        expand=["latest_invoice", "latest_invoice.payments"],
    )
    assert updated.items.data[0].price.id == pro.id
    assert updated.items.data[0].plan is not None and updated.items.data[0].plan.amount == 3000
    invoice = updated.latest_invoice
    assert invoice is not None and not isinstance(invoice, str)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    amounts = sorted(line.amount for line in invoice.lines.data)
    assert amounts == [-share(1200, when), share(3000, when)]
    assert invoice.amount_paid == share(3000, when) - share(1200, when)
    assert invoice.created == when  # the clock's time, not the wall clock's
    assert invoice.payments is not None and invoice.payments.data[0].status == "paid"
    changed = [e for e in stripe_fake.events("customer.subscription.updated") if e["request"]["id"] is not None]
    assert len(changed) == 1  # one request, one event with every field it changed
    previous = changed[0]["data"]["previous_attributes"]
    assert previous["items"]["data"][0]["price"]["id"] != pro.id and previous["latest_invoice"] == sub.latest_invoice
    assert types(stripe_fake).count("invoiceitem.created") == 2
    items = (await stripe_client.invoice_items.list(customer=customer.id)).data
    assert all(i.proration and i.invoice == invoice.id for i in items)
    assert_clean(updated)


async def test_create_prorations_land_on_the_next_invoice(stripe_client: AsyncStripeClient) -> None:
    clock, customer, sub = await subscribed(stripe_client)
    pro = await plan(stripe_client, 3000)
    when = START + 10 * DAY
    item = await stripe_client.subscription_items.update(sub.items.data[0].id, price=pro.id)
    assert not isinstance(item.price, str) and item.price.id == pro.id and item.price.unit_amount == 3000
    assert item.plan is not None and item.plan.id == pro.id
    pending = (await stripe_client.invoice_items.list(customer=customer.id)).data
    assert sorted(i.amount for i in pending) == [-share(1200, when), share(3000, when)]
    assert all(i.proration and i.invoice is None for i in pending)
    assert (await stripe_client.subscriptions.retrieve(sub.id)).latest_invoice == sub.latest_invoice

    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 3600)
    renewal = await stripe_client.invoices.retrieve(
        str((await stripe_client.subscriptions.retrieve(sub.id)).latest_invoice)
    )
    assert renewal.billing_reason == "subscription_cycle" and renewal.status == "paid"
    assert renewal.amount_paid == 3000 + share(3000, when) - share(1200, when)
    assert len(renewal.lines.data) == 3
    assert_clean(renewal)
    assert_clean(item)


async def test_none_adds_and_removes_items_without_prorations(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    _, customer, sub = await subscribed(stripe_client)
    seats = await plan(stripe_client, 500)
    added = await stripe_client.subscription_items.create(
        subscription=sub.id, price=seats.id, quantity=4, proration_behavior="none"
    )
    assert added.quantity == 4 and added.subscription == sub.id
    held = await stripe_client.subscriptions.retrieve(sub.id)
    assert [i.id for i in held.items.data] == [sub.items.data[0].id, added.id]
    listed = await stripe_client.subscription_items.list(subscription=sub.id)
    assert {i.id for i in listed.data} == {sub.items.data[0].id, added.id}
    gone = await stripe_client.subscription_items.delete(added.id, proration_behavior="none")
    assert gone.deleted is True
    assert [i.id for i in (await stripe_client.subscriptions.retrieve(sub.id)).items.data] == [sub.items.data[0].id]
    assert (await stripe_client.invoice_items.list(customer=customer.id)).data == []
    assert "invoiceitem.created" not in types(stripe_fake)


async def test_quantity_change_prorates_the_extra_seats(stripe_client: AsyncStripeClient) -> None:
    _, customer, sub = await subscribed(stripe_client)
    when = START + 10 * DAY
    await stripe_client.subscriptions.update(sub.id, items=[{"id": sub.items.data[0].id, "quantity": 3}])
    pending = (await stripe_client.invoice_items.list(customer=customer.id)).data
    assert sorted(i.amount for i in pending) == [-share(1200, when), share(3600, when)]


async def test_pending_if_incomplete_keeps_the_change_until_it_is_paid(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    _, customer, sub = await subscribed(stripe_client)
    failing = await stripe_client.payment_methods.attach("pm_card_chargeCustomerFail", customer=customer.id)
    await stripe_client.customers.update(customer.id, invoice_settings={"default_payment_method": failing.id})
    pro = await plan(stripe_client, 3000)
    updated = await stripe_client.subscriptions.update(
        sub.id,
        items=[{"id": sub.items.data[0].id, "price": pro.id}],
        proration_behavior="always_invoice",
        payment_behavior="pending_if_incomplete",
    )
    assert updated.items.data[0].price.id != pro.id and updated.status == "active"
    assert updated.pending_update is not None and updated.pending_update.subscription_items is not None
    assert updated.pending_update.subscription_items[0].price.id == pro.id
    invoice = await stripe_client.invoices.retrieve(str(updated.latest_invoice))
    assert invoice.status == "open" and invoice.billing_reason == "subscription_update"

    good = await stripe_client.payment_methods.attach("pm_card_visa", customer=customer.id)
    await stripe_client.invoices.pay(invoice.id, payment_method=good.id)
    applied = await stripe_client.subscriptions.retrieve(sub.id)
    assert applied.pending_update is None and applied.items.data[0].price.id == pro.id
    assert_clean(applied)


async def test_error_if_incomplete_update_with_a_failing_card_changes_nothing(stripe_client: AsyncStripeClient) -> None:
    _, customer, sub = await subscribed(stripe_client)
    failing = await stripe_client.payment_methods.attach("pm_card_chargeCustomerFail", customer=customer.id)
    await stripe_client.customers.update(customer.id, invoice_settings={"default_payment_method": failing.id})
    pro = await plan(stripe_client, 3000)
    with pytest.raises(CardError) as info:
        await stripe_client.subscriptions.update(
            sub.id,
            items=[{"id": sub.items.data[0].id, "price": pro.id}],
            proration_behavior="always_invoice",
            payment_behavior="error_if_incomplete",
        )
    assert info.value.status_code == 402 and info.value.decline_code == "generic_decline"
    held = await stripe_client.subscriptions.retrieve(sub.id)
    assert held.items.data[0].price.id != pro.id and held.latest_invoice == sub.latest_invoice


async def test_a_downgrade_credit_pays_the_next_renewal_first(stripe_client: AsyncStripeClient) -> None:
    clock, customer, sub = await subscribed(stripe_client)
    lite = await plan(stripe_client, 300)
    when = START + 10 * DAY
    downgraded = await stripe_client.subscriptions.update(
        sub.id, items=[{"id": sub.items.data[0].id, "price": lite.id}], proration_behavior="always_invoice"
    )
    credit = share(300, when) - share(1200, when)
    now_invoice = await stripe_client.invoices.retrieve(str(downgraded.latest_invoice))
    assert now_invoice.total == credit and now_invoice.amount_due == 0 and now_invoice.status == "paid"
    assert (await stripe_client.customers.retrieve(customer.id)).balance == credit
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 3600)
    renewed = await stripe_client.subscriptions.retrieve(sub.id)
    renewal = await stripe_client.invoices.retrieve(str(renewed.latest_invoice))
    assert renewal.total == 300 and renewal.amount_due == max(300 + credit, 0)
    assert (await stripe_client.customers.retrieve(customer.id)).balance == min(credit + 300, 0)

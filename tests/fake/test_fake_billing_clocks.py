"""Test clocks on the fake Stripe as a billing service's suite uses them: ``advancing`` then
``ready``, Stripe's limits, renewals, trial reminders, and dunning (retries on a schedule, then the
account's status for an exhausted subscription)."""

from __future__ import annotations

from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, InvalidRequestError
from atom_stripe.testing import FakeStripe
from atom_stripe.testing._invoices import configure_dunning

from .test_fake_billing_payments import START, assert_clean, customer_with, plan, types

DAY = 86_400
FEB_1 = 1_769_904_000
MAR_1 = 1_772_323_200


async def test_advance_answers_advancing_and_is_ready_once_done(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe_client, "pm_card_visa", clock.id)
    price = await plan(stripe_client)
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    first = len(stripe_fake.events())
    advanced = await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=MAR_1)
    assert advanced.status == "advancing"
    ready = await stripe_client.test_helpers.test_clocks.retrieve(clock.id)
    assert ready.status == "ready" and ready.frozen_time == MAR_1
    made = stripe_fake.events()[first:]
    assert made[0]["type"] == "test_helpers.test_clock.advancing"
    assert made[-1]["type"] == "test_helpers.test_clock.ready"
    # Stripe's own work: no request caused these events.
    assert all(e["request"]["id"] is None for e in made)
    invoices = (await stripe_client.invoices.list(subscription=sub.id)).data
    assert [(i.billing_reason, i.status, i.created) for i in invoices] == [
        ("subscription_cycle", "paid", MAR_1),
        ("subscription_cycle", "paid", FEB_1),
        ("subscription_create", "paid", START),
    ]
    assert all(i.next_payment_attempt is None for i in invoices)
    renewed = await stripe_client.subscriptions.retrieve(sub.id)
    assert renewed.latest_invoice == invoices[0].id and renewed.status == "active"
    assert renewed.items.data[0].current_period_start == MAR_1
    for invoice in invoices:
        assert_clean(invoice)


async def test_one_advance_may_go_two_intervals_of_the_shortest_subscription(
    stripe_client: AsyncStripeClient,
) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 3 * 365 * DAY)
    assert info.value.param == "frozen_time"
    customer = await customer_with(stripe_client, "pm_card_visa", clock.id)
    weekly = await plan(stripe_client, 300, "week")
    await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": weekly.id}])
    with pytest.raises(InvalidRequestError):
        await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 15 * DAY)
    ok = await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 14 * DAY)
    assert ok.status == "advancing"


async def test_a_clock_customer_has_at_most_three_subscriptions(stripe_client: AsyncStripeClient) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe_client, "pm_card_visa", clock.id)
    price = await plan(stripe_client)
    for _ in range(3):
        await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    assert info.value.code == "customer_max_subscriptions"


async def test_a_clock_holds_at_most_three_customers(stripe_client: AsyncStripeClient) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    for _ in range(3):
        await stripe_client.customers.create(test_clock=clock.id)
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.customers.create(test_clock=clock.id, email="fourth@example.com")
    assert info.value.code == "test_clock_customer_limit" and info.value.param == "test_clock"
    listed = await stripe_client.customers.list(test_clock=clock.id)
    assert len(listed.data) == 3  # the refused one was not made
    other = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    assert (await stripe_client.customers.create(test_clock=other.id)).test_clock == other.id


async def test_trial_reminder_then_the_trial_ends(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe_client, "pm_card_visa", clock.id)
    price = await plan(stripe_client)
    sub = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": price.id}], trial_period_days=14
    )
    assert sub.status == "trialing" and sub.trial_end == START + 14 * DAY
    trial_invoice = await stripe_client.invoices.retrieve(str(sub.latest_invoice))
    assert trial_invoice.amount_due == 0 and trial_invoice.status == "paid"
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 10 * DAY)
    assert stripe_fake.events("customer.subscription.trial_will_end") == []
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 12 * DAY)
    reminders = stripe_fake.events("customer.subscription.trial_will_end")
    assert [e["created"] for e in reminders] == [START + 11 * DAY]
    assert reminders[0]["request"]["id"] is None
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 15 * DAY)
    assert len(stripe_fake.events("customer.subscription.trial_will_end")) == 1
    ended = [
        e
        for e in stripe_fake.events("customer.subscription.updated")
        if e["data"].get("previous_attributes", {}).get("status") == "trialing"
    ]
    assert len(ended) == 1 and ended[0]["data"]["object"]["status"] == "active"
    assert ended[0]["created"] == START + 14 * DAY
    held = await stripe_client.subscriptions.retrieve(sub.id)
    invoice = await stripe_client.invoices.retrieve(str(held.latest_invoice))
    assert invoice.amount_paid == 1200 and invoice.billing_reason == "subscription_cycle"


async def failing_renewal(stripe: AsyncStripeClient) -> tuple[Any, Any, Any]:
    """A subscription paid at creation whose card then fails: its February renewal fails."""
    clock = await stripe.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe, "pm_card_visa", clock.id)
    price = await plan(stripe)
    sub = await stripe.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    failing = await stripe.payment_methods.attach("pm_card_chargeCustomerFail", customer=customer.id)
    await stripe.customers.update(customer.id, invoice_settings={"default_payment_method": failing.id})
    await stripe.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 3600)
    return clock, customer, sub


async def test_a_failed_renewal_is_retried_then_the_subscription_is_canceled(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    clock, _, sub = await failing_renewal(stripe_client)
    past_due = await stripe_client.subscriptions.retrieve(sub.id)
    assert past_due.status == "past_due"
    invoice = await stripe_client.invoices.retrieve(str(past_due.latest_invoice))
    assert invoice.status == "open" and invoice.attempt_count == 1
    assert invoice.next_payment_attempt == FEB_1 + 3 * DAY
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 10 * DAY)
    retried = await stripe_client.invoices.retrieve(invoice.id)
    assert retried.attempt_count == 3 and retried.next_payment_attempt == FEB_1 + 14 * DAY
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 20 * DAY)
    last = await stripe_client.invoices.retrieve(invoice.id)
    assert last.attempt_count == 4 and last.next_payment_attempt is None
    canceled = await stripe_client.subscriptions.retrieve(sub.id)
    assert canceled.status == "canceled" and canceled.ended_at == FEB_1 + 14 * DAY
    assert canceled.cancellation_details is not None and canceled.cancellation_details.reason == "payment_failed"
    assert types(stripe_fake).count("invoice.payment_failed") == 4
    # No more renewals pile up once it ended.
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=MAR_1 + 3600)
    assert len((await stripe_client.invoices.list(subscription=sub.id)).data) == 2


async def test_the_account_may_leave_exhausted_subscriptions_unpaid(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    configure_dunning(stripe_fake, retry_days=(2,), exhausted="unpaid")
    clock, _, sub = await failing_renewal(stripe_client)
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 5 * DAY)
    unpaid = await stripe_client.subscriptions.retrieve(sub.id)
    assert unpaid.status == "unpaid"
    invoice = await stripe_client.invoices.retrieve(str(unpaid.latest_invoice))
    assert invoice.attempt_count == 2 and invoice.next_payment_attempt is None


async def test_a_card_updated_during_dunning_pays_at_the_next_retry(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    clock, customer, sub = await failing_renewal(stripe_client)
    good = await stripe_client.payment_methods.attach("pm_card_visa", customer=customer.id)
    await stripe_client.customers.update(customer.id, invoice_settings={"default_payment_method": good.id})
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 4 * DAY)
    active = await stripe_client.subscriptions.retrieve(sub.id)
    assert active.status == "active"
    invoice = await stripe_client.invoices.retrieve(str(active.latest_invoice))
    assert invoice.status == "paid" and invoice.attempt_count == 2 and invoice.next_payment_attempt is None
    assert invoice.status_transitions.paid_at == FEB_1 + 3 * DAY
    assert_clean(active)


async def test_an_unpaid_first_invoice_expires_the_subscription(stripe_client: AsyncStripeClient) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe_client, "pm_card_chargeCustomerFail", clock.id)
    price = await plan(stripe_client)
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    assert sub.status == "incomplete"
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 2 * DAY)
    expired = await stripe_client.subscriptions.retrieve(sub.id)
    assert expired.status == "incomplete_expired"
    assert (await stripe_client.invoices.retrieve(str(sub.latest_invoice))).status == "void"


async def test_every_event_of_a_full_billing_flow_parses_whole(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    clock, customer, sub = await failing_renewal(stripe_client)
    pro = await plan(stripe_client, 3000)
    good = await stripe_client.payment_methods.attach("pm_card_visa", customer=customer.id)
    await stripe_client.customers.update(customer.id, invoice_settings={"default_payment_method": good.id})
    await stripe_client.subscriptions.update(
        sub.id, items=[{"id": sub.items.data[0].id, "price": pro.id}], proration_behavior="always_invoice"
    )
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=FEB_1 + 20 * DAY)
    await stripe_client.subscriptions.cancel(sub.id)
    seen = 0
    async for event in stripe_client.events.list(limit=100):
        assert_clean(event, event.type)
        seen += 1
    assert seen == len(stripe_fake.events()) > 40


async def test_ending_a_trial_now_bills_at_once(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await customer_with(stripe_client, "pm_card_visa", clock.id)
    price = await plan(stripe_client)
    sub = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": price.id}], trial_period_days=30
    )
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=START + 5 * DAY)
    ended = await stripe_client.subscriptions.update(sub.id, trial_end="now")
    assert ended.status == "active" and ended.trial_end == START + 5 * DAY
    assert ended.items.data[0].current_period_start == START + 5 * DAY
    invoice = await stripe_client.invoices.retrieve(str(ended.latest_invoice))
    assert invoice.status == "paid" and invoice.amount_paid == 1200
    # Sent at once when a trial is ended early (Stripe's event reference).
    assert len(stripe_fake.events("customer.subscription.trial_will_end")) == 1

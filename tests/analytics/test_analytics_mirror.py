"""atom_stripe.analytics from a local mirror: the same frames as from the API, for the same fake account."""

from __future__ import annotations

import pandas as pd
import pytest

from atom_stripe import AsyncStripeClient, StripeValueError, analytics
from atom_stripe.sync import Mirror
from atom_stripe.testing import FakeStripe

from ..fake.test_fake_billing_payments import START, customer_with, plan

DAY = 86_400
YEAR = 365 * DAY


async def billed_year(fake: FakeStripe, stripe: AsyncStripeClient) -> None:
    """A year of billing on a test clock: monthly and yearly plans, a trial, a cancellation,
    a refund, a second currency, and a subscription whose embedded items list is truncated."""
    # Two clocks: Stripe lets a test clock hold three customers.
    clocks = [(await stripe.test_helpers.test_clocks.create(frozen_time=START)).id for _ in range(2)]
    monthly, yearly, seats = await plan(stripe, 1200), await plan(stripe, 9900, "year"), await plan(stripe, 500)
    subs = []
    for on, price, quantity in ((0, monthly, 1), (0, yearly, 1), (0, seats, 7), (1, monthly, 2)):
        customer = await customer_with(stripe, "pm_card_visa", clocks[on])
        subs.append(
            await stripe.subscriptions.create(customer=customer.id, items=[{"price": price.id, "quantity": quantity}])
        )
    trial = await customer_with(stripe, "pm_card_visa", clocks[1])
    await stripe.subscriptions.create(customer=trial.id, items=[{"price": monthly.id}], trial_period_days=400)
    for month in range(1, 7):
        for clock in clocks:
            await stripe.test_helpers.test_clocks.advance(clock, frozen_time=START + month * 31 * DAY)
        if month == 3:
            await stripe.subscriptions.cancel(subs[3].id)
    paid = await stripe.payment_intents.create(amount=2500, currency="usd", payment_method="pm_card_visa", confirm=True)
    await stripe.refunds.create(payment_intent=paid.id, amount=700)
    euro = START + 40 * DAY
    fake.add("balance_transaction", type="charge", currency="eur", amount=4000, fee=150, net=3850, created=euro)
    fake.add("balance_transaction", type="payout", currency="eur", amount=-3000, fee=0, net=-3000, created=euro)
    # Stripe embeds a subscription's first items only: one whose embedded list says there are more.
    big = await stripe.subscriptions.create(
        customer=(await customer_with(stripe, "pm_card_visa")).id,
        items=[{"price": monthly.id}, {"price": seats.id, "quantity": 3}],
    )
    held = fake.store.find(big.id)
    assert held is not None
    # The list's first page: newest first, as in tests/sync/test_sync_backfill.py's seed.
    held["items"] = {**held["items"], "data": held["items"]["data"][-1:], "has_more": True}


async def test_revenue_mrr_and_churn_from_a_mirror_equal_the_api(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await billed_year(stripe_fake, stripe_client)
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client)
        before = len(stripe_fake.requests)
        moments = [START + n * 30 * DAY for n in range(8)]
        from_mirror = [
            await analytics.revenue(mirror, start=START, end=START + YEAR, freq="M"),
            await analytics.revenue(mirror, start=START, end=START + YEAR, freq="D", currency="eur"),
            await analytics.mrr(mirror),
            await analytics.mrr(mirror, moments),
            await analytics.churn(mirror, start=START, end=START + 120 * DAY),
        ]
        assert len(stripe_fake.requests) == before  # read from the tables alone
    from_api = [
        await analytics.revenue(stripe_client, start=START, end=START + YEAR, freq="M", progress=False),
        await analytics.revenue(stripe_client, start=START, end=START + YEAR, freq="D", currency="eur", progress=False),
        await analytics.mrr(stripe_client, progress=False),
        await analytics.mrr(stripe_client, moments, progress=False),
        await analytics.churn(stripe_client, start=START, end=START + 120 * DAY, progress=False),
    ]
    for mirrored, listed in zip(from_mirror, from_api, strict=True):
        pd.testing.assert_frame_equal(mirrored, listed, check_exact=True)
    revenue, euros, now, history, churned = from_mirror
    # Not empty frames that agree by accident: the year's charges, refund and fees are in it.
    assert revenue.loc[(slice(None), "usd"), "gross"].sum() > 0
    assert revenue.loc[(slice(None), "usd"), "refunds"].sum() == 700
    assert list(euros.index.get_level_values("currency").unique()) == ["eur"] and euros["gross"].sum() == 4000
    # 1200 + 9900/12 + 7 x 500 + the truncated subscription's 1200 + 3 x 500 (its items from their own table).
    assert now.loc["usd", "mrr"] == 1200 + 825 + 3500 + 1200 + 1500 and now.loc["usd", "subscriptions"] == 4
    assert history.loc[(pd.Timestamp(START + 7 * 30 * DAY, unit="s", tz="UTC"), "usd"), "subscriptions"] == 3
    assert churned.loc["usd", "churned"] == 1


async def test_a_type_the_mirror_does_not_hold_is_refused() -> None:
    async with await Mirror.open() as mirror:
        with pytest.raises(StripeValueError, match="not mirrored"):
            await mirror.objects("account")
        assert await mirror.objects("balance_transaction") == []
        empty = await analytics.mrr(mirror)
        assert empty.empty and list(empty.columns) == ["mrr", "subscriptions"]

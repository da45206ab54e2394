"""atom_stripe.sync: ``mirror.verify`` compares a sample of rows with the fake Stripe (asyncio and trio)."""

from __future__ import annotations

import json

import pytest

from atom_stripe import APIConnectionError, AsyncStripeClient, StripeValueError
from atom_stripe.sync import Mirror, SyncStripeError, VerifyReport
from atom_stripe.sync._schema import KINDS
from atom_stripe.sync._verify import VERIFIABLE
from atom_stripe.testing import FakeStripe

from .test_sync_backfill import seed, stripe_fake_object
from .test_sync_events import next_second


async def snapshot(mirror: Mirror) -> dict[str, list[tuple[object, ...]]]:
    """Every row's id, state and write time, per table: what verify must leave alone."""
    tables = {}
    for name in KINDS:
        table = KINDS[name].table
        frame = await mirror.sql(f'select id, data, deleted, _as_of, _synced_at from stripe."{table}" order by id')
        tables[name] = [tuple(row) for row in frame.itertuples(index=False)]
    return tables


async def test_a_clean_mirror_verifies_clean(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    await seed(stripe_fake, stripe_client, spread=6, burst=2)
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client)
        before = await snapshot(mirror)
        calls = len(stripe_fake.requests)
        report = await mirror.verify(stripe_client, sample=1.0)
        assert isinstance(report, VerifyReport) and report.clean
        assert set(report.types) == set(VERIFIABLE)
        for name, found in report.types.items():
            assert found.checked == found.matching == len(before[name]), name
            assert (found.drifted, found.missing, found.repaired) == ({}, [], 0)
        assert report.checked == len(stripe_fake.requests) - calls > 0
        assert {r["method"] for r in stripe_fake.requests[calls:]} == {"GET"}
        assert await snapshot(mirror) == before


async def test_a_sample_checks_that_many_random_rows(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    for n in range(12):
        await stripe_client.customers.create(email=f"c{n}@example.com")
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        seen: set[str] = set()
        for _ in range(6):
            calls = len(stripe_fake.requests)
            report = await mirror.verify(stripe_client, ["customer"], sample=3)
            assert report.types["customer"].checked == 3 and report.clean
            retrieved = [r["path"].rsplit("/", 1)[1] for r in stripe_fake.requests[calls:]]
            assert len(set(retrieved)) == 3
            seen.update(retrieved)
        assert len(seen) > 3  # not the same three rows every time
        fraction = await mirror.verify(stripe_client, ["customer"], sample=0.25)
        assert fraction.types["customer"].checked == 3


async def test_drift_is_reported_by_field_and_repaired_only_when_asked(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customers = [(await stripe_client.customers.create(email=f"c{n}@example.com")).id for n in range(4)]
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        await next_second()
        # Behind the mirror's back: changes whose events are never applied.
        stripe_fake_object(stripe_fake, customers[0])["email"] = "changed@example.com"
        await stripe_client.customers.update(customers[1], metadata={"plan": "pro"}, description="VIP")
        await stripe_client.customers.delete(customers[2])
        # And a row marked deleted here that still exists on Stripe.
        await mirror.sql("update stripe.customer set deleted = true where id = ?", [customers[3]])
        before = await snapshot(mirror)

        report = await mirror.verify(stripe_client, ["customer"], sample=1.0)
        found = report.types["customer"]
        assert not report.clean
        assert found.drifted == {
            customers[0]: ["email"],
            customers[1]: ["description", "metadata"],
            customers[3]: ["deleted"],
        }
        assert found.missing == [customers[2]]
        assert (found.checked, found.matching, found.repaired) == (4, 0, 0)
        assert await snapshot(mirror) == before  # nothing written

        repaired = await mirror.verify(stripe_client, ["customer"], sample=1.0, repair=True)
        assert repaired.types["customer"].drifted == found.drifted and repaired.types["customer"].repaired == 4
        assert (await mirror.verify(stripe_client, ["customer"], sample=1.0)).clean
        rows = await mirror.sql("select id, email, deleted, data from stripe.customer order by id")
        by_id = {row.id: row for row in rows.itertuples()}
        assert by_id[customers[0]].email == "changed@example.com"
        assert json.loads(by_id[customers[1]].data)["metadata"] == {"plan": "pro"}
        assert bool(by_id[customers[2]].deleted) and by_id[customers[2]].email == "c2@example.com"
        assert not by_id[customers[3]].deleted


async def test_repair_of_a_subscription_brings_its_items(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customer = await stripe_client.customers.create(email="s@example.com")
    product = await stripe_client.products.create(name="Pro")
    price = await stripe_client.prices.create(
        product=product.id, currency="usd", unit_amount=900, recurring={"interval": "month"}
    )
    subscription = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["subscription"])
        await next_second()
        await stripe_client.subscriptions.update(subscription.id, metadata={"tier": "gold"})
        await mirror.sql("delete from stripe.subscription_item")
        report = await mirror.verify(stripe_client, ["subscription"], sample=1, repair=True)
        assert report.types["subscription"].drifted == {subscription.id: ["metadata"]}
        items = await mirror.sql("select id, _parent from stripe.subscription_item")
        assert list(items.id) == [item.id for item in subscription.items.data]
        assert list(items._parent) == [subscription.id]


async def test_bad_arguments_are_refused_before_any_call(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    async with await Mirror.open() as mirror:
        calls = len(stripe_fake.requests)
        for bad in (0, -1, 1.5, 0.0, True, "10", None):
            with pytest.raises(StripeValueError, match="sample"):
                await mirror.verify(stripe_client, sample=bad)  # type: ignore[arg-type]
        with pytest.raises(StripeValueError, match="invoice lines"):
            await mirror.verify(stripe_client, ["line_item"])
        with pytest.raises(StripeValueError, match="types"):
            await mirror.verify(stripe_client, "customer")
        with pytest.raises(StripeValueError, match="repair"):
            await mirror.verify(stripe_client, repair="yes")  # type: ignore[arg-type]
        with pytest.raises(StripeValueError, match="concurrency"):
            await mirror.verify(stripe_client, concurrency=0)
        assert len(stripe_fake.requests) == calls


async def test_stripe_failing_is_a_sync_error_and_writes_nothing(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    for n in range(3):
        await stripe_client.customers.create(email=f"c{n}@example.com")
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        before = await snapshot(mirror)
        async with AsyncStripeClient("sk_test_verify", base_url="http://127.0.0.1:1", max_retries=0) as down:
            with pytest.raises(SyncStripeError, match="retrieving customer cus_") as caught:
                await mirror.verify(down, ["customer"], sample=1.0, repair=True)
        assert isinstance(caught.value.__cause__, APIConnectionError)
        assert await snapshot(mirror) == before

"""atom_stripe.sync: events applied to the mirror (webhooks, catch_up), against the fake Stripe."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import anyio
import pytest

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe.models import model_for
from atom_stripe.sync import EventCursorExpiredError, Mirror, SyncStateError
from atom_stripe.testing import FakeStripe
from atom_stripe.webhooks import WebhookRouter, generate_test_header

from .test_sync_backfill import assert_mirrors, seed, stored


async def next_second() -> None:
    """Wait for the wall clock's next second: Stripe's times (and the fake's) are whole seconds."""
    await anyio.sleep(1 - time.time() % 1 + 0.02)


def event(obj: dict[str, Any], event_type: str, created: int, number: int) -> dict[str, Any]:
    return {
        "id": f"evt_test_{number}",
        "object": "event",
        "type": event_type,
        "created": created,
        "livemode": False,
        "api_version": "2026-10-28.endive",
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


async def row(mirror: Mirror, table: str, object_id: str) -> Any:
    assert object_id.replace("_", "").isalnum()  # inlined: DuckDB and PostgreSQL number placeholders apart
    frame = await mirror.sql(f"select * from stripe.{table} where id = '{object_id}'")
    assert len(frame) == 1
    return frame.iloc[0]


async def test_an_older_event_never_overwrites_a_newer_row(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customer = (await stripe_client.customers.create(email="first@example.com")).id
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        held = stripe_fake.get(customer)
        assert held is not None
        later = int(time.time()) + 100
        newer = event({**held, "email": "newer@example.com"}, "customer.updated", later + 20, 1)
        older = event({**held, "email": "older@example.com"}, "customer.updated", later + 10, 2)
        stale = event({**held, "email": "stale@example.com"}, "customer.updated", later - 10_000, 3)
        await mirror.apply(newer)
        first = await row(mirror, "customer", customer)
        await mirror.apply(older)  # delivered late
        await mirror.apply(stale)  # older than the backfill's copy
        await mirror.apply(copy.deepcopy(newer))  # delivered twice
        again = await row(mirror, "customer", customer)
        assert again.email == "newer@example.com" and again._as_of == later + 20
        assert again._synced_at == first._synced_at  # the second delivery wrote nothing
        events = await mirror.sql("select id from stripe.event order by id")
        assert list(events.id) == ["evt_test_1", "evt_test_2", "evt_test_3"]


async def test_deletions_mark_rows_and_stay(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    customer = (await stripe_client.customers.create(email="gone@example.com")).id
    product = await stripe_client.products.create(name="Pro")
    price = await stripe_client.prices.create(
        product=product.id, currency="usd", unit_amount=900, recurring={"interval": "month"}
    )
    subscription = await stripe_client.subscriptions.create(customer=customer, items=[{"price": price.id}])
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer", "subscription"])
        await next_second()
        await stripe_client.subscriptions.cancel(subscription.id)
        await stripe_client.customers.delete(customer)
        [ended] = stripe_fake.events("customer.subscription.deleted")
        [deleted] = stripe_fake.events("customer.deleted")
        await mirror.apply(model_for("event").validate_python(ended))  # a parsed Event works as a dict does
        await mirror.apply(deleted)
        gone = await row(mirror, "customer", customer)
        assert bool(gone.deleted) and gone.email == "gone@example.com"
        # A subscription's "deleted" event is its end: it stays, canceled.
        sub = await row(mirror, "subscription", subscription.id)
        assert not sub.deleted and sub.status == "canceled"
        # An update older than the deletion does not bring the customer back.
        held = json.loads(gone.data)
        await mirror.apply(event({**held, "email": "back@example.com"}, "customer.updated", deleted["created"] - 1, 9))
        assert bool((await row(mirror, "customer", customer)).deleted)
        # A deletion of a row never seen is stored, deleted.
        await mirror.apply(event({"id": "cus_never", "object": "customer", "deleted": True}, "customer.deleted", 1, 8))
        assert bool((await row(mirror, "customer", "cus_never")).deleted)


async def test_catch_up_applies_what_a_down_receiver_missed(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=12, burst=3)
    await next_second()
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, page_size=10)
        await next_second()
        # The receiver is down: changes happen, nobody applies their events.
        customers = [c for c in stripe_fake.store.all("customer") if c["email"].startswith("sub")]
        await stripe_client.customers.update(customers[0]["id"], email="renamed@example.com")
        await stripe_client.customers.create(email="new@example.com")
        await stripe_client.customers.delete(customers[1]["id"])
        subscription = next(s for s in stripe_fake.store.all("subscription") if s["customer"] == customers[2]["id"])
        await stripe_client.subscriptions.cancel(subscription["id"])
        # No payment here: Stripe sends no events for balance transactions, so new ones reach the
        # mirror only through a backfill (docs/sync.md); and the fake sets a refund's
        # balance_transaction after its refund.created event, which on Stripe already carries it.
        until = json.loads(
            (await mirror.sql("select value from stripe._sync_state where key = 'backfill_until'")).value[0]
        )
        applied = await mirror.catch_up(stripe_client)
        assert applied == len([e for e in stripe_fake.events() if e["created"] >= until]) >= 4
        await assert_mirrors(mirror, stripe_fake)
        deleted = await mirror.sql("select id from stripe.customer where deleted")
        assert list(deleted.id) == [customers[1]["id"]]
        # Again: the same events, nothing changes.
        before = await mirror.sql("select id, data, _as_of, _synced_at from stripe.customer order by id")
        await mirror.catch_up(stripe_client)
        after = await mirror.sql("select id, data, _as_of, _synced_at from stripe.customer order by id")
        assert after.equals(before)
        cursor = await mirror.sql("select value from stripe._sync_state where key = 'event_cursor'")
        assert json.loads(cursor.value[0])["id"] == stripe_fake.events()[-1]["id"]


async def test_catch_up_needs_a_cursor_within_stripes_retention(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await stripe_client.customers.create(email="a@example.com")
    async with await Mirror.open() as mirror:
        with pytest.raises(SyncStateError):
            await mirror.catch_up(stripe_client)
        await mirror.backfill(stripe_client, ["customer"])
        month_ago = int(time.time()) - 31 * 86_400
        await mirror.sql(
            "update stripe._sync_state set value = ? where key = 'event_cursor'",
            [json.dumps({"created": month_ago, "id": None})],
        )
        calls = len(stripe_fake.requests)
        with pytest.raises(EventCursorExpiredError) as caught:
            await mirror.catch_up(stripe_client)
        assert caught.value.cursor == month_ago and "backfill" in caught.value.message
        assert len(stripe_fake.requests) == calls
        # A fresh backfill sets a new cursor, from which catching up works.
        progress = await mirror.backfill(stripe_client, ["customer"], restart=True)
        assert progress.requests >= 1
        assert await mirror.catch_up(stripe_client) >= 0
        assert len(await stored(mirror, "customer")) == 1


async def test_bad_events_are_refused() -> None:
    async with await Mirror.open() as mirror:
        for bad in ("evt_1", {"id": "evt_1"}, {"id": "evt_1", "created": 1, "data": {}}, None):
            with pytest.raises(StripeValueError):
                await mirror.apply(bad)
        # An event about a type the mirror does not hold is kept in stripe.event only.
        await mirror.apply(event({"id": "acct_1", "object": "account"}, "account.updated", 5, 1))
        assert list((await mirror.sql("select id from stripe.event")).id) == ["evt_test_1"]


async def test_an_item_gone_from_a_subscription_is_marked_deleted(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    product = await stripe_client.products.create(name="Pro")
    prices = [
        await stripe_client.prices.create(
            product=product.id, currency="usd", unit_amount=amount, recurring={"interval": "month"}
        )
        for amount in (500, 900)
    ]
    customer = await stripe_client.customers.create(email="two@example.com")
    subscription = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": price.id} for price in prices]
    )
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["subscription"])
        held = stripe_fake.get(subscription.id)
        assert held is not None and len(held["items"]["data"]) == 2
        kept, dropped = held["items"]["data"]
        changed = {**held, "items": {**held["items"], "data": [kept]}}
        await mirror.apply(event(changed, "customer.subscription.updated", int(time.time()) + 50, 1))
        items = await mirror.sql("select id, deleted from stripe.subscription_item order by id")
        assert dict(zip(items.id, map(bool, items.deleted), strict=True)) == {kept["id"]: False, dropped["id"]: True}
        # An older event with both items does not bring the dropped one back.
        await mirror.apply(event(held, "customer.subscription.updated", int(time.time()) + 40, 2))
        assert bool((await row(mirror, "subscription_item", dropped["id"])).deleted)


async def test_webhooks_out_of_order_and_twice_through_the_router(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    secret = "whsec_sync_test"
    customer = (await stripe_client.customers.create(email="v1@example.com")).id
    await next_second()
    async with await Mirror.open() as mirror:
        router = WebhookRouter(secret)
        router.on("*")(mirror.apply)
        await mirror.backfill(stripe_client, ["customer"])
        seen = len(stripe_fake.events())
        await next_second()
        await stripe_client.customers.update(customer, email="v2@example.com")
        await next_second()
        await stripe_client.customers.update(customer, email="v3@example.com")
        await stripe_client.customers.create(email="other@example.com")
        missed = stripe_fake.events()[seen:]
        assert len(missed) == 3
        for delivered in [*reversed(missed), *missed]:  # newest first, then all again
            body = json.dumps(delivered)
            result = await router.handle(body, {"Stripe-Signature": generate_test_header(body, secret)})
            assert result.status_code == 200
        assert (await row(mirror, "customer", customer)).email == "v3@example.com"
        assert await stored(mirror, "customer") == {c["id"]: c for c in stripe_fake.store.all("customer")}

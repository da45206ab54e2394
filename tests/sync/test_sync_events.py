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
from atom_stripe.sync import DEFAULT_TYPES, EventCursorExpiredError, Mirror, SyncStateError
from atom_stripe.testing import FakeStripe
from atom_stripe.testing._fake import INCLUDABLE
from atom_stripe.webhooks import WebhookRouter, generate_test_header

from .test_sync_backfill import assert_mirrors, expected, seed, stored


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


def thin(object_id: str, object_type: str, created: int, number: int) -> dict[str, Any]:
    """A v2 thin event (https://docs.stripe.com/api/v2/core/events/object): a reference, no snapshot."""
    return {
        "id": f"evt_thin_{number}",
        "object": "v2.core.event",
        "type": f"{object_type}.updated",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(created)),
        "livemode": False,
        "related_object": {"id": object_id, "type": object_type, "url": f"/v1/{object_type}s/{object_id}"},
    }


async def test_thin_events_are_retrieved_and_need_a_client(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    kept = (await stripe_client.customers.create(email="v1@example.com")).id
    gone = (await stripe_client.customers.create(email="gone@example.com")).id
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        await next_second()
        await stripe_client.customers.update(kept, email="v2@example.com")
        await stripe_client.customers.delete(gone)
        with pytest.raises(StripeValueError, match="client"):
            await mirror.apply(thin(kept, "customer", int(time.time()), 1))
        assert (await row(mirror, "customer", kept)).email == "v1@example.com"  # nothing written
        before = len(stripe_fake.requests)
        await mirror.apply(thin(kept, "customer", int(time.time()), 1), client=stripe_client)
        await mirror.apply(thin(gone, "customer", int(time.time()), 2), client=stripe_client)
        assert [r["path"] for r in stripe_fake.requests[before:]] == [f"/v1/customers/{kept}", f"/v1/customers/{gone}"]
        assert (await row(mirror, "customer", kept)).email == "v2@example.com"
        assert bool((await row(mirror, "customer", gone)).deleted)
        assert await stored(mirror, "customer") == expected(stripe_fake, "customer")
        # A type the mirror does not hold is not retrieved; a malformed one is refused.
        await mirror.apply(thin("mtr_1", "v1.billing.meter", int(time.time()), 3), client=stripe_client)
        assert len(stripe_fake.requests) == before + 2
        with pytest.raises(StripeValueError, match="RFC 3339"):
            await mirror.apply({**thin(kept, "customer", 0, 4), "created": "yesterday"}, client=stripe_client)
        with pytest.raises(StripeValueError, match="related_object"):
            await mirror.apply({**thin(kept, "customer", 0, 4), "related_object": None}, client=stripe_client)
        with pytest.raises(StripeValueError, match="client"):
            await mirror.apply(thin(kept, "customer", 0, 5), client="sk_test_not_a_client")


async def test_a_late_event_with_a_client_brings_stripes_current_state(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customer = (await stripe_client.customers.create(email="v1@example.com")).id
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        seen = len(stripe_fake.events())
        for email in ("v2@example.com", "v3@example.com", "v4@example.com"):
            await next_second()
            await stripe_client.customers.update(customer, email=email)
        v2, v3, v4 = stripe_fake.events()[seen:]
        await mirror.apply(v3, client=stripe_client)  # in time: the payload is trusted, nothing retrieved
        before = len(stripe_fake.requests)
        assert (await row(mirror, "customer", customer)).email == "v3@example.com"
        # v2 comes late (v4 not yet delivered): older than the row, so Stripe's current state is
        # retrieved rather than v2's payload written or v3 kept.
        await mirror.apply(v2, client=stripe_client)
        assert [r["path"] for r in stripe_fake.requests[before:]] == [f"/v1/customers/{customer}"]
        assert (await row(mirror, "customer", customer)).email == "v4@example.com"
        # Without a client the late event changes nothing; v4 then again changes nothing.
        await mirror.apply(v2)
        await mirror.apply(v4)
        await mirror.apply(v4, client=stripe_client)
        assert (await row(mirror, "customer", customer)).email == "v4@example.com"
        assert await stored(mirror, "customer") == expected(stripe_fake, "customer")


async def test_the_ready_receiver_applies_webhooks_out_of_order_and_twice(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    import httpx

    secret = "whsec_ready_receiver"
    customer = (await stripe_client.customers.create(email="v1@example.com")).id
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        seen = len(stripe_fake.events())
        for email in ("v2@example.com", "v3@example.com"):
            await next_second()
            await stripe_client.customers.update(customer, email=email)
        other = (await stripe_client.customers.create(email="other@example.com")).id
        await stripe_client.customers.delete(other)
        missed = stripe_fake.events()[seen:]
        assert len(missed) == 4
        app = mirror.asgi_app(secret, client=stripe_client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
            for delivered in [*reversed(missed), *missed]:  # newest first, then all again
                body = json.dumps(delivered)
                answer = await http.post(
                    "/", content=body, headers={"Stripe-Signature": generate_test_header(body, secret)}
                )
                assert answer.status_code == 200
            forged = await http.post(
                "/", content=body, headers={"Stripe-Signature": generate_test_header(body, "whsec_x")}
            )
            assert forged.status_code == 400
        assert (await row(mirror, "customer", customer)).email == "v3@example.com"
        assert bool((await row(mirror, "customer", other)).deleted)
        assert await stored(mirror, "customer") == expected(stripe_fake, "customer")
        assert set(await stored(mirror, "event")) == {e["id"] for e in missed}
        with pytest.raises(StripeValueError, match="client"):
            mirror.receiver(secret, client=object())


async def test_the_ready_receiver_refuses_what_is_not_a_snapshot_event() -> None:
    import httpx

    secret = "whsec_refusals"
    customer = {"id": "cus_refused", "object": "customer", "created": 1_700_000_000, "email": "r@example.com"}
    thin = {
        "id": "evt_thin",
        "object": "v2.core.event",
        "type": "v1.customer.updated",
        "created": "2026-01-01T00:00:00Z",
    }
    refused = {
        "not JSON": "{not json",
        "not an event object": json.dumps({**event(customer, "customer.updated", 1_700_000_000, 1), "object": "x"}),
        "no usable id": json.dumps({**event(customer, "customer.updated", 1_700_000_000, 2), "id": "evt x"}),
        "thin event": json.dumps(thin),
        "does not parse": json.dumps({**event(customer, "customer.updated", 1_700_000_000, 3), "data": {}}),
    }
    router_ids: list[str] = []
    async with await Mirror.open() as mirror:
        router = mirror.receiver(secret)
        router.on("*")(lambda delivery: router_ids.append(delivery.body["data"]["object"]["id"]))
        transport = httpx.ASGITransport(app=router.asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
            for why, body in refused.items():
                answer = await http.post(
                    "/", content=body, headers={"Stripe-Signature": generate_test_header(body, secret)}
                )
                assert answer.status_code == 400, why
            body = json.dumps(event(customer, "customer.updated", 1_700_000_000, 4))
            answer = await http.post(
                "/", content=body, headers={"Stripe-Signature": generate_test_header(body, secret)}
            )
            assert answer.status_code == 200
        assert (await row(mirror, "customer", "cus_refused")).email == "r@example.com"
        assert set(await stored(mirror, "event")) == {"evt_test_4"}
    # A handler added to the mirror's router gets the event's JSON.
    assert router_ids == ["cus_refused"]


async def test_webhooks_from_the_fake_keep_every_type_equal_to_stripe(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    from ..fake.test_fake_billing_payments import START, customer_with, plan

    await seed(stripe_fake, stripe_client, spread=6, burst=2)
    clock = (await stripe_client.test_helpers.test_clocks.create(frozen_time=START)).id
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client)
        async with stripe_fake.deliver_webhooks(
            mirror.asgi_app("whsec_fake_deliveries", client=stripe_client), secret="whsec_fake_deliveries"
        ):
            # Changes of every kind, their webhooks delivered as they happen.
            payer = await customer_with(stripe_client, "pm_card_visa", clock)
            subscription = await stripe_client.subscriptions.create(
                customer=payer.id, items=[{"price": (await plan(stripe_client, 2400)).id}]
            )
            for month in (1, 2, 3):
                await stripe_client.test_helpers.test_clocks.advance(clock, frozen_time=START + month * 31 * 86_400)
            await stripe_client.subscriptions.cancel(subscription.id)
            customers = [c for c in stripe_fake.store.all("customer") if c["email"].startswith("old")]
            await stripe_client.customers.update(customers[0]["id"], email="renamed@example.com")
            await stripe_client.customers.delete(customers[1]["id"])
            await stripe_fake.webhooks_delivered()
        # The fake's invoice events carry ``payments``, which Stripe sends only when expanded
        # (reported to the fake's owners): left out of the comparison, as is an event's
        # ``pending_webhooks``; every other field of every row compared.
        for object_name in DEFAULT_TYPES:
            held, want = await stored(mirror, object_name), expected(stripe_fake, object_name)
            for obj in [*held.values(), *want.values()]:
                inner = obj["data"]["object"] if object_name == "event" else obj
                # An event's count of deliveries still to make: 1 in its own delivery, 0 once done.
                obj.pop("pending_webhooks", None)
                for name in INCLUDABLE.get(inner.get("object"), ()):
                    inner.pop(name, None)
            assert held == want, object_name
        # Stripe sends no events for balance transactions: those the payments named were retrieved.
        assert len(await mirror.objects("balance_transaction")) == len(stripe_fake.store.all("balance_transaction")) > 1
        assert (await row(mirror, "subscription", subscription.id)).status == "canceled"
        invoices = await mirror.sql(f"select count(*) as n from stripe.invoice where customer = '{payer.id}'")
        assert invoices.n[0] >= 4  # the first and one per advanced month


async def test_a_truncated_list_in_an_event_is_completed_with_a_client(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=2, burst=1)
    big = next(s for s in stripe_fake.store.all("subscription") if s["customer"] == "cus_big")
    async with await Mirror.open() as mirror:
        await mirror.apply(event(big, "customer.subscription.updated", int(time.time()), 1))
        items = await mirror.sql("select id from stripe.subscription_item where not deleted")
        assert len(items) == 1  # without a client: as far as the event's list goes
        await mirror.apply(event(big, "customer.subscription.updated", int(time.time()), 2), client=stripe_client)
        items = await mirror.sql("select quantity from stripe.subscription_item where not deleted order by quantity")
        assert list(items.quantity) == [0, 1, 2]


async def test_webhooks_arriving_together_are_committed_together(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from atom_stripe.sync._duckdb import DuckStore

    commits: list[int] = []
    write_batches = DuckStore.write_batches

    async def counted(store: DuckStore, batches: Any) -> None:
        await write_batches(store, batches)
        commits.append(len(batches))  # after the commit: only what the database accepted

    monkeypatch.setattr(DuckStore, "write_batches", counted)
    secret = "whsec_group_commit"
    created = int(time.time())
    customers = [
        {"id": f"cus_group{number}", "object": "customer", "email": f"c{number}@example.com", "balance": 0}
        for number in range(120)
    ]
    # An integer no BIGINT holds: its transaction fails; the deliveries committed with it must not.
    customers[60]["balance"] = 10**30
    answers: dict[str, int] = {}
    async with await Mirror.open() as mirror:
        app = mirror.asgi_app(secret)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as http:

            async def deliver(number: int, customer: dict[str, Any]) -> None:
                body = json.dumps(event(customer, "customer.created", created, number))
                answer = await http.post(
                    "/", content=body, headers={"Stripe-Signature": generate_test_header(body, secret)}
                )
                answers[customer["id"]] = answer.status_code
                if answer.status_code == 200:
                    # Answered only once its event is committed.
                    assert (await row(mirror, "customer", customer["id"])).email == customer["email"]

            async with anyio.create_task_group() as group:
                for number, customer in enumerate(customers):
                    group.start_soon(deliver, number, customer)
        assert answers.pop("cus_group60") == 500
        assert set(answers.values()) == {200}
        assert set(await stored(mirror, "customer")) == set(answers)
        assert set(await stored(mirror, "event")) == {f"evt_test_{n}" for n in range(120) if n != 60}
    # Far fewer commits than deliveries: those waiting while one commits go in together.
    assert max(commits) > 10
    assert len(commits) < 60


async def test_an_older_event_committed_with_a_newer_one_does_not_win() -> None:
    created = int(time.time())
    customer = {"id": "cus_grouped", "object": "customer", "email": "first@example.com"}
    newer = event({**customer, "email": "newer@example.com"}, "customer.updated", created + 20, 2)
    older = event({**customer, "email": "older@example.com"}, "customer.updated", created + 10, 3)
    async with await Mirror.open() as mirror:
        async with anyio.create_task_group() as group:
            # The first is committed alone; the two arriving during its commit go in together.
            group.start_soon(mirror.apply, event({**customer, "id": "cus_other"}, "customer.created", created, 1))
            group.start_soon(mirror.apply, newer)
            group.start_soon(mirror.apply, older)
        assert (await row(mirror, "customer", "cus_grouped")).email == "newer@example.com"
        assert set(await stored(mirror, "event")) == {"evt_test_1", "evt_test_2", "evt_test_3"}

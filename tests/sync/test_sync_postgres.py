"""atom_stripe.sync on PostgreSQL (asyncpg, asyncio): the same mirror as on DuckDB, against the fake
Stripe and the test session's PostgreSQL (tests/servers.py)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

import anyio
import asyncpg
import pytest

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe.sync import Mirror, Progress, SyncDatabaseError, SyncError
from atom_stripe.sync._schema import KINDS
from atom_stripe.testing import FakeStripe

from ..servers import PostgresServer
from .test_sync_backfill import (
    OLD_OBJECTS,
    OLD_ROWS,
    assert_mirrors,
    assert_new_columns_filled,
    list_requests,
    made_by,
    older_schema,
    seed,
    stored,
)
from .test_sync_events import event, next_second, row


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # asyncpg is asyncio only


@pytest.fixture
async def dsn(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh database for one test (the mirror's schema is always ``stripe``)."""
    name = f"sync_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield postgres_server.dsn.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


async def test_backfill_copies_every_default_type(
    dsn: str, stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client)
    async with await Mirror.connect(dsn) as mirror:
        assert repr(mirror) == "<Mirror postgresql>"
        await mirror.backfill(stripe_client, page_size=10, concurrency=4)
        await assert_mirrors(mirror, stripe_fake)
        columns = await mirror.sql(
            "select table_name, column_name, data_type from information_schema.columns where table_schema = 'stripe'"
        )
        types = {(r.table_name, r.column_name): r.data_type for r in columns.itertuples()}
        customers = await mirror.sql(
            "select id, email, created from stripe.customer where email = $1", ["old3@example.com"]
        )
    assert types[("customer", "created")] == "timestamp without time zone"
    assert types[("price", "unit_amount")] == "bigint"
    assert types[("customer", "data")] == types[("customer", "metadata")] == "jsonb"
    assert types[("charge", "captured")] == "boolean"
    [held] = [c for c in stripe_fake.store.all("customer") if c["email"] == "old3@example.com"]
    assert list(customers.id) == [held["id"]]
    assert int(customers.created[0].timestamp()) == held["created"]


@pytest.mark.parametrize("stop_after", [1, 4, 9])
async def test_a_cancelled_backfill_resumes_without_refetching(
    dsn: str, stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, stop_after: int
) -> None:
    await seed(stripe_fake, stripe_client, spread=60, burst=25)
    with anyio.CancelScope() as scope:
        async with await Mirror.connect(dsn) as mirror:

            def stop(progress: Progress) -> None:
                if progress.pages >= stop_after:
                    scope.cancel()

            await mirror.backfill(stripe_client, page_size=10, concurrency=3, on_progress=stop)
    assert scope.cancelled_caught
    calls = len(stripe_fake.requests)
    async with await Mirror.connect(dsn) as mirror:
        done = await mirror.sql("select object, gte, lt from stripe._sync_ranges where done")
        await mirror.backfill(stripe_client, page_size=10, concurrency=3)
        await assert_mirrors(mirror, stripe_fake)
    paths = {kind.path: kind.object for kind in KINDS.values() if kind.path}
    for request in list_requests(stripe_fake, calls):
        window = request["params"].get("created")
        if request["path"] in paths and window is not None:
            for r in done.itertuples():
                if r.object == paths[request["path"]]:
                    assert not (r.gte <= window["gte"] and window["lt"] <= r[3]), (request, r)


async def test_events_older_twice_deleted_and_caught_up(
    dsn: str, stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    kept = (await stripe_client.customers.create(email="kept@example.com")).id
    gone = (await stripe_client.customers.create(email="gone@example.com")).id
    await next_second()
    async with await Mirror.connect(dsn) as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        held = stripe_fake.get(kept)
        assert held is not None
        later = int(time.time()) + 100
        await mirror.apply(event({**held, "email": "newer@example.com"}, "customer.updated", later + 20, 1))
        first = await row(mirror, "customer", kept)
        await mirror.apply(event({**held, "email": "older@example.com"}, "customer.updated", later + 10, 2))
        await mirror.apply(event({**held, "email": "newer@example.com"}, "customer.updated", later + 20, 1))
        again = await row(mirror, "customer", kept)
        assert again.email == "newer@example.com" and again._synced_at == first._synced_at
        # The receiver was down: catch_up applies what it missed.
        await next_second()
        await stripe_client.customers.delete(gone)
        await stripe_client.customers.create(email="new@example.com")
        assert await mirror.catch_up(stripe_client) == 2
        deleted = await row(mirror, "customer", gone)
        assert bool(deleted.deleted) and deleted.email == "gone@example.com"
        expected = {c["id"]: c for c in stripe_fake.store.all("customer")}
        expected[kept] = {**held, "email": "newer@example.com"}  # the synthetic newer event stands
        assert await stored(mirror, "customer") == expected
        cursor = await mirror.sql("select value from stripe._sync_state where key = 'event_cursor'")
        assert json.loads(cursor.value[0])["id"] == stripe_fake.events()[-1]["id"]


async def test_reconnecting_keeps_rows_and_migrations(
    dsn: str, stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=4, burst=0)
    async with await Mirror.connect(dsn) as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        applied = await mirror.sql("select version, applied_at from stripe._migrations")
    async with await Mirror.connect(dsn) as mirror:
        assert await mirror.migrations() == [1, 2]
        assert (await mirror.sql("select version, applied_at from stripe._migrations")).equals(applied)
        assert len(await stored(mirror, "customer")) == len(stripe_fake.store.all("customer"))
        with pytest.raises(SyncDatabaseError) as caught:
            await mirror.sql("select * from stripe.nope")
        assert caught.value.__cause__ is not None


async def test_bad_urls_and_unreachable_servers() -> None:
    for bad in ("mysql://x", "stripe.duckdb", 5):
        with pytest.raises(StripeValueError):
            await Mirror.connect(bad)  # type: ignore[arg-type]
    with pytest.raises(SyncDatabaseError) as caught:
        await Mirror.connect("postgresql://user:s3cret@127.0.0.1:1/nowhere")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_trio_is_refused_with_a_clear_error(anyio_backend: str) -> None:
    with pytest.raises(SyncError, match="asyncio"):
        await Mirror.connect("postgresql://postgres@127.0.0.1:1/postgres")


async def test_verify_reports_and_repairs_drift(
    dsn: str, stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=4, burst=2)
    async with await Mirror.connect(dsn) as mirror:
        await mirror.backfill(stripe_client)
        assert (await mirror.verify(stripe_client, sample=1.0)).clean
        await next_second()
        [changed, gone] = [c["id"] for c in stripe_fake.store.all("customer")[:2]]
        await stripe_client.customers.update(changed, email="changed@example.com")
        await stripe_client.customers.delete(gone)
        found = (await mirror.verify(stripe_client, ["customer"], sample=1.0)).types["customer"]
        assert (found.drifted, found.missing) == ({changed: ["email"]}, [gone])
        assert (await row(mirror, "customer", changed)).email != "changed@example.com"
        # Deleting the customer also canceled its subscription on Stripe: all types are repaired.
        await mirror.verify(stripe_client, sample=1.0, repair=True)
        after = await mirror.verify(stripe_client, sample=1.0)
        assert after.clean, {name: (t.drifted, t.missing) for name, t in after.types.items()}
        assert (await row(mirror, "customer", changed)).email == "changed@example.com"
        assert bool((await row(mirror, "customer", gone)).deleted)


async def test_analytics_from_a_postgresql_mirror_equal_the_api(
    dsn: str, stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    import pandas as pd

    from atom_stripe import analytics

    from ..analytics.test_analytics_mirror import YEAR, billed_year
    from ..fake.test_fake_billing_payments import START

    await billed_year(stripe_fake, stripe_client)
    async with await Mirror.connect(dsn) as mirror:
        await mirror.backfill(stripe_client)
        mirrored = [
            await analytics.revenue(mirror, start=START, end=START + YEAR, freq="M"),
            await analytics.mrr(mirror),
        ]
    listed = [
        await analytics.revenue(stripe_client, start=START, end=START + YEAR, freq="M", progress=False),
        await analytics.mrr(stripe_client, progress=False),
    ]
    for local, api in zip(mirrored, listed, strict=True):
        pd.testing.assert_frame_equal(local, api, check_exact=True)
    assert mirrored[0]["gross"].sum() > 0 and mirrored[1]["mrr"].sum() > 0


async def test_the_ready_receiver_on_postgresql(
    dsn: str, stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    import httpx

    from atom_stripe.webhooks import generate_test_header

    secret = "whsec_pg_receiver"
    customer = (await stripe_client.customers.create(email="v1@example.com")).id
    async with await Mirror.connect(dsn) as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        seen = len(stripe_fake.events())
        await next_second()
        await stripe_client.customers.update(customer, email="v2@example.com")
        other = (await stripe_client.customers.create(email="other@example.com")).id
        await stripe_client.customers.delete(other)
        missed = stripe_fake.events()[seen:]
        transport = httpx.ASGITransport(app=mirror.asgi_app(secret, client=stripe_client))
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
            for delivered in [*reversed(missed), *missed]:
                body = json.dumps(delivered)
                headers = {"Stripe-Signature": generate_test_header(body, secret)}
                assert (await http.post("/", content=body, headers=headers)).status_code == 200
        assert (await row(mirror, "customer", customer)).email == "v2@example.com"
        assert bool((await row(mirror, "customer", other)).deleted)
        assert await stored(mirror, "customer") == {c["id"]: c for c in stripe_fake.store.all("customer")}


async def test_events_for_one_object_committed_together_keep_the_newest(dsn: str) -> None:
    created = int(time.time())
    customer = {"id": "cus_pg_grouped", "object": "customer", "email": "first@example.com"}
    # Committed in groups, each group's rows as one statement per table: one id many times over.
    events = [
        event({**customer, "email": f"v{number}@example.com"}, "customer.updated", created + number, number)
        for number in range(40)
    ]
    async with await Mirror.connect(dsn) as mirror:
        async with anyio.create_task_group() as group:
            for delivered in reversed(events):  # the newest first: every later one is older
                group.start_soon(mirror.apply, delivered)
        assert (await row(mirror, "customer", "cus_pg_grouped")).email == "v39@example.com"
        assert set(await stored(mirror, "event")) == {f"evt_test_{number}" for number in range(40)}
        # A deletion and a creation in the same second, committed together: it stays deleted.
        gone = {"id": "cus_pg_gone", "object": "customer", "email": "gone@example.com"}
        async with anyio.create_task_group() as group:
            group.start_soon(mirror.apply, event({**customer, "id": "cus_pg_first"}, "customer.created", created, 98))
            group.start_soon(mirror.apply, event(gone, "customer.deleted", created + 50, 99))
            group.start_soon(mirror.apply, event(gone, "customer.created", created + 50, 100))
        assert bool((await row(mirror, "customer", "cus_pg_gone")).deleted)


async def test_a_database_made_by_schema_v1_is_migrated_on_connect_with_its_rows(dsn: str) -> None:
    from atom_stripe.sync._schema import migration_1

    item = {"id": "si_v1", "object": "subscription_item", "subscription": "sub_v1", "quantity": 2}
    item["price"] = {"id": "price_v1", "object": "price"}
    made = await asyncpg.connect(dsn)
    try:
        for statement in made_by(migration_1("postgres"), (1,)):
            await made.execute(statement)
        await made.execute(
            "INSERT INTO stripe.subscription_item (id, subscription, deleted, data, _as_of, _synced_at)"
            " VALUES ($1, 'sub_v1', false, $2, 1700000000, now())",
            item["id"],
            json.dumps(item),
        )
        v1_columns = await made.fetch(
            "select column_name from information_schema.columns where table_name = 'subscription_item'"
        )
    finally:
        await made.close()
    assert "price" not in {r[0] for r in v1_columns}
    async with await Mirror.connect(dsn) as mirror:
        assert await mirror.migrations() == [1, 2]
        kept = await mirror.sql("select id, price, subscription, data from stripe.subscription_item")
        assert list(kept.price) == ["price_v1"] and kept.subscription[0] == "sub_v1"
        assert json.loads(kept.data[0]) == item


async def test_a_database_made_before_the_models_grew_gets_their_columns_on_connect(dsn: str) -> None:
    from atom_stripe.sync._sql import numbered

    made = await asyncpg.connect(dsn)
    try:
        for statement in made_by(older_schema("postgres"), (1, 2)):
            await made.execute(statement)
        for insert, obj in OLD_OBJECTS:
            await made.execute(numbered(OLD_ROWS[insert]), obj["id"], json.dumps(obj))
    finally:
        await made.close()
    async with await Mirror.connect(dsn) as mirror:
        await assert_new_columns_filled(mirror)
        indexes = await mirror.sql("select indexdef from pg_indexes where tablename = 'customer'")
        assert all(any(f"({name})" in s for s in indexes.indexdef) for name in ("default_source", "test_clock"))
    async with await Mirror.connect(dsn) as mirror:
        await assert_new_columns_filled(mirror)

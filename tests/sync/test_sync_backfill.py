"""atom_stripe.sync: the DuckDB mirror's backfill, against the fake Stripe (asyncio and trio)."""

from __future__ import annotations

import itertools
import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe.sync import DEFAULT_TYPES, Mirror, Progress, SyncDatabaseError, SyncStripeError
from atom_stripe.sync._schema import KINDS
from atom_stripe.testing import FakeStripe
from atom_stripe.testing._fake import INCLUDABLE

#: 2023-11-14: the seeded history starts here and spreads over two years.
BASE = 1_700_000_000
DAY = 86_400


async def seed(fake: FakeStripe, client: AsyncStripeClient, *, spread: int = 90, burst: int = 25) -> None:
    """A small account: customers over two years (and a burst in one second), a catalogue,
    subscriptions (one with a truncated items list), payments, a refund, a coupon and a code."""
    # Added oldest first: the fake, like Stripe, lists newest first in the order objects were made.
    for index in range(spread):
        fake.add("customer", created=BASE + index * 8 * DAY, email=f"old{index}@example.com")
        if index == spread // 2:
            for n in range(burst):  # the same second: a range that cannot be split
                fake.add("customer", created=BASE + index * 8 * DAY + 1, email=f"burst{n}@example.com")
    product = await client.products.create(name="Pro")
    monthly = await client.prices.create(
        product=product.id, currency="usd", unit_amount=1500, recurring={"interval": "month"}
    )
    yearly = await client.prices.create(
        product=product.id, currency="usd", unit_amount=15000, recurring={"interval": "year"}
    )
    for index, price in enumerate((monthly, yearly, monthly)):
        customer = await client.customers.create(email=f"sub{index}@example.com", metadata={"n": str(index)})
        await client.subscriptions.create(
            customer=customer.id, items=[{"price": price.id}], payment_behavior="default_incomplete"
        )
    payment = await client.payment_intents.create(
        amount=2500, currency="usd", payment_method="pm_card_visa", confirm=True
    )
    await client.refunds.create(payment_intent=payment.id, amount=500)
    coupon = await client.coupons.create(percent_off=10, duration="once")
    await client.promotion_codes.create(promotion={"type": "coupon", "coupon": coupon.id}, code="TEN")
    # Stripe embeds at most 10 items (the list's first page, newest first): one whose embedded list has more.
    big = fake.add("subscription", customer="cus_big", status="active")
    items = [fake.add("subscription_item", subscription=big["id"], quantity=n) for n in range(3)]
    stripe_fake_object(fake, big["id"])["items"] = {
        "object": "list",
        "data": [items[-1]],
        "has_more": True,
        "url": "/v1/subscription_items",
    }


def stripe_fake_object(fake: FakeStripe, object_id: str) -> dict[str, Any]:
    """The fake's stored object itself (``fake.add`` and ``fake.get`` give copies), to shape it."""
    found = fake.store.find(object_id)
    assert found is not None
    return found


def expected(fake: FakeStripe, object_name: str) -> dict[str, Any]:
    """The fake's state of one type, by id, as its API answers it (invoice lines live inside their
    invoices; fields Stripe sends only when expanded are left out)."""
    if object_name == "line_item":
        return {line["id"]: line for invoice in fake.store.all("invoice") for line in invoice["lines"]["data"]}
    left_out = INCLUDABLE.get(object_name, ())
    return {obj["id"]: {k: v for k, v in obj.items() if k not in left_out} for obj in fake.store.all(object_name)}


async def stored(mirror: Mirror, object_name: str) -> dict[str, Any]:
    table = KINDS[object_name].table
    frame = await mirror.sql(f'select id, data from stripe."{table}" where not deleted')
    return {row.id: json.loads(row.data) for row in frame.itertuples()}


async def assert_mirrors(mirror: Mirror, fake: FakeStripe) -> None:
    for object_name in DEFAULT_TYPES:
        table = KINDS[object_name].table
        counts = await mirror.sql(f'select count(*) as n, count(distinct id) as ids from stripe."{table}"')
        assert counts.n[0] == counts.ids[0]
        assert await stored(mirror, object_name) == expected(fake, object_name), object_name


def list_requests(fake: FakeStripe, start: int = 0) -> list[dict[str, Any]]:
    return [r for r in fake.requests[start:] if r["method"] == "GET"]


async def test_backfill_copies_every_default_type(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    await seed(stripe_fake, stripe_client)
    seen: list[Progress] = []
    before = len(stripe_fake.requests)
    async with await Mirror.open() as mirror:
        progress = await mirror.backfill(stripe_client, page_size=10, concurrency=4, on_progress=seen.append)
        await assert_mirrors(mirror, stripe_fake)
        for object_name in ("customer", "subscription", "subscription_item", "invoice", "charge", "refund", "event"):
            assert expected(stripe_fake, object_name), object_name  # the seed made some of each
        # The truncated items list was completed from /v1/subscription_items.
        big = next(s for s in stripe_fake.store.all("subscription") if s["customer"] == "cus_big")
        items = await mirror.sql(
            "select id, quantity, _parent from stripe.subscription_item where subscription = ? order by quantity",
            [big["id"]],
        )
        assert list(items.quantity) == [0, 1, 2]
        assert set(items._parent) == {big["id"]}
        paged = [r for r in list_requests(stripe_fake, before) if r["path"] == "/v1/subscription_items"]
        assert [r["params"]["subscription"] for r in paged] == [big["id"]]
        # Typed columns come from the models, the whole object stays in data.
        customers = await mirror.sql("select id, email, created, metadata from stripe.customer")
        by_id = {obj["id"]: obj for obj in stripe_fake.store.all("customer")}
        for row in customers.itertuples():
            assert row.email == by_id[row.id]["email"]
            assert int(row.created.timestamp()) == by_id[row.id]["created"]
            assert json.loads(row.metadata) == by_id[row.id]["metadata"]
        prices = await mirror.sql("select unit_amount, currency, product from stripe.price order by unit_amount")
        assert list(prices.unit_amount) == [1500, 15000]
    assert progress.objects >= len(stripe_fake.store.all("customer"))
    assert progress.pages == len(seen) and progress.requests == len(list_requests(stripe_fake, before))
    assert progress.requests_per_second > 0


class InFlight:
    """A client stand-in that counts the list calls under way at once (each takes a moment)."""

    def __init__(self, client: AsyncStripeClient) -> None:
        self.client = client
        self.now = self.most = 0
        self.starts: list[int] = []  # the calls under way as each one starts

    async def request(self, method: str, path: str, **options: Any) -> Any:
        self.now += 1
        self.most = max(self.most, self.now)
        self.starts.append(self.now)
        try:
            await anyio.sleep(0.01)
            return await self.client.request(method, path, **options)
        finally:
            self.now -= 1


async def test_ranges_split_by_density_and_run_concurrently(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=120, burst=0)
    counting = InFlight(stripe_client)
    async with await Mirror.open() as mirror:
        await mirror.backfill(counting, ["customer"], page_size=10, concurrency=4)
        ranges = await mirror.sql("select gte, lt, done from stripe._sync_ranges where object = 'customer'")
        assert await stored(mirror, "customer") == expected(stripe_fake, "customer")
    assert len(ranges) > 4 and ranges.done.all()
    # The ranges do not overlap (between them lie the newest parts that a range's pages read before it split).
    bounds = sorted(zip(ranges["gte"], ranges["lt"], strict=True))
    assert bounds[0][0] == 0 and all(a[0] < a[1] <= b[0] for a, b in itertools.pairwise(bounds))
    windows = {json.dumps(r["params"]["created"]) for r in list_requests(stripe_fake) if r["path"] == "/v1/customers"}
    assert len(windows) > 4
    assert 1 < counting.most <= 4  # pages were fetched at once, never more than `concurrency`


async def test_the_first_page_fills_every_idle_request_at_once(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=120, burst=0)
    counting = InFlight(stripe_client)
    async with await Mirror.open() as mirror:
        await mirror.backfill(counting, ["customer"], page_size=10, concurrency=4)
        assert await stored(mirror, "customer") == expected(stripe_fake, "customer")
    # The first range is cut into four at its first page, not halved page after page.
    assert counting.starts[:5] == [1, 1, 2, 3, 4]


async def test_types_and_sizes_are_checked_before_anything_is_sent(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    async with await Mirror.open() as mirror:
        for bad in ({"types": ["customer", "nope"]}, {"types": "customer"}, {"page_size": 101}, {"concurrency": 0}):
            with pytest.raises(StripeValueError):
                await mirror.backfill(stripe_client, **bad)
    assert stripe_fake.requests == []


async def test_only_the_chosen_types_and_their_children(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=3, burst=0)
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["subscription_item", "price"])
        assert await stored(mirror, "price") == expected(stripe_fake, "price")
        assert await stored(mirror, "subscription") == expected(stripe_fake, "subscription")
        assert await stored(mirror, "subscription_item") == expected(stripe_fake, "subscription_item")
        assert await stored(mirror, "customer") == {}
    assert {r["path"] for r in list_requests(stripe_fake)} == {
        "/v1/prices",
        "/v1/subscriptions",
        "/v1/subscription_items",
    }


@pytest.mark.parametrize("stop_after", [1, 2, 3, 4, 6, 8, 10, 13, 16, 20])
async def test_a_cancelled_backfill_resumes_without_refetching(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, tmp_path: Path, stop_after: int
) -> None:
    await seed(stripe_fake, stripe_client, spread=60, burst=25)
    path = tmp_path / "stripe.duckdb"
    with anyio.CancelScope() as scope:
        async with await Mirror.open(path) as mirror:

            def stop(progress: Progress) -> None:
                if progress.pages >= stop_after:
                    scope.cancel()

            await mirror.backfill(stripe_client, page_size=10, concurrency=3, on_progress=stop)
    assert scope.cancelled_caught
    calls = len(stripe_fake.requests)
    first = list_requests(stripe_fake)
    # Reopened, as after a crash: the stored positions are all there is.
    async with await Mirror.open(path) as mirror:
        ranges = await mirror.sql("select object, gte, lt, cursor, done from stripe._sync_ranges")
        await mirror.backfill(stripe_client, page_size=10, concurrency=3)
        await assert_mirrors(mirror, stripe_fake)
    second = list_requests(stripe_fake, calls)
    done = [r for r in ranges.itertuples() if r.done]
    paths = {kind.path: kind.object for kind in KINDS.values() if kind.path}
    for request in second:
        window = request["params"].get("created")
        if request["path"] not in paths or window is None:
            continue
        for r in done:  # no finished range is asked for again
            if r.object == paths[request["path"]]:
                assert not (r.gte <= window["gte"] and window["lt"] <= r.lt), (request, r)
    # A range that had moved on starts again from its stored cursor.
    for r in ranges.itertuples():
        if not r.done and isinstance(r.cursor, str):  # (pandas shows NULL as NaN)
            list_path = next(p for p, name in paths.items() if name == r.object)
            first_call = next(
                q for q in second if q["path"] == list_path and q["params"].get("created", {}).get("gte") == r.gte
            )
            assert first_call["params"]["starting_after"] == r.cursor
    # At most the pages in flight when it stopped (uncommitted) are fetched twice.
    asked = [json.dumps([r["path"], r["params"]], sort_keys=True) for r in first]
    again = [json.dumps([r["path"], r["params"]], sort_keys=True) for r in second]
    assert len(set(asked) & set(again)) <= 3


async def test_a_failing_stripe_leaves_positions_consistent(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=40, burst=0)
    client = stripe_fake.client(max_retries=0)
    async with await Mirror.open() as mirror:
        await mirror.backfill(client, ["customer"], page_size=10, concurrency=1)
        stripe_fake.add("customer", created=BASE + 1, email="late@example.com")  # after that range was done
        await mirror.backfill(client, ["product"], page_size=10)
        calls = len(stripe_fake.requests)
        stripe_fake.fail_next(500, times=1)
        with pytest.raises(SyncStripeError) as caught:
            await mirror.backfill(client, ["price"], page_size=1)
        assert caught.value.__cause__ is not None
        assert len(stripe_fake.requests) == calls + 1
        failed = stripe_fake.requests[calls]
        progress = await mirror.backfill(client, ["price"], page_size=1)
        resumed = list_requests(stripe_fake, calls + 1)
        # The refused page is asked again, from the range's start (nothing of it was stored).
        assert resumed[0]["path"] == failed["path"] == "/v1/prices"
        assert "starting_after" not in resumed[0]["params"]
        assert progress.objects == 2 and progress.requests == len(resumed)
        assert await stored(mirror, "price") == expected(stripe_fake, "price")
        # Finished types are not listed again: the customer added into a done range is left to events.
        again = await mirror.backfill(client, ["customer"], page_size=10)
        assert again.requests == 0
        assert "late@example.com" not in {c["email"] for c in (await stored(mirror, "customer")).values()}


async def test_rate_limited_pages_are_retried_by_the_client(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await seed(stripe_fake, stripe_client, spread=20, burst=0)
    stripe_fake.fail_next(429, times=2, type="rate_limit_error")
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["customer"], page_size=10)
        assert await stored(mirror, "customer") == expected(stripe_fake, "customer")


async def test_a_reopened_file_keeps_rows_and_migrations(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, tmp_path: Path
) -> None:
    await seed(stripe_fake, stripe_client, spread=5, burst=0)
    path = tmp_path / "stripe.duckdb"
    async with await Mirror.open(path) as mirror:
        await mirror.backfill(stripe_client, ["customer"])
        applied = await mirror.sql("select version, applied_at from stripe._migrations")
    async with await Mirror.open(str(path)) as mirror:
        assert await mirror.migrations() == [1, 2]
        again = await mirror.sql("select version, applied_at from stripe._migrations")
        assert again.equals(applied)
        assert await stored(mirror, "customer") == expected(stripe_fake, "customer")


async def test_schema_columns_and_indexes() -> None:
    async with await Mirror.open() as mirror:
        columns = await mirror.sql(
            "select table_name, column_name, data_type from information_schema.columns where table_schema = 'stripe'"
        )
        types = {(r.table_name, r.column_name): r.data_type for r in columns.itertuples()}
        indexes = await mirror.sql("select table_name, sql from duckdb_indexes() where schema_name = 'stripe'")
    for kind in KINDS.values():
        assert types[(kind.table, "id")] == "VARCHAR"
        assert types[(kind.table, "data")] == "JSON"
        assert types[(kind.table, "metadata")] == "JSON"
        assert types[(kind.table, "deleted")] == "BOOLEAN"
    assert types[("customer", "created")] == "TIMESTAMP"
    assert types[("price", "unit_amount")] == "BIGINT"
    assert types[("charge", "amount_refunded")] == "BIGINT"
    assert types[("subscription", "status")] == "VARCHAR"
    assert types[("subscription_item", "current_period_end")] == "TIMESTAMP"
    assert types[("charge", "captured")] == "BOOLEAN"
    assert types[("checkout_session", "currency")] == "VARCHAR"
    assert types[("event", "type")] == "VARCHAR"
    indexed = {(r.table_name, r.sql.rsplit("(", 1)[-1].strip(');"')) for r in indexes.itertuples()}
    for pair in [
        ("subscription", "customer"),
        ("price", "product"),
        ("charge", "payment_intent"),
        ("subscription_item", "_parent"),
        ("line_item", "_parent"),
        ("refund", "charge"),
        ("subscription_item", "price"),
    ]:
        assert pair in indexed, pair
    assert types[("subscription_item", "price")] == "VARCHAR"


def made_by(statements: list[str], versions: tuple[int, ...]) -> list[str]:
    """The statements that make a database as a release whose migrations were ``statements``
    (of ``versions``) left it: the schema, the migrations table, the tables, the versions."""
    from atom_stripe.sync._sql import MIGRATIONS_TABLE

    done = ", ".join(f"({version})" for version in versions)
    return [
        "CREATE SCHEMA stripe",
        MIGRATIONS_TABLE,
        *statements,
        f"INSERT INTO stripe._migrations (version) VALUES {done}",
    ]


async def test_a_database_made_by_schema_v1_is_migrated_on_open_with_its_rows(tmp_path: Path) -> None:
    import duckdb

    from atom_stripe.sync._schema import migration_1

    path = tmp_path / "v1.duckdb"
    item = {"id": "si_v1", "object": "subscription_item", "subscription": "sub_v1", "quantity": 2}
    item["price"] = {"id": "price_v1", "object": "price", "unit_amount": 1500}
    made = duckdb.connect(str(path))
    for statement in made_by(migration_1("duckdb"), (1,)):
        made.execute(statement)
    made.execute(
        "INSERT INTO stripe.subscription_item (id, subscription, quantity, deleted, data, _parent, _as_of, _synced_at)"
        " VALUES (?, ?, ?, false, ?, ?, 1700000000, now())",
        [item["id"], "sub_v1", 2, json.dumps(item), "sub_v1"],
    )
    v1_columns = {name for (name,) in made.execute("select column_name from information_schema.columns"
                  " where table_name = 'subscription_item'").fetchall()}  # fmt: skip
    made.close()
    assert "price" not in v1_columns and "quantity" in v1_columns

    async with await Mirror.open(path) as mirror:
        assert await mirror.migrations() == [1, 2]
        kept = await mirror.sql("select id, price, subscription, quantity, data from stripe.subscription_item")
        assert list(kept.id) == ["si_v1"] and list(kept.price) == ["price_v1"]
        assert kept.subscription[0] == "sub_v1" and kept.quantity[0] == 2
        assert json.loads(kept.data[0]) == item
        # Written now with the new column: an event for the item's subscription.
        newer = {**item, "id": "si_v2", "price": {"id": "price_v2", "object": "price"}}
        subscription: dict[str, Any] = {
            "id": "sub_v1",
            "object": "subscription",
            "status": "active",
            "customer": "cus_v1",
        }
        subscription["items"] = {"object": "list", "data": [item, newer], "has_more": False}
        await mirror.apply(
            {"id": "evt_v2", "object": "event", "type": "customer.subscription.updated", "created": 1_700_000_100}
            | {"data": {"object": subscription}}
        )
        prices = await mirror.sql("select id, price from stripe.subscription_item order by id")
        assert list(prices.price) == ["price_v1", "price_v2"]
    async with await Mirror.open(path) as mirror:  # applied once
        assert await mirror.migrations() == [1, 2]


async def test_database_failures_are_sync_errors(tmp_path: Path) -> None:
    with pytest.raises(SyncDatabaseError):
        await Mirror.open(tmp_path / "missing" / "dir" / "stripe.duckdb")
    async with await Mirror.open() as mirror:
        with pytest.raises(SyncDatabaseError) as caught:
            await mirror.sql("select * from stripe.nope")
        assert caught.value.__cause__ is not None
        with pytest.raises(StripeValueError):
            await mirror.sql("  ")


async def test_extend_lists_what_was_created_since(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    # Balance transactions have no events on Stripe: a later backfill with extend=True brings new ones.
    await seed(stripe_fake, stripe_client, spread=3, burst=0)
    async with await Mirror.open() as mirror:
        await mirror.backfill(stripe_client, ["balance_transaction", "customer"])
        until = json.loads(
            (await mirror.sql("select value from stripe._sync_state where key = 'backfill_until'")).value[0]
        )
        await anyio.sleep(1 - time.time() % 1 + 0.02)  # the next second: Stripe's times are whole seconds
        await stripe_client.payment_intents.create(
            amount=700, currency="usd", payment_method="pm_card_visa", confirm=True
        )
        await stripe_client.customers.create(email="later@example.com")
        calls = len(stripe_fake.requests)
        await mirror.backfill(stripe_client, ["balance_transaction"], extend=True)
        assert await stored(mirror, "balance_transaction") == expected(stripe_fake, "balance_transaction")
        windows = [r["params"]["created"] for r in list_requests(stripe_fake, calls)]
        assert windows and all(window["gte"] >= until + 1 for window in windows)
        # The customers' new range waits for their next backfill, which lists only it.
        calls = len(stripe_fake.requests)
        await mirror.backfill(stripe_client, ["customer"])
        assert await stored(mirror, "customer") == expected(stripe_fake, "customer")
        assert all(r["params"]["created"]["gte"] >= until + 1 for r in list_requests(stripe_fake, calls))


async def test_status_reads_rows_ranges_and_the_cursor(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    for n in range(3):
        await stripe_client.customers.create(email=f"c{n}@example.com")
    async with await Mirror.open() as mirror:
        empty = await mirror.status()
        assert empty.event_cursor is None and empty.cursor_age is None and empty.backfill_until is None
        assert set(empty.types) == set(DEFAULT_TYPES) and empty.types["customer"].rows == 0
        await mirror.backfill(stripe_client, ["customer"])
        await mirror.sql("update stripe.customer set deleted = true where email = 'c0@example.com'")
        calls = len(stripe_fake.requests)
        found = await mirror.status()
        assert len(stripe_fake.requests) == calls  # the database alone
        customer = found.types["customer"]
        assert (customer.rows, customer.deleted, customer.ranges_done, customer.ranges_pending) == (3, 1, 1, 0)
        assert found.types["invoice"].ranges_done == found.types["invoice"].rows == 0
        assert found.event_cursor == found.backfill_until and found.event_cursor is not None
        assert found.cursor_age is not None and 0 <= found.cursor_age < 60


#: Fields the models of an older atom_stripe lacked (as if added by a later API version): text,
#: an integer, a flag, two indexed foreign ids on one table, a timestamp; and a type it did not
#: mirror at all.
OLDER = {"customer": ("balance", "default_source", "delinquent", "email", "test_clock"), "invoice": ("due_date",)}
NOT_MIRRORED = "credit_note"
OLD_CUSTOMER: dict[str, Any] = {
    "id": "cus_old",
    "object": "customer",
    "email": "old@example.com",
    "balance": -500,
    "delinquent": True,
    "default_source": "card_old",
    "test_clock": {"id": "clock_old", "object": "test_helpers.test_clock"},
}
#: Values of another JSON type than the column's: null, as a write leaves them.
ODD_CUSTOMER: dict[str, Any] = {
    "id": "cus_odd",
    "object": "customer",
    "email": 5,
    "balance": 1.5,
    "delinquent": "yes",
    "default_source": {"object": "card"},
    "test_clock": None,
}
OLD_INVOICE: dict[str, Any] = {"id": "in_old", "object": "invoice", "due_date": 1_767_225_600}
ODD_INVOICE: dict[str, Any] = {"id": "in_odd", "object": "invoice", "due_date": 1e20}


def older_schema(dialect: str) -> list[str]:
    """Migrations 1 and 2 as an atom_stripe whose models lacked :data:`OLDER`'s fields and which
    did not mirror :data:`NOT_MIRRORED` ran them."""
    from atom_stripe.sync._schema import migration_1, migration_2

    out = []
    for statement in migration_1(dialect) + migration_2(dialect):
        if f'stripe."{NOT_MIRRORED}"' in statement:
            continue
        for table, names in OLDER.items():
            if f'stripe."{table}"' not in statement:
                continue
            for name in names:
                statement = re.sub(rf', "{name}" [A-Z ]+(?=[,)])', "", statement)
            if statement.startswith("CREATE INDEX") and any(f'("{name}")' in statement for name in names):
                statement = ""
        if statement:
            out.append(statement)
    return out


OLD_ROWS = (
    "INSERT INTO stripe.customer (id, deleted, data, _as_of, _synced_at) VALUES (?, false, ?, 1700000000, now())",
    "INSERT INTO stripe.invoice (id, deleted, data, _as_of, _synced_at) VALUES (?, false, ?, 1700000000, now())",
)
OLD_OBJECTS = ((0, OLD_CUSTOMER), (0, ODD_CUSTOMER), (1, OLD_INVOICE), (1, ODD_INVOICE))


async def assert_new_columns_filled(mirror: Mirror) -> None:
    """The columns :data:`OLDER` lacked, added and filled from the rows' JSON as a write fills them."""
    customers = await mirror.sql(
        "select id, email, balance, delinquent, default_source, test_clock from stripe.customer"
        " where id in ('cus_old', 'cus_odd') order by id desc"
    )
    records = customers.astype(object).where(customers.notna(), None).to_dict("records")
    assert records == [
        {
            "id": "cus_old",
            "email": "old@example.com",
            "balance": -500,
            "delinquent": True,
            "default_source": "card_old",
            "test_clock": "clock_old",
        },
        {
            "id": "cus_odd",
            "email": None,
            "balance": None,
            "delinquent": None,
            "default_source": None,
            "test_clock": None,
        },
    ]
    invoices = await mirror.sql("select id, due_date from stripe.invoice order by id desc")
    assert list(invoices.id) == ["in_old", "in_odd"]
    assert invoices.due_date[0] == datetime(2026, 1, 1) and invoices.due_date.isna()[1]
    assert (await mirror.sql(f"select count(*) as n from stripe.{NOT_MIRRORED}")).n[0] == 0


async def test_a_database_made_before_the_models_grew_gets_their_columns_on_open(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, tmp_path: Path
) -> None:
    import duckdb

    path = tmp_path / "older.duckdb"
    made = duckdb.connect(str(path))
    for statement in made_by(older_schema("duckdb"), (1, 2)):
        made.execute(statement)
    for insert, obj in OLD_OBJECTS:
        made.execute(OLD_ROWS[insert], [obj["id"], json.dumps(obj)])
    made.close()
    await seed(stripe_fake, stripe_client, spread=3, burst=0)
    async with await Mirror.open(path) as mirror:
        assert await mirror.migrations() == [1, 2]
        await assert_new_columns_filled(mirror)
        indexes = await mirror.sql("select sql from duckdb_indexes() where table_name = 'customer'")
        indexed = {statement.rsplit("(", 1)[-1].strip(');"') for statement in indexes.sql}
        assert {"default_source", "test_clock"} <= indexed
        await mirror.backfill(stripe_client, ["customer"])  # rows with the new columns are written
        emails = await mirror.sql("select email from stripe.customer where email like 'old%@example.com'")
        assert len(emails) == 4
    async with await Mirror.open(path) as mirror:  # nothing left to add the second time
        await assert_new_columns_filled(mirror)


def test_reopening_a_file_reads_no_model_for_its_columns(tmp_path: Path) -> None:
    """The columns are checked against the models once per release (``_sync_state``'s
    ``columns_of``): a read-only reopen (``atom-stripe sync status``) loads no model."""
    import subprocess
    import sys

    path = tmp_path / "reopen.duckdb"
    code = (
        "import sys, anyio; from atom_stripe.sync import Mirror\n"
        "async def main():\n"
        f"    async with await Mirror.open({str(path)!r}) as mirror:\n"
        "        await mirror.sql('select 1')\n"
        "anyio.run(main)\n"
        "print('atom_stripe._generated.models.customer' in sys.modules)"
    )
    first, again = (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        for _ in range(2)
    )
    assert (first, again) == ("True", "False")

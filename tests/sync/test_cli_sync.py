"""``atom-stripe sync ...`` in a child process against the shipped fake on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from atom_stripe import AsyncStripeClient
from atom_stripe.cli import EXIT_OK, EXIT_USAGE
from atom_stripe.sync import Mirror, Progress
from atom_stripe.sync._cli import EXIT_DRIFT, until_signal
from atom_stripe.testing import FakeStripe

from ..helpers import ROOT
from ..servers import PostgresServer
from .test_sync_backfill import stored

KEY = "sk_test_cli_sync"


@dataclass
class Served:
    url: str
    fake: FakeStripe
    portal: BlockingPortal

    def do(self, work: Any) -> Any:
        """Run ``work(client)`` (an async function) against the fake, in the portal's loop."""

        async def call() -> Any:
            async with self.fake.client() as client:
                return await work(client)

        return self.portal.call(call)


async def seed(fake: FakeStripe) -> None:
    async with fake.client() as stripe:
        for n in range(5):
            await stripe.customers.create(email=f"c{n}@example.com")
        price = await stripe.prices.create(
            currency="usd", unit_amount=1000, recurring={"interval": "month"}, product_data={"name": "Pro"}
        )
        first = (await stripe.customers.list(limit=1)).data[0]
        await stripe.subscriptions.create(customer=first.id, items=[{"price": price.id}])


@pytest.fixture
def served() -> Iterator[Served]:
    fake = FakeStripe()
    with start_blocking_portal() as portal:
        portal.call(seed, fake)
        with portal.wrap_async_context_manager(fake.serve()) as url:
            yield Served(url, fake, portal)
    fake.close()


def command(url: str, *args: str) -> list[str]:
    return [sys.executable, "-W", "error", "-m", "atom_stripe.cli", "--base-url", url, *args]


ENV = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src"), "STRIPE_API_KEY": KEY}


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(url, *args), capture_output=True, text=True, env=ENV, timeout=120, check=False)


def status(url: str, db: str) -> dict[str, Any]:
    done = cli(url, "sync", "status", "--db", db, "--json")
    assert done.returncode == EXIT_OK, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def one_line_error(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("atom-stripe: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_backfill_then_status_then_resume(served: Served, tmp_path: Path) -> None:
    db = str(tmp_path / "stripe.duckdb")
    done = cli(served.url, "sync", "backfill", "--db", db)
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.startswith("backfilled ") and " requests" in done.stdout
    assert "mirrored" in done.stderr and "objects" in done.stderr  # the analytics progress display
    found = status(served.url, db)
    assert found["types"]["customer"] == {"rows": 5, "deleted": 0, "ranges_done": 1, "ranges_pending": 0}
    assert found["types"]["subscription_item"]["rows"] == 1
    assert found["event_cursor"] == found["backfill_until"]
    table = cli(served.url, "sync", "status", "--db", db)
    assert table.returncode == EXIT_OK
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["TYPE", "ROWS", "DELETED", "RANGES", "DONE", "PENDING"]
    assert ["customer", "5", "0", "1", "0"] in [line.split() for line in lines]
    assert lines[-1].startswith("event cursor: ") and " ago)" in lines[-1]
    calls = len(served.fake.requests)
    again = cli(served.url, "sync", "backfill", "--db", db)
    assert again.returncode == EXIT_OK and again.stdout.startswith("backfilled 0 objects: 0 pages, 0 requests")
    assert len(served.fake.requests) == calls  # finished ranges are not listed again


def test_backfill_of_chosen_types(served: Served, tmp_path: Path) -> None:
    db = str(tmp_path / "stripe.duckdb")
    done = cli(served.url, "sync", "backfill", "--db", db, "--types", "customers,checkout_sessions")
    assert done.returncode == EXIT_OK, done.stderr
    found = status(served.url, db)["types"]
    assert found["customer"]["rows"] == 5 and found["checkout.session"]["ranges_done"] == 1
    assert found["subscription"] == {"rows": 0, "deleted": 0, "ranges_done": 0, "ranges_pending": 0}
    bad = cli(served.url, "sync", "backfill", "--db", db, "--types", "customers,custmers")
    one_line_error(bad, EXIT_USAGE, "'custmers'", "customers")


def test_run_once_applies_the_events_since_the_backfill(served: Served, tmp_path: Path) -> None:
    db = str(tmp_path / "stripe.duckdb")
    assert cli(served.url, "sync", "backfill", "--db", db).returncode == EXIT_OK

    async def change(client: Any) -> None:
        await client.customers.create(email="new@example.com")

    served.do(change)
    done = cli(served.url, "sync", "run", "--db", db, "--once")
    assert done.returncode == EXIT_OK, done.stderr
    [line] = done.stdout.splitlines()
    # Listed from the cursor's second on (created[gte]): that second's events again, applied idempotently.
    since = status(served.url, db)["backfill_until"]
    assert line.endswith(f" applied {len([e for e in served.fake.events() if e['created'] >= since])} events")
    assert status(served.url, db)["types"]["customer"]["rows"] == 6


def test_run_loops_until_sigterm_and_keeps_its_cursor(served: Served, tmp_path: Path) -> None:
    db = str(tmp_path / "stripe.duckdb")
    assert cli(served.url, "sync", "backfill", "--db", db).returncode == EXIT_OK
    child = subprocess.Popen(
        command(served.url, "sync", "run", "--db", db, "--interval", "0.2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert child.stdout is not None
        assert " applied " in child.stdout.readline()

        async def change(client: Any) -> None:
            await client.customers.create(email="while-running@example.com")

        served.do(change)
        # The second round reported after the change began after it (the database file is the
        # running process's alone until it stops).
        for _ in range(2):
            assert " applied " in child.stdout.readline()
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == EXIT_OK, err
    assert out.splitlines()[-1] == "stopped: the event cursor is saved"
    found = status(served.url, db)
    [newest] = served.fake.events("customer.created")[-1:]
    assert found["event_cursor"] == newest["created"] and found["types"]["customer"]["rows"] == 6


def test_verify_reports_drift_and_repairs_it(served: Served, tmp_path: Path) -> None:
    db = str(tmp_path / "stripe.duckdb")
    assert cli(served.url, "sync", "backfill", "--db", db).returncode == EXIT_OK
    clean = cli(served.url, "sync", "verify", "--db", db, "--sample", "50")
    assert clean.returncode == EXIT_OK, clean.stderr
    assert "customer: 5 checked, 5 matching, 0 drifted, 0 missing" in clean.stdout
    assert clean.stdout.splitlines()[-1] == "clean"
    changed = served.fake.store.all("customer")[0]
    changed["name"] = "Changed Behind"  # the fake's own object: no event, no webhook
    drift = cli(served.url, "sync", "verify", "--db", db, "--sample", "1.0", "--types", "customers")
    assert drift.returncode == EXIT_DRIFT, drift.stderr
    assert f"  drifted {changed['id']}: name" in drift.stdout.splitlines()
    assert drift.stdout.splitlines()[-1] == "drift found"
    as_json = json.loads(cli(served.url, "sync", "verify", "--db", db, "--types", "customers", "--json").stdout)
    assert as_json["customer"]["drifted"] == {changed["id"]: ["name"]}
    repair = cli(served.url, "sync", "verify", "--db", db, "--types", "customers", "--repair")
    assert repair.returncode == EXIT_OK and "1 repaired" in repair.stdout
    assert cli(served.url, "sync", "verify", "--db", db).returncode == EXIT_OK
    bad = cli(served.url, "sync", "verify", "--db", db, "--sample", "many")
    one_line_error(bad, EXIT_USAGE, "sample")


def test_errors_are_one_line(served: Served, tmp_path: Path) -> None:
    db = str(tmp_path / "stripe.duckdb")
    before = cli(served.url, "sync", "run", "--db", db, "--once")
    one_line_error(before, 1, "backfill first")
    unreachable = cli(served.url, "sync", "status", "--db", "postgresql://sync:hunter2@127.0.0.1:1/nowhere")
    one_line_error(unreachable, 1, "PostgreSQL")
    assert "hunter2" not in unreachable.stderr + unreachable.stdout
    other = cli(served.url, "sync", "status", "--db", "mysql://localhost/x")
    one_line_error(other, EXIT_USAGE, "postgresql://")
    down = cli("http://127.0.0.1:1", "sync", "backfill", "--db", db, "--types", "customers")
    one_line_error(down, 1, "/v1/customers")
    assert status(served.url, db)["types"]["customer"]["ranges_pending"] == 1  # kept for the next run
    missing = cli(served.url, "sync", "status")
    assert missing.returncode == EXIT_USAGE and "--db" in missing.stderr


def test_postgresql_url(served: Served, postgres_server: PostgresServer) -> None:
    import anyio
    import asyncpg

    name = "cli_sync_" + os.urandom(4).hex()

    async def database(statement: str) -> None:
        admin = await asyncpg.connect(postgres_server.dsn)
        try:
            await admin.execute(statement)
        finally:
            await admin.close()

    anyio.run(database, f"CREATE DATABASE {name}")
    try:
        dsn = postgres_server.dsn.rsplit("/", 1)[0] + f"/{name}"
        done = cli(served.url, "sync", "backfill", "--db", dsn)
        assert done.returncode == EXIT_OK, done.stderr
        assert status(served.url, dsn)["types"]["customer"]["rows"] == 5
        assert cli(served.url, "sync", "verify", "--db", dsn, "--sample", "1.0").returncode == EXIT_OK
    finally:
        anyio.run(database, f"DROP DATABASE {name} WITH (FORCE)")


async def test_a_signal_stops_the_backfill_between_pages_and_it_resumes(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    for n in range(120):
        stripe_fake.add("customer", created=1_700_000_000 + n * 3600, email=f"c{n}@example.com")
    sent = 0

    def terminate(progress: Progress) -> None:
        nonlocal sent
        if progress.pages == 3 and not sent:
            sent += 1
            os.kill(os.getpid(), signal.SIGTERM)  # what `kill` or a service manager sends the CLI

    async with await Mirror.open() as mirror:
        result, stopped = await until_signal(
            lambda: mirror.backfill(stripe_client, ["customer"], page_size=10, concurrency=1, on_progress=terminate)
        )
        assert stopped and result is None and sent == 1
        kept = await stored(mirror, "customer")
        assert 30 <= len(kept) < 120  # the pages committed before the signal, and no more
        ranges = await mirror.sql("select done from stripe._sync_ranges")
        assert not all(ranges.done)  # the stopped range stays pending, at its last committed page
        calls = len(stripe_fake.requests)
        await mirror.backfill(stripe_client, ["customer"], page_size=10, concurrency=1)
        assert await stored(mirror, "customer") == {c["id"]: c for c in stripe_fake.store.all("customer")}
        refetched = [r for r in stripe_fake.requests[calls:] if r["path"] == "/v1/customers"]
        assert len(refetched) == (120 - len(kept)) // 10  # only the pages not committed


def test_run_outlives_stripe_being_down_and_says_when_its_cursor_expired(served: Served, tmp_path: Path) -> None:
    import duckdb

    db = str(tmp_path / "mirror.duckdb")
    assert cli(served.url, "sync", "backfill", "--db", db, "--types", "customers").returncode == EXIT_OK
    child = subprocess.Popen(
        command("http://127.0.0.1:1", "sync", "run", "--db", db, "--interval", "0.1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert child.stderr is not None
        for _ in range(2):  # a failed round is reported, and the loop goes on
            line = child.stderr.readline()
            assert line.startswith("atom-stripe: listing /v1/events failed") and "trying again in 0.1 s" in line
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == EXIT_OK and out == "stopped: the event cursor is saved\n"
    once = cli("http://127.0.0.1:1", "sync", "run", "--db", db, "--once")
    one_line_error(once, 1, "/v1/events")
    with duckdb.connect(db) as connection:
        old = json.dumps({"created": 1_700_000_000, "id": None})
        connection.execute("update stripe._sync_state set value = ? where key = 'event_cursor'", [old])
    expired = cli(served.url, "sync", "run", "--db", db, "--once")
    one_line_error(expired, 1, "30 days", "atom-stripe sync backfill --restart")


BACKFILL = """
import sys, anyio
from atom_stripe import AsyncStripeClient
from atom_stripe.sync import Mirror

async def main() -> None:
    async with AsyncStripeClient("sk_test_kill", base_url=sys.argv[1], max_retries=0) as client:
        async with await Mirror.open(sys.argv[2]) as mirror:
            await mirror.backfill(client, ["customer"], page_size=10, concurrency=4)

anyio.run(main)
"""


@pytest.fixture
def spread() -> Iterator[Served]:
    """1,200 customers over two months, added oldest first (the fake lists in the order objects were
    made): more than a run gets through before it is killed."""
    fake = FakeStripe()
    for n in range(1200):
        fake.add("customer", created=1_700_000_000 + n * 5_000, email=f"k{n}@example.com")
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(fake.serve()) as url:
        yield Served(url, fake, portal)
    fake.close()


def test_killed_at_random_points_ten_times_the_backfill_resumes(spread: Served, tmp_path: Path) -> None:
    import random
    import time

    import anyio

    served = spread
    db = str(tmp_path / "killed.duckdb")
    rng = random.Random(26)
    done_ranges: list[tuple[int, int, int]] = []  # (first request after it was seen done, gte, lt)

    async def finished() -> list[tuple[int, int]]:
        async with await Mirror.open(db) as mirror:
            frame = await mirror.sql("select gte, lt from stripe._sync_ranges where done")
        return [(int(row.gte), int(row.lt)) for row in frame.itertuples()]

    kills = 0
    for _ in range(10):
        child = subprocess.Popen([sys.executable, "-c", BACKFILL, served.url, db], env=ENV)
        time.sleep(rng.uniform(0.6, 2.0))
        if child.poll() is None:
            child.kill()  # SIGKILL: no handler runs, the process is gone between any two instructions
            kills += 1
        child.wait(timeout=30)
        seen = len(served.fake.requests)
        done_ranges += [(seen, gte, lt) for gte, lt in anyio.run(finished)]
    assert kills >= 5  # most runs were cut short, at different points
    final = subprocess.run([sys.executable, "-c", BACKFILL, served.url, db], env=ENV, timeout=120, check=False)
    assert final.returncode == 0

    async def rows() -> tuple[dict[str, Any], int, int]:
        async with await Mirror.open(db) as mirror:
            counts = await mirror.sql("select count(*) as n, count(distinct id) as ids from stripe.customer")
            return await stored(mirror, "customer"), int(counts.n[0]), int(counts.ids[0])

    held, count, ids = anyio.run(rows)

    assert held == {c["id"]: c for c in served.fake.store.all("customer")}  # none missing
    assert count == ids == len(held)  # none twice
    for since, gte, lt in done_ranges:  # a range once done is never listed again
        for request in served.fake.requests[since:]:
            if request["path"] == "/v1/customers" and request["method"] == "GET":
                created = request["params"].get("created") or {}
                inside = int(created.get("gte", -1)) >= gte and int(created.get("lt", -1)) <= lt
                assert not inside, (request["params"], gte, lt)

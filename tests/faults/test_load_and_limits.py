"""Load, client-side rate limiting and cancellation, through the fault rig."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
import sniffio

from atom_stripe import (
    APIConnectionError,
    AsyncStripeClient,
    RateLimitError,
    ServerError,
    StripeError,
    StripeValueError,
    _retry,
)

from ..faultrig import FaultRig


@pytest.fixture
def rig() -> Iterator[FaultRig]:
    server = FaultRig(slow_seconds=3.0).start()
    try:
        yield server
    finally:
        server.stop()


def busy_connections(client: AsyncStripeClient) -> int:
    """Connections checked out of the pool (not idle), whichever transport is in use."""
    inner = client.http_client._transport.inner  # type: ignore[attr-defined]
    if inner is None:
        return 0
    if isinstance(inner, httpx.AsyncHTTPTransport):
        return sum(1 for c in inner._pool.connections if not c.is_idle())
    return len(inner.session.connector._acquired) if inner.session else 0


def count_tasks() -> int:
    """Tasks alive in this event loop (asyncio or trio)."""
    if sniffio.current_async_library() == "asyncio":
        import asyncio

        return len(asyncio.all_tasks())
    import trio

    def walk(task: Any) -> int:
        return 1 + sum(walk(t) for n in task.child_nurseries for t in n.child_tasks)

    return walk(trio.lowlevel.current_root_task())


async def create_many(client: AsyncStripeClient, n: int, concurrency: int) -> tuple[int, Counter[str]]:
    ok = 0
    errors: Counter[str] = Counter()
    limit = anyio.Semaphore(concurrency)

    async def one(i: int) -> None:
        nonlocal ok
        async with limit:
            try:
                await client.customers.create(email=f"load{i}@example.com")
                ok += 1
            except StripeError as exc:
                errors[type(exc).__name__] += 1

    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    return ok, errors


@pytest.mark.load
async def test_2000_creates_at_concurrency_100_with_10_percent_faults(rig: FaultRig) -> None:
    rig.random_rate = 0.10
    growth: list[int] = []
    tracemalloc.start()
    try:
        async with AsyncStripeClient("sk_test_rig", base_url=rig.url, max_retries=6, timeout=5.0) as client:
            for run in range(3):
                before_objects = rig.objects
                started = time.perf_counter()
                ok, errors = await create_many(client, 2000, 100)
                elapsed = time.perf_counter() - started
                keys = rig.keys()
                faults = len(keys) - 2000
                print(f"run {run}: {ok} ok in {elapsed:.2f}s, {faults} faulted attempts retried, errors={dict(errors)}")
                assert ok == 2000 and not errors
                assert rig.duplicates() == 0
                assert rig.objects - before_objects == 2000
                assert len({k for k in keys}) == 2000
                assert busy_connections(client) == 0
                rig.ledger.clear()
                rig.requests.clear()
                gc.collect()
                growth.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    print(f"traced memory after each run: {[f'{g / 1e6:.2f} MB' for g in growth]}")
    assert growth[2] - growth[1] < 1_000_000


@pytest.mark.load
async def test_rate_limiter_keeps_429s_from_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "sleep", anyio.sleep)  # real backoff, as in production
    timings: dict[str, float] = {}
    outcomes: dict[str, Counter[str]] = {}
    for limited in (True, False):
        rig = FaultRig(rate_limit=25).start()
        try:
            options: dict[str, Any] = {"max_requests_per_second": 25} if limited else {}
            async with AsyncStripeClient("sk_test_rig", base_url=rig.url, max_retries=2, **options) as client:
                started = time.perf_counter()
                ok, errors = await create_many(client, 500, 50)
                name = "limiter on" if limited else "limiter off"
                timings[name] = time.perf_counter() - started
                outcomes[name] = errors
                print(
                    f"{name}: {ok} ok, {dict(errors)} surfaced, {rig.rate_limited} 429s answered, {timings[name]:.1f}s"
                )
                assert rig.duplicates() == 0
        finally:
            rig.stop()
    assert outcomes["limiter on"] == Counter()
    assert outcomes["limiter off"]["RateLimitError"] > 0
    assert timings["limiter on"] < 500 / 25 + 5


async def test_max_concurrency_caps_requests_in_flight(rig: FaultRig) -> None:
    in_flight = 0
    peak = 0
    handler = rig._answer

    async def counting(*args: Any) -> bool:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            import asyncio

            await asyncio.sleep(0.02)
            return await handler(*args)
        finally:
            in_flight -= 1

    rig._answer = counting  # type: ignore[method-assign,assignment]
    async with AsyncStripeClient("sk_test_rig", base_url=rig.url, max_concurrency=3) as client:
        ok, errors = await create_many(client, 30, 30)
    assert ok == 30 and not errors and peak == 3


async def test_rate_limit_paces_requests(rig: FaultRig) -> None:
    async with AsyncStripeClient("sk_test_rig", base_url=rig.url, max_requests_per_second=50) as client:
        started = time.perf_counter()
        await create_many(client, 20, 20)
        assert time.perf_counter() - started >= 19 / 50 * 0.9
        assert client._requester.throttle.waits >= 15


def test_limit_options_are_checked() -> None:
    for bad in (
        {"max_requests_per_second": 0},
        {"max_requests_per_second": -1},
        {"max_concurrency": 0},
        {"max_concurrency": 1.5},
    ):
        with pytest.raises(StripeValueError):
            AsyncStripeClient("sk_test_x", **bad)


@pytest.mark.parametrize("moment", ["waiting for the answer", "reading the body", "sleeping before a retry"])
async def test_cancelling_a_call_leaves_nothing_behind(
    rig: FaultRig, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    async with AsyncStripeClient("sk_test_rig", base_url=rig.url, timeout=30) as client:
        await client.customers.retrieve("cus_warm")  # a connection in the pool, and a baseline
        tasks = count_tasks()
        if moment == "waiting for the answer":
            rig.script("slow")
        elif moment == "reading the body":
            rig.script("stall")
        else:
            rig.script("500")
            monkeypatch.setattr(_retry, "sleep", lambda delay: anyio.sleep(30))
        with anyio.move_on_after(0.3) as scope:
            await client.customers.create(email="cancel@example.com")
        assert scope.cancelled_caught
        await anyio.sleep(0.05)
        assert busy_connections(client) == 0
        assert count_tasks() == tasks
        customer = await client.customers.retrieve("cus_after")
        assert customer.id == "cus_after"
        assert busy_connections(client) == 0


# asyncio.Task.cancel is asyncio's own; trio is covered by the cancel-scope test above.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_asyncio_task_cancel(rig: FaultRig) -> None:
    import asyncio

    rig.script("slow")
    async with AsyncStripeClient("sk_test_rig", base_url=rig.url, timeout=30) as client:
        task = asyncio.ensure_future(client.customers.create(email="cancel@example.com"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert busy_connections(client) == 0
        assert (await client.customers.retrieve("cus_after")).id == "cus_after"


def test_failures_are_typed() -> None:
    # The load test accepts only these (and sees none with max_retries=6).
    assert issubclass(RateLimitError, StripeError) and issubclass(ServerError, StripeError)
    assert issubclass(APIConnectionError, StripeError)

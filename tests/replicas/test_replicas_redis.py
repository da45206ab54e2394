"""Several replicas on one real redis-server: a shared rate limit and webhook claims."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import atom_stripe
from atom_stripe import AsyncStripeClient, StripeError
from atom_stripe import models as m
from atom_stripe.contrib.redis import RedisEventStore, RedisRateLimiter
from atom_stripe.ratelimit import LocalRateLimiter, RateLimiterError, RateLimiterUnavailableError
from atom_stripe.webhooks import WebhookRouter, generate_test_header

from ..helpers import ROOT, serve_asgi
from ..servers import RedisServer

SECRET = "whsec_test_replicas"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the redis package's client is asyncio only


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, socket_timeout=2, socket_connect_timeout=2)
    yield client
    await client.aclose()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def stripe_api(fixtures: dict[str, Any]) -> Iterator[tuple[str, list[float]]]:
    """A loopback Stripe that answers GET /v1/customers/{id} and notes when each request came."""
    arrivals: list[float] = []

    async def customer(request: Request) -> JSONResponse:
        if request.path_params["cid"] != "cus_warmup":  # replica_worker's first call
            arrivals.append(time.time())
        return JSONResponse({**fixtures["customer"], "id": request.path_params["cid"]})

    with serve_asgi(Starlette(routes=[Route("/v1/customers/{cid}", customer)])) as url:
        yield url, arrivals


def most_in_one_second(times: list[float], jitter: float = 0.1) -> int:
    """The most arrivals in any window of one second, less ``jitter``: arrival times at the
    server carry scheduling noise (a loaded 2-core machine delays one request by up to about
    100 ms), which must not count as the limiter handing out an extra turn."""
    times = sorted(times)
    return max(len([t for t in times if start <= t < start + 1.0 - jitter]) for start in times)


def run_replicas(base_url: str, redis_url: str, name: str, calls: int) -> None:
    """Two processes, ``calls`` concurrent calls each, started together."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(atom_stripe.__file__).parent.parent), str(ROOT)])}
    start_at = time.time() + 3.0  # both are up, connected and warmed up by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.replica_worker", base_url, redis_url, name, str(calls), str(start_at)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and all("done" in o for o in outputs)


# -- the shared rate limit ----------------------------------------------------------------


def test_two_processes_share_one_limit(redis_server: RedisServer, stripe_api: tuple[str, list[float]]) -> None:
    # Timed at the server, from the first arrival to the last: process start-up and exit on a
    # loaded machine are not the limiter's.
    url, arrivals = stripe_api
    run_replicas(url, redis_server.url, unique("acct"), 20)
    # 10/s with a burst of 2: 2 at once, then one every 100 ms for the other 38.
    took = max(arrivals) - min(arrivals)
    assert len(arrivals) == 40
    assert took >= 3.6, took
    assert most_in_one_second(arrivals) <= 10 + 2
    limited = arrivals[:]

    arrivals.clear()
    run_replicas(url, "-", "-", 20)  # no shared limiter: as fast as the server goes
    took_alone = max(arrivals) - min(arrivals)
    assert len(arrivals) == 40 and most_in_one_second(arrivals) == 40
    print(
        f"40 calls from 2 processes: {took:.2f} s shared at 10/s (max {most_in_one_second(limited)}/s), "
        f"{took_alone:.2f} s without"
    )


async def test_turns_go_in_the_order_they_are_asked_for(redis: Redis) -> None:
    # Turns 100 ms apart, asked for 10 ms apart: wider than a loaded machine's scheduling noise.
    limiter = RedisRateLimiter(redis, requests_per_second=10, name=unique("fair"))
    order: list[int] = []
    async with anyio.create_task_group() as tg:  # open 12 connections first: connecting takes a while under load
        for _ in range(12):
            tg.start_soon(redis.execute_command, "PING")

    async def ask(i: int) -> None:
        await limiter.acquire()
        order.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(12):
            tg.start_soon(ask, i)
            await anyio.sleep(0.01)
    assert order == list(range(12))


async def test_max_wait_and_deadline_with_redis(redis: Redis, stripe_api: tuple[str, list[float]]) -> None:
    url, arrivals = stripe_api
    async with AsyncStripeClient("sk_test_x", base_url=url) as warm:  # a first call builds the model's validator
        await warm.customers.retrieve("cus_0")
    arrivals.clear()
    limiter = RedisRateLimiter(redis, requests_per_second=2, name=unique("wait"), max_wait=0.1)
    async with AsyncStripeClient("sk_test_x", base_url=url, rate_limiter=limiter, max_retries=0) as client:
        await client.customers.retrieve("cus_1")
        with pytest.raises(RateLimiterError, match="max_wait"):  # the next turn is 500 ms away
            await client.customers.retrieve("cus_2")
        patient = client.with_options()  # copies share the limiter
        limiter.max_wait = 5
        with anyio.move_on_after(0.1) as scope:
            await patient.customers.retrieve("cus_3")  # its turn would come after its deadline
        assert scope.cancelled_caught
        await patient.customers.retrieve("cus_4")
    # No turn was used up by the two that gave up: cus_4 had the turn after cus_1, not the one after that.
    assert len(arrivals) == 2 and 0.3 < arrivals[1] - arrivals[0] < 0.8


async def test_redis_down_is_a_typed_error_then_recovers(
    redis_server: RedisServer, stripe_api: tuple[str, list[float]]
) -> None:
    url, arrivals = stripe_api
    redis = Redis.from_url(redis_server.url, socket_timeout=1, socket_connect_timeout=1)
    name = unique("down")
    limiter = RedisRateLimiter(redis, requests_per_second=100, name=name)
    tolerant = RedisRateLimiter(redis, requests_per_second=100, name=name, fallback=LocalRateLimiter(5))
    async with AsyncStripeClient("sk_test_x", base_url=url, rate_limiter=limiter, max_retries=0) as client:
        await client.customers.retrieve("cus_1")
        redis_server.stop()
        try:
            with pytest.raises(RateLimiterUnavailableError) as caught:
                await client.customers.retrieve("cus_2")
            assert isinstance(caught.value, StripeError) and len(arrivals) == 1  # not sent
            async with AsyncStripeClient("sk_test_x", base_url=url, rate_limiter=tolerant) as fallback_client:
                started = time.monotonic()
                for _ in range(3):
                    await fallback_client.customers.retrieve("cus_3")  # paced locally at 5/s meanwhile
                assert time.monotonic() - started >= 0.35
        finally:
            redis_server.start()
        await client.customers.retrieve("cus_4")  # Redis is back: so is the limiter
    assert len(arrivals) == 5
    await redis.aclose()


def test_redis_stores_refuse_trio(redis_server: RedisServer) -> None:
    async def on_trio() -> None:
        limiter = RedisRateLimiter(Redis.from_url(redis_server.url), requests_per_second=5, name=unique("trio"))
        with pytest.raises(StripeError, match="asyncio"):
            await limiter.acquire()

    anyio.run(on_trio, backend="trio")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(StripeError, match="redis"):
        RedisRateLimiter("redis://localhost", requests_per_second=5, name="acct_1")  # type: ignore[arg-type]
    with pytest.raises(StripeError, match="requests_per_second"):
        RedisRateLimiter(Redis(), requests_per_second=0)
    with pytest.raises(StripeError, match="ttl"):
        RedisEventStore(Redis(), ttl=-1)


# -- webhook claims -----------------------------------------------------------------------


def delivery(fixtures: dict[str, Any], event_id: str) -> tuple[bytes, dict[str, str]]:
    event = {**fixtures["event"], "id": event_id, "type": "customer.created", "data": {"object": fixtures["customer"]}}
    body = json.dumps(event).encode()
    return body, {"Stripe-Signature": generate_test_header(body, SECRET)}


@pytest.fixture
async def replicas(redis_server: RedisServer) -> AsyncIterator[list[WebhookRouter]]:
    """Three routers, each with its own Redis connection, sharing one key space."""
    prefix = unique("evt") + ":"
    clients = [Redis.from_url(redis_server.url, socket_timeout=1, socket_connect_timeout=1) for _ in range(3)]
    yield [WebhookRouter(SECRET, store=RedisEventStore(c, prefix=prefix, claim_ttl=0.5)) for c in clients]
    for c in clients:
        await c.aclose()


async def deliver_everywhere(routers: list[WebhookRouter], body: bytes, headers: dict[str, str]) -> list[int]:
    statuses: list[int] = []

    async def one(router: WebhookRouter) -> None:
        statuses.append((await router.handle(body, headers)).status_code)

    async with anyio.create_task_group() as tg:
        for router in routers:
            tg.start_soon(one, router)
    return sorted(statuses)


async def test_three_replicas_handle_each_event_once(replicas: list[WebhookRouter], fixtures: dict[str, Any]) -> None:
    runs: list[str] = []
    for router in replicas:

        @router.on("customer.created")
        async def handler(event: m.CustomerEvent) -> None:
            runs.append(event.id)
            await anyio.sleep(0.05)

    for round_ in range(5):
        body, headers = delivery(fixtures, f"evt_round{round_}")
        first = await deliver_everywhere(replicas, body, headers)
        assert first == [200, 409, 409]  # one handles it; the others are told to come back
        assert await deliver_everywhere(replicas, body, headers) == [200, 200, 200]  # done: duplicates
    assert sorted(runs) == [f"evt_round{i}" for i in range(5)]


async def test_a_failed_handler_lets_a_later_delivery_run_it(
    replicas: list[WebhookRouter], fixtures: dict[str, Any]
) -> None:
    runs: list[int] = []
    for index, router in enumerate(replicas):

        def make(index: int) -> Any:
            async def handler(event: m.CustomerEvent) -> None:
                runs.append(index)
                await anyio.sleep(0.05)
                if len(runs) == 1:
                    raise RuntimeError("the first attempt fails")

            return handler

        router.on("customer.created")(make(index))

    body, headers = delivery(fixtures, "evt_fails_once")
    assert await deliver_everywhere(replicas, body, headers) == [409, 409, 500]
    assert await deliver_everywhere(replicas, body, headers) == [200, 409, 409]  # Stripe's retry
    assert await deliver_everywhere(replicas, body, headers) == [200, 200, 200]
    assert len(runs) == 2


async def test_a_dead_replicas_claim_expires(replicas: list[WebhookRouter], fixtures: dict[str, Any]) -> None:
    runs: list[str] = []
    replicas[1].on("*")(lambda event: runs.append(event.id))
    key = replicas[0].claim_key("evt_orphan")
    claim = await replicas[0].store.claim(key)  # claimed, then the replica died
    assert claim.status == "claimed"
    body, headers = delivery(fixtures, "evt_orphan")
    assert (await replicas[1].handle(body, headers)).status_code == 409
    await anyio.sleep(0.6)  # claim_ttl = 0.5 s
    assert (await replicas[1].handle(body, headers)).status_code == 200 and runs == ["evt_orphan"]
    await replicas[0].store.complete(key, claim.token)  # the late finisher changes nothing
    assert (await replicas[1].store.claim(key)).status == "done"


async def test_redis_down_answers_503_then_recovers(
    replicas: list[WebhookRouter], redis_server: RedisServer, fixtures: dict[str, Any]
) -> None:
    runs: list[str] = []
    replicas[0].on("*")(lambda event: runs.append(event.id))
    body, headers = delivery(fixtures, "evt_outage")
    redis_server.stop()
    try:
        result = await replicas[0].handle(body, headers)
        assert result.status_code == 503 and result.body["error"] == "EventStoreError" and runs == []
    finally:
        redis_server.start()
    assert (await replicas[0].handle(body, headers)).status_code == 200 and runs == ["evt_outage"]  # Stripe's retry

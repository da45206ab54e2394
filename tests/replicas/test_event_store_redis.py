"""RedisEventStore on a real redis-server: key spaces per endpoint and account, claims kept alive
while handlers run, eviction and out-of-memory refusals, a frozen Redis."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError

from atom_stripe import models as m
from atom_stripe.contrib.redis import RedisEventStore
from atom_stripe.webhooks import EventStoreError, WebhookRouter, generate_test_header

from ..servers import RedisServer

BILLING = "whsec_test_billing_service"
MAIL = "whsec_test_mail_service"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the redis package's client is asyncio only


@pytest.fixture(scope="module")
def own_server() -> Iterator[RedisServer]:
    """A redis-server of this module's own, to reconfigure (eviction, memory) and freeze."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, socket_timeout=2, socket_connect_timeout=2)
    yield client
    await client.aclose()


@pytest.fixture
async def own(own_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(own_server.url, socket_timeout=2, socket_connect_timeout=2)
    await client.config_set("maxmemory-policy", "noeviction")
    await client.config_set("maxmemory", "0")
    yield client
    await client.flushall()
    await client.config_set("maxmemory-policy", "noeviction")
    await client.config_set("maxmemory", "0")
    await client.aclose()


def delivery(fixtures: dict[str, Any], secret: str, event_id: str, **changes: Any) -> tuple[bytes, dict[str, str]]:
    event = {**fixtures["event"], "id": event_id, "type": "customer.created", "data": {"object": fixtures["customer"]}}
    event.update(changes)
    body = json.dumps(event, indent=2).encode()
    return body, {"Stripe-Signature": generate_test_header(body, secret)}


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def recorder(router: WebhookRouter) -> list[str]:
    runs: list[str] = []
    router.on("*")(lambda event: runs.append(event.id))
    return runs


# -- item 4: two services on one Redis --------------------------------------------------------


async def test_two_endpoints_with_default_stores_on_one_redis_each_run_their_handler(
    redis: Redis, fixtures: dict[str, Any]
) -> None:
    billing = WebhookRouter(BILLING, store=RedisEventStore(redis))
    mail = WebhookRouter(MAIL, store=RedisEventStore(redis))
    billing_runs, mail_runs = recorder(billing), recorder(mail)
    event_id = unique("evt")
    for router, secret in ((billing, BILLING), (mail, MAIL)):  # Stripe sends the same event to both
        body, headers = delivery(fixtures, secret, event_id)
        result = await router.handle(body, headers)
        assert result.status_code == 200 and not result.duplicate
        again = await router.handle(body, headers)
        assert again.status_code == 200 and again.duplicate
    assert billing_runs == mail_runs == [event_id]
    keys = sorted(k.decode() if isinstance(k, bytes) else k for k in await redis.keys(f"*{event_id}"))
    assert len(keys) == 2 and all(k.startswith("atom_stripe:event:whsec-") for k in keys)
    assert not any(BILLING in k or MAIL in k for k in keys)  # a hash of the secret, never the secret


async def test_connected_accounts_have_their_own_key_space(redis: Redis, fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(BILLING, store=RedisEventStore(redis), endpoint="billing")
    runs = recorder(router)
    event_id = unique("evt")
    body, headers = delivery(fixtures, BILLING, event_id, account="acct_1Connected")
    assert (await router.handle(body, headers)).status_code == 200 and runs == [event_id]
    assert await redis.exists(f"atom_stripe:event:billing:acct_1Connected:{event_id}")


# -- item 11: a handler longer than claim_ttl ---------------------------------------------------


@pytest.fixture
async def replicas(redis_server: RedisServer) -> AsyncIterator[list[WebhookRouter]]:
    """Two replicas of one service: their own connections, one key space, claims of 0.5 s."""
    clients = [Redis.from_url(redis_server.url, socket_timeout=2, socket_connect_timeout=2) for _ in range(2)]
    yield [WebhookRouter(BILLING, store=RedisEventStore(c, claim_ttl=0.5), endpoint="billing") for c in clients]
    for c in clients:
        await c.aclose()


async def test_a_handler_three_claim_ttls_long_runs_once(
    replicas: list[WebhookRouter], fixtures: dict[str, Any]
) -> None:
    runs: list[int] = []
    for index, router in enumerate(replicas):

        def make(index: int) -> Any:
            async def slow(event: m.CustomerEvent) -> None:
                runs.append(index)
                await anyio.sleep(1.5)  # 3 x claim_ttl

            return slow

        router.on("customer.created")(make(index))
    body, headers = delivery(fixtures, BILLING, unique("evt"))
    first: list[int] = []
    meanwhile: list[int] = []
    async with anyio.create_task_group() as tg:

        async def deliver() -> None:
            first.append((await replicas[0].handle(body, headers)).status_code)

        tg.start_soon(deliver)
        await anyio.sleep(0.1)
        for _ in range(6):  # Stripe's redelivery reaches the other replica, again and again
            meanwhile.append((await replicas[1].handle(body, headers)).status_code)
            await anyio.sleep(0.22)
    assert runs == [0] and first == [200]
    assert meanwhile == [409] * 6
    assert (await replicas[1].handle(body, headers)).duplicate
    assert replicas[0].lost_claims == 0


async def test_a_lost_claim_is_logged_and_counted(
    replicas: list[WebhookRouter], redis: Redis, fixtures: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    router = replicas[0]
    event_id = unique("evt")

    @router.on("customer.created")
    async def handler(event: m.CustomerEvent) -> None:
        # The claim vanishes (an operator's FLUSHDB, a failover to a replica that lacked it).
        await redis.delete(f"atom_stripe:event:{router.claim_key(event.id)}")
        await anyio.sleep(0.5)

    body, headers = delivery(fixtures, BILLING, event_id)
    with caplog.at_level(logging.ERROR, logger="atom_stripe"):
        assert (await router.handle(body, headers)).status_code == 200
    assert router.lost_claims == 1
    assert any(event_id in r.getMessage() and "claim was lost" in r.getMessage() for r in caplog.records)


# -- item 12: a Redis that evicts keys; a Redis out of memory -----------------------------------


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-ttl", "allkeys-random"])
async def test_an_evicting_redis_is_refused_unless_allowed(
    own: Redis, fixtures: dict[str, Any], policy: str, caplog: pytest.LogCaptureFixture
) -> None:
    await own.config_set("maxmemory-policy", policy)
    router = WebhookRouter(BILLING, store=RedisEventStore(own))
    runs = recorder(router)
    body, headers = delivery(fixtures, BILLING, unique("evt"))
    refused = await router.handle(body, headers)
    assert refused.status_code == 503 and runs == [] and isinstance(refused.error, EventStoreError)
    assert policy in str(refused.error) and "noeviction" in str(refused.error)
    assert "allow_eviction" in str(refused.error)
    allowed = WebhookRouter(BILLING, store=RedisEventStore(own, allow_eviction=True))
    allowed.on("*")(lambda event: runs.append(event.id))
    with caplog.at_level(logging.WARNING, logger="atom_stripe"):
        assert (await allowed.handle(body, headers)).status_code == 200 and len(runs) == 1
    assert any(policy in r.getMessage() for r in caplog.records)  # allowed, but said out loud


async def test_a_noeviction_redis_is_used(own: Redis, fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(BILLING, store=RedisEventStore(own))
    runs = recorder(router)
    body, headers = delivery(fixtures, BILLING, unique("evt"))
    assert (await router.handle(body, headers)).status_code == 200 and len(runs) == 1


async def test_out_of_memory_is_named_as_such(own: Redis, fixtures: dict[str, Any]) -> None:
    store = RedisEventStore(own)
    router = WebhookRouter(BILLING, store=store)
    runs = recorder(router)
    body, headers = delivery(fixtures, BILLING, unique("evt"))
    assert (await router.handle(body, headers)).status_code == 200  # checked, and working
    await own.config_set("maxmemory", "4mb")
    for size in (256 * 1024, 16 * 1024, 1024, 64):  # fill it to the last few bytes
        with contextlib.suppress(OutOfMemoryError):
            for i in range(1000):
                await own.set(f"ballast:{size}:{i}", b"x" * size)
    body, headers = delivery(fixtures, BILLING, unique("evt"))
    refused = await router.handle(body, headers)
    assert refused.status_code == 503 and len(runs) == 1
    message = str(refused.error)
    assert "out of memory" in message and "OOM" in message and "cannot be reached" not in message


# -- item 6: a frozen Redis -----------------------------------------------------------------


@pytest.fixture
async def patient(own_server: RedisServer, own: Redis) -> AsyncIterator[Redis]:
    """A client with no socket timeout (redis-py 5's default): only the store's own limit applies."""
    client = Redis.from_url(own_server.url, socket_timeout=None, socket_connect_timeout=None)
    yield client
    await client.aclose()


def thaw_after(server: RedisServer, seconds: float) -> threading.Timer:
    """SIGCONT in ``seconds`` whatever happens: a hang shows up as a slow test, not a stuck one."""
    assert server.proc is not None
    proc = server.proc
    timer = threading.Timer(seconds, lambda: proc.send_signal(signal.SIGCONT))
    timer.start()
    return timer


async def test_a_frozen_redis_is_a_503_within_the_time_limit(
    own_server: RedisServer, patient: Redis, fixtures: dict[str, Any]
) -> None:
    router = WebhookRouter(BILLING, store=RedisEventStore(patient, timeout=0.5, claim_ttl=1))
    runs = recorder(router)
    body, headers = delivery(fixtures, BILLING, unique("evt"))
    assert (await router.handle(body, headers)).status_code == 200  # connected and checked
    body, headers = delivery(fixtures, BILLING, unique("evt"))
    with own_server.frozen():
        timer = thaw_after(own_server, 8)
        started = time.monotonic()
        result = await router.handle(body, headers)
        took = time.monotonic() - started
        timer.cancel()
    assert result.status_code == 503 and isinstance(result.error, EventStoreError) and len(runs) == 1
    assert "did not answer within 0.5 s" in str(result.error) and took < 3, took
    # The claim may have reached Redis before it froze and be applied when it thaws: it then
    # lasts claim_ttl, after which Stripe's retry is handled.
    await anyio.sleep(1.1)
    assert (await router.handle(body, headers)).status_code == 200 and len(runs) == 2


async def test_a_cancelled_handlers_release_is_bounded_when_redis_freezes(
    own_server: RedisServer, patient: Redis, fixtures: dict[str, Any]
) -> None:
    router = WebhookRouter(BILLING, store=RedisEventStore(patient, timeout=0.5))
    thaws: list[threading.Timer] = []
    frozen = anyio.Event()

    @router.on("customer.created")
    async def handler(event: m.CustomerEvent) -> None:
        assert own_server.proc is not None
        own_server.proc.send_signal(signal.SIGSTOP)  # Redis freezes while the handler runs
        thaws.append(thaw_after(own_server, 8))
        frozen.set()
        await anyio.sleep(30)

    body, headers = delivery(fixtures, BILLING, unique("evt"))
    cancelled_at: list[float] = []
    try:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:

                async def give_up() -> None:  # the host gives up on the request: the handler is cancelled
                    await frozen.wait()
                    cancelled_at.append(time.monotonic())
                    scope.cancel()

                tg.start_soon(give_up)
                await router.handle(body, headers)
        took = time.monotonic() - cancelled_at[0]
    finally:
        for timer in thaws:
            timer.cancel()
        assert own_server.proc is not None
        own_server.proc.send_signal(signal.SIGCONT)
    # The shielded release gave up after the store's 0.5 s instead of waiting for Redis to thaw.
    assert len(thaws) == 1 and took < 3, took

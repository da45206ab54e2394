"""RedisRateLimiter against a real redis-server: a frozen Redis, cancelled waits, key scopes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe.contrib.redis import RedisRateLimiter
from atom_stripe.ratelimit import LocalRateLimiter, RateLimiterError, RateLimiterUnavailableError

from ..helpers import KEY
from ..servers import RedisServer
from ..unit.test_rate_limiters import ASYNCIO_CANCELS, SPACING, hundred_give_up_then_one_goes_at_once


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the redis package's client is asyncio only


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_a_frozen_redis_is_a_typed_error_within_the_time_limit(
    redis_server: RedisServer, sent: list[float]
) -> None:
    # redis-py 5.x (the floor) sets no socket timeout; 8.x waits 5 s by default: take 5.x's.
    redis = Redis.from_url(redis_server.url, socket_timeout=None, socket_connect_timeout=None)
    name = unique("frozen")
    limiter = RedisRateLimiter(redis, requests_per_second=100, name=name)
    tolerant = RedisRateLimiter(redis, requests_per_second=100, name=name, timeout=0.3, fallback=LocalRateLimiter(50))
    with anyio.fail_after(30):  # before the fix the frozen call never came back
        async with AsyncStripeClient(KEY, rate_limiter=limiter, max_retries=0) as client:
            await client.customers.retrieve("cus_1")
            with redis_server.frozen():
                started = time.monotonic()
                with pytest.raises(RateLimiterUnavailableError, match="did not answer within 5 s"):
                    await client.customers.retrieve("cus_2")
                assert 4.5 <= time.monotonic() - started < 8
                assert len(sent) == 1  # not sent
                started = time.monotonic()
                async with AsyncStripeClient(KEY, rate_limiter=tolerant, max_retries=0) as paced:
                    await paced.customers.retrieve("cus_3")  # paced by the fallback meanwhile
                assert time.monotonic() - started < 1.5 and len(sent) == 2
            await client.customers.retrieve("cus_4")  # Redis answers again: so does the limiter
    assert len(sent) == 3
    await redis.aclose()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, socket_timeout=2, socket_connect_timeout=2)
    yield client
    await client.aclose()


@pytest.mark.parametrize("how", [*ASYNCIO_CANCELS, "cancel scope"])
async def test_a_cancelled_wait_gives_its_turn_back(redis: Redis, how: str, sent: list[float]) -> None:
    await hundred_give_up_then_one_goes_at_once(
        RedisRateLimiter(redis, requests_per_second=1 / SPACING, name=unique("cancel")), how, sent
    )


async def test_max_wait_none_takes_a_turn_more_than_a_day_away(redis: Redis) -> None:
    def limiter(max_wait: float | None) -> RedisRateLimiter:
        return RedisRateLimiter(redis, requests_per_second=1e-5, name=name, max_wait=max_wait)  # one turn a 100,000 s

    async def refused(max_wait: float) -> None:
        # asyncio.wait_for as the guard: an anyio deadline would be the limiter's budget.
        with pytest.raises(RateLimiterError, match="max_wait"):
            await asyncio.wait_for(limiter(max_wait).acquire(), 2)

    name = unique("slow")
    day = 86_400.0
    assert await limiter(None).acquire() == 0
    async with anyio.create_task_group() as tg:
        tg.start_soon(limiter(None).acquire)  # its turn is 100,000 s away: it takes it and waits
        await anyio.sleep(0.3)
        tg.start_soon(limiter(3 * day).acquire)  # 200,000 s away: within its 3 days
        await anyio.sleep(0.3)
        await refused(2.5 * day)  # 300,000 s away: both waiting callers hold their turns
        tg.cancel_scope.cancel()
    # Both gave their turns back: the next one is 100,000 s away again.
    await refused(0.9 * 100_000)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter(1.1 * 100_000).acquire(), 0.3)  # takes it and waits


async def test_the_name_is_required_and_scopes_the_limit(redis: Redis, sent: list[float]) -> None:
    with pytest.raises(StripeValueError, match="name: is required"):
        RedisRateLimiter(redis, requests_per_second=1)
    # Two services on one Redis, each with its own account: neither waits for the other's turns.
    one = RedisRateLimiter(redis, requests_per_second=1, name=unique("acct_one"), max_wait=0.1)
    two = RedisRateLimiter(redis, requests_per_second=1, name=unique("acct_two"), max_wait=0.1)
    async with AsyncStripeClient(KEY, rate_limiter=one) as a, AsyncStripeClient(KEY, rate_limiter=two) as b:
        await a.customers.retrieve("cus_1")
        await b.customers.retrieve("cus_2")
        with pytest.raises(RateLimiterError):
            await a.customers.retrieve("cus_3")  # its own next turn is a second away
    assert len(sent) == 2


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), "5", True])
def test_a_bad_timeout_is_refused(timeout: Any) -> None:
    with pytest.raises(StripeValueError, match="timeout"):
        RedisRateLimiter(Redis(), requests_per_second=1, name="acct_1", timeout=timeout)

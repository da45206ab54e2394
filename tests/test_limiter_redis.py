"""RedisRateLimiter against a real redis-server: a frozen Redis, cancelled waits, key scopes (issue 23)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import httpx
import pytest
import respx
from redis.asyncio import Redis

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.redis import RedisRateLimiter
from atom_stripe.ratelimit import LocalRateLimiter, RateLimiterUnavailableError

from .helpers import KEY, fixture_bytes
from .servers import RedisServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the redis package's client is asyncio only


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def sent(api: respx.MockRouter, fixtures: dict[str, Any]) -> list[float]:
    """When each request reached the (mocked) API."""
    times: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        return httpx.Response(200, content=fixture_bytes(fixtures, "customer"))

    api.get(url__regex=r"/v1/customers/.*").mock(side_effect=answer)
    return times


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

"""Usage mistakes are StripeUsageError (a StripeError subclass with a hint), never a plain StripeError."""

from __future__ import annotations

import pytest
import redis.asyncio

from atom_stripe import StripeUsageError
from atom_stripe.contrib.redis import RedisEventStore, RedisRateLimiter
from atom_stripe.webhooks import WebhookRouter


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_redis_pieces_under_trio_say_to_run_on_asyncio(anyio_backend: str) -> None:
    client = redis.asyncio.Redis(host="127.0.0.1", port=1)  # never reached: refused before any round trip
    with pytest.raises(StripeUsageError, match="run it on asyncio"):
        await RedisRateLimiter(client, name="acct_1:test", requests_per_second=10).acquire()
    with pytest.raises(StripeUsageError, match="run it on asyncio"):
        await RedisEventStore(client).claim("whsec-x:-:evt_1")


def test_the_claim_key_of_a_router_whose_secret_comes_later_is_a_usage_error() -> None:
    router = WebhookRouter(lambda: "whsec_later")
    with pytest.raises(StripeUsageError, match="loaded at the first delivery"):
        router.claim_key("evt_1")

"""One replica for the shared-limit test: N concurrent calls through a RedisRateLimiter (or none).

python -m tests.replica_worker BASE_URL REDIS_URL|- NAME CALLS START_AT
"""

from __future__ import annotations

import asyncio
import sys
import time

from redis.asyncio import Redis

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.redis import RedisRateLimiter


async def main(base_url: str, redis_url: str, name: str, calls: int, start_at: float) -> None:
    redis = Redis.from_url(redis_url) if redis_url != "-" else None
    limiter = RedisRateLimiter(redis, requests_per_second=10, burst=2, name=name) if redis is not None else None
    # One call first, unlimited and not counted: a process's first request imports its HTTP
    # transport, which blocks the loop long enough to bunch the paced requests behind it.
    async with AsyncStripeClient("sk_test_replica", base_url=base_url, max_retries=0) as warm:
        await warm.customers.retrieve("cus_warmup")
    async with AsyncStripeClient("sk_test_replica", base_url=base_url, rate_limiter=limiter, max_retries=0) as client:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(*(client.customers.retrieve(f"cus_{i}") for i in range(calls)))
    if redis is not None:
        await redis.aclose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))

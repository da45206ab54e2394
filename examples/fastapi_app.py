"""The ATOM Stripe endpoints in a FastAPI app.

    STRIPE_API_KEY=sk_test_... STRIPE_WEBHOOK_SECRET=whsec_... uvicorn examples.fastapi_app:app --reload

Then open http://127.0.0.1:8000/docs for the OpenAPI page.

Several replicas (docs/replicas.md): also set ``REDIS_URL`` (one request rate for all of
them, ``STRIPE_REQUESTS_PER_SECOND``, default 25, and webhook claims so each event is
handled once) and ``DATABASE_URL`` with ``TOKEN_STORE_KEY`` (a Fernet key: connected
accounts' tokens in PostgreSQL, at ``app.state.token_store``). Without them the app runs
on its own, as one process.

Webhook claims in Redis are kept per endpoint (and per connected account): another service
on the same Redis, with its own endpoint and secret, never takes this one's events for
duplicates. The endpoint is a hash of the signing secret unless ``STRIPE_WEBHOOK_ENDPOINT``
names it (name it before you roll the secret, so the key space stays the same).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.fastapi import create_stripe_router
from atom_stripe.webhooks import WebhookRouter

REDIS_URL = os.environ.get("REDIS_URL")
DATABASE_URL = os.environ.get("DATABASE_URL")
WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")

options: dict[str, Any] = {}
webhooks: WebhookRouter | None = None
if REDIS_URL:
    from redis.asyncio import Redis

    from atom_stripe.contrib.redis import RedisEventStore, RedisRateLimiter

    redis = Redis.from_url(REDIS_URL)
    rate = float(os.environ.get("STRIPE_REQUESTS_PER_SECOND", "25"))
    options["rate_limiter"] = RedisRateLimiter(redis, requests_per_second=rate, name="platform")
    if WEBHOOK_SECRET:
        endpoint = os.environ.get("STRIPE_WEBHOOK_ENDPOINT")  # None: a hash of the secret
        webhooks = WebhookRouter(WEBHOOK_SECRET, store=RedisEventStore(redis), endpoint=endpoint)

stripe = AsyncStripeClient(base_url=os.environ.get("STRIPE_BASE_URL"), **options)


def get_client() -> AsyncStripeClient:
    """Which key or connected account serves the caller: the host decides (here: one platform key)."""
    return stripe


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if DATABASE_URL:
        from atom_stripe.oauth import PostgresTokenStore

        app.state.token_store = await PostgresTokenStore.connect(DATABASE_URL, key=os.environ["TOKEN_STORE_KEY"])
    try:
        yield
    finally:
        await stripe.aclose()
        if DATABASE_URL:
            await app.state.token_store.close()
        if REDIS_URL:
            await redis.aclose()


app = FastAPI(title="ATOM Stripe API", lifespan=lifespan)
app.include_router(create_stripe_router(get_client, webhook_secret=WEBHOOK_SECRET, webhook_router=webhooks))

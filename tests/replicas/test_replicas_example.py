"""The FastAPI example in its replicas mode, on the real Redis and PostgreSQL (docs/replicas.md)."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from redis.asyncio import Redis

from atom_stripe.contrib.redis import RedisEventStore, RedisRateLimiter
from atom_stripe.oauth import OAuthToken, PostgresTokenStore
from atom_stripe.webhooks import generate_test_header

from ..helpers import KEY
from ..servers import PostgresServer, RedisServer

SECRET = "whsec_test_example"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_the_example_runs_as_replicas(
    monkeypatch: pytest.MonkeyPatch,
    redis_server: RedisServer,
    postgres_server: PostgresServer,
    fixtures: dict[str, Any],
) -> None:
    for name, value in {
        "STRIPE_API_KEY": KEY,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": postgres_server.dsn,
        "TOKEN_STORE_KEY": Fernet.generate_key().decode(),
        "STRIPE_WEBHOOK_ENDPOINT": "example",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "examples.fastapi_app", raising=False)
    module = importlib.import_module("examples.fastapi_app")
    monkeypatch.delitem(sys.modules, "examples.fastapi_app")  # the next importer gets the plain app
    assert isinstance(module.stripe._requester.throttle.rate_limiter, RedisRateLimiter)
    assert isinstance(module.webhooks.store, RedisEventStore)
    async with module.lifespan(module.app):
        store = module.app.state.token_store
        assert isinstance(store, PostgresTokenStore)
        await store.put(OAuthToken(access_token="sk_test_a", refresh_token="rt_a", stripe_user_id="acct_1Ex"))
        stored = await store.get("acct_1Ex")
        assert stored is not None and stored.stripe_user_id == "acct_1Ex"
        event = {**fixtures["event"], "id": "evt_example_replicas", "type": "customer.created"}
        event["data"] = {"object": fixtures["customer"]}
        body = json.dumps(event).encode()
        headers = {"Stripe-Signature": generate_test_header(body, SECRET)}
        transport = httpx.ASGITransport(app=module.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            first = await http.post("/stripe/webhooks", content=body, headers=headers)
            again = await http.post("/stripe/webhooks", content=body, headers=headers)
        assert first.status_code == 200 and first.json() == {"received": True, "id": "evt_example_replicas"}
        assert again.status_code == 200 and again.json()["duplicate"] is True
        # The claim lives in the example endpoint's own key space: another service's events keep apart.
        redis = Redis.from_url(redis_server.url)
        assert await redis.get("atom_stripe:event:example:-:evt_example_replicas") == b"done"
        await redis.aclose()

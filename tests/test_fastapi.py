"""The ATOM REST surface: a FastAPI app mounting the router, called through httpx's ASGI transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.fastapi import create_stripe_router
from atom_stripe.webhooks import generate_test_header

from .fakestripe import FakeStripe
from .helpers import KEY

WEBHOOK_SECRET = "whsec_router_test"


@pytest.fixture
def fake() -> Iterator[tuple[FakeStripe, respx.MockRouter]]:
    stripe_fake = FakeStripe()
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.route(host="testserver").pass_through()
        api = router.route(host="api.stripe.com")
        api.mock(side_effect=stripe_fake.answer)
        yield stripe_fake, router


@pytest.fixture
async def http(fake: tuple[FakeStripe, respx.MockRouter]) -> AsyncIterator[httpx.AsyncClient]:
    client = AsyncStripeClient(KEY, max_retries=0)

    def get_client() -> AsyncStripeClient:
        return client

    app = FastAPI()
    app.include_router(create_stripe_router(get_client, webhook_secret=WEBHOOK_SECRET))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as h:
        yield h
    await client.aclose()


def sent(fake: FakeStripe) -> httpx.Request:
    return fake.requests[-1]


async def test_health_and_info(http: httpx.AsyncClient) -> None:
    health = (await http.get("/stripe/health")).json()
    assert health["data"]["ok"] is True and health["request_id"].startswith("req_fake")
    info = (await http.get("/stripe/")).json()["data"]
    assert info["api_version"] == "2026-10-28.endive"
    assert "GET /stripe/payments/{payment_id}" in info["endpoints"]
    assert "DELETE /stripe/subscriptions/{subscription_id}" in info["endpoints"]


@pytest.mark.parametrize(
    ("path", "stripe_path", "query"),
    [
        (
            "/stripe/payments?customer=cus_1&created_gte=1700000000&limit=5",
            "/v1/payment_intents",
            "customer=cus_1&created[gte]=1700000000&limit=5",
        ),
        (
            "/stripe/customers?email=a@example.com&created_lte=1800000000&starting_after=cus_9",
            "/v1/customers",
            "email=a%40example.com&created[lte]=1800000000&limit=10&starting_after=cus_9",
        ),
        (
            "/stripe/subscriptions?customer=cus_1&status=all&price=price_1",
            "/v1/subscriptions",
            "customer=cus_1&status=all&price=price_1&limit=10",
        ),
        ("/stripe/products?active=true", "/v1/products", "active=true&limit=10"),
    ],
)
async def test_lists(
    http: httpx.AsyncClient, fake: tuple[FakeStripe, respx.MockRouter], path: str, stripe_path: str, query: str
) -> None:
    answer = await http.get(path)
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["data"]) == 2 and body["has_more"] is False and body["next_cursor"] is None
    request = sent(fake[0])
    assert request.url.path == stripe_path
    assert request.url.query.decode() == query


@pytest.mark.parametrize(
    ("path", "stripe_path"),
    [
        ("/stripe/payments/pi_123", "/v1/payment_intents/pi_123"),
        ("/stripe/customers/cus_123", "/v1/customers/cus_123"),
        ("/stripe/subscriptions/sub_123", "/v1/subscriptions/sub_123"),
        ("/stripe/products/prod_123", "/v1/products/prod_123"),
        ("/stripe/account", "/v1/account"),
        ("/stripe/balance", "/v1/balance"),
    ],
)
async def test_retrieves(
    http: httpx.AsyncClient, fake: tuple[FakeStripe, respx.MockRouter], path: str, stripe_path: str
) -> None:
    answer = await http.get(path)
    assert answer.status_code == 200, answer.text
    assert sent(fake[0]).url.path == stripe_path
    data = answer.json()["data"]
    if path.endswith("_123"):
        assert data["id"] == path.rsplit("/", 1)[1]


async def test_profile(http: httpx.AsyncClient) -> None:
    data = (await http.get("/stripe/profile")).json()["data"]
    assert data["id"].startswith("acct_") and "charges_enabled" in data


@pytest.mark.parametrize(
    ("path", "body", "stripe_path", "form"),
    [
        (
            "/stripe/payments",
            {"amount": 2000, "currency": "usd", "metadata": {"order": "42"}},
            "/v1/payment_intents",
            "amount=2000&currency=usd&metadata[order]=42",
        ),
        (
            "/stripe/customers",
            {"email": "a@example.com", "name": "Jenny"},
            "/v1/customers",
            "email=a%40example.com&name=Jenny",
        ),
        (
            "/stripe/subscriptions",
            {"customer": "cus_1", "items": [{"price": "price_1", "quantity": 2}]},
            "/v1/subscriptions",
            "customer=cus_1&items[0][price]=price_1&items[0][quantity]=2",
        ),
        ("/stripe/products", {"name": "T-shirt", "active": True}, "/v1/products", "name=T-shirt&active=true"),
    ],
)
async def test_creates_pass_the_idempotency_key_through(
    http: httpx.AsyncClient,
    fake: tuple[FakeStripe, respx.MockRouter],
    path: str,
    body: dict[str, Any],
    stripe_path: str,
    form: str,
) -> None:
    answer = await http.post(path, json=body, headers={"Idempotency-Key": "atom-order-42"})
    assert answer.status_code == 201, answer.text
    request = sent(fake[0])
    assert request.method == "POST" and request.url.path == stripe_path
    assert request.content.decode() == form
    assert request.headers["Idempotency-Key"] == "atom-order-42"


async def test_cancel_subscription(http: httpx.AsyncClient, fake: tuple[FakeStripe, respx.MockRouter]) -> None:
    answer = await http.delete("/stripe/subscriptions/sub_123")
    assert answer.status_code == 200 and answer.json()["data"]["status"] == "canceled"
    assert sent(fake[0]).method == "DELETE"


async def test_search_runs_concurrently_and_groups(
    http: httpx.AsyncClient, fake: tuple[FakeStripe, respx.MockRouter]
) -> None:
    answer = await http.get(
        "/stripe/search", params={"q": "email:'a@example.com'", "resources": "customers,payments,products"}
    )
    data = answer.json()["data"]
    assert list(data) == ["customers", "payments", "products"]
    assert all(len(group["data"]) == 1 for group in data.values())
    paths = sorted(r.url.path for r in fake[0].requests)
    assert paths == ["/v1/customers/search", "/v1/payment_intents/search", "/v1/products/search"]
    bad = await http.get("/stripe/search", params={"q": "x", "resources": "invoices"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "resources"


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (400, {"type": "invalid_request_error", "code": "parameter_missing", "param": "amount"}, 400),
        (401, {"type": "invalid_request_error"}, 401),
        (402, {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"}, 402),
        (403, {"type": "invalid_request_error"}, 403),
        (404, {"type": "invalid_request_error", "code": "resource_missing"}, 404),
        (409, {"type": "invalid_request_error", "code": "idempotency_key_in_use"}, 409),
        (429, {"type": "invalid_request_error", "code": "rate_limit"}, 429),
        (500, {"type": "api_error"}, 502),
    ],
)
async def test_error_mapping(
    http: httpx.AsyncClient,
    fake: tuple[FakeStripe, respx.MockRouter],
    status: int,
    error: dict[str, Any],
    expected: int,
) -> None:
    fake[0].overrides["/v1/customers/cus_err"] = httpx.Response(
        status, json={"error": {"message": f"Stripe says {status}", **error}}, headers={"Request-Id": "req_err"}
    )
    answer = await http.get("/stripe/customers/cus_err")
    assert answer.status_code == expected
    body = answer.json()["error"]
    assert body["request_id"] == "req_err"
    assert body.get("code") == error.get("code") and body.get("decline_code") == error.get("decline_code")
    text = answer.text
    assert KEY not in text and "Traceback" not in text


async def test_connection_failure_is_a_502(http: httpx.AsyncClient, fake: tuple[FakeStripe, respx.MockRouter]) -> None:
    fake[0].overrides["/v1/balance"] = httpx.ConnectError("refused")
    answer = await http.get("/stripe/balance")
    assert answer.status_code == 502
    assert answer.json()["error"]["type"] == "api_connection_error"


async def test_bad_input_is_a_400_before_stripe(
    http: httpx.AsyncClient, fake: tuple[FakeStripe, respx.MockRouter]
) -> None:
    answer = await http.post("/stripe/payments", json={"amount": 100, "currency": "xyz"})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "currency"
    assert (await http.post("/stripe/payments", json={"amount": -1, "currency": "usd"})).status_code == 422
    assert not fake[0].requests


async def test_webhook_endpoint(http: httpx.AsyncClient, fixtures: dict[str, Any]) -> None:
    body = json.dumps(
        {**fixtures["event"], "type": "customer.created", "data": {"object": fixtures["customer"]}}
    ).encode()
    ok = await http.post(
        "/stripe/webhooks", content=body, headers={"Stripe-Signature": generate_test_header(body, WEBHOOK_SECRET)}
    )
    assert ok.status_code == 200 and ok.json()["received"] is True
    forged = await http.post("/stripe/webhooks", content=body, headers={"Stripe-Signature": "t=1,v1=00"})
    assert forged.status_code == 400


async def test_openapi_lists_every_endpoint_with_typed_schemas(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    paths = spec["paths"]
    for path, methods in {
        "/stripe/health": ["get"],
        "/stripe/": ["get"],
        "/stripe/payments": ["get", "post"],
        "/stripe/payments/{payment_id}": ["get"],
        "/stripe/customers": ["get", "post"],
        "/stripe/customers/{customer_id}": ["get"],
        "/stripe/subscriptions": ["get", "post"],
        "/stripe/subscriptions/{subscription_id}": ["get", "delete"],
        "/stripe/products": ["get", "post"],
        "/stripe/products/{product_id}": ["get"],
        "/stripe/search": ["get"],
        "/stripe/profile": ["get"],
        "/stripe/account": ["get"],
        "/stripe/balance": ["get"],
        "/stripe/webhooks": ["post"],
    }.items():
        assert set(methods) <= set(paths[path]), path
    create = paths["/stripe/payments"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("PaymentCreate")
    assert "Envelope" in create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert create["responses"]["402"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")
    headers = [p for p in create["parameters"] if p["in"] == "header"]
    assert headers[0]["name"] == "Idempotency-Key"
    schemas = spec["components"]["schemas"]
    assert "amount_capturable" in schemas["PaymentIntent"]["properties"]


async def test_the_example_app_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    module = importlib.import_module("examples.fastapi_app")
    paths = set(module.app.openapi()["paths"])
    assert {"/stripe/health", "/stripe/webhooks", "/stripe/search"} <= paths
    await module.stripe.aclose()

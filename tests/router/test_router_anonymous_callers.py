"""The router facing anonymous callers: bounded search fan-out, errors that keep the server's
secrets and pass on what a caller needs (Retry-After), unknown query parameters and over-long
text refused, request ids on every answer, and the host's own routes answering like it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.fastapi import create_stripe_router, install_error_handlers
from atom_stripe.ratelimit import LocalRateLimiter

from ..helpers import KEY
from .conftest import Stripe, asgi, calling_with, shared_app


@pytest.fixture
async def http(stripe: Stripe) -> AsyncIterator[httpx.AsyncClient]:
    client = AsyncStripeClient(KEY, max_retries=0)
    with calling_with(client):
        async with asgi(shared_app()) as h:
            yield h
    await client.aclose()


# -- search fan-out --------------------------------------------------------------------


async def test_search_asks_each_resource_once(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.get(
        "/stripe/search", params={"q": "email:'a@example.com'", "resources": "customers," * 3 + "payments,customers"}
    )
    assert answer.status_code == 200, answer.text
    assert list(answer.json()["data"]) == ["customers", "payments"]
    assert sorted(r.url.path for r in stripe.sent) == ["/v1/customers/search", "/v1/payment_intents/search"]


async def test_a_huge_resource_list_makes_no_stripe_call(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.get("/stripe/search", params={"q": "x", "resources": ",".join(["customers"] * 1500)})
    assert answer.status_code == 422
    assert not stripe.sent


async def test_an_unsearchable_resource_is_named(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.get("/stripe/search", params={"q": "x", "resources": "customers,invoices"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["param"] == "resources" and "'invoices'" in error["message"]
    assert not stripe.sent


# -- errors -------------------------------------------------------------------------------


async def test_a_403_keeps_stripes_message_from_the_caller(stripe: Stripe) -> None:
    # A Stripe-Account the key cannot reach: the fake's 403 names the masked key and the account.
    client = AsyncStripeClient("rk_test_4eC39HqLyjWDarjtT1zdp7dcX", max_retries=0, stripe_account="acct_1SecretAcct")
    app = FastAPI()
    app.include_router(create_stripe_router(lambda: client))
    async with asgi(app) as http:
        answer = await http.get("/stripe/customers/cus_1")
    await client.aclose()
    said = stripe.route.calls[-1].response
    assert said.status_code == 403 and "'rk_test_****7dcX'" in said.text and "'acct_1SecretAcct'" in said.text
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["request_id"] == stripe.request_id() and error["type"] == "invalid_request_error"
    assert "7dcX" not in answer.text and "acct_1SecretAcct" not in answer.text and "rk_test" not in answer.text
    assert "permission" in error["message"]


async def test_a_429_passes_retry_after_on(http: httpx.AsyncClient, stripe: Stripe) -> None:
    # The fake's 429 (fail_next) carries no Retry-After or code: Stripe's, as Stripe sends it.
    stripe.answer_with(
        httpx.Response(
            429,
            json={"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}},
            headers={"Request-Id": "req_429", "Retry-After": "7"},
        )
    )
    answer = await http.get("/stripe/balance")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "7"
    assert answer.json()["error"]["code"] == "rate_limit"


async def test_local_throttling_says_so(stripe: Stripe) -> None:
    client = AsyncStripeClient(KEY, max_retries=0, rate_limiter=LocalRateLimiter(0.01, max_wait=0.01))
    app = FastAPI()
    app.include_router(create_stripe_router(lambda: client))
    async with asgi(app) as http:
        first = await http.get("/stripe/balance")
        second = await http.get("/stripe/balance")
    await client.aclose()
    assert first.status_code == 200
    assert second.status_code == 429
    error = second.json()["error"]
    assert error["code"] == "local_rate_limit" and "not called" in error["message"]
    assert "could not be reached" not in second.text
    assert len(stripe.sent) == 1


# -- unknown query parameters, text limits ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/stripe/customers?limt=1", "limt"),
        ("/stripe/payments?customer=cus_1&custmer=cus_2", "custmer"),
        ("/stripe/subscriptions?status=all&created=1", "created"),
        ("/stripe/search?q=x&resource=payments", "resource"),
    ],
)
async def test_unknown_query_parameters_are_a_400_naming_them(
    http: httpx.AsyncClient, stripe: Stripe, path: str, name: str
) -> None:
    answer = await http.get(path)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == name
    assert not stripe.sent


async def test_known_query_parameters_still_pass(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.get("/stripe/customers?limit=1&email=a@example.com&created_gte=1700000000")
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/stripe/customers", {"description": "x" * 5001}, ["body", "description"]),
        ("/stripe/customers", {"address": {"line1": "x" * 5001}}, ["body", "address", "line1"]),
        (
            "/stripe/payments",
            {"amount": 100, "currency": "usd", "statement_descriptor_suffix": "x" * 23},
            ["body", "statement_descriptor_suffix"],
        ),
        ("/stripe/products", {"name": "n", "images": ["x" * 5001]}, ["body", "images", 0]),
    ],
)
async def test_text_longer_than_stripe_takes_is_a_422(
    http: httpx.AsyncClient, stripe: Stripe, path: str, body: dict[str, Any], loc: list[Any]
) -> None:
    answer = await http.post(path, json=body)
    assert answer.status_code == 422, answer.text
    [detail] = answer.json()["detail"]
    assert detail["loc"] == loc and detail["type"] == "string_too_long"
    assert len(answer.text) < 2000  # the over-long text is not echoed back whole
    assert not stripe.sent


async def test_text_at_the_limit_passes(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.post("/stripe/customers", json={"description": "x" * 5000})
    assert answer.status_code == 201, answer.text
    assert len(stripe.sent) == 1


async def test_metadata_limits(http: httpx.AsyncClient, stripe: Stripe) -> None:
    value = await http.post("/stripe/customers", json={"metadata": {"k": "v" * 501}})
    key = await http.post("/stripe/customers", json={"metadata": {"k" * 41: "v"}})
    assert value.status_code == 400 and value.json()["error"]["param"] == "metadata[k]"
    assert key.status_code == 400 and key.json()["error"]["param"] == "metadata"
    assert not stripe.sent


async def test_an_over_long_query_string_value_is_a_422(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.get("/stripe/customers", params={"email": "a" * 5001})
    assert answer.status_code == 422
    answer = await http.get("/stripe/search", params={"q": "a" * 5001})
    assert answer.status_code == 422
    assert not stripe.sent


# -- request ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/stripe/customers", None, 200),
        ("GET", "/stripe/customers/cus_1", None, 200),
        ("POST", "/stripe/customers", {"email": "a@example.com"}, 201),
        ("GET", "/stripe/payments?limit=3", None, 200),
        ("POST", "/stripe/payments", {"amount": 100, "currency": "usd"}, 201),
        ("DELETE", "/stripe/subscriptions/{subscription}", None, 200),
        ("GET", "/stripe/profile", None, 200),
        ("GET", "/stripe/account", None, 200),
        ("GET", "/stripe/balance", None, 200),
    ],
)
async def test_every_answer_carries_the_request_id_of_its_stripe_call(
    http: httpx.AsyncClient, stripe: Stripe, method: str, path: str, body: Any, status: int
) -> None:
    answer = await http.request(method, path.format(subscription=stripe.subscriptions[0]), json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["request_id"] == stripe.request_id() and stripe.request_id().startswith("req_")


async def test_each_search_group_carries_its_own_request_id(http: httpx.AsyncClient, stripe: Stripe) -> None:
    query = {"q": "email:'a@example.com'", "resources": "customers,payments,products"}
    answer = await http.get("/stripe/search", params=query)
    groups = answer.json()["data"]
    ids = {group["request_id"] for group in groups.values()}
    assert ids == {stripe.request_id(n) for n in range(3)} and len(ids) == 3


async def test_request_ids_do_not_cross_between_concurrent_requests(stripe: Stripe) -> None:
    import anyio

    client = AsyncStripeClient(KEY, max_retries=0)
    app = FastAPI()
    app.include_router(create_stripe_router(lambda: client.with_options()))
    for n in range(20):
        if stripe.fake.get(f"cus_{n}") is None:
            stripe.fake.add("customer", id=f"cus_{n}")
    seen: dict[str, str] = {}
    async with asgi(app) as http:

        async def get(n: int) -> None:
            answer = await http.get(f"/stripe/customers/cus_{n}")
            seen[f"/v1/customers/cus_{n}"] = answer.json()["request_id"]

        async with anyio.create_task_group() as tg:
            for n in range(20):
                tg.start_soon(get, n)
    await client.aclose()
    by_path = {call.request.url.path: call.response.headers["Request-Id"] for call in stripe.route.calls}
    assert seen == by_path and len(set(seen.values())) == 20
    assert len(client._requester.hooks.on_response) == 1  # one hook for the client and its copies


# -- the host's own routes ---------------------------------------------------------------------


async def test_install_error_handlers_answers_a_hosts_route_like_the_router(stripe: Stripe) -> None:
    client = AsyncStripeClient(KEY, max_retries=0)
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/checkout")
    async def checkout() -> dict[str, str]:
        intent = await client.payment_intents.create(
            amount=2000, currency="usd", payment_method="pm_card_chargeDeclined", confirm=True
        )
        return {"id": intent.id or ""}

    @app.get("/limited")
    async def limited() -> dict[str, str]:
        await client.balance.retrieve()
        return {}

    async with asgi(app) as http:
        declined = await http.post("/checkout")  # the fake declines pm_card_chargeDeclined
        stripe.answer_with(
            httpx.Response(
                429,
                json={"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many"}},
                headers={"Request-Id": "req_429", "Retry-After": "3"},
            )
        )
        throttled = await http.get("/limited")
    await client.aclose()
    assert declined.status_code == 402
    error = declined.json()["error"]
    assert error["type"] == "card_error" and error["code"] == "card_declined"
    assert error["decline_code"] == "generic_decline" and error["request_id"] == stripe.request_id(0)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "3"
    assert KEY not in declined.text + throttled.text


async def test_without_the_handlers_a_card_error_is_a_server_error(stripe: Stripe) -> None:
    """What install_error_handlers changes: FastAPI alone turns the CardError into a 500."""
    client = AsyncStripeClient(KEY, max_retries=0)
    app = FastAPI()

    @app.post("/checkout")
    async def checkout() -> None:
        await client.payment_intents.create(
            amount=2000, currency="usd", payment_method="pm_card_chargeDeclined", confirm=True
        )

    async with asgi(app, raise_app_exceptions=False) as http:
        answer = await http.post("/checkout")
    await client.aclose()
    assert answer.status_code == 500

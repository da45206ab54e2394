"""The ATOM REST surface: a FastAPI app mounting the router, called through httpx's ASGI transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.fastapi import create_stripe_router
from atom_stripe.models import CustomerEvent
from atom_stripe.webhooks import generate_test_header

from ..helpers import KEY, form
from .conftest import Stripe, asgi, calling_with, shared_app

WEBHOOK_SECRET = "whsec_router_test"


@pytest.fixture
async def http(stripe: Stripe) -> AsyncIterator[httpx.AsyncClient]:
    client = AsyncStripeClient(KEY, max_retries=0)
    with calling_with(client):
        async with asgi(shared_app(WEBHOOK_SECRET)) as h:
            yield h
    await client.aclose()


async def test_health_and_info(http: httpx.AsyncClient, stripe: Stripe) -> None:
    health = (await http.get("/stripe/health")).json()
    assert health["data"]["ok"] is True and health["request_id"] == stripe.request_id()
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
async def test_lists(http: httpx.AsyncClient, stripe: Stripe, path: str, stripe_path: str, query: str) -> None:
    answer = await http.get(path)
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["data"]) == 2 and body["has_more"] is False and body["next_cursor"] is None
    assert [item["id"] for item in body["data"]] == stripe.answered()
    request = stripe.sent[-1]
    assert request.url.path == stripe_path
    assert request.url.query.decode() == query


@pytest.mark.parametrize(
    ("path", "stripe_path"),
    [
        ("/stripe/payments/pi_123", "/v1/payment_intents/pi_123"),
        ("/stripe/customers/cus_123", "/v1/customers/cus_123"),
        ("/stripe/subscriptions/{subscription}", "/v1/subscriptions/{subscription}"),
        ("/stripe/products/prod_123", "/v1/products/prod_123"),
        ("/stripe/account", "/v1/account"),
        ("/stripe/balance", "/v1/balance"),
    ],
)
async def test_retrieves(http: httpx.AsyncClient, stripe: Stripe, path: str, stripe_path: str) -> None:
    path, stripe_path = (p.format(subscription=stripe.subscriptions[0]) for p in (path, stripe_path))
    answer = await http.get(path)
    assert answer.status_code == 200, answer.text
    assert stripe.sent[-1].url.path == stripe_path
    data = answer.json()["data"]
    if "/stripe/account" not in path and "/stripe/balance" not in path:
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
    http: httpx.AsyncClient, stripe: Stripe, path: str, body: dict[str, Any], stripe_path: str, form: str
) -> None:
    answer = await http.post(path, json=body, headers={"Idempotency-Key": "atom-order-42"})
    assert answer.status_code == 201, answer.text
    request = stripe.sent[-1]
    assert request.method == "POST" and request.url.path == stripe_path
    assert request.content.decode() == form
    assert request.headers["Idempotency-Key"] == "atom-order-42"


async def test_cancel_subscription(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.delete(f"/stripe/subscriptions/{stripe.subscriptions[0]}")
    assert answer.status_code == 200 and answer.json()["data"]["status"] == "canceled"
    assert stripe.sent[-1].method == "DELETE"
    assert (stripe.fake.get(stripe.subscriptions[0]) or {})["status"] == "canceled"


async def test_search_runs_concurrently_and_groups(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.get(
        "/stripe/search", params={"q": "email:'a@example.com'", "resources": "customers,payments,products"}
    )
    data = answer.json()["data"]
    assert list(data) == ["customers", "payments", "products"]
    answered = {call.request.url.path: stripe.answered(n) for n, call in enumerate(stripe.route.calls)}
    assert sorted(answered["/v1/customers/search"]) == ["cus_1", "cus_2", "cus_9"]
    for group, stripe_path in zip(data.values(), ["customers", "payment_intents", "products"], strict=True):
        assert [item["id"] for item in group["data"]] == answered[f"/v1/{stripe_path}/search"]
    paths = sorted(r.url.path for r in stripe.sent)
    assert paths == ["/v1/customers/search", "/v1/payment_intents/search", "/v1/products/search"]
    bad = await http.get("/stripe/search", params={"q": "x", "resources": "invoices"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "resources"


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (400, {"type": "invalid_request_error", "code": "parameter_missing", "param": "amount"}, 400),
        (401, {"type": "invalid_request_error"}, 502),
        (402, {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"}, 402),
        (403, {"type": "invalid_request_error"}, 403),
        (404, {"type": "invalid_request_error", "code": "resource_missing"}, 404),
        (409, {"type": "invalid_request_error", "code": "idempotency_key_in_use"}, 409),
        (429, {"type": "invalid_request_error", "code": "rate_limit"}, 429),
        (500, {"type": "api_error"}, 502),
    ],
)
async def test_error_mapping(
    http: httpx.AsyncClient, stripe: Stripe, status: int, error: dict[str, Any], expected: int
) -> None:
    # Stripe's answers the fake gives no reason for (a 409, a 500...), each as Stripe words it.
    stripe.answer_with(
        httpx.Response(
            status, json={"error": {"message": f"Stripe says {status}", **error}}, headers={"Request-Id": "req_err"}
        )
    )
    answer = await http.get("/stripe/customers/cus_err")
    assert answer.status_code == expected
    body = answer.json()["error"]
    assert body["request_id"] == "req_err"
    assert body.get("code") == error.get("code") and body.get("decline_code") == error.get("decline_code")
    text = answer.text
    assert KEY not in text and "Traceback" not in text


async def test_connection_failure_is_a_502(http: httpx.AsyncClient, stripe: Stripe) -> None:
    stripe.answer_with(httpx.ConnectError("refused"))
    answer = await http.get("/stripe/balance")
    assert answer.status_code == 502
    assert answer.json()["error"]["type"] == "api_connection_error"


async def test_bad_input_is_a_400_before_stripe(http: httpx.AsyncClient, stripe: Stripe) -> None:
    answer = await http.post("/stripe/payments", json={"amount": 100, "currency": "xyz"})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "currency"
    assert (await http.post("/stripe/payments", json={"amount": -1, "currency": "usd"})).status_code == 422
    assert not stripe.sent


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


async def test_handlers_go_on_the_receiver_the_router_made_from_a_secret(fixtures: dict[str, Any]) -> None:
    router = create_stripe_router(lambda: None, webhook_secret=WEBHOOK_SECRET)
    assert router.webhook_router is not None and router.notification_router is None
    seen: list[str] = []

    @router.webhook_router.on("customer.created")
    async def created(event: CustomerEvent) -> None:
        seen.append(event.data.object.id)

    app = FastAPI()
    app.include_router(router)
    body = json.dumps(
        {**fixtures["event"], "type": "customer.created", "data": {"object": {**fixtures["customer"], "id": "cus_9"}}}
    ).encode()
    async with asgi(app) as http:
        ok = await http.post(
            "/stripe/webhooks", content=body, headers={"Stripe-Signature": generate_test_header(body, WEBHOOK_SECRET)}
        )
    assert ok.status_code == 200
    assert seen == ["cus_9"]


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


# -- bodies are the client's typed params -------------------------------------------------

#: The router's create routes and the client endpoint each one calls.
CREATES = {
    "/stripe/payments": "payment_intents.create",
    "/stripe/customers": "customers.create",
    "/stripe/subscriptions": "subscriptions.create",
    "/stripe/products": "products.create",
}


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/stripe/payments", {"amount": 2000, "currency": "usd", "capture_metod": "manual"}, ["capture_metod"]),
        ("/stripe/customers", {"emial": "a@example.com"}, ["emial"]),
        ("/stripe/products", {"name": "T-shirt", "descripton": "cotton"}, ["descripton"]),
        (
            "/stripe/payments",
            {"amount": 2000, "currency": "usd", "automatic_payment_methods": {"enabled": True, "alow_redirects": "x"}},
            ["automatic_payment_methods", "alow_redirects"],
        ),
        (
            "/stripe/subscriptions",
            {"customer": "cus_1", "items": [{"price": "price_1", "quantitiy": 2}]},
            ["items", 0, "quantitiy"],
        ),
        (
            "/stripe/customers",
            {"email": "a@example.com", "address": {"line1": "1 Main St", "cty": "Paris"}},
            ["address", "cty"],
        ),
    ],
)
async def test_unknown_body_fields_are_a_422_naming_the_field_at_every_depth(
    http: httpx.AsyncClient, stripe: Stripe, path: str, body: dict[str, Any], loc: list[Any]
) -> None:
    answer = await http.post(path, json=body)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", *loc]
    name = str(loc[0]) + "".join(f"[{part}]" for part in loc[1:])
    assert error["msg"].startswith(f"{name}: is not a parameter of ") and "extra_params" not in error["msg"]
    assert not stripe.sent


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _object_schemas(spec: dict[str, Any], schema: Any, seen: dict[str, dict[str, Any]]) -> None:
    """Every object schema reachable from ``schema``, by title."""
    if isinstance(schema, list):
        for item in schema:
            _object_schemas(spec, item, seen)
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        target = _resolve(spec, schema)
        if target.get("title") in seen:
            return
        schema = target
    if schema.get("type") == "object" and "properties" in schema:
        seen[schema["title"]] = schema
    for value in schema.values():
        _object_schemas(spec, value, seen)


def _typed_dicts(tp: Any, seen: dict[str, type]) -> None:
    """Every TypedDict reachable from annotation ``tp``, by name."""
    import typing

    from typing_extensions import get_type_hints, is_typeddict

    if is_typeddict(tp):
        if tp.__name__ in seen:
            return
        seen[tp.__name__] = tp
        for hint in get_type_hints(tp).values():
            _typed_dicts(hint, seen)
        return
    for arg in typing.get_args(tp):
        _typed_dicts(arg, seen)


@pytest.mark.parametrize("path", sorted(CREATES))
async def test_every_body_field_is_a_client_param_and_back_at_every_depth(http: httpx.AsyncClient, path: str) -> None:
    """No drift: the OpenAPI body of each create route is the client's params, object by object."""
    from typing_extensions import get_type_hints

    from atom_stripe._generated.endpoints import ENDPOINTS

    spec = (await http.get("/openapi.json")).json()
    body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    top = _resolve(spec, body)
    schemas: dict[str, dict[str, Any]] = {}
    _object_schemas(spec, body, schemas)
    params = ENDPOINTS[CREATES[path]].params_type
    typed: dict[str, type] = {}
    _typed_dicts(params, typed)
    assert params is not None and set(top["properties"]) == set(get_type_hints(params))
    assert set(top.get("required", ())) == set(params.__required_keys__)  # type: ignore[attr-defined]
    nested = {name: schema for name, schema in schemas.items() if schema is not top}
    assert set(nested) == set(typed) - {params.__name__}
    for name, schema in nested.items():
        assert set(schema["properties"]) == set(get_type_hints(typed[name])), name
        assert set(schema.get("required", ())) == set(typed[name].__required_keys__), name  # type: ignore[attr-defined]
    assert all(schema.get("additionalProperties") is False for schema in schemas.values())


def _json_safe(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


@pytest.mark.parametrize("path", sorted(CREATES))
async def test_the_router_forwards_exactly_what_was_sent(path: str) -> None:
    """Every top-level parameter of the endpoint, with a valid value, reaches Stripe as the client
    itself sends it (nothing dropped, nothing added), checked by the stand-in against stripe-python."""
    from typing_extensions import get_type_hints

    from atom_stripe._generated.endpoints import ENDPOINTS

    from ..stripe_oracle import StandIn, sample

    endpoint = ENDPOINTS[CREATES[path]]
    params = endpoint.params_type
    assert params is not None
    hints = get_type_hints(params)
    body = _json_safe({key: sample(hint, key) for key, hint in hints.items()})
    standin = StandIn()
    client = AsyncStripeClient(KEY, max_retries=0)
    app = FastAPI()
    app.include_router(create_stripe_router(lambda: client))
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.route(host="testserver").pass_through()
        mock.route(host="api.stripe.com").mock(side_effect=standin.answer)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as h:
            answer = await h.post(path, json=body, headers={"Idempotency-Key": "k1"})
        assert answer.status_code == 201, answer.text
        namespace = getattr(client, CREATES[path].split(".")[0])
        await namespace.create(**body, idempotency_key="k2")
    await client.aclose()
    assert not standin.problems
    (_, via_router), (_, direct) = standin.seen
    assert via_router.content == direct.content
    assert {key.split("[")[0] for key, _ in form(via_router)} == set(body) == set(hints)


# -- secrets and the server's own key ---------------------------------------------------------


async def test_lists_and_search_never_return_secrets(http: httpx.AsyncClient, stripe: Stripe) -> None:
    secret = (stripe.fake.get("pi_123") or {})["client_secret"]
    assert secret and (stripe.fake.get("pi_1") or {})["client_secret"]
    for answer in (
        await http.get("/stripe/payments"),
        await http.get("/stripe/search", params={"q": "customer:'cus_1'", "resources": "payments"}),
    ):
        assert answer.status_code == 200
        assert secret not in answer.text and "_secret_" not in answer.text
        assert stripe.answered() == ["pi_123", "pi_1"]  # what was left out was there
    payments = (await http.get("/stripe/payments")).json()["data"]
    assert len(payments) == 2 and all(item.get("client_secret") is None for item in payments)
    # create and retrieve still give it, for a front end that confirms the payment (documented)
    assert (await http.get("/stripe/payments/pi_123")).json()["data"]["client_secret"] == secret
    created = (await http.post("/stripe/payments", json={"amount": 2000, "currency": "usd"})).json()["data"]
    assert created["client_secret"] == (stripe.fake.get(created["id"]) or {})["client_secret"]
    assert created["client_secret"].startswith(f"{created['id']}_secret_")


def test_secrets_are_removed_at_every_depth() -> None:
    from atom_stripe.contrib.fastapi import without_secrets

    value = {
        "id": "ch_1",
        "client_secret": "a",
        "payment_intent": {"id": "pi_1", "client_secret": "b", "charges": [{"secret": "c", "amount": 1}]},
        "access_token": "d",
        "refresh_token": "e",
    }
    assert without_secrets(value) == {
        "id": "ch_1",
        "client_secret": None,
        "payment_intent": {"id": "pi_1", "client_secret": None, "charges": [{"secret": None, "amount": 1}]},
        "access_token": None,
        "refresh_token": None,
    }


async def test_stripe_refusing_the_server_key_is_a_502_not_the_callers_401(stripe: Stripe) -> None:
    # The fake takes test mode keys only: a live one is refused with Stripe's 401, the key masked.
    client = AsyncStripeClient("sk_live_4eC39HqLyjWDarjtT1zdp7dc", max_retries=0)
    app = FastAPI()
    app.include_router(create_stripe_router(lambda: client))
    async with asgi(app) as http:
        answer = await http.get("/stripe/customers/cus_1")
    await client.aclose()
    assert stripe.route.calls[-1].response.status_code == 401
    assert "Invalid API Key provided: sk_live_****p7dc" in stripe.route.calls[-1].response.text
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error["type"] == "api_error" and error["request_id"] == stripe.request_id()
    assert "API Key" not in answer.text and "7dc" not in answer.text


# -- the list routes come from the table too ---------------------------------------------------

LISTS = {
    "/stripe/payments": "payment_intents.list",
    "/stripe/customers": "customers.list",
    "/stripe/subscriptions": "subscriptions.list",
    "/stripe/products": "products.list",
}


@pytest.mark.parametrize("path", sorted(LISTS))
async def test_list_queries_are_the_client_list_params(path: str) -> None:
    """Each list route's query parameters are parameters of the client's list call (a range as
    ``_gte``/``_lte``), and each one given reaches Stripe, checked by the stand-in against stripe-python."""
    from typing_extensions import get_type_hints

    from atom_stripe._generated.endpoints import ENDPOINTS

    from ..stripe_oracle import StandIn, sample, unflatten

    hints = get_type_hints(ENDPOINTS[LISTS[path]].params_type)
    standin = StandIn()
    client = AsyncStripeClient(KEY, max_retries=0)
    app = shared_app()
    spec = app.openapi()
    names = [p["name"] for p in spec["paths"][path]["get"]["parameters"] if p["in"] == "query"]
    keys = {name.removesuffix("_gte").removesuffix("_lte") for name in names}
    assert keys <= set(hints)
    assert {"limit", "starting_after", "ending_before", "created_gte", "created_lte"} <= set(names)
    query: dict[str, Any] = {}
    for name in names:
        key = name.removesuffix("_gte").removesuffix("_lte")
        if name != "ending_before":  # cannot be combined with starting_after
            query[name] = 1700000000 if key != name else sample(hints[key], key)
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.route(host="testserver").pass_through()
        mock.route(host="api.stripe.com").mock(side_effect=standin.answer)
        with calling_with(client):
            async with asgi(app) as h:
                answer = await h.get(path, params=query)
    await client.aclose()
    assert answer.status_code == 200, answer.text
    assert not standin.problems
    [(_, request)] = standin.seen
    assert set(unflatten(form(request))) == keys - {"ending_before"}

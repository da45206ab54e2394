"""The request pipeline through the public API, against respx routes."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import httpx
import pytest
import respx

import atom_stripe
from atom_stripe import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AsyncStripeClient,
    AuthenticationError,
    CardError,
    ConflictError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StripeError,
    StripeValueError,
)
from atom_stripe._constants import MAX_RETRY_AFTER

from ..helpers import API, KEY, Sleeps, fixture_bytes, form

CUSTOMER = {"id": "cus_123", "object": "customer", "livemode": False, "created": 1}


def ok(body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body or CUSTOMER, headers={"Request-Id": "req_ok", **headers})


def error(status: int, type_: str = "api_error", **fields: Any) -> httpx.Response:
    headers = fields.pop("headers", {})
    return httpx.Response(
        status,
        json={"error": {"type": type_, "message": f"boom {status}", **fields}},
        headers={"Request-Id": f"req_{status}", **headers},
    )


# -- headers and idempotency --------------------------------------------------------------


async def test_headers_on_every_request(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/customers/cus_123").mock(return_value=ok())
    await client.customers.retrieve("cus_123")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Stripe-Version"] == "2026-10-28.endive"
    assert request.headers["User-Agent"].startswith(f"atom_stripe/{atom_stripe.__version__} ")
    assert "Idempotency-Key" not in request.headers
    assert "Stripe-Account" not in request.headers


async def test_post_gets_a_uuid_idempotency_key_and_form_body(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.post("/v1/customers").mock(return_value=ok())
    await client.customers.create(email="a@example.com", metadata={"atom_user": "u1"})
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    key = request.headers["Idempotency-Key"]
    parsed = uuid.UUID(key)
    assert str(parsed) == key and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert form(request) == [("email", "a@example.com"), ("metadata[atom_user]", "u1")]
    # Brackets travel unescaped, as Stripe's own clients send them.
    assert b"metadata[atom_user]=u1" in request.content


async def test_each_call_gets_a_new_key_and_a_given_key_is_sent(
    client: AsyncStripeClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/customers").mock(return_value=ok())
    await client.customers.create(email="a@example.com")
    await client.customers.create(email="a@example.com")
    await client.customers.create(email="a@example.com", idempotency_key="order-42")
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert keys[0] != keys[1]
    assert keys[2] == "order-42"


async def test_same_idempotency_key_on_every_retry(
    client: AsyncStripeClient, api: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = api.post("/v1/customers").mock(side_effect=[error(500), httpx.ConnectError("reset"), ok()])
    customer = await client.customers.create(email="a@example.com")
    assert customer.id == "cus_123"
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert route.call_count == 3 and len(keys) == 1
    bodies = {call.request.content for call in route.calls}
    assert len(bodies) == 1
    assert len(sleeps) == 2


async def test_bad_idempotency_key_is_refused_before_sending(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.post("/v1/customers").mock(return_value=ok())
    with pytest.raises(StripeValueError, match="idempotency_key"):
        await client.customers.create(email="a@example.com", idempotency_key="x" * 256)
    with pytest.raises(StripeValueError, match="idempotency_key"):
        await client.customers.create(email="a@example.com", idempotency_key="")
    assert route.call_count == 0


async def test_stripe_account_header(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/customers/cus_123").mock(return_value=ok())
    await client.customers.retrieve("cus_123", stripe_account="acct_1")
    assert route.calls.last.request.headers["Stripe-Account"] == "acct_1"
    await client.for_account("acct_2").customers.retrieve("cus_123")
    assert route.calls.last.request.headers["Stripe-Account"] == "acct_2"
    # A per-call account wins over the client's.
    await client.for_account("acct_2").customers.retrieve("cus_123", stripe_account="acct_3")
    assert route.calls.last.request.headers["Stripe-Account"] == "acct_3"


# -- retries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "type_", "fields", "retried"),
    [
        (500, "api_error", {}, True),
        (502, "api_error", {}, True),
        (503, "api_error", {}, True),
        (409, "invalid_request_error", {"code": "idempotency_key_in_use"}, True),
        (429, "invalid_request_error", {"code": "rate_limit"}, True),
        (429, "invalid_request_error", {"code": "lock_timeout"}, True),
        (400, "invalid_request_error", {}, False),
        (401, "invalid_request_error", {}, False),
        (402, "card_error", {}, False),
        (403, "invalid_request_error", {}, False),
        (404, "invalid_request_error", {}, False),
        (500, "api_error", {"headers": {"Stripe-Should-Retry": "false"}}, False),
        (400, "invalid_request_error", {"headers": {"Stripe-Should-Retry": "true"}}, True),
    ],
)
async def test_which_answers_are_retried(
    client: AsyncStripeClient,
    api: respx.MockRouter,
    status: int,
    type_: str,
    fields: dict[str, Any],
    retried: bool,
) -> None:
    route = api.get("/v1/customers/cus_123").mock(side_effect=[error(status, type_, **fields), ok()])
    if retried:
        assert (await client.customers.retrieve("cus_123")).id == "cus_123"
        assert route.call_count == 2
    else:
        with pytest.raises(APIStatusError) as info:
            await client.customers.retrieve("cus_123")
        assert info.value.status_code == status
        assert route.call_count == 1


async def test_retries_run_out_and_raise_the_last_error(
    client: AsyncStripeClient, api: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = api.get("/v1/customers/cus_123").mock(return_value=error(503))
    with pytest.raises(ServerError) as info:
        await client.customers.retrieve("cus_123")
    assert route.call_count == 3  # max_retries=2 by default
    assert info.value.request_id == "req_503"
    assert len(sleeps) == 2 and all(0 < s <= 5 for s in sleeps)


async def test_max_retries_per_client_and_per_copy(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/customers/cus_123").mock(return_value=error(500))
    with pytest.raises(ServerError):
        await client.with_options(max_retries=0).customers.retrieve("cus_123")
    assert route.call_count == 1
    with pytest.raises(ServerError):
        await client.with_options(max_retries=4).customers.retrieve("cus_123")
    assert route.call_count == 1 + 5


async def test_connection_errors_are_retried_then_raised(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/customers/cus_123").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as info:
        await client.customers.retrieve("cus_123")
    assert not isinstance(info.value, APITimeoutError)
    assert route.call_count == 3
    assert isinstance(info.value.__cause__, httpx.ConnectError)


async def test_timeouts_are_retried_then_raise_timeout_error(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/customers/cus_123").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        await client.customers.retrieve("cus_123")
    assert route.call_count == 3


async def test_timeout_setting_reaches_the_request(api: respx.MockRouter) -> None:
    route = api.get("/v1/customers/cus_123").mock(return_value=ok())
    async with AsyncStripeClient(KEY, timeout=3.5) as stripe:
        await stripe.customers.retrieve("cus_123")
        assert route.calls.last.request.extensions["timeout"]["read"] == 3.5
        await stripe.with_options(timeout=httpx.Timeout(9.0)).customers.retrieve("cus_123")
        assert route.calls.last.request.extensions["timeout"]["read"] == 9.0


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("2", 2.0), ("0.5", 0.5), ("600", MAX_RETRY_AFTER)],
)
async def test_retry_after_is_honoured_up_to_a_cap(
    client: AsyncStripeClient, api: respx.MockRouter, sleeps: Sleeps, retry_after: str, expected: float
) -> None:
    api.get("/v1/customers/cus_123").mock(
        side_effect=[error(429, "invalid_request_error", headers={"Retry-After": retry_after}), ok()]
    )
    await client.customers.retrieve("cus_123")
    assert sleeps == [expected]


async def test_retry_after_as_http_date(client: AsyncStripeClient, api: respx.MockRouter, sleeps: Sleeps) -> None:
    import time
    from email.utils import formatdate

    when = formatdate(time.time() + 3, usegmt=True)
    api.get("/v1/customers/cus_123").mock(side_effect=[error(503, headers={"Retry-After": when}), ok()])
    await client.customers.retrieve("cus_123")
    assert 1.0 <= sleeps[0] <= 3.0


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "type_", "fields", "cls"),
    [
        (400, "invalid_request_error", {"code": "parameter_missing", "param": "email"}, InvalidRequestError),
        (401, "invalid_request_error", {}, AuthenticationError),
        (402, "card_error", {"code": "card_declined", "decline_code": "insufficient_funds"}, CardError),
        (403, "invalid_request_error", {}, PermissionDeniedError),
        (404, "invalid_request_error", {"code": "resource_missing", "param": "id"}, NotFoundError),
        (409, "invalid_request_error", {}, ConflictError),
        (429, "invalid_request_error", {"code": "rate_limit"}, RateLimitError),
        (400, "idempotency_error", {}, IdempotencyError),
        (500, "api_error", {}, ServerError),
        (418, "api_error", {}, APIStatusError),
    ],
)
async def test_error_mapping(
    api: respx.MockRouter, status: int, type_: str, fields: dict[str, Any], cls: type[APIStatusError]
) -> None:
    response = error(status, type_, **fields)
    api.get("/v1/customers/cus_123").mock(return_value=response)
    async with AsyncStripeClient(KEY, max_retries=0) as stripe:
        with pytest.raises(cls) as info:
            await stripe.customers.retrieve("cus_123")
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.request_id == f"req_{status}"
    assert err.message == f"boom {status}"
    assert err.type == type_
    assert err.code == fields.get("code")
    assert err.param == fields.get("param")
    assert err.decline_code == fields.get("decline_code")
    assert err.body == {"error": {"type": type_, "message": f"boom {status}", **fields}}
    assert isinstance(err, StripeError)
    assert f"req_{status}" in str(err)


async def test_not_found_is_an_invalid_request_error(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    api.get("/v1/customers/cus_404").mock(return_value=error(404, "invalid_request_error"))
    with pytest.raises(InvalidRequestError):
        await client.customers.retrieve("cus_404")


async def test_html_error_body_maps_by_status_with_a_snippet(api: respx.MockRouter) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 1000 + "</body></html>"
    api.get("/v1/customers/cus_123").mock(return_value=httpx.Response(502, text=html))
    async with AsyncStripeClient(KEY, max_retries=0) as stripe:
        with pytest.raises(ServerError) as info:
            await stripe.customers.retrieve("cus_123")
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in info.value.message
    assert len(info.value.message) < 300
    assert info.value.body is None


async def test_truncated_json_on_success_is_a_response_error(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    api.get("/v1/customers/cus_123").mock(
        return_value=httpx.Response(200, content=b'{"id": "cus_123", "obj', headers={"Request-Id": "req_t"})
    )
    with pytest.raises(APIResponseError) as info:
        await client.customers.retrieve("cus_123")
    assert info.value.request_id == "req_t"
    assert "Customer" in str(info.value)


async def test_body_that_does_not_fit_the_model(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    # A field that does not fit keeps its object (see test_lenient_models); a body that is no object at all does not.
    api.get("/v1/customers/cus_123").mock(return_value=httpx.Response(200, json=["cus_123", "yesterday"]))
    with pytest.raises(APIResponseError, match="Customer"):
        await client.customers.retrieve("cus_123")


# -- configuration ---------------------------------------------------------------------


def test_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_env")
    client = AsyncStripeClient()
    assert client._requester.settings.api_key == "sk_test_env"


def test_no_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with pytest.raises(StripeValueError, match="STRIPE_API_KEY"):
        AsyncStripeClient()


@pytest.mark.parametrize(
    ("key", "base_url"),
    [
        ("pk_test_123", None),
        ("", None),
        ("sk_live_123", "http://api.example.com"),
        ("rk_live_123", "http://10.0.0.5:8080"),
        ("sk_test_123", "ftp://api.stripe.com"),
    ],
)
def test_unsafe_keys_are_refused(key: str, base_url: str | None) -> None:
    with pytest.raises(StripeValueError):
        AsyncStripeClient(key, base_url=base_url)


def test_live_key_over_http_to_loopback_is_allowed() -> None:
    AsyncStripeClient("sk_live_123", base_url="http://127.0.0.1:8420")
    AsyncStripeClient("sk_live_123", base_url="http://localhost:8420")


async def test_api_version_and_base_url_options(api: respx.MockRouter) -> None:
    with respx.mock(base_url="http://127.0.0.1:9999", using="httpx") as local:
        route = local.get("/v1/customers/cus_123").mock(return_value=ok())
        async with AsyncStripeClient(KEY, base_url="http://127.0.0.1:9999/", api_version="2025-03-31.basil") as s:
            await s.customers.retrieve("cus_123")
        assert route.calls.last.request.headers["Stripe-Version"] == "2025-03-31.basil"


async def test_with_options_shares_the_pool_and_leaves_the_original_alone(client: AsyncStripeClient) -> None:
    copy = client.with_options(api_key="sk_test_other", max_retries=5, stripe_account="acct_9")
    assert copy.http_client is client.http_client
    assert copy.max_retries == 5 and client.max_retries == 2
    assert copy.stripe_account == "acct_9" and client.stripe_account is None
    assert copy.with_options(stripe_account=None).stripe_account is None


async def test_closing(api: respx.MockRouter) -> None:
    api.get("/v1/customers/cus_123").mock(return_value=ok())
    stripe = AsyncStripeClient(KEY)
    await stripe.customers.retrieve("cus_123")
    await stripe.aclose()
    assert stripe.http_client.is_closed
    with pytest.raises(StripeError, match="closed"):
        await stripe.customers.retrieve("cus_123")


async def test_a_callers_http_client_is_used_and_never_closed(api: respx.MockRouter) -> None:
    route = api.get("/v1/customers/cus_123").mock(return_value=ok())
    http = httpx.AsyncClient(headers={"X-Caller": "yes"})
    async with AsyncStripeClient(KEY, http_client=http) as stripe:
        await stripe.customers.retrieve("cus_123")
    assert not http.is_closed
    assert route.calls.last.request.headers["X-Caller"] == "yes"
    await http.aclose()


# -- secrets -------------------------------------------------------------------------------


async def test_the_key_never_shows(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture, fixtures: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    api.get("/v1/customers/cus_123").mock(side_effect=[error(500), ok()])
    api.get("/v1/customers/cus_404").mock(return_value=error(404, "invalid_request_error"))
    stripe = AsyncStripeClient(KEY)
    texts = [repr(stripe), str(stripe), repr(stripe._requester.settings)]
    await stripe.customers.retrieve("cus_123")
    with pytest.raises(NotFoundError) as info:
        await stripe.customers.retrieve("cus_404")
    texts += [str(info.value), repr(info.value), repr(info.value.response), repr(info.value.response.request)]
    await stripe.aclose()
    texts += [record.getMessage() for record in caplog.records]
    texts += [json.dumps(record.__dict__, default=str) for record in caplog.records]
    assert any("GET /v1/customers/{customer} -> 500" in t for t in texts)
    for text in texts:
        assert KEY not in text
        assert KEY[8:] not in text


async def test_one_debug_line_per_attempt(
    client: AsyncStripeClient, api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="atom_stripe")
    api.get("/v1/customers/cus_123").mock(side_effect=[error(500), ok()])
    await client.customers.retrieve("cus_123")
    lines = [r for r in caplog.records if r.name == "atom_stripe"]
    assert len(lines) == 2
    assert lines[0].stripe_status == 500 and lines[0].stripe_attempt == 1  # type: ignore[attr-defined]
    assert lines[1].stripe_status == 200 and lines[1].stripe_attempt == 2  # type: ignore[attr-defined]
    assert lines[1].stripe_request_id == "req_ok"  # type: ignore[attr-defined]
    assert "cus_123" not in lines[1].getMessage()


async def test_fixture_customer_round_trip(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    api.get(f"{API}/v1/customers/cus_123").mock(
        return_value=httpx.Response(200, content=fixture_bytes(fixtures, "customer"))
    )
    customer = await client.customers.retrieve("cus_123")
    assert customer.id == fixtures["customer"]["id"]
    assert customer.model_extra == {}

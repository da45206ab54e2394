"""API answers map by status; OAuth's error shape only on the OAuth endpoints; 409 is a conflict."""

from __future__ import annotations

import httpx
import pytest
import respx

from atom_stripe import (
    AsyncStripeClient,
    ConflictError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    OAuthError,
    ServerError,
)
from atom_stripe.oauth import InvalidGrantError, StripeOAuth

from ..helpers import KEY


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_proxy_json_5xx_is_a_server_error_not_oauth(api: respx.MockRouter, status: int) -> None:
    api.get("/v1/customers/cus_1").mock(return_value=httpx.Response(status, json={"error": "upstream connect error"}))
    async with AsyncStripeClient(KEY, max_retries=0) as stripe:
        with pytest.raises(ServerError) as caught:
            await stripe.customers.retrieve("cus_1")
    assert not isinstance(caught.value, OAuthError)
    assert caught.value.status_code == status
    assert "upstream connect error" in caught.value.message


async def test_a_string_error_on_a_4xx_api_answer_maps_by_status(api: respx.MockRouter) -> None:
    api.get("/v1/customers/cus_1").mock(return_value=httpx.Response(400, json={"error": "invalid_grant"}))
    async with AsyncStripeClient(KEY, max_retries=0) as stripe:
        with pytest.raises(InvalidRequestError) as caught:
            await stripe.customers.retrieve("cus_1")
    assert not isinstance(caught.value, OAuthError)


async def test_the_oauth_endpoints_keep_their_error_shape() -> None:
    with respx.mock(base_url="https://connect.stripe.com", using="httpx") as connect:
        connect.post("/oauth/token").mock(
            return_value=httpx.Response(400, json={"error": "invalid_grant", "error_description": "used code"})
        )
        async with StripeOAuth("ca_1", KEY, max_retries=0) as oauth:
            with pytest.raises(InvalidGrantError):
                await oauth.exchange_code("ac_1")


def idempotency(status: int, code: str | None = None) -> httpx.Response:
    error = {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used ..."}
    if code:
        error["code"] = code
    return httpx.Response(status, json={"error": error}, headers={"Request-Id": "req_1"})


async def test_409_idempotency_key_in_use_is_a_conflict_and_is_retried(api: respx.MockRouter) -> None:
    route = api.post("/v1/customers").mock(return_value=idempotency(409, "idempotency_key_in_use"))
    async with AsyncStripeClient(KEY, max_retries=2) as stripe:
        with pytest.raises(ConflictError) as caught:
            await stripe.customers.create(email="a@example.com", idempotency_key="order-1")
    assert type(caught.value) is ConflictError
    assert not isinstance(caught.value, InvalidRequestError)
    assert caught.value.type == "idempotency_error"
    assert caught.value.code == "idempotency_key_in_use"
    assert route.call_count == 3


@pytest.mark.parametrize(("status", "base"), [(400, InvalidRequestError), (404, NotFoundError)])
async def test_a_key_reused_with_other_parameters_is_an_idempotency_error(
    api: respx.MockRouter, status: int, base: type[Exception]
) -> None:
    route = api.post("/v1/customers").mock(return_value=idempotency(status))
    async with AsyncStripeClient(KEY, max_retries=2) as stripe:
        with pytest.raises(IdempotencyError) as caught:
            await stripe.customers.create(email="a@example.com", idempotency_key="order-1")
    assert isinstance(caught.value, InvalidRequestError)
    assert caught.value.status_code == status
    assert route.call_count == 1


def test_the_readme_and_the_errors_page_state_the_same_rows() -> None:
    from ..helpers import ROOT

    rows = [
        "| 409 (conflict; `idempotency_key_in_use`: the key's first call is still running) | yes | `ConflictError` |",
        "| 400 or 404 `idempotency_error` (a key reused with other parameters) | never "
        "| `IdempotencyError` (an `InvalidRequestError`) |",
    ]
    for page in (ROOT / "README.md", ROOT / "docs" / "errors.md"):
        text = page.read_text()
        assert all(row in text for row in rows), page

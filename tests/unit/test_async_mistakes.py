"""The async mistakes a new user makes first: each one answered by an error that says what to do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from atom_stripe import (
    AsyncStripeClient,
    ClientClosedError,
    NotAwaitedError,
    StripeUsageError,
    StripeValueError,
)

from ..helpers import fixture_bytes

KEY = "sk_test_traps"


def customers_page(fixtures: dict[str, Any], *ids: str, has_more: bool = False) -> httpx.Response:
    import json

    items = [json.loads(fixture_bytes(fixtures, "customer", id=i)) for i in ids]
    return httpx.Response(200, json={"object": "list", "url": "/v1/customers", "has_more": has_more, "data": items})


async def test_a_for_over_an_awaited_page_yields_its_customers(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    api.get("/v1/customers").mock(return_value=customers_page(fixtures, "cus_a", "cus_b", has_more=True))
    page = await client.customers.list(limit=2)
    assert [c.id for c in page] == ["cus_a", "cus_b"]
    assert [c.id async for c in page] == ["cus_a", "cus_b"]  # this page only, as a plain `for`
    assert list(page) == page.data
    assert dict(page)["has_more"] is True and page["data"] == page.data  # still maps its fields
    with pytest.raises(StripeUsageError, match=r"page\.data\[0\]"):
        page[0]  # type: ignore[index]
    assert len(api.calls) == 1


async def test_a_paginator_not_awaited_says_to_await_it(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    paginator = client.customers.list(limit=2)
    with pytest.raises(NotAwaitedError, match=r"await stripe\.customers\.list\(\.\.\.\)") as caught:
        paginator.data  # type: ignore[attr-defined]  # noqa: B018
    assert isinstance(caught.value, AttributeError) and isinstance(caught.value, StripeUsageError)
    for name in ("has_more", "get_next_page", "next_page"):
        with pytest.raises(NotAwaitedError):
            getattr(paginator, name)
    assert not hasattr(paginator, "data")  # still an AttributeError for hasattr()
    with pytest.raises(AttributeError) as other:
        paginator.nonsense  # type: ignore[attr-defined]  # noqa: B018
    assert not isinstance(other.value, NotAwaitedError)
    assert len(api.calls) == 0


async def test_a_model_passed_as_an_id_says_pass_its_id(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    api.post("/v1/customers").mock(return_value=httpx.Response(200, content=fixture_bytes(fixtures, "customer")))
    customer = await client.customers.create(email="a@example.com")
    with pytest.raises(StripeValueError, match=r"pass customer\.id") as as_param:
        await client.payment_intents.create(amount=100, currency="usd", customer=customer)  # type: ignore[arg-type]
    assert as_param.value.param == "customer"
    with pytest.raises(StripeValueError, match=r"pass customer\.id"):
        await client.customers.retrieve(customer)  # type: ignore[arg-type]
    with pytest.raises(StripeValueError, match=r"pass customer\.id"):
        await client.invoices.list(customer=customer)  # type: ignore[arg-type]
    assert len(api.calls) == 1


async def test_a_coroutine_passed_as_an_id_says_await_it(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    async def make() -> str:
        return "cus_1"

    pending = make()
    try:
        with pytest.raises(StripeValueError, match="forget `await`"):
            await client.payment_intents.create(amount=100, currency="usd", customer=pending)  # type: ignore[arg-type]
        with pytest.raises(StripeValueError, match="forget `await`"):
            await client.customers.retrieve(pending)  # type: ignore[arg-type]
    finally:
        pending.close()
    assert len(api.calls) == 0


@pytest.mark.parametrize("path", ["subscriptions", "customer", "data"])
async def test_a_list_refuses_an_expand_outside_data(
    client: AsyncStripeClient, api: respx.MockRouter, path: str
) -> None:
    with pytest.raises(StripeValueError, match=rf"'data\.{path}'") as caught:
        client.customers.list(expand=[path])
    assert caught.value.param == "expand"
    with pytest.raises(StripeValueError, match=r"data\."):
        client.customers.search(query="email:'a@example.com'", expand=[path])
    assert len(api.calls) == 0


async def test_a_list_sends_an_expand_under_data(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    route = api.get("/v1/customers").mock(return_value=customers_page(fixtures, "cus_a"))
    await client.customers.list(expand=["data.subscriptions"])
    assert route.calls.last.request.url.params.get_list("expand[0]") == ["data.subscriptions"]


async def test_a_closed_client_says_so_with_a_hint(api: respx.MockRouter) -> None:
    async with AsyncStripeClient(KEY) as stripe:
        pass
    with pytest.raises(ClientClosedError, match="async with") as caught:
        await stripe.customers.retrieve("cus_1")
    assert isinstance(caught.value, StripeUsageError)
    assert len(api.calls) == 0

"""Cheap guards on what makes atom_stripe fast (counts, not timings)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import AsyncStripeClient, _params
from atom_stripe.models import Customer, Page


def page(start: int, size: int, total: int) -> httpx.Response:
    ids = range(start, min(start + size, total))
    return httpx.Response(
        200,
        json={
            "object": "list",
            "url": "/v1/customers",
            "has_more": start + size < total,
            "data": [{"id": f"cus_{i}", "object": "customer"} for i in ids],
        },
    )


async def test_auto_pagination_makes_one_request_per_page_and_runs_at_most_one_ahead(
    client: AsyncStripeClient, api: respx.MockRouter
) -> None:
    consumed_pages = 0
    ahead: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")
        start = 0 if after is None else int(after.removeprefix("cus_")) + 1
        ahead.append(start // 100 - consumed_pages)
        return page(start, 100, 1050)

    route = api.get("/v1/customers").mock(side_effect=answer)
    seen = 0
    async for _ in client.customers.list(limit=100):
        if seen % 100 == 0:
            consumed_pages = seen // 100
        seen += 1
    assert seen == 1050
    assert route.call_count == 11
    assert max(ahead) <= 1


async def test_each_answer_is_parsed_once_and_nothing_is_rebuilt_per_call(
    client: AsyncStripeClient, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post("/v1/customers").mock(return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"}))
    api.get("/v1/customers").mock(return_value=page(0, 5, 5))
    await client.customers.create(email="warm@example.com")
    await client.customers.list(limit=5)
    hints = dict(_params._hints)
    page_class = Page[Customer]
    parses = 0
    original = Customer.model_validate_json

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal parses
        parses += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(Customer, "model_validate_json", counting)
    for _ in range(20):
        await client.customers.create(email="a@example.com")
        await client.customers.list(limit=5)
    assert parses == 20  # one parse per create; the list items are parsed inside their page
    assert _params._hints == hints  # parameter annotations resolved once
    assert Page[Customer] is page_class  # the page model is not re-made per call


async def test_the_default_client_skips_httpx_client_layer(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.get("/v1/customers/cus_1").mock(return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"}))

    async def no_send(*args: Any, **kwargs: Any) -> httpx.Response:
        raise AssertionError("AsyncClient.send is not on the hot path of a client that owns its pool")

    async with AsyncStripeClient("sk_test_x") as stripe:
        monkeypatch.setattr(stripe.http_client, "send", no_send)
        assert (await stripe.customers.retrieve("cus_1")).id == "cus_1"


def test_import_loads_no_models_no_aiohttp_no_backoff() -> None:
    code = (
        "import sys, atom_stripe; atom_stripe.AsyncStripeClient('sk_test_x'); "
        "print(sorted(m for m in ('aiohttp', 'backoff', 'atom_stripe.models', 'pydantic.main', 'asyncio') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"

"""``client.customers`` against respx: what goes over the wire, and what comes back."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe.models import Customer, DeletedCustomer, Page, SearchPage

from ..helpers import fixture_bytes, form


def customer_body(fixtures: dict[str, Any], **changes: Any) -> httpx.Response:
    return httpx.Response(200, content=fixture_bytes(fixtures, "customer", **changes))


def list_body(items: list[dict[str, Any]], has_more: bool, url: str = "/v1/customers") -> httpx.Response:
    return httpx.Response(200, json={"object": "list", "url": url, "has_more": has_more, "data": items})


async def test_create(client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]) -> None:
    route = api.post("/v1/customers").mock(return_value=customer_body(fixtures, email="a@example.com"))
    customer = await client.customers.create(
        email="a@example.com",
        name="Jenny Rosen",
        metadata={"atom_user": "u1"},
        address={"city": "Paris", "country": "FR"},
        preferred_locales=["fr", "en"],
        expand=["default_source"],
        extra_params={"individual_name": "Jenny"},
    )
    assert isinstance(customer, Customer)
    assert customer.email == "a@example.com"
    assert form(route.calls.last.request) == [
        ("email", "a@example.com"),
        ("name", "Jenny Rosen"),
        ("metadata[atom_user]", "u1"),
        ("address[city]", "Paris"),
        ("address[country]", "FR"),
        ("preferred_locales[0]", "fr"),
        ("preferred_locales[1]", "en"),
        ("expand[0]", "default_source"),
        ("individual_name", "Jenny"),
    ]


async def test_retrieve_with_expand(client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]) -> None:
    route = api.get("/v1/customers/cus_1").mock(return_value=customer_body(fixtures))
    customer = await client.customers.retrieve("cus_1", expand=["default_source", "test_clock"])
    assert customer.id == fixtures["customer"]["id"]
    assert form(route.calls.last.request) == [("expand[0]", "default_source"), ("expand[1]", "test_clock")]
    assert route.calls.last.request.content == b""


async def test_update_and_clear(client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]) -> None:
    route = api.post("/v1/customers/cus_1").mock(return_value=customer_body(fixtures, description="VIP"))
    customer = await client.customers.update("cus_1", description="VIP", metadata={"plan": "pro", "old": ""}, phone="")
    assert customer.description == "VIP"
    assert form(route.calls.last.request) == [
        ("description", "VIP"),
        ("metadata[plan]", "pro"),
        ("metadata[old]", ""),
        ("phone", ""),
    ]


async def test_delete(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.delete("/v1/customers/cus_1").mock(
        return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer", "deleted": True})
    )
    gone = await client.customers.delete("cus_1")
    assert isinstance(gone, DeletedCustomer)
    assert gone.deleted is True and gone.id == "cus_1"
    assert route.calls.last.request.method == "DELETE"
    assert "Idempotency-Key" not in route.calls.last.request.headers


async def test_list_awaited_gives_the_first_page(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    route = api.get("/v1/customers").mock(return_value=list_body([fixtures["customer"]] * 3, True))
    page = await client.customers.list(limit=3, email="a@example.com", created={"gte": 1700000000})
    assert isinstance(page, Page)
    assert len(page.data) == 3 and page.has_more
    assert all(isinstance(c, Customer) for c in page.data)
    assert form(route.calls.last.request) == [
        ("limit", "3"),
        ("email", "a@example.com"),
        ("created[gte]", "1700000000"),
    ]


def customers(ids: range) -> list[dict[str, Any]]:
    return [{"id": f"cus_{i}", "object": "customer"} for i in ids]


async def test_list_iterated_walks_every_page(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")
        start = 0 if after is None else int(after.removeprefix("cus_")) + 1
        return list_body(customers(range(start, min(start + 2, 5))), start + 2 < 5)

    route = api.get("/v1/customers").mock(side_effect=answer)
    seen = [c.id async for c in client.customers.list(limit=2, expand=["data.test_clock"])]
    assert seen == [f"cus_{i}" for i in range(5)]
    assert route.call_count == 3
    assert form(route.calls[1].request) == [
        ("limit", "2"),
        ("expand[0]", "data.test_clock"),
        ("starting_after", "cus_1"),
    ]
    assert form(route.calls[2].request)[-1] == ("starting_after", "cus_3")


async def test_pages_one_by_one_and_backwards(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/customers").mock(
        side_effect=[list_body(customers(range(5, 7)), True), list_body(customers(range(3, 5)), False)]
    )
    pages = [p async for p in client.customers.list(limit=2, ending_before="cus_9").pages()]
    assert [len(p.data) for p in pages] == [2, 2]
    assert form(route.calls[1].request) == [("limit", "2"), ("ending_before", "cus_5")]
    assert not pages[-1].has_next_page()
    assert await pages[-1].get_next_page() is None


async def test_search_follows_next_page(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("page")
        body = {
            "object": "search_result",
            "url": "/v1/customers/search",
            "has_more": page is None,
            "next_page": "tok_2" if page is None else None,
            "data": customers(range(0, 2) if page is None else range(2, 3)),
        }
        return httpx.Response(200, json=body)

    route = api.get("/v1/customers/search").mock(side_effect=answer)
    first = await client.customers.search(query="email:'a@example.com'", limit=2)
    assert isinstance(first, SearchPage)
    assert first.next_page == "tok_2" and first.has_more
    everyone = [c.id async for c in client.customers.search(query="email:'a@example.com'", limit=2)]
    assert everyone == ["cus_0", "cus_1", "cus_2"]
    assert form(route.calls[-1].request) == [("query", "email:'a@example.com'"), ("limit", "2"), ("page", "tok_2")]


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda s: s.customers.retrieve(""), "customer"),
        (lambda s: s.customers.retrieve("cus_1/../x"), "customer"),
        (lambda s: s.customers.retrieve("cus 1"), "customer"),
        (lambda s: s.customers.retrieve(42), "customer"),
        (lambda s: s.customers.create(emial="a@example.com"), "emial"),
        (lambda s: s.customers.create(email=42), "email"),
        (lambda s: s.customers.create(metadata={"k": 1}), "metadata[k]"),
        (lambda s: s.customers.create(metadata={"k" * 41: "v"}), "metadata"),
        (lambda s: s.customers.create(metadata={f"k{i}": "v" for i in range(51)}), "metadata"),
        (lambda s: s.customers.create(address={"city": 5}), "address[city]"),
        (lambda s: s.customers.create(expand="customer"), "expand"),
        (lambda s: s.customers.create(expand=["a.b.c.d.e"]), "expand"),
        (lambda s: s.customers.create(email="a@b.c", extra_params={"email": "x"}), "email"),
        (lambda s: s.customers.list(limit=0), "limit"),
        (lambda s: s.customers.list(limit=101), "limit"),
        (lambda s: s.customers.list(starting_after="cus_1", ending_before="cus_2"), "starting_after"),
        (lambda s: s.customers.search(), "query"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    client: AsyncStripeClient, api: respx.MockRouter, call: Any, param: str
) -> None:
    with pytest.raises(StripeValueError) as info:
        await call(client)
    assert info.value.param == param
    assert isinstance(info.value, ValueError)
    assert len(api.calls) == 0


async def test_fixture_list_page_parses(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    api.get("/v1/customers").mock(
        return_value=httpx.Response(
            200,
            content=json.dumps(
                {"object": "list", "url": "/v1/customers", "has_more": False, "data": [fixtures["customer"]] * 100}
            ).encode(),
        )
    )
    page = await client.customers.list(limit=100)
    assert len(page.data) == 100
    assert page.data[0].model_extra == {}

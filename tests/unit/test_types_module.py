"""``atom_stripe.types``: the public home of the types calls return, and the docs point there."""

from __future__ import annotations

import re

import httpx
import respx

import atom_stripe.types
from atom_stripe import AsyncStripeClient
from atom_stripe._health import HealthStatus
from atom_stripe._hooks import CallRecord, StatsSnapshot
from atom_stripe._pagination import AsyncPaginator, Page, SearchPage

from ..helpers import KEY, ROOT


def test_the_types_module_names_are_pinned_and_sorted() -> None:
    assert atom_stripe.types.__all__ == [
        "AsyncPaginator",
        "CallRecord",
        "EndpointStats",
        "HealthStatus",
        "Hook",
        "HookName",
        "Page",
        "SearchPage",
        "Service",
        "StatsSnapshot",
        "check_params",
        "fields_of",
    ]
    for name in atom_stripe.types.__all__:
        assert hasattr(atom_stripe.types, name)


def test_the_public_names_are_the_very_classes_calls_use() -> None:
    pairs = [
        (atom_stripe.types.AsyncPaginator, AsyncPaginator),
        (atom_stripe.types.CallRecord, CallRecord),
        (atom_stripe.types.HealthStatus, HealthStatus),
        (atom_stripe.types.Page, Page),
        (atom_stripe.types.SearchPage, SearchPage),
        (atom_stripe.types.StatsSnapshot, StatsSnapshot),
    ]
    for public, private in pairs:
        assert public is private


async def test_what_calls_return_is_an_instance_of_the_public_types(api: respx.MockRouter) -> None:
    listing = {"object": "list", "data": [], "has_more": False, "url": "/v1/customers"}
    route = api.get("/v1/customers").mock(return_value=httpx.Response(200, json=listing))
    async with AsyncStripeClient(KEY, max_retries=0) as stripe:
        paginator = stripe.customers.list(limit=3)
        assert isinstance(paginator, atom_stripe.types.AsyncPaginator)
        assert isinstance(await paginator, atom_stripe.types.Page)
        assert isinstance(stripe.stats(), atom_stripe.types.StatsSnapshot)
    assert route.call_count == 1


def test_no_docs_page_points_at_a_private_path() -> None:
    private = re.compile(r"atom_stripe(?:\.[a-z]\w*)*\._\w+")
    found = {
        page.name: private.findall(page.read_text())
        for page in sorted((ROOT / "docs").glob("*.md"))
        if page.name != "changelog.md"  # history names what was, where it was
    }
    assert {name: hits for name, hits in found.items() if hits} == {}

"""A real signed delivery: localstripe posts to a local receiver built from WebhookRouter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from atom_stripe import AsyncStripeClient
from atom_stripe import models as m
from atom_stripe.webhooks import WebhookResult, WebhookRouter

from ..helpers import serve_asgi

SECRET = "whsec_localstripe_delivery_test"


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookRouter, str, list[WebhookResult]]]:
    """A WebhookRouter served on 127.0.0.1, with the results of every delivery it took."""
    router = WebhookRouter(SECRET)
    results: list[WebhookResult] = []
    handle = router.handle

    async def recording_handle(body: bytes | str, headers: Any) -> WebhookResult:
        result = await handle(body, headers)
        results.append(result)
        return result

    router.handle = recording_handle  # type: ignore[method-assign]
    with serve_asgi(router.asgi_app()) as url:
        yield router, f"{url}/webhooks", results


async def test_localstripe_delivers_a_signed_event(
    localstripe_url: str, receiver: tuple[WebhookRouter, str, list[WebhookResult]]
) -> None:
    router, url, results = receiver
    got: list[m.CustomerEvent] = []

    @router.on("customer.created")
    async def created(event: m.CustomerEvent) -> None:
        got.append(event)

    hook = f"wh_{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient() as http:
        registered = await http.post(
            f"{localstripe_url}/_config/webhooks/{hook}",
            data={"url": url, "secret": SECRET, "events[0]": "customer.created"},
        )
        assert registered.status_code == 200
    email = f"hook-{uuid.uuid4().hex[:6]}@example.com"
    async with AsyncStripeClient("sk_test_local", base_url=localstripe_url) as stripe:
        customer = await stripe.customers.create(email=email)
    with anyio.fail_after(15):
        while not any(e.data.object.id == customer.id for e in got):
            await anyio.sleep(0.05)
    event = next(e for e in got if e.data.object.id == customer.id)
    assert event.type == "customer.created"
    assert event.data.object.email == email
    assert results and all(r.status_code == 200 for r in results)

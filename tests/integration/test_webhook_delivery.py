"""A real signed delivery: localstripe posts to a local receiver built from WebhookRouter."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator

import anyio
import httpx
import pytest
import uvicorn

from atom_stripe import AsyncStripeClient
from atom_stripe import models as m
from atom_stripe.webhooks import WebhookResult, WebhookRouter

SECRET = "whsec_localstripe_delivery_test"


class Receiver:
    """A WebhookRouter served by uvicorn on 127.0.0.1 in a thread of its own."""

    def __init__(self) -> None:
        self.router = WebhookRouter(SECRET)
        self.results: list[WebhookResult] = []
        self.arrived = threading.Event()
        handle = self.router.handle

        async def recording_handle(body: bytes | str, headers: object) -> WebhookResult:
            result = await handle(body, headers)  # type: ignore[arg-type]
            self.results.append(result)
            self.arrived.set()
            return result

        self.router.handle = recording_handle  # type: ignore[method-assign]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/webhooks"
        config = uvicorn.Config(self.router.asgi_app(), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.should_exit = True
        r.thread.join(timeout=10)
        r.sock.close()


async def test_localstripe_delivers_a_signed_event(localstripe_url: str, receiver: Receiver) -> None:
    got: list[m.CustomerEvent] = []

    @receiver.router.on("customer.created")
    async def created(event: m.CustomerEvent) -> None:
        got.append(event)

    hook = f"wh_{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient() as http:
        registered = await http.post(
            f"{localstripe_url}/_config/webhooks/{hook}",
            data={"url": receiver.url, "secret": SECRET, "events[0]": "customer.created"},
        )
        assert registered.status_code == 200
    email = f"hook-{uuid.uuid4().hex[:6]}@example.com"
    async with AsyncStripeClient("sk_test_local", base_url=localstripe_url) as stripe:
        customer = await stripe.customers.create(email=email)
    with anyio.fail_after(15):
        while not any(isinstance(e.data.object, m.Customer) and e.data.object.id == customer.id for e in got):
            await anyio.to_thread.run_sync(receiver.arrived.wait, 0.2)
            receiver.arrived.clear()
    event = next(e for e in got if e.data.object.id == customer.id)
    assert event.type == "customer.created"
    assert event.data.object.email == email
    assert all(r.status_code == 200 for r in receiver.results)

"""The shipped fake Stripe behind ``api.stripe.com`` for the router tests, seeded with what they ask for.

The router's client talks to Stripe over httpx; respx hands each request to the fake's transport
and records it with the fake's answer. A test that needs an answer the fake cannot give (a
connection failure, a Retry-After, a code) swaps the route's answer with :meth:`Stripe.answer_with`.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import respx
from fastapi import FastAPI

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.fastapi import create_stripe_router
from atom_stripe.testing import FakeStripe, FakeTransport


@dataclass
class Stripe:
    fake: FakeStripe
    route: respx.Route
    #: the two subscriptions seeded for customer ``cus_1`` on ``price_1``
    subscriptions: list[str]

    @property
    def sent(self) -> list[httpx.Request]:
        """The requests the router's client sent to Stripe."""
        return [call.request for call in self.route.calls]

    def request_id(self, n: int = -1) -> str:
        """The ``Request-Id`` Stripe gave the ``n``-th request."""
        return str(self.route.calls[n].response.headers["Request-Id"])

    def answered(self, n: int = -1) -> list[str]:
        """The ids of the objects listed in Stripe's answer to the ``n``-th request."""
        return [item["id"] for item in self.route.calls[n].response.json()["data"]]

    def answer_with(self, answer: httpx.Response | Exception) -> None:
        """Answer every further request with ``answer`` instead of the fake."""
        self.route.mock(side_effect=answer) if isinstance(answer, Exception) else self.route.mock(return_value=answer)


async def _seed(fake: FakeStripe) -> list[str]:
    # Lists are newest first: of the customers of a@example.com, cus_2 and cus_1 come after cus_9.
    fake.add("customer", id="cus_123", email="b@example.com", created=1730000000)
    for customer, created in (("cus_1", 1750000000), ("cus_2", 1740000000), ("cus_9", 1760000000)):
        fake.add("customer", id=customer, email="a@example.com", created=created)
    for product in ("prod_1", "prod_123"):
        fake.add("product", id=product, active=True)
    fake.add("price", id="price_1", type="recurring", recurring={"interval": "month", "interval_count": 1})
    for intent in ("pi_1", "pi_123"):
        fake.add("payment_intent", id=intent, customer="cus_1", created=1750000000)
    client = fake.client(max_retries=0)
    subscriptions = [
        (await client.subscriptions.create(customer="cus_1", items=[{"price": "price_1"}])).id or "" for _ in range(2)
    ]
    await client.aclose()
    return subscriptions


@pytest.fixture
async def stripe() -> AsyncIterator[Stripe]:
    async with FakeStripe() as fake:
        subscriptions = await _seed(fake)
        with respx.mock(using="httpx", assert_all_called=False) as router:
            router.route(host="testserver").pass_through()
            route = router.route(host="api.stripe.com").mock(side_effect=FakeTransport(fake).handle_async_request)
            yield Stripe(fake, route, subscriptions)


def asgi(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    """An httpx client calling ``app`` in process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# -- one app per test process --------------------------------------------------------------
# Building the router's routes costs FastAPI a good part of a second of CPU (and its OpenAPI
# document two more), so the tests that need only a plain router share one app per worker,
# calling the client of the test that runs now. Tests of a router's own state (throttling,
# a webhook store, options) build their own.


@dataclass
class _Current:
    client: AsyncStripeClient | None = None

    def get(self) -> AsyncStripeClient:
        assert self.client is not None, "shared_app() is used outside calling_with()"
        return self.client


_CURRENT = _Current()


@functools.cache
def shared_app(webhook_secret: str | None = None) -> FastAPI:
    """A FastAPI app mounting ``create_stripe_router`` at ``/stripe``, built once a process."""
    app = FastAPI()
    app.include_router(create_stripe_router(_CURRENT.get, webhook_secret=webhook_secret))
    return app


@contextmanager
def calling_with(client: AsyncStripeClient) -> Iterator[None]:
    """The shared app calls Stripe with ``client`` while the block runs (one test at a time)."""
    _CURRENT.client = client
    try:
        yield
    finally:
        _CURRENT.client = None

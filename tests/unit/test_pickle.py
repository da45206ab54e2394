"""Errors and pages survive pickle: every public error class round-trips (a worker process
can raise them back), the key stays behind, and a fetched page pickles without its client."""

from __future__ import annotations

import importlib
import json
import pickle
import pkgutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import anyio
import httpx
import pytest
import respx

import atom_stripe
from atom_stripe import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    AsyncStripeClient,
    CardError,
    ClientClosedError,
    MissingExtraError,
    StripeError,
    StripeUsageError,
    StripeValueError,
)
from atom_stripe.models import Customer, parse_event
from atom_stripe.sync import EventCursorExpiredError
from atom_stripe.webhooks import WebhookBodyError

from ..helpers import API, KEY


def _public_modules() -> None:
    for info in pkgutil.walk_packages(atom_stripe.__path__, "atom_stripe."):
        if "_generated" not in info.name and "pytest_plugin" not in info.name:
            try:
                importlib.import_module(info.name)
            except ImportError:  # an extra that is not installed: its errors are not reachable
                continue


def _subclasses(cls: type[StripeError]) -> Iterator[type[StripeError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_public_modules()
ERROR_CLASSES: list[type[StripeError]] = sorted(
    {StripeError, *_subclasses(StripeError)}, key=lambda c: f"{c.__module__}.{c.__qualname__}"
)

REQUEST = httpx.Request(
    "POST",
    f"{API}/v1/payment_intents",
    headers={"Authorization": f"Bearer {KEY}", "Idempotency-Key": "k1"},
    content=b"amount=100",
)
BODY = {
    "error": {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "param": "payment_method",
        "message": "Your card has insufficient funds.",
    }
}


def make(cls: type[StripeError]) -> StripeError:
    """An instance of ``cls`` as atom_stripe builds one (with the key in its request)."""
    response = httpx.Response(402, json=BODY, headers={"Request-Id": "req_pickle"}, request=REQUEST)
    if issubclass(cls, APIStatusError):
        return cls("Your card has insufficient funds.", response=response, body=BODY)
    if issubclass(cls, APIResponseError):
        return cls("not JSON", response=response)
    if issubclass(cls, APIConnectionError):
        return cls("POST /v1/payment_intents failed after 1 attempt(s): ConnectError", request=REQUEST)
    if issubclass(cls, StripeValueError):
        return cls("amount", "must be a positive integer")
    if issubclass(cls, MissingExtraError):
        return cls("redis", "redis")
    if issubclass(cls, ClientClosedError):
        return cls()
    if issubclass(cls, EventCursorExpiredError):
        return cls("The event cursor is older than 30 days: backfill again.", cursor=1_700_000_000)
    if issubclass(cls, WebhookBodyError):
        return cls("The request body is larger than 4194304 bytes.", 413)
    return cls("something went wrong")


FIELDS = ("message", "param", "status_code", "request_id", "type", "code", "decline_code", "body", "extra", "name")


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_round_trips(cls: type[StripeError]) -> None:
    error = make(cls)
    data = pickle.dumps(error)
    assert KEY.encode() not in data
    back: Any = pickle.loads(data)
    assert type(back) is cls
    assert str(back) == str(error) and repr(back) == repr(error) and back.args == error.args
    for name in FIELDS:
        assert getattr(back, name, None) == getattr(error, name, None), name
    if isinstance(back, (APIStatusError, APIResponseError)):
        assert back.response.status_code == 402
        assert back.response.json() == BODY
        assert back.response.request.url == REQUEST.url
        assert "authorization" not in back.response.request.headers
        assert back.response.request.headers["idempotency-key"] == "k1"
    if isinstance(back, APIConnectionError):
        assert back.request is not None and back.request.url == REQUEST.url
        assert "authorization" not in back.request.headers


def test_the_walk_found_the_error_tree() -> None:
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"CardError", "StripeValueError", "StripeUsageError", "RateLimiterError", "OAuthStateError"} <= names


def raise_in_worker(kind: str) -> None:
    """Runs in a worker process: fails through the public API."""
    if kind == "value":
        AsyncStripeClient(KEY, max_retries=-1)
    elif kind == "card":

        async def decline() -> None:
            with respx.mock(base_url=API, using="httpx") as mock:
                mock.post("/v1/payment_intents").respond(402, json=BODY, headers={"Request-Id": "req_worker"})
                async with AsyncStripeClient(KEY, max_retries=0) as client:
                    await client.payment_intents.create(amount=100, currency="usd", confirm=True)

        anyio.run(decline)


@pytest.mark.parametrize(("kind", "cls"), [("value", StripeValueError), ("card", CardError)])
def test_errors_come_back_from_a_process_pool(kind: str, cls: type[StripeError]) -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(raise_in_worker, kind)
        with pytest.raises(cls) as caught:
            future.result(timeout=60)
    if kind == "card":
        assert isinstance(caught.value, CardError)
        assert caught.value.decline_code == "insufficient_funds" and caught.value.request_id == "req_worker"
    else:
        assert isinstance(caught.value, StripeValueError) and caught.value.param == "max_retries"


async def test_a_fetched_page_pickles_without_its_client(api: respx.MockRouter, fixtures: dict[str, Any]) -> None:
    items = [{**fixtures["customer"], "id": f"cus_{n}"} for n in range(2)]
    api.get("/v1/customers").respond(
        200, content=json.dumps({"object": "list", "data": items, "has_more": True, "url": "/v1/customers"}).encode()
    )
    async with AsyncStripeClient(KEY) as client:
        page = await client.customers.list(limit=2)
    back = pickle.loads(pickle.dumps(page))
    assert [c.id for c in back.data] == ["cus_0", "cus_1"] and back.has_more
    assert all(isinstance(c, Customer) for c in back.data)
    assert back.next_params() == {"limit": 2, "starting_after": "cus_1"}
    with pytest.raises(StripeUsageError, match="starting_after"):
        await back.get_next_page()
    # The page it was made from still fetches through its client.
    assert page._fetch is not None


def test_events_and_models_with_pages_pickle(fixtures: dict[str, Any]) -> None:
    customer = Customer.model_validate(
        {
            **fixtures["customer"],
            "subscriptions": {"object": "list", "data": [fixtures["subscription"]], "has_more": False},
        }
    )
    assert pickle.loads(pickle.dumps(customer)) == customer
    for kind, obj in (("customer.created", fixtures["customer"]), ("invoice.paid", fixtures["invoice"])):
        event = parse_event({**fixtures["event"], "type": kind, "data": {"object": obj}})
        assert pickle.loads(pickle.dumps(event)) == event

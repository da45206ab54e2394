"""A FastAPI service tested end to end on the fake Stripe, the way docs/testing.md shows: the
ATOM router (through its HTTP surface only), the service's own endpoints, and a webhook
receiver that the fake delivers signed events to over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.fastapi import create_stripe_router
from atom_stripe.models import BaseEvent
from atom_stripe.testing import FakeStripe
from atom_stripe.webhooks import WebhookRouter

from ..helpers import serve_asgi

MONTH = 31 * 86_400


# -- the service under test -------------------------------------------------------------------------


@dataclass
class Shop:
    """What the service keeps: its Stripe client, its webhook secret, and what webhooks told it."""

    stripe: AsyncStripeClient
    webhook_secret: str = "whsec_unset"
    paid: list[str] = field(default_factory=list)
    events: list[BaseEvent] = field(default_factory=list)


def create_app(shop: Shop) -> FastAPI:
    app = FastAPI()
    app.include_router(create_stripe_router(lambda: shop.stripe))

    @app.post("/orders/{payment_id}/capture")
    async def capture(payment_id: str) -> dict[str, Any]:
        payment = await shop.stripe.payments.capture(payment_id)
        return {"status": payment.status, "amount_received": payment.amount_received}

    @app.post("/orders/{payment_id}/refund")
    async def refund(payment_id: str, amount: int | None = None) -> dict[str, Any]:
        if amount is None:
            made = await shop.stripe.refunds.create(payment_intent=payment_id)
        else:
            made = await shop.stripe.refunds.create(payment_intent=payment_id, amount=amount)
        return {"refund": made.id, "amount": made.amount}

    @app.post("/webhooks/stripe")
    async def webhook(request: Request) -> JSONResponse:
        hooks = WebhookRouter(shop.webhook_secret)

        @hooks.on("payment_intent.succeeded")
        async def paid(event: Any) -> None:
            shop.paid.append(event.data.object.id)

        hooks.on("*")(shop.events.append)
        result = await hooks.handle(await request.body(), request.headers.items())
        return JSONResponse(result.body, status_code=result.status_code)

    return app


# -- its test suite -------------------------------------------------------------------------------------


@pytest.fixture
def shop(stripe_client: AsyncStripeClient) -> Shop:
    return Shop(stripe_client)


@pytest.fixture
async def api(shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    """The service, called in process."""
    transport = httpx.ASGITransport(app=create_app(shop))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        yield client


@pytest.fixture
def served(shop: Shop) -> Iterator[str]:
    """The same service on a loopback port, for the fake's webhook deliveries."""
    with serve_asgi(create_app(shop)) as url:
        yield url


async def pay(api: httpx.AsyncClient, card: str = "pm_card_visa", **extra: Any) -> httpx.Response:
    body = {"amount": 2500, "currency": "usd", "payment_method": card, "confirm": True, **extra}
    return await api.post("/stripe/payments", json=body)


async def test_payment(api: httpx.AsyncClient, stripe_fake: FakeStripe) -> None:
    made = await pay(api)
    assert made.status_code == 201, made.text
    payment = made.json()["data"]
    assert payment["status"] == "succeeded" and payment["amount_received"] == 2500
    got = await api.get(f"/stripe/payments/{payment['id']}")
    assert got.json()["data"]["id"] == payment["id"]
    listed = await api.get("/stripe/payments")
    assert [p["id"] for p in listed.json()["data"]] == [payment["id"]]
    balance = (await api.get("/stripe/balance")).json()["data"]
    # A card charge's funds are pending until its available_on (two days on a new account).
    assert (balance["available"][0]["amount"], balance["pending"][0]["amount"]) == (
        0,
        2500 - (round(2500 * 0.029) + 30),
    )
    assert [e["type"] for e in stripe_fake.events()][-1] == "payment_intent.succeeded"


async def test_decline(api: httpx.AsyncClient) -> None:
    declined = await pay(api, "pm_card_visa_chargeDeclined")
    assert declined.status_code == 402
    error = declined.json()["error"]
    assert error["code"] == "card_declined" and error["decline_code"] == "generic_decline"
    poor = await pay(api, "pm_card_chargeDeclinedInsufficientFunds")
    assert poor.json()["error"]["decline_code"] == "insufficient_funds"


async def test_capture_then_refunds(api: httpx.AsyncClient, stripe_client: AsyncStripeClient) -> None:
    held = (await pay(api, capture_method="manual")).json()["data"]
    assert held["status"] == "requires_capture"
    captured = await api.post(f"/orders/{held['id']}/capture")
    assert captured.json() == {"status": "succeeded", "amount_received": 2500}
    partial = await api.post(f"/orders/{held['id']}/refund", params={"amount": 1000})
    assert partial.json()["amount"] == 1000
    rest = await api.post(f"/orders/{held['id']}/refund")
    assert rest.json()["amount"] == 1500
    payment = await stripe_client.payments.retrieve(held["id"], expand=["latest_charge"])
    charge = payment.latest_charge
    assert not isinstance(charge, str) and charge is not None
    assert charge.refunded is True and charge.amount_refunded == 2500


async def subscribe(api: httpx.AsyncClient, stripe: AsyncStripeClient, clock: str | None = None) -> dict[str, Any]:
    product = (await api.post("/stripe/products", json={"name": "Pro plan"})).json()["data"]
    price = await stripe.prices.create(
        product=product["id"], currency="usd", unit_amount=900, recurring={"interval": "month"}
    )
    if clock is None:
        customer_id = (await api.post("/stripe/customers", json={"email": "sub@example.com"})).json()["data"]["id"]
    else:
        customer_id = (await stripe.customers.create(email="clock@example.com", test_clock=clock)).id
    pm = await stripe.payment_methods.attach("pm_card_visa", customer=customer_id)
    await stripe.customers.update(customer_id, invoice_settings={"default_payment_method": pm.id})
    made = await api.post("/stripe/subscriptions", json={"customer": customer_id, "items": [{"price": price.id}]})
    assert made.status_code == 201, made.text
    subscription: dict[str, Any] = made.json()["data"]
    return subscription


async def test_subscription_with_invoice(api: httpx.AsyncClient, stripe_client: AsyncStripeClient) -> None:
    subscription = await subscribe(api, stripe_client)
    assert subscription["status"] == "active"
    invoice = await stripe_client.invoices.retrieve(subscription["latest_invoice"])
    assert invoice.status == "paid" and invoice.amount_paid == 900
    listed = await api.get("/stripe/subscriptions", params={"customer": subscription["customer"]})
    assert [s["id"] for s in listed.json()["data"]] == [subscription["id"]]
    canceled = await api.delete(f"/stripe/subscriptions/{subscription['id']}")
    assert canceled.json()["data"]["status"] == "canceled"


async def test_clock_renewal(api: httpx.AsyncClient, stripe_client: AsyncStripeClient) -> None:
    start = 1_767_225_600
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=start)
    subscription = await subscribe(api, stripe_client, clock=clock.id)
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=start + MONTH + 3600)
    invoices = (await stripe_client.invoices.list(subscription=subscription["id"])).data
    assert [(i.billing_reason, i.status) for i in invoices] == [
        ("subscription_cycle", "paid"),
        ("subscription_create", "paid"),
    ]
    renewed = (await api.get(f"/stripe/subscriptions/{subscription['id']}")).json()["data"]
    assert renewed["latest_invoice"] == invoices[0].id


async def test_webhook_received_and_verified(
    api: httpx.AsyncClient, served: str, shop: Shop, stripe_client: AsyncStripeClient, stripe_fake: FakeStripe
) -> None:
    endpoint = await stripe_client.webhook_endpoints.create(
        url=f"{served}/webhooks/stripe", enabled_events=["payment_intent.succeeded", "charge.refunded"]
    )
    assert endpoint.secret is not None
    shop.webhook_secret = endpoint.secret
    payment = (await pay(api)).json()["data"]
    await api.post(f"/orders/{payment['id']}/refund")
    deliveries = await stripe_fake.webhooks_delivered()
    assert [(d.event_type, d.ok) for d in deliveries] == [("payment_intent.succeeded", True), ("charge.refunded", True)]
    assert shop.paid == [payment["id"]]
    assert [e.type for e in shop.events] == ["payment_intent.succeeded", "charge.refunded"]

    shop.webhook_secret = "whsec_rotated_wrongly"  # a bad secret: refused (400), retried, never handled
    await pay(api)
    failed = (await stripe_fake.webhooks_delivered())[-1]
    assert (failed.ok, failed.status, failed.attempts) == (False, 400, 1 + stripe_fake.webhook_retries)
    assert len(shop.paid) == 1


async def test_idempotent_replay(api: httpx.AsyncClient, stripe_fake: FakeStripe) -> None:
    headers = {"Idempotency-Key": "signup-42"}
    first = await api.post("/stripe/customers", json={"email": "once@example.com"}, headers=headers)
    again = await api.post("/stripe/customers", json={"email": "once@example.com"}, headers=headers)
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    assert len(stripe_fake.store.all("customer")) == 1
    other = await api.post("/stripe/customers", json={"email": "other@example.com"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["type"] == "idempotency_error"

"""The fake Stripe's engine and behaviours, through the public client (and raw HTTP where a
service's other clients would talk to it): validation, objects, lists, search, expand,
payments, billing, test clocks, idempotency, events and webhook delivery."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from atom_stripe import (
    AsyncStripeClient,
    CardError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
)
from atom_stripe import models as m
from atom_stripe.testing import FakeStripe
from atom_stripe.testing._engine import BEHAVIOURS
from atom_stripe.webhooks import construct_event

from ..helpers import serve_asgi

MONTH = 31 * 86_400


def error_of(exc: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    body: dict[str, Any] = exc.value.body["error"]
    return body


# -- validation, from the same typed params the client uses ----------------------------------------


async def test_unknown_parameters_get_stripes_400_naming_them(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    with pytest.raises(InvalidRequestError) as unknown:
        await stripe_client.customers.create(email="a@example.com", extra_params={"emial": "typo"})
    assert error_of(unknown)["code"] == "parameter_unknown"
    assert error_of(unknown)["param"] == "emial"
    with pytest.raises(InvalidRequestError) as nested:
        await stripe_client.customers.create(extra_params={"address": {"cty": "Paris"}})
    assert error_of(nested)["param"] == "address[cty]"
    assert stripe_fake.store.all("customer") == []


async def test_raw_http_clients_are_checked_too(stripe_fake: FakeStripe) -> None:
    async with stripe_fake.serve() as url, httpx.AsyncClient(base_url=url) as http:
        auth = {"Authorization": "Bearer sk_test_raw"}
        bad_int = await http.post("/v1/payment_intents", data={"amount": "ten", "currency": "usd"}, headers=auth)
        assert bad_int.status_code == 400
        assert bad_int.json()["error"]["code"] == "parameter_invalid_integer"
        assert bad_int.json()["error"]["param"] == "amount"
        bad_enum = await http.post(
            "/v1/payment_intents", data={"amount": "10", "currency": "usd", "capture_method": "later"}, headers=auth
        )
        assert bad_enum.json()["error"]["param"] == "capture_method"
        missing = await http.post("/v1/prices", data={"product": "prod_1", "currency": "usd"}, headers=auth)
        assert missing.status_code == 400  # Stripe: an unknown id in the body is a 400 naming the parameter
        assert missing.json()["error"] | {"message": ""} == {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "product",
            "message": "",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "request_log_url": None,
        }
        made = await http.post("/v1/customers", data={"email": "raw@example.com", "metadata[a]": "1"}, headers=auth)
        assert made.status_code == 200 and made.json()["metadata"] == {"a": "1"}
        listed = await http.get("/v1/customers", params={"limit": "1"}, headers=auth)
        assert [c["id"] for c in listed.json()["data"]] == [made.json()["id"]]
        nested = await http.post("/v1/subscriptions", data={"customer": "cus_1", "items[0][prise]": "p"}, headers=auth)
        assert nested.json()["error"]["param"] == "items[0][prise]"
        assert nested.json()["error"]["code"] == "parameter_unknown"
        key = {**auth, "Idempotency-Key": "raw-1"}
        once = await http.post("/v1/products", data={"name": "Raw"}, headers=key)
        twice = await http.post("/v1/products", data={"name": "Raw"}, headers=key)
        assert twice.json() == once.json() and twice.headers["Idempotent-Replayed"] == "true"
        unset = await http.post(f"/v1/customers/{made.json()['id']}", data={"email": ""}, headers=auth)
        assert unset.json()["email"] is None
        assert (await http.get("/v1/customers", headers={})).status_code == 401
        async with AsyncStripeClient("sk_test_over_http", base_url=url, max_retries=0) as over_http:
            assert (await over_http.customers.retrieve(made.json()["id"])).email is None
        assert (await http.get("/v1/nothing", headers=auth)).status_code == 404


# -- objects, lists, search, expand ------------------------------------------------------------------


async def test_crud_and_lists(stripe_client: AsyncStripeClient) -> None:
    made = [await stripe_client.customers.create(email=f"c{i}@example.com", metadata={"n": str(i)}) for i in range(5)]
    assert all(c.id.startswith("cus_") for c in made)
    assert len({c.id for c in made}) == 5
    got = await stripe_client.customers.retrieve(made[0].id)
    assert got.email == "c0@example.com"
    updated = await stripe_client.customers.update(made[0].id, name="Zed", metadata={"extra": "x"})
    assert updated.name == "Zed" and updated.metadata == {"n": "0", "extra": "x"}

    first = await stripe_client.customers.list(limit=2)
    assert [c.id for c in first.data] == [made[4].id, made[3].id] and first.has_more
    after = await stripe_client.customers.list(limit=2, starting_after=made[3].id)
    assert [c.id for c in after.data] == [made[2].id, made[1].id]
    before = await stripe_client.customers.list(limit=2, ending_before=made[1].id)
    assert [c.id for c in before.data] == [made[3].id, made[2].id]
    assert [c.id async for c in stripe_client.customers.list(limit=2)] == [c.id for c in reversed(made)]
    by_email = await stripe_client.customers.list(email="c3@example.com")
    assert [c.id for c in by_email.data] == [made[3].id]

    deleted = await stripe_client.customers.delete(made[0].id)
    assert deleted.deleted is True
    # Stripe answers a deleted customer's retrieve with it, deleted: true (other types: 404).
    assert (await stripe_client.customers.retrieve(made[0].id)).deleted is True
    product = await stripe_client.products.create(name="Gone")
    await stripe_client.products.delete(product.id)
    with pytest.raises(NotFoundError) as gone:
        await stripe_client.products.retrieve(product.id)
    assert error_of(gone)["code"] == "resource_missing"


async def test_search_grammar(stripe_client: AsyncStripeClient) -> None:
    a = await stripe_client.customers.create(email="ann@example.com", name="Ann", metadata={"plan": "pro"})
    await stripe_client.customers.create(email="bob@example.com", name="Bob", metadata={"plan": "pro"})
    await stripe_client.customers.create(email="cy@example.com", name="Ann", metadata={"plan": "free"})
    found = await stripe_client.customers.search(query="name:'Ann' AND metadata['plan']:'pro'")
    assert [c.id for c in found.data] == [a.id]
    assert len((await stripe_client.customers.search(query="email~'example.com'")).data) == 3
    with pytest.raises(InvalidRequestError):
        await stripe_client.customers.search(query="name = Ann")


async def test_expand_held_ids(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="e@example.com")
    pi = await stripe_client.payments.create(amount=700, currency="usd", customer=customer.id)
    expanded = await stripe_client.payments.retrieve(pi.id, expand=["customer"])
    assert isinstance(expanded.customer, m.Customer) and expanded.customer.email == "e@example.com"
    page = await stripe_client.payments.list(customer=customer.id, expand=["data.customer"])
    assert isinstance(page.data[0].customer, m.Customer)


# -- payments -------------------------------------------------------------------------------------------


async def test_test_cards(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    paid = await stripe_client.payments.create(amount=2000, currency="usd", payment_method="pm_card_visa", confirm=True)
    assert paid.status == "succeeded" and paid.amount_received == 2000
    with pytest.raises(CardError) as declined:
        await stripe_client.payments.create(
            amount=2000, currency="usd", payment_method="pm_card_visa_chargeDeclined", confirm=True
        )
    assert declined.value.code == "card_declined" and declined.value.decline_code == "generic_decline"
    failed = error_of(declined)["payment_intent"]
    assert (await stripe_client.payments.retrieve(failed["id"])).status == "requires_payment_method"
    with pytest.raises(CardError) as poor:
        await stripe_client.payments.create(
            amount=2000, currency="usd", payment_method="pm_card_chargeDeclinedInsufficientFunds", confirm=True
        )
    assert poor.value.decline_code == "insufficient_funds"
    secure = await stripe_client.payments.create(
        amount=2000, currency="usd", payment_method="pm_card_authenticationRequired", confirm=True
    )
    assert secure.status == "requires_action" and secure.next_action is not None
    assert stripe_fake.authenticate(secure.id)["status"] == "succeeded"
    assert (await stripe_client.payments.retrieve(secure.id)).amount_received == 2000
    again = await stripe_client.payments.create(
        amount=900, currency="usd", payment_method="pm_card_threeDSecure2Required", confirm=True
    )
    assert stripe_fake.authenticate(again.id, succeed=False)["status"] == "requires_payment_method"
    assert [e["type"] for e in stripe_fake.events("charge.failed")] == ["charge.failed", "charge.failed"]


async def test_manual_capture_cancel_and_refunds_move_the_balance(stripe_client: AsyncStripeClient) -> None:
    held = await stripe_client.payments.create(
        amount=5000, currency="usd", payment_method="pm_card_bypassPending", capture_method="manual", confirm=True
    )
    assert held.status == "requires_capture" and held.amount_capturable == 5000
    assert (await stripe_client.balance.retrieve()).available[0].amount == 0
    captured = await stripe_client.payments.capture(held.id)
    assert captured.status == "succeeded" and captured.amount_received == 5000
    fee = round(5000 * 0.029) + 30
    assert (await stripe_client.balance.retrieve()).available[0].amount == 5000 - fee

    partial = await stripe_client.refunds.create(payment_intent=held.id, amount=1500)
    assert partial.amount == 1500 and partial.status == "succeeded"
    assert captured.latest_charge is not None
    charge = await stripe_client.charges.retrieve(str(captured.latest_charge))
    assert charge.amount_refunded == 1500 and charge.refunded is False
    rest = await stripe_client.refunds.create(charge=charge.id)
    assert rest.amount == 3500
    assert (await stripe_client.charges.retrieve(charge.id)).refunded is True
    with pytest.raises(InvalidRequestError) as again:
        await stripe_client.refunds.create(charge=charge.id)
    assert error_of(again)["code"] == "charge_already_refunded"
    assert (await stripe_client.balance.retrieve()).available[0].amount == -fee
    kinds = [t.type for t in (await stripe_client.balance_transactions.list()).data]
    assert kinds == ["refund", "refund", "charge"]

    open_pi = await stripe_client.payments.create(amount=100, currency="usd")
    canceled = await stripe_client.payments.cancel(open_pi.id)
    assert canceled.status == "canceled"
    with pytest.raises(InvalidRequestError) as late:
        await stripe_client.payments.cancel(captured.id)
    assert error_of(late)["code"] == "payment_intent_unexpected_state"


async def test_customer_payment_methods_and_default(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="pm@example.com")
    pm = await stripe_client.payment_methods.attach("pm_card_mastercard", customer=customer.id)
    assert pm.customer == customer.id and pm.card is not None and pm.card.last4 == "4444"
    await stripe_client.customers.update(customer.id, invoice_settings={"default_payment_method": pm.id})
    again = await stripe_client.customers.retrieve(customer.id)
    assert again.invoice_settings is not None and again.invoice_settings.default_payment_method == pm.id
    listed = await stripe_client.customers.payment_methods.list(customer.id)
    assert [p.id for p in listed.data] == [pm.id]


# -- billing ---------------------------------------------------------------------------------------------


async def subscriber(stripe: AsyncStripeClient, *, card: str = "pm_card_visa", clock: str | None = None) -> Any:
    product = await stripe.products.create(name="Pro")
    price = await stripe.prices.create(
        product=product.id, currency="usd", unit_amount=1200, recurring={"interval": "month"}
    )
    extra: dict[str, Any] = {"test_clock": clock} if clock else {}
    customer = await stripe.customers.create(email="sub@example.com", payment_method=card, **extra)
    pm = (await stripe.customers.payment_methods.list(customer.id)).data[0]
    await stripe.customers.update(customer.id, invoice_settings={"default_payment_method": pm.id})
    return customer, price


async def test_subscription_bills_a_paid_invoice_then_cancels(stripe_client: AsyncStripeClient) -> None:
    customer, price = await subscriber(stripe_client)
    assert price.type == "recurring" and price.recurring is not None and price.recurring.interval == "month"
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id, "quantity": 2}])
    assert sub.status == "active" and sub.items.data[0].price.id == price.id
    invoice = await stripe_client.invoices.retrieve(str(sub.latest_invoice))
    assert invoice.status == "paid" and invoice.amount_paid == 2400 and invoice.billing_reason == "subscription_create"
    assert [i.id for i in (await stripe_client.invoices.list(customer=customer.id)).data] == [invoice.id]
    canceled = await stripe_client.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled"
    assert (await stripe_client.subscriptions.list(customer=customer.id)).data == []
    assert len((await stripe_client.subscriptions.list(customer=customer.id, status="all")).data) == 1


async def test_declining_card_leaves_a_subscription_incomplete_and_pause_resume(
    stripe_client: AsyncStripeClient,
) -> None:
    # Stripe declines pm_card_chargeDeclined when it is attached; this card attaches, then fails.
    customer, price = await subscriber(stripe_client, card="pm_card_chargeCustomerFail")
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    assert sub.status == "incomplete"
    assert (await stripe_client.invoices.retrieve(str(sub.latest_invoice))).status == "open"
    good, price2 = await subscriber(stripe_client)
    running = await stripe_client.subscriptions.create(customer=good.id, items=[{"price": price2.id}])
    assert (await stripe_client.subscriptions.pause(running.id)).status == "paused"
    assert (await stripe_client.subscriptions.resume(running.id)).status == "active"


async def test_test_clock_renews_subscriptions(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    start = 1_767_225_600  # 2026-01-01
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=start)
    customer, price = await subscriber(stripe_client, clock=clock.id)
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    assert sub.created == start and sub.items.data[0].current_period_end == start + 31 * 86_400
    # Stripe advances a clock at most two intervals of its shortest subscription at a time.
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=start + MONTH)
    advanced = await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=start + 2 * MONTH)
    advanced = await stripe_client.test_helpers.test_clocks.retrieve(clock.id)
    assert advanced.status == "ready" and advanced.frozen_time == start + 2 * MONTH
    invoices = (await stripe_client.invoices.list(customer=customer.id)).data
    assert [i.billing_reason for i in invoices] == ["subscription_cycle", "subscription_cycle", "subscription_create"]
    assert all(i.status == "paid" for i in invoices)
    renewed = await stripe_client.subscriptions.retrieve(sub.id)
    assert renewed.latest_invoice == invoices[0].id and renewed.status == "active"
    assert "test_helpers.test_clock.ready" in [e["type"] for e in stripe_fake.events()]


async def test_checkout_and_portal_sessions_have_urls(stripe_client: AsyncStripeClient) -> None:
    customer, price = await subscriber(stripe_client)
    checkout = await stripe_client.checkout.sessions.create(
        mode="subscription",
        customer=customer.id,
        line_items=[{"price": price.id, "quantity": 3}],
        success_url="https://example.com/ok",
    )
    assert checkout.url is not None and checkout.url.startswith("https://checkout.stripe.com/c/pay/cs_")
    assert checkout.status == "open" and checkout.amount_total == 3600
    items = await stripe_client.checkout.sessions.line_items.list(checkout.id)
    assert [i.quantity for i in items.data] == [3]
    assert (await stripe_client.checkout.sessions.expire(checkout.id)).status == "expired"
    portal = await stripe_client.billing_portal.sessions.create(customer=customer.id, return_url="https://example.com")
    assert portal.url.startswith("https://billing.stripe.com/p/session/bps_")


# -- idempotency, events, webhooks, the client's own pipeline ------------------------------------------------


async def test_idempotent_replay_and_mismatch(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    first = await stripe_client.customers.create(email="i@example.com", idempotency_key="order-1")
    again = await stripe_client.customers.create(email="i@example.com", idempotency_key="order-1")
    assert again.id == first.id and len(stripe_fake.store.all("customer")) == 1
    assert len(stripe_fake.events("customer.created")) == 1
    with pytest.raises(IdempotencyError) as mismatch:
        await stripe_client.customers.create(email="other@example.com", idempotency_key="order-1")
    assert mismatch.value.status_code == 400


async def test_every_request_is_recorded_through_the_clients_pipeline(stripe_fake: FakeStripe) -> None:
    seen: list[str] = []
    stripe = stripe_fake.client(on_request=lambda record: seen.append(record.path))
    await stripe.customers.create(email="r@example.com", metadata={"k": "v"})
    request = stripe_fake.requests[-1]
    assert request["method"] == "POST" and request["path"] == "/v1/customers"
    assert request["params"] == {"email": "r@example.com", "metadata": {"k": "v"}}
    assert request["headers"]["idempotency-key"] and request["headers"]["stripe-version"] == stripe.api_version
    assert seen == ["/v1/customers"]
    assert request["headers"]["authorization"] == "Bearer sk_test_...fake"


async def test_the_clients_retries_run_against_an_outage(stripe_fake: FakeStripe) -> None:
    stripe = stripe_fake.client(max_retries=2)
    stripe_fake.fail_next(503, times=2)
    customer = await stripe.customers.create(email="retry@example.com")
    attempts = stripe_fake.requests
    assert len(attempts) == 3 and len({r["headers"]["idempotency-key"] for r in attempts}) == 1
    assert len(stripe_fake.store.all("customer")) == 1 and customer.email == "retry@example.com"
    assert stripe.stats().retries == 2


async def test_a_failure_of_the_fake_is_a_stripe_500(stripe_fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setitem(BEHAVIOURS, "customers.create", broken)
    with pytest.raises(ServerError) as failed:
        await stripe_fake.client(max_retries=0).customers.create(email="x@example.com")
    assert failed.value.status_code == 500 and "RuntimeError('a bug')" in str(failed.value)


async def test_events_for_every_change(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="ev@example.com")
    await stripe_client.customers.update(customer.id, name="Eve")
    events = (await stripe_client.events.list()).data
    assert [e.type for e in events] == ["customer.updated", "customer.created"]
    updated = await stripe_client.events.retrieve(events[0].id)
    assert updated.data.previous_attributes == {"name": None}
    assert (await stripe_client.events.list(type="customer.created")).data[0].id == events[1].id


class Receiver:
    """A webhook receiver on a loopback port that fails its first ``fail`` deliveries."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.bodies: list[tuple[bytes, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        self.bodies.append((body, headers[b"stripe-signature"].decode()))
        status = 500 if len(self.bodies) <= self.fail else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_webhooks_are_signed_delivered_and_retried(
    stripe_client: AsyncStripeClient, stripe_fake: FakeStripe
) -> None:
    receiver = Receiver(fail=2)
    with serve_asgi(receiver) as url:
        endpoint = await stripe_client.webhook_endpoints.create(url=f"{url}/hook", enabled_events=["customer.created"])
        assert endpoint.secret is not None and endpoint.secret.startswith("whsec_")
        customer = await stripe_client.customers.create(email="hook@example.com")
        await stripe_client.customers.update(customer.id, name="not subscribed to")
        deliveries = await stripe_fake.webhooks_delivered()
    assert [(d.event_type, d.attempts, d.ok) for d in deliveries] == [("customer.created", 3, True)]
    body, signature = receiver.bodies[-1]
    event = construct_event(body, signature, endpoint.secret)
    assert event.type == "customer.created" and getattr(event.data.object, "id", None) == customer.id
    assert json.loads(body)["id"] == (await stripe_client.events.list(type="customer.created")).data[0].id

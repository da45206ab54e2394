"""Webhook verification, typed events and the receiver."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import stripe

from atom_stripe import SignatureVerificationError
from atom_stripe import models as m
from atom_stripe.webhooks import (
    InMemoryEventStore,
    WebhookRouter,
    construct_event,
    generate_test_header,
    verify_header,
)

SECRET = "whsec_test_0123456789abcdef"
OTHER = "whsec_test_rotated_fedcba9876"
NOW = 1_800_000_000


def payload(fixtures: dict[str, Any], **changes: Any) -> bytes:
    event = {**fixtures["event"], **changes}
    return json.dumps(event).encode()


def event_with(fixtures: dict[str, Any], event_type: str, obj: dict[str, Any], **changes: Any) -> bytes:
    return payload(fixtures, type=event_type, data={"object": obj}, **changes)


# -- verification -------------------------------------------------------------------------


def test_a_valid_signature_verifies_and_parses(fixtures: dict[str, Any]) -> None:
    body = event_with(fixtures, "payment_intent.succeeded", fixtures["payment_intent"], id="evt_1")
    header = generate_test_header(body, SECRET, timestamp=NOW)
    event = construct_event(body, header, SECRET, now=NOW)
    assert isinstance(event, m.PaymentIntentEvent)
    assert isinstance(event.data.object, m.PaymentIntent)
    assert event.id == "evt_1" and event.type == "payment_intent.succeeded"
    # The payload may also be given as str.
    assert construct_event(body.decode(), header, SECRET, now=NOW).id == "evt_1"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "missing"),
        ("", "missing"),
        ("garbage", "malformed"),
        ("t=abc,v1=00", "timestamp"),
        (f"v1={'0' * 64}", "timestamp"),
        (f"t={NOW}", "no v1"),
        (f"t={NOW},v0=SIGNATURE_V0", "no v1"),
        (f"t={NOW},v1={'0' * 64}", "matches"),
    ],
)
def test_bad_headers_are_refused(fixtures: dict[str, Any], header: str | None, why: str) -> None:
    body = payload(fixtures)
    if header and "SIGNATURE_V0" in header:
        header = header.replace("SIGNATURE_V0", generate_test_header(body, SECRET, timestamp=NOW).split("v1=")[1])
    with pytest.raises(SignatureVerificationError, match=why):
        verify_header(body, header, SECRET, now=NOW)


def test_tampered_body_wrong_secret_and_replays(fixtures: dict[str, Any]) -> None:
    body = payload(fixtures)
    header = generate_test_header(body, SECRET, timestamp=NOW)
    with pytest.raises(SignatureVerificationError):
        verify_header(body.replace(b'"event"', b'"evenT"'), header, SECRET, now=NOW)
    with pytest.raises(SignatureVerificationError):
        verify_header(body, header, OTHER, now=NOW)
    # Within tolerance on both sides is fine; beyond it, in the past or the future, is not.
    verify_header(body, header, SECRET, now=NOW + 300)
    verify_header(body, header, SECRET, now=NOW - 300)
    with pytest.raises(SignatureVerificationError, match="old"):
        verify_header(body, header, SECRET, now=NOW + 301)
    with pytest.raises(SignatureVerificationError, match="future"):
        verify_header(body, header, SECRET, now=NOW - 301)
    with pytest.raises(SignatureVerificationError, match="old"):
        verify_header(body, header, SECRET, now=NOW + 11, tolerance=10)


def test_secret_rotation(fixtures: dict[str, Any]) -> None:
    body = payload(fixtures)
    old = generate_test_header(body, SECRET, timestamp=NOW)
    new = generate_test_header(body, OTHER, timestamp=NOW)
    both = old + ",v1=" + new.split("v1=")[1]
    verify_header(body, old, [OTHER, SECRET], now=NOW)
    verify_header(body, new, [OTHER, SECRET], now=NOW)
    verify_header(body, both, OTHER, now=NOW)
    verify_header(body, both, SECRET, now=NOW)
    with pytest.raises(SignatureVerificationError):
        verify_header(body, old, ["whsec_nope", OTHER], now=NOW)
    with pytest.raises(SignatureVerificationError):
        verify_header(body, old, [], now=NOW)


def test_messages_never_hold_the_secret_or_expected_signature(fixtures: dict[str, Any]) -> None:
    body = payload(fixtures)
    expected = generate_test_header(body, SECRET, timestamp=NOW).split("v1=")[1]
    for header in (f"t={NOW},v1={'1' * 64}", f"t={NOW - 999},v1={expected}", "bad"):
        with pytest.raises(SignatureVerificationError) as info:
            verify_header(body, header, SECRET, now=NOW)
        text = str(info.value) + repr(info.value)
        assert SECRET not in text and expected not in text


def test_thin_events_are_refused_clearly() -> None:
    body = json.dumps({"id": "evt_1", "object": "v2.core.event", "type": "x", "created": "2026-01-01T00:00:00Z"})
    header = generate_test_header(body, SECRET, timestamp=NOW)
    verify_header(body, header, SECRET, now=NOW)
    with pytest.raises(SignatureVerificationError, match="thin event"):
        construct_event(body, header, SECRET, now=NOW)


def test_interoperability_with_stripe_python(fixtures: dict[str, Any]) -> None:
    body = payload(fixtures)
    text = body.decode()
    theirs = stripe.WebhookSignature.generate_signature_header(text, SECRET)
    ours = generate_test_header(body, SECRET)
    # Each side accepts the other's header ...
    verify_header(body, theirs, SECRET)
    assert stripe.WebhookSignature.verify_header(text, ours, SECRET, tolerance=300)
    assert stripe.Webhook.construct_event(text, ours, SECRET).id == fixtures["event"]["id"]
    # ... and both refuse a tampered body.
    tampered = text.replace(fixtures["event"]["id"], "evt_forged")
    with pytest.raises(SignatureVerificationError):
        verify_header(tampered, theirs, SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(tampered, ours, SECRET, tolerance=300)


# -- typed events -----------------------------------------------------------------------


def test_every_fixture_event_parses(fixtures: dict[str, Any]) -> None:
    events = {k: v for k, v in fixtures.items() if isinstance(v, dict) and v.get("object") == "event"}
    assert events
    for data in events.values():
        event = m.parse_event(data)
        assert isinstance(event, m.BaseEvent)
        assert event.id == data["id"]


@pytest.mark.parametrize(
    ("event_type", "fixture", "cls", "model"),
    [
        ("payment_intent.payment_failed", "payment_intent", m.PaymentIntentEvent, m.PaymentIntent),
        ("charge.refunded", "charge", m.ChargeEvent, m.Charge),
        ("refund.created", "refund", m.RefundEvent, m.Refund),
        ("customer.updated", "customer", m.CustomerEvent, m.Customer),
        ("customer.subscription.deleted", "subscription", m.SubscriptionEvent, m.Subscription),
        ("product.created", "product", m.ProductEvent, m.Product),
        ("price.updated", "price", m.PriceEvent, m.Price),
        ("balance.available", "balance", m.BalanceEvent, m.Balance),
        ("account.updated", "account", m.AccountEvent, m.Account),
    ],
)
def test_data_object_parses_into_its_model(
    fixtures: dict[str, Any], event_type: str, fixture: str, cls: type[m.BaseEvent], model: type[Any]
) -> None:
    previous = {"description": "old"}
    event = m.parse_event(
        {
            **fixtures["event"],
            "type": event_type,
            "data": {"object": fixtures[fixture], "previous_attributes": previous},
        }
    )
    assert type(event) is cls
    assert type(event.data.object) is model
    assert event.data.previous_attributes == previous
    assert event.data.object.model_extra == {}


def test_unknown_types_and_shapes_never_fail(fixtures: dict[str, Any]) -> None:
    unknown = m.parse_event({**fixtures["event"], "type": "brand_new.thing", "data": {"object": {"object": "x"}}})
    assert isinstance(unknown, m.UnknownEvent)
    assert unknown.data.object.model_extra == {"object": "x"}
    odd = m.parse_event(
        {
            **fixtures["event"],
            "type": "balance.available",
            "data": {"object": {"object": "balance", "available": {"amount": 1}}},
        }
    )
    # An off-shape field keeps the typed event; the odd value is kept raw (model_invalid).
    assert isinstance(odd, m.BalanceEvent)
    assert odd.data.object.model_invalid == {"available": {"amount": 1}}
    application = m.parse_event(
        {
            **fixtures["event"],
            "type": "account.application.deauthorized",
            "account": "acct_1",
            "data": {"object": {"object": "application", "id": "ca_1"}},
        }
    )
    assert isinstance(application, m.UnknownEvent)
    assert application.account == "acct_1"


# -- the receiver ------------------------------------------------------------------------


def signed(body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": generate_test_header(body, SECRET), "Content-Type": "application/json"}


async def test_router_dispatches_by_type_and_deduplicates(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET)
    seen: list[str] = []

    @router.on("payment_intent.succeeded")
    async def paid(event: m.PaymentIntentEvent) -> None:
        seen.append(f"paid:{event.data.object.id}")

    @router.on("payment_intent.*")
    def any_intent(event: m.BaseEvent) -> None:
        seen.append(f"any:{event.type}")

    @router.on("*")
    async def everything(event: m.BaseEvent) -> None:
        seen.append("*")

    body = event_with(fixtures, "payment_intent.succeeded", fixtures["payment_intent"], id="evt_a")
    result = await router.handle(body, signed(body))
    assert result.status_code == 200 and result.handled == 3 and not result.duplicate
    assert seen == [f"paid:{fixtures['payment_intent']['id']}", "any:payment_intent.succeeded", "*"]

    again = await router.handle(body, signed(body))
    assert again.status_code == 200 and again.duplicate
    assert len(seen) == 3

    other = event_with(fixtures, "customer.created", fixtures["customer"], id="evt_b")
    result = await router.handle(other, list(signed(other).items()))
    assert result.status_code == 200 and result.handled == 1


async def test_router_refuses_bad_signatures_and_reports_failing_handlers(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET)
    calls = 0

    @router.on("customer.created")
    async def boom(event: m.CustomerEvent) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("database down")

    body = event_with(fixtures, "customer.created", fixtures["customer"], id="evt_c")
    bad = await router.handle(body, {"Stripe-Signature": "t=1,v1=00"})
    assert bad.status_code == 400 and isinstance(bad.error, SignatureVerificationError)
    failed = await router.handle(body, signed(body))
    assert failed.status_code == 500 and isinstance(failed.error, RuntimeError)
    assert failed.body == {"received": False, "id": "evt_c", "error": "RuntimeError"}
    # Not marked handled: Stripe's retry runs the handler again.
    await router.handle(body, signed(body))
    assert calls == 2


async def test_in_memory_store_is_bounded() -> None:
    store = InMemoryEventStore(max_size=2)
    for i in range(3):
        claim = await store.claim(f"evt_{i}")
        await store.complete(f"evt_{i}", claim.token)
    assert (await store.claim("evt_0")).status == "claimed"
    assert (await store.claim("evt_2")).status == "done"


async def test_asgi_app_through_httpx(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET)
    got: list[m.CustomerEvent] = []

    @router.on("customer.created")
    async def created(event: m.CustomerEvent) -> None:
        got.append(event)

    transport = httpx.ASGITransport(app=router.asgi_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        body = event_with(fixtures, "customer.created", fixtures["customer"], id="evt_asgi")
        ok = await http.post("/", content=body, headers=signed(body))
        assert ok.status_code == 200 and ok.json() == {"received": True, "id": "evt_asgi"}
        forged = await http.post("/", content=body, headers={"Stripe-Signature": f"t=1,v1={'0' * 64}"})
        assert forged.status_code == 400
        assert (await http.get("/")).status_code == 405
    assert [e.id for e in got] == ["evt_asgi"]

"""Thin events: parse_event_notification, the generated notification classes, fetch_event and
fetch_related_object (stripe-python 16.1.0 is the oracle for class names)."""

from __future__ import annotations

import importlib
import inspect
import json
from datetime import datetime
from typing import Any

import httpx
import pytest
import respx
import stripe as stripe_python
from stripe.events._event_classes import _V2_EVENT_CLASS_LOOKUP, _V2_EVENT_NOTIFICATION_CLASS_LOOKUP
from typing_extensions import assert_type

from atom_stripe import (
    AsyncStripeClient,
    SignatureVerificationError,
    StripeUsageError,
    StripeValueError,
    models,
)
from atom_stripe._generated.notifications import (
    V1BalanceAvailableEventNotification,
    V1BillingMeterErrorReportTriggeredEventNotification,
)
from atom_stripe._thin_events import (
    RelatedObject,
    RelatedSingletonObject,
    UnknownEventNotification,
    V2Event,
    notification_class,
    parse_notification,
)
from atom_stripe.models import (
    Balance,
    BillingMeter,
    Customer,
    V1BillingMeterErrorReportTriggeredEventData,
    V1BillingMeterErrorReportTriggeredEventDataReasonErrorTypeSampleErrorRequest,
    V2CoreAccountLinkReturnedEventData,
)
from atom_stripe.models._base import StripeObject
from atom_stripe.webhooks import generate_test_header

from ..helpers import KEY, fixture_bytes

SECRET = "whsec_test_secret"


def _payload(event_type: str, **changes: Any) -> bytes:
    body = {
        "id": "evt_test_65R9Ijk8ZLZH4ZWNkDp16Pa5QHqSXz0bITWPR8wRe8nX",
        "object": "v2.core.event",
        "type": event_type,
        "livemode": False,
        "created": "2026-11-30T06:20:52.246Z",
        "context": "acct_1Nv0FGQ9RKHgCVdK",
        "related_object": {"id": "mtr_123", "type": "billing.meter", "url": "/v1/billing/meters/mtr_123"},
        "reason": {"type": "request", "request": {"id": "req_123", "idempotency_key": "key_1"}},
        **changes,
    }
    return json.dumps({k: v for k, v in body.items() if v is not None}, indent=2).encode()


@pytest.mark.parametrize("event_type", sorted(_V2_EVENT_NOTIFICATION_CLASS_LOOKUP))
def test_every_type_parses_to_stripe_pythons_class(event_type: str) -> None:
    client = AsyncStripeClient(KEY)
    body = _payload(event_type)
    header = generate_test_header(body, SECRET)
    ours = client.parse_event_notification(body, header, SECRET)
    theirs = stripe_python.StripeClient(KEY).parse_event_notification(body, header, SECRET)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.type == ours.LOOKUP_TYPE == event_type
    assert ours.context == "acct_1Nv0FGQ9RKHgCVdK" and ours.created == datetime.fromisoformat(
        "2026-11-30T06:20:52.246+00:00"
    )
    assert hasattr(ours, "fetch_related_object") == hasattr(theirs, "fetch_related_object")


def test_an_unknown_type_parses_to_unknown_event_notification() -> None:
    client = AsyncStripeClient(KEY)
    body = _payload("v9.future.thing.happened")
    notification = client.parse_event_notification(body, generate_test_header(body, SECRET), SECRET)
    assert type(notification) is UnknownEventNotification
    assert isinstance(notification.related_object, RelatedObject) and notification.related_object.id == "mtr_123"
    bare = parse_notification(_payload("v9.future.thing.happened", related_object=None), None)
    assert isinstance(bare, UnknownEventNotification) and bare.related_object is None


def test_the_signature_is_checked() -> None:
    client = AsyncStripeClient(KEY)
    body = _payload("v1.billing.meter.error_report_triggered")
    with pytest.raises(SignatureVerificationError, match="No v1 signature"):
        client.parse_event_notification(body, generate_test_header(body, "whsec_other"), SECRET)
    with pytest.raises(SignatureVerificationError, match="missing"):
        client.parse_event_notification(body, None, SECRET)
    tampered = body.replace(b"mtr_123", b"mtr_999")
    with pytest.raises(SignatureVerificationError):
        client.parse_event_notification(tampered, generate_test_header(body, SECRET), SECRET)
    old = generate_test_header(body, SECRET, timestamp=1_000_000)
    with pytest.raises(SignatureVerificationError, match="old"):
        client.parse_event_notification(body, old, SECRET)


def test_snapshot_events_and_other_objects_are_refused() -> None:
    client = AsyncStripeClient(KEY)
    for body, why in (
        (json.dumps({"id": "evt_1", "object": "event", "type": "customer.created"}).encode(), "snapshot"),
        (json.dumps({"id": "x", "object": "customer", "type": "a"}).encode(), "Unexpected object"),
        (b"[1, 2]", "not an event notification"),
        (b"{nope", "not JSON"),
        (json.dumps({"object": "v2.core.event", "type": "a"}).encode(), "no usable id"),
        (_payload("v1.billing.meter.error_report_triggered", related_object={"url": "/v1/x"}), "does not parse"),
    ):
        with pytest.raises(SignatureVerificationError, match=why):
            client.parse_event_notification(body, generate_test_header(body, SECRET), SECRET)
        with pytest.raises(SignatureVerificationError, match=why):
            client.parse_event_notification_without_verification(body)


async def test_fetch_event_gets_the_event_with_the_context(api: respx.MockRouter) -> None:
    event = {
        **json.loads(_payload("v1.billing.meter.error_report_triggered")),
        "data": {"developer_message_summary": "2 errors", "reason": {"error_count": 2}},
    }
    route = api.get("/v2/core/events/evt_test_65R9Ijk8ZLZH4ZWNkDp16Pa5QHqSXz0bITWPR8wRe8nX").mock(
        return_value=httpx.Response(200, json=event)
    )
    async with AsyncStripeClient(KEY) as client:
        notification = client.parse_event_notification_without_verification(
            _payload("v1.billing.meter.error_report_triggered")
        )
        assert isinstance(notification, V1BillingMeterErrorReportTriggeredEventNotification)
        fetched = await notification.fetch_event()
        assert_type(fetched, models.V1BillingMeterErrorReportTriggeredEvent)
        assert_type(fetched.data, V1BillingMeterErrorReportTriggeredEventData)
    assert isinstance(fetched, models.V1BillingMeterErrorReportTriggeredEvent)
    assert isinstance(fetched.data, V1BillingMeterErrorReportTriggeredEventData)
    assert fetched.data.developer_message_summary == "2 errors" and fetched.data.reason.error_count == 2
    sent = route.calls.last.request
    assert sent.headers["Stripe-Context"] == "acct_1Nv0FGQ9RKHgCVdK"
    assert sent.headers["Stripe-Request-Trigger"] == f"event={notification.id}"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"


async def test_fetch_related_object_parses_the_v1_model(api: respx.MockRouter, fixtures: dict[str, Any]) -> None:
    meter = api.get("/v1/billing/meters/mtr_123").mock(
        return_value=httpx.Response(200, content=fixture_bytes(fixtures, "billing.meter", id="mtr_123"))
    )
    balance = api.get("/v1/balance").mock(return_value=httpx.Response(200, content=fixture_bytes(fixtures, "balance")))
    async with AsyncStripeClient(KEY) as client:
        notification = client.parse_event_notification_without_verification(
            _payload("v1.billing.meter.error_report_triggered")
        )
        assert isinstance(notification, V1BillingMeterErrorReportTriggeredEventNotification)
        related = await notification.fetch_related_object()
        singleton = client.parse_event_notification_without_verification(
            _payload("v1.balance.available", context=None, related_object={"type": "balance", "url": "/v1/balance"})
        )
        assert isinstance(singleton, V1BalanceAvailableEventNotification)
        current = await singleton.fetch_related_object()
    assert isinstance(related, BillingMeter) and related.id == "mtr_123"
    assert meter.calls.last.request.headers["Stripe-Context"] == "acct_1Nv0FGQ9RKHgCVdK"
    assert isinstance(current, Balance)
    assert "Stripe-Context" not in balance.calls.last.request.headers


def _unknown(client: AsyncStripeClient, related_object: dict[str, str]) -> UnknownEventNotification:
    """A notification of a type this release does not know, naming ``related_object``."""
    notification = client.parse_event_notification_without_verification(
        _payload("v9.future.thing.happened", related_object=related_object)
    )
    assert isinstance(notification, UnknownEventNotification)
    return notification


async def test_an_unknown_types_related_object_is_generic(api: respx.MockRouter) -> None:
    api.get("/v2/future/things/thg_1").mock(
        return_value=httpx.Response(200, json={"id": "thg_1", "object": "v2.future.thing", "size": 3})
    )
    async with AsyncStripeClient(KEY) as client:
        notification = _unknown(client, {"id": "thg_1", "type": "thing", "url": "/v2/future/things/thg_1"})
        related = await notification.fetch_related_object()
    assert isinstance(related, StripeObject) and related.model_dump()["size"] == 3


async def test_a_related_url_that_is_not_an_api_path_is_refused(api: respx.MockRouter) -> None:
    async with AsyncStripeClient(KEY) as client:
        for url in ("https://evil.example/v1/x", "/v1/../v1/balance", "/v1/x?y=1"):
            notification = client.parse_event_notification_without_verification(
                _payload("v9.future.thing.happened", related_object={"id": "x", "type": "x", "url": url})
            )
            assert isinstance(notification, UnknownEventNotification)
            with pytest.raises(StripeValueError, match=r"related_object\.url"):
                await notification.fetch_related_object()
    assert not api.calls


async def test_a_notification_parsed_without_a_client_cannot_fetch() -> None:
    notification = parse_notification(_payload("v1.billing.meter.error_report_triggered"), None)
    with pytest.raises(StripeUsageError, match="without a client"):
        await notification.fetch_event()


async def test_the_context_replaces_the_clients_connected_account(
    api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    route = api.get("/v1/billing/meters/mtr_123").mock(
        return_value=httpx.Response(200, content=fixture_bytes(fixtures, "billing.meter", id="mtr_123"))
    )
    async with AsyncStripeClient(KEY, stripe_account="acct_1Platform") as client:
        with_context = client.parse_event_notification_without_verification(
            _payload("v1.billing.meter.error_report_triggered")
        )
        without = client.parse_event_notification_without_verification(
            _payload("v1.billing.meter.error_report_triggered", context=None)
        )
        assert isinstance(with_context, V1BillingMeterErrorReportTriggeredEventNotification)
        assert isinstance(without, V1BillingMeterErrorReportTriggeredEventNotification)
        await with_context.fetch_related_object()
        await without.fetch_related_object()
    first, second = (call.request.headers for call in route.calls)
    assert first["Stripe-Context"] == "acct_1Nv0FGQ9RKHgCVdK" and "Stripe-Account" not in first
    assert second["Stripe-Account"] == "acct_1Platform" and "Stripe-Context" not in second


async def test_a_v2_related_object_parses_into_its_v2_model(api: respx.MockRouter) -> None:
    from atom_stripe.models import V2CoreAccount

    account = {"id": "acct_1Nv0", "object": "v2.core.account", "created": "2026-11-30T06:20:52.246Z", "livemode": False}
    route = api.get("/v2/core/accounts/acct_1Nv0").mock(return_value=httpx.Response(200, json=account))
    async with AsyncStripeClient(KEY) as client:
        notification = client.parse_event_notification_without_verification(
            _payload(
                "v2.core.account.updated",
                related_object={"id": "acct_1Nv0", "type": "v2.core.account", "url": "/v2/core/accounts/acct_1Nv0"},
            )
        )
        assert type(notification).__name__ == "V2CoreAccountUpdatedEventNotification"
        related = await notification.fetch_related_object()  # type: ignore[attr-defined]
    assert isinstance(related, V2CoreAccount) and related.id == "acct_1Nv0"
    assert route.calls.last.request.headers["Stripe-Context"] == "acct_1Nv0FGQ9RKHgCVdK"


async def test_the_request_trigger_goes_on_the_two_reads_only_through_the_one_pipeline(
    api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    event = json.loads(_payload("v1.billing.meter.error_report_triggered"))
    events = api.get("/v2/core/events/evt_test_65R9Ijk8ZLZH4ZWNkDp16Pa5QHqSXz0bITWPR8wRe8nX").mock(
        side_effect=[httpx.Response(500, json={"error": {"message": "busy"}}), httpx.Response(200, json=event)]
    )
    meters = api.get("/v1/billing/meters/mtr_123").mock(
        return_value=httpx.Response(200, content=fixture_bytes(fixtures, "billing.meter", id="mtr_123"))
    )
    seen: list[tuple[str, int]] = []
    async with AsyncStripeClient(KEY) as client:
        client.add_hook("on_request", lambda record: seen.append((record.path, record.attempt)))
        notification = client.parse_event_notification_without_verification(
            _payload("v1.billing.meter.error_report_triggered")
        )
        assert isinstance(notification, V1BillingMeterErrorReportTriggeredEventNotification)
        await notification.fetch_event()
        await notification.fetch_related_object()
        await client.billing.meters.retrieve("mtr_123")
        stats = client.stats()
    trigger = f"event={notification.id}"
    first, second = (call.request for call in events.calls)
    assert first.headers["Stripe-Request-Trigger"] == second.headers["Stripe-Request-Trigger"] == trigger
    related, plain = (call.request for call in meters.calls)
    assert related.headers["Stripe-Request-Trigger"] == trigger
    assert "Stripe-Request-Trigger" not in plain.headers and "Stripe-Context" not in plain.headers
    events_path, meter_path = "/v2/core/events/{id}", "/v1/billing/meters/{id}"
    assert seen == [(events_path, 1), (events_path, 2), (meter_path, 1), (meter_path, 1)]
    assert stats.retries == 1


async def test_a_related_read_is_counted_under_the_endpoints_own_template(
    api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    """An id with no digit in it (before: counted under its own path, one stats key per object)."""
    customers = api.get("/v1/customers/cus_abcdef").mock(
        return_value=httpx.Response(200, content=fixture_bytes(fixtures, "customer", id="cus_abcdef"))
    )
    seen: list[str] = []
    async with AsyncStripeClient(KEY) as client:
        client.add_hook("on_request", lambda record: seen.append(record.path))
        notification = _unknown(client, {"id": "cus_abcdef", "type": "customer", "url": "/v1/customers/cus_abcdef"})
        related = await notification.fetch_related_object()
        await client.customers.retrieve("cus_abcdef")
        stats = client.stats()
    assert isinstance(related, Customer) and len(customers.calls) == 2
    assert seen == ["/v1/customers/{customer}", "/v1/customers/{customer}"]
    assert stats.endpoints["GET /v1/customers/{customer}"]["calls"] == 2
    assert not [key for key in stats.endpoints if "cus_abcdef" in key]


@pytest.mark.parametrize("event_type", sorted(_V2_EVENT_NOTIFICATION_CLASS_LOOKUP))
def test_every_fetch_event_is_typed_as_stripe_pythons_event_class(event_type: str) -> None:
    ours = notification_class(event_type)
    module, name = _V2_EVENT_NOTIFICATION_CLASS_LOOKUP[event_type]
    theirs = getattr(importlib.import_module(module), name)
    returns = ours.fetch_event.__annotations__["return"]
    assert returns == theirs.fetch_event.__annotations__["return"] == _V2_EVENT_CLASS_LOOKUP[event_type][1]
    event = getattr(models, returns)
    assert issubclass(event, V2Event) and event_type == event.LOOKUP_TYPE
    # The event's data and related object are typed as stripe-python types them.
    their_event = getattr(importlib.import_module(_V2_EVENT_CLASS_LOOKUP[event_type][0]), returns)
    their_fields = inspect.get_annotations(their_event)
    data = event.model_fields["data"].annotation
    if "data" in their_fields:
        assert isinstance(data, type) and data.__name__ == their_fields["data"].__name__
    else:
        assert data == StripeObject | None
    related = event.model_fields["related_object"].annotation
    if "related_object" in their_fields:
        assert related in (RelatedObject, RelatedSingletonObject)
        assert related.__name__ == their_fields["related_object"].__name__


async def test_a_fetched_event_parses_its_data_into_its_model(api: respx.MockRouter) -> None:
    meter_error = {
        **json.loads(_payload("v1.billing.meter.error_report_triggered")),
        "data": {
            "developer_message_summary": "1 event for an unknown customer",
            "validation_start": "2026-11-30T06:00:00.000Z",
            "validation_end": "2026-11-30T06:20:00.000Z",
            "reason": {
                "error_count": 1,
                "error_types": [
                    {
                        "code": "meter_event_customer_not_found",
                        "error_count": 1,
                        "sample_errors": [{"error_message": "no customer", "request": {"identifier": "ev_42"}}],
                    }
                ],
            },
        },
    }
    link_returned = {
        **json.loads(_payload("v2.core.account_link.returned", related_object=None)),
        "id": "evt_2",
        "data": {"account_id": "acct_1Nv0", "configurations": ["merchant"], "use_case": "account_onboarding"},
    }
    unknown = {**json.loads(_payload("v9.future.thing.happened")), "id": "evt_3", "data": {"size": 3}}
    for body in (meter_error, link_returned, unknown):
        api.get(f"/v2/core/events/{body['id']}").mock(return_value=httpx.Response(200, json=body))
    async with AsyncStripeClient(KEY) as client:
        fetched = [
            await client.parse_event_notification_without_verification(json.dumps(body)).fetch_event()
            for body in (meter_error, link_returned, unknown)
        ]
    error, link, other = fetched
    assert isinstance(error, models.V1BillingMeterErrorReportTriggeredEvent)
    assert isinstance(error.data, V1BillingMeterErrorReportTriggeredEventData)
    sample = error.data.reason.error_types[0].sample_errors[0]
    assert isinstance(sample.request, V1BillingMeterErrorReportTriggeredEventDataReasonErrorTypeSampleErrorRequest)
    assert (
        sample.request.identifier == "ev_42"
        and error.data.reason.error_types[0].code == "meter_event_customer_not_found"
    )
    assert isinstance(error.related_object, RelatedObject) and error.related_object.id == "mtr_123"
    assert isinstance(link, models.V2CoreAccountLinkReturnedEvent)
    assert isinstance(link.data, V2CoreAccountLinkReturnedEventData) and link.data.configurations == ["merchant"]
    assert type(other) is V2Event and other.data is not None and other.data.model_dump()["size"] == 3


async def test_a_fetched_events_data_that_does_not_fit_is_kept_raw_as_for_every_model(
    api: respx.MockRouter,
) -> None:
    body = {**json.loads(_payload("v1.billing.meter.error_report_triggered")), "data": {"reason": "not an object"}}
    api.get(f"/v2/core/events/{body['id']}").mock(return_value=httpx.Response(200, json=body))
    async with AsyncStripeClient(KEY) as client:
        notification = client.parse_event_notification_without_verification(json.dumps(body))
        assert isinstance(notification, V1BillingMeterErrorReportTriggeredEventNotification)
        event = await notification.fetch_event()
    assert isinstance(event.data, V1BillingMeterErrorReportTriggeredEventData)
    assert event.data.reason is None and event.data.model_invalid == {"reason": "not an object"}

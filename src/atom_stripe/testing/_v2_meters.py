"""Meters, and the checks a meter event passes to count: against the meters of its account,
as Stripe validates it. What fails after Stripe accepted the event (the meter event stream:
"Events are processed asynchronously, including validation",
https://docs.stripe.com/api/v2/billing/meter-event-stream/create; v1's create: "Stripe
processes meter events asynchronously",
https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-api) is reported as
Stripe reports it, in thin events (https://docs.stripe.com/api/v2/core/events/event-types):
``v1.billing.meter.no_meter_found`` for events whose ``event_name`` no meter has,
``v1.billing.meter.error_report_triggered`` (its related object the meter) for events a meter
refuses. One report per request; the error codes are those of the events' ``data``
(stripe-python 16.1.0, ``V1BillingMeterErrorReportTriggeredEvent``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _v2_events
from ._engine import Ctx, behaviour

if TYPE_CHECKING:
    from ._fake import FakeStripe

NO_METER = "v1.billing.meter.no_meter_found"
METER_ERRORS = "v1.billing.meter.error_report_triggered"
#: Samples kept per error type (a report counts every error, as Stripe's ``error_count`` does).
_SAMPLES = 10
#: An event's ``timestamp`` "Must be within the past 35 calendar days or up to 5 minutes in the
#: future" (https://docs.stripe.com/api/v2/billing/meter-event/create).
PAST_LIMIT = 35 * 86_400
FUTURE_LIMIT = 5 * 60


class Failure(NamedTuple):
    """Why a meter event does not count: Stripe's error code and message, and the meter that
    refused it (``None``: no meter has its ``event_name``)."""

    code: str
    message: str
    meter: str | None


@behaviour("billing.meters.create")
def create_meter(ctx: Ctx) -> dict[str, Any]:
    """A meter that reads its events' payloads with Stripe's default keys unless told otherwise:
    the customer's id under `stripe_customer_id`, the value under `value`."""
    # The defaults: https://docs.stripe.com/api/v2/billing/meter-event-stream/create (events.payload).
    defaults: dict[str, Any] = {}
    if "customer_mapping" not in ctx.params:
        defaults["customer_mapping"] = {"type": "by_id", "event_payload_key": "stripe_customer_id"}
    if "value_settings" not in ctx.params:
        defaults["value_settings"] = {"event_payload_key": "value"}
    return ctx.create(**defaults)


def customer_key(meter: Mapping[str, Any]) -> str:
    """Where the meter reads its events' customer id (Stripe's default ``stripe_customer_id``)."""
    return str((meter.get("customer_mapping") or {}).get("event_payload_key") or "stripe_customer_id")


def value_key(meter: Mapping[str, Any]) -> str:
    """Where the meter reads its events' value (Stripe's default ``value``)."""
    return str((meter.get("value_settings") or {}).get("event_payload_key") or "value")


#: "The numerical usage value in the payload only accepts whole number values" (negative ones
#: too: "If the overall cycle usage is negative, Stripe reports ... 0")
#: (https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-api).
_WHOLE = re.compile(r"-?[0-9]+")


def number(value: Any) -> int | None:
    """An event's value as a number, or ``None`` when it is not a whole number."""
    return int(value) if isinstance(value, str) and _WHOLE.fullmatch(value) else None


def meter_of(fake: FakeStripe, account: str | None, event_name: Any) -> dict[str, Any] | None:
    """The account's meter of an ``event_name``: its active one, else a deactivated one."""
    meters = [m for m in fake.store_of(account).all("billing.meter") if m.get("event_name") == event_name]
    return next((m for m in meters if m.get("status") == "active"), meters[0] if meters else None)


def failure(
    fake: FakeStripe, account: str | None, event: Mapping[str, Any], meter: Mapping[str, Any] | None
) -> Failure | None:
    """Why the account's meters refuse an event (``timestamp`` in seconds), if they do: no
    meter has its ``event_name``; its meter is deactivated ("no more meter events will be
    accepted for this meter", https://docs.stripe.com/api/billing/meter/deactivate); its
    timestamp is out of range; its payload has no customer under the meter's
    ``customer_mapping.event_payload_key``, a customer the account does not have, or no number
    under its ``value_settings.event_payload_key``. ``meter``: :func:`meter_of` the event's."""
    if meter is None:
        return Failure("no_meter", f"No active meter was found for event_name '{event.get('event_name')}'.", None)
    found = _refusal(fake, account, meter, event)
    return None if found is None else Failure(*found, meter["id"])


def _refusal(
    fake: FakeStripe, account: str | None, meter: Mapping[str, Any], event: Mapping[str, Any]
) -> tuple[str, str] | None:
    if meter.get("status") != "active":
        return "archived_meter", f"The meter for event_name '{meter.get('event_name')}' is deactivated."
    moment = int(event["timestamp"])
    if moment < fake.now() - PAST_LIMIT:
        return "timestamp_too_far_in_past", "The timestamp is more than 35 days in the past."
    if moment > fake.now() + FUTURE_LIMIT:
        return "timestamp_in_future", "The timestamp is more than 5 minutes in the future."
    payload = event.get("payload") or {}
    customer = payload.get(customer_key(meter))
    if not customer:
        # Stripe's own message (https://docs.stripe.com/api/v2/core/events/object, its example).
        return "meter_event_no_customer_defined", f"Customer mapping key {customer_key(meter)} not found in payload."
    if fake.store_of(account).find(str(customer), "customer") is None:
        return "meter_event_customer_not_found", f"No customer '{customer}' was found."
    value = payload.get(value_key(meter))
    if number(value) is None:
        return "meter_event_invalid_value", f"The value under '{value_key(meter)}' is not a whole number: {value!r}."
    return None


def report(fake: FakeStripe, account: str | None, failures: Sequence[tuple[Failure, Mapping[str, Any]]]) -> None:
    """Report the events of one request that failed after Stripe accepted them: one
    ``no_meter_found`` for those no meter has, one ``error_report_triggered`` per meter."""
    start = _v2_events.stamp(_v2_events.now(fake))
    unknown = [(f, e) for f, e in failures if f.meter is None]
    if unknown:
        _v2_events.emit(fake, account, NO_METER, None, data=_report(unknown, start))
    by_meter: dict[str, list[tuple[Failure, Mapping[str, Any]]]] = {}
    for found, event in failures:
        if found.meter is not None:
            by_meter.setdefault(found.meter, []).append((found, event))
    for meter_id, errors in by_meter.items():
        target = _v2_events.related(meter_id, "billing.meter", f"/v1/billing/meters/{meter_id}")
        _v2_events.emit(fake, account, METER_ERRORS, target, data=_report(errors, start))


def _report(errors: Sequence[tuple[Failure, Mapping[str, Any]]], moment: str) -> dict[str, Any]:
    """The event's ``data``: how many failed, by error code, with samples."""
    by_code: dict[str, list[tuple[Failure, Mapping[str, Any]]]] = {}
    for found, event in errors:
        by_code.setdefault(found.code, []).append((found, event))
    types = [
        {
            "code": code,
            "error_count": len(listed),
            "sample_errors": [
                {"error_message": found.message, "request": {"identifier": str(event.get("identifier"))}}
                for found, event in listed[:_SAMPLES]
            ],
        }
        for code, listed in by_code.items()
    ]
    count = len(errors)
    return {
        "developer_message_summary": f"{count} invalid meter event{'s' if count != 1 else ''}",
        "reason": {"error_count": count, "error_types": types},
        "validation_start": moment,
        "validation_end": moment,
    }

"""The meter event stream's asynchronous validation: each event is checked against the meters
of its account, and what fails is reported as Stripe reports it, in thin events
(https://docs.stripe.com/api/v2/billing/meter-event-stream/create: "Events are processed
asynchronously, including validation"): ``v1.billing.meter.no_meter_found`` for events whose
``event_name`` no meter has, ``v1.billing.meter.error_report_triggered`` (its related object the
meter) for events a meter refuses (https://docs.stripe.com/api/v2/core/events/event-types).
One report per stream request; the error codes are those of the events' ``data``
(stripe-python 16.1.0, ``V1BillingMeterErrorReportTriggeredEvent``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _v2_events
from ._engine import Ctx, behaviour

if TYPE_CHECKING:
    from ._fake import FakeStripe

NO_METER = "v1.billing.meter.no_meter_found"
METER_ERRORS = "v1.billing.meter.error_report_triggered"
#: Samples kept per error type (a report counts every error, as Stripe's ``error_count`` does).
_SAMPLES = 10


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


def validate(fake: FakeStripe, account: str | None, events: Sequence[Mapping[str, Any]]) -> None:
    """Check newly received events (one stream request's) and report what fails."""
    meters = {
        m.get("event_name"): m for m in fake.store_of(account).all("billing.meter") if m.get("status") == "active"
    }
    unknown: list[tuple[str, Mapping[str, Any], str]] = []
    refused: dict[str, list[tuple[str, Mapping[str, Any], str]]] = {}
    for event in events:
        meter = meters.get(event.get("event_name"))
        if meter is None:
            unknown.append(
                ("no_meter", event, f"No active meter was found for event_name '{event.get('event_name')}'.")
            )
            continue
        problem = _problem(fake, account, meter, event.get("payload") or {})
        if problem is not None:
            refused.setdefault(meter["id"], []).append((problem[0], event, problem[1]))
    start = _v2_events.stamp(_v2_events.now(fake))
    if unknown:
        _v2_events.emit(fake, account, NO_METER, None, data=_report(unknown, start))
    for meter_id, errors in refused.items():
        target = _v2_events.related(meter_id, "billing.meter", f"/v1/billing/meters/{meter_id}")
        _v2_events.emit(fake, account, METER_ERRORS, target, data=_report(errors, start))


def _problem(
    fake: FakeStripe, account: str | None, meter: Mapping[str, Any], payload: Mapping[str, Any]
) -> tuple[str, str] | None:
    """Why a meter refuses an event's payload, if it does: the customer under the meter's
    ``customer_mapping.event_payload_key`` (default ``stripe_customer_id``) and a number under
    its ``value_settings.event_payload_key`` (default ``value``)."""
    customer_key = (meter.get("customer_mapping") or {}).get("event_payload_key") or "stripe_customer_id"
    value_key = (meter.get("value_settings") or {}).get("event_payload_key") or "value"
    customer = payload.get(customer_key)
    if not customer:
        return "meter_event_no_customer_defined", f"The payload has no customer under '{customer_key}'."
    if fake.store_of(account).find(str(customer), "customer") is None:
        return "meter_event_customer_not_found", f"No customer '{customer}' was found."
    value = payload.get(value_key)
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        return "meter_event_invalid_value", f"The value under '{value_key}' is not a number: {value!r}."
    return None


def _report(errors: Sequence[tuple[str, Mapping[str, Any], str]], moment: str) -> dict[str, Any]:
    """The event's ``data``: how many failed, by error code, with samples."""
    by_code: dict[str, list[tuple[Mapping[str, Any], str]]] = {}
    for code, event, message in errors:
        by_code.setdefault(code, []).append((event, message))
    types = [
        {
            "code": code,
            "error_count": len(found),
            "sample_errors": [
                {"error_message": message, "request": {"identifier": str(event.get("identifier"))}}
                for event, message in found[:_SAMPLES]
            ],
        }
        for code, found in by_code.items()
    ]
    count = len(errors)
    return {
        "developer_message_summary": f"{count} invalid meter event{'s' if count != 1 else ''}",
        "reason": {"error_count": count, "error_types": types},
        "validation_start": moment,
        "validation_end": moment,
    }

"""Usage as Stripe keeps it: the meter events each account received (v1
``billing.meter_events.create``, v2 ``meter_events.create`` and the meter event stream), one per
``identifier``; their cancellation by meter event adjustments (v1 and v2); and the meter event
summaries that add them up (``GET /v1/billing/meters/{id}/event_summaries``).

Events live in the store of the account that received them (the request's ``Stripe-Account`` or
``Stripe-Context``, or its meter event session's), so a connected account's usage never shows
in the platform's summaries, and a snapshot holds them. Each is kept with the meter that took it
when it arrived: only those count, in that meter's summaries, and a meter deactivated later
keeps what it took (Stripe's docs say only that a deactivated meter accepts no more events:
https://docs.stripe.com/api/billing/meter/deactivate). Summaries reflect events at once where
Stripe's are "eventually consistent" (https://docs.stripe.com/api/billing/meter-event-summary).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _v2_meters
from ._engine import Ctx, behaviour
from ._simulated import not_simulated
from ._store import Store, new_id
from ._v2_events import instant, now, stamp, stamp_at
from ._v2_meters import Failure
from ._wire import invalid, required

if TYPE_CHECKING:
    from ._fake import FakeStripe

#: The store's buckets (``Store.objects``), both by identifier, named unlike any object type
#: (``Store.put`` of a ``billing.meter_event`` never lands in them): the events received, each
#: ``{"event": <billing.meter_event>, "meter": <id of the meter that took it, or None>}``, and
#: the adjustments that canceled events.
_EVENTS = "billing.meter_event:received"
_CANCELED = "billing.meter_event:canceled"
#: "You can only cancel events within 24 hours of Stripe receiving them"
#: (https://docs.stripe.com/api/billing/meter-event-adjustment/create, ``cancel.identifier``).
CANCEL_WINDOW = 86_400
#: ``value_grouping_window`` -> its length: "For hourly granularity, start and end times must
#: align with hour boundaries (e.g., 00:00, 01:00, ..., 23:00). For daily granularity, start
#: and end times must align with UTC day boundaries (00:00 UTC)."
#: (https://docs.stripe.com/api/billing/meter-event_summary/list)
WINDOWS = {"hour": 3_600, "day": 86_400}


# -- the events an account received ----------------------------------------------------------


def _bucket(store: Store, kind: str) -> dict[str, dict[str, Any]]:
    return store.objects.setdefault(kind, {})


def received(fake: FakeStripe, account: str | None) -> list[dict[str, Any]]:
    """The account's meter events (``None``: the platform's), oldest first, as v1 answers them:
    every one received once, counted or not (copies)."""
    return [copy.deepcopy(kept["event"]) for kept in _bucket(fake.store_of(account), _EVENTS).values()]


def _event(fake: FakeStripe, params: Mapping[str, Any], timestamp: int | None) -> dict[str, Any]:
    """A ``billing.meter_event`` as Stripe answers it (fixtures3.json), from a request's fields:
    ``identifier`` generated and ``timestamp`` now when not given (as Stripe's docs say)."""
    moment = fake.now()
    return {
        "object": "billing.meter_event",
        "created": moment,
        "event_name": params.get("event_name"),
        "identifier": params.get("identifier") or new_id("mev"),
        "livemode": False,
        "payload": copy.deepcopy(dict(params.get("payload") or {})),
        "timestamp": moment if timestamp is None else timestamp,
    }


def _check(fake: FakeStripe, account: str | None, event: Mapping[str, Any]) -> tuple[str | None, Failure | None]:
    """The meter that takes an event (None: none) and why the account's meters refuse it, if they do."""
    meter = _v2_meters.meter_of(fake, account, event["event_name"])
    found = _v2_meters.failure(fake, account, event, meter)
    return (meter["id"] if meter is not None and found is None else None), found


def _keep(fake: FakeStripe, account: str | None, event: dict[str, Any], meter: str | None) -> None:
    """Keep an event with the meter that took it (none when it failed its checks)."""
    entry = {"event": event, "meter": meter}
    _bucket(fake.store_of(account), _EVENTS)[event["identifier"]] = entry


def _seen(fake: FakeStripe, account: str | None, identifier: str) -> bool:
    return identifier in _bucket(fake.store_of(account), _EVENTS)


def receive(fake: FakeStripe, account: str | None, events: Sequence[dict[str, Any]]) -> None:
    """Keep the events of one request that Stripe validates after accepting them (the stream, v1's
    create), each identifier once ("We'll enforce uniqueness within a rolling 24 hour period",
    https://docs.stripe.com/api/v2/billing/meter-event/create: the fake's period is its life),
    and report those the account's meters refuse."""
    failures: list[tuple[Failure, Mapping[str, Any]]] = []
    for event in events:
        if _seen(fake, account, event["identifier"]):
            continue
        meter, found = _check(fake, account, event)
        _keep(fake, account, event, meter)
        if found is not None:
            failures.append((found, event))
    _v2_meters.report(fake, account, failures)


def _seconds(value: Any) -> int | None:
    """A v2 timestamp (RFC 3339) in seconds; ``None`` when not given."""
    return None if value is None else int(instant(value, "timestamp").timestamp())


def v2_view(event: Mapping[str, Any]) -> dict[str, Any]:
    """A kept event as v2 answers it (``v2.billing.meter_event``: timestamps in RFC 3339)."""
    moments = {k: stamp_at(event[k]) for k in ("created", "timestamp")}
    return {**copy.deepcopy(dict(event)), "object": "v2.billing.meter_event", **moments}


def stream(fake: FakeStripe, account: str | None, events: Sequence[Mapping[str, Any]]) -> None:
    """``POST /v2/billing/meter_event_stream``: events validated after they are accepted."""
    receive(fake, account, [_event(fake, e, _seconds(e.get("timestamp"))) for e in events])


def create_v2(fake: FakeStripe, account: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /v2/billing/meter_events``: "Events are validated synchronously"
    (https://docs.stripe.com/api/v2/billing/meter-event/create), in an error Stripe does not
    document: an event Stripe would refuse (a resent identifier included) is the fake's loud
    refusal, naming Stripe's reason, rather than a made-up answer."""
    name = "v2.billing.meter_events.create"
    event = _event(fake, params, _seconds(params.get("timestamp")))
    if _seen(fake, account, event["identifier"]):
        detail = f"an event whose identifier '{event['identifier']}' this account already has"
        raise not_simulated(
            name, detail=f"{detail} (Stripe refuses it synchronously, in an answer it does not document)"
        )
    meter, found = _check(fake, account, event)
    if found is not None:
        detail = f"an event Stripe refuses synchronously ({found.code}: {found.message})"
        raise not_simulated(name, detail=f"{detail}, in an answer it does not document")
    _keep(fake, account, event, meter)
    return v2_view(event)


@behaviour("billing.meter_events.create")
def create_meter_event(ctx: Ctx) -> dict[str, Any]:
    """A meter event, kept once per ``identifier`` and validated after it is accepted (reported
    in thin events, as the stream's); a resent identifier is Stripe's 400."""
    event = _event(ctx.fake, ctx.params, ctx.params.get("timestamp"))
    if _seen(ctx.fake, ctx.account, event["identifier"]):
        # Stripe's answer, as a service met it: "400 invalid_request_error An event already
        # exists with identifier ...", not retryable (https://github.com/langfuse/langfuse/pull/16292).
        raise invalid("identifier", f"An event already exists with identifier {event['identifier']}.")
    receive(ctx.fake, ctx.account, [event])
    return copy.deepcopy(event)


# -- adjustments -------------------------------------------------------------------------------


def _cancel(fake: FakeStripe, account: str | None, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Cancel one event of the account by its identifier: it counts no more. The adjustment as
    Stripe answers it when created ("status": "pending", https://docs.stripe.com/api/v2/billing/meter-event-adjustments/create);
    what Stripe's docs leave unsaid (an identifier the account does not have under that
    ``event_name``, an event canceled before or received more than 24 hours ago) is refused loudly."""
    if params.get("type") != "cancel":
        raise invalid("type", f"Invalid type: must be one of cancel, not {params.get('type')!r}.")
    identifier = (params.get("cancel") or {}).get("identifier")
    if not identifier:
        raise invalid("cancel[identifier]", "Missing required param: cancel[identifier].", "parameter_missing")
    store = fake.store_of(account)
    kept = _bucket(store, _EVENTS).get(identifier)
    if kept is None or kept["event"]["event_name"] != params.get("event_name"):
        raise not_simulated(name, detail=f"canceling '{identifier}', which this account has no event named so under")
    if identifier in _bucket(store, _CANCELED):
        raise not_simulated(name, detail=f"canceling '{identifier}' again")
    if fake.now() - kept["event"]["created"] > CANCEL_WINDOW:
        raise not_simulated(name, detail="canceling an event received more than 24 hours ago")
    adjustment = {
        "object": "billing.meter_event_adjustment",
        "cancel": {"identifier": identifier},
        "event_name": params.get("event_name"),
        "livemode": False,
        "status": "pending",
        "type": "cancel",
    }
    _bucket(store, _CANCELED)[identifier] = adjustment
    return copy.deepcopy(adjustment)


@behaviour("billing.meter_event_adjustments.create")
def create_adjustment(ctx: Ctx) -> dict[str, Any]:
    """Cancels a meter event (``type=cancel``, ``cancel[identifier]``): it leaves the summaries."""
    return _cancel(ctx.fake, ctx.account, ctx.name, ctx.params)


def adjust_v2(fake: FakeStripe, account: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /v2/billing/meter_event_adjustments``: the v1 cancellation, answered in v2's shape."""
    adjustment = _cancel(fake, account, "v2.billing.meter_event_adjustments.create", params)
    created = stamp(now(fake))
    return {
        **adjustment,
        "object": "v2.billing.meter_event_adjustment",
        "id": new_id("mtr_event_adj"),
        "created": created,
    }


# -- summaries ---------------------------------------------------------------------------------


@behaviour(
    "billing.meters.event_summaries.list", filters=("customer", "start_time", "end_time", "value_grouping_window")
)
def list_summaries(ctx: Ctx) -> dict[str, Any]:
    """The meter's usage by one customer from ``start_time`` (inclusive) to ``end_time``
    (exclusive): one summary for the range, or one per hour or UTC day
    (``value_grouping_window``), newest first as Stripe's lists are; each adds up the events the
    meter took and no adjustment canceled, by its ``default_aggregation.formula``."""
    meter = ctx.get("billing.meter", ctx.last_id)
    params = dict(ctx.params)
    customer = required(params, "customer")
    ctx.get("customer", customer, "customer")
    start, end = required(params, "start_time"), required(params, "end_time")
    step = _window(start, end, params.pop("value_grouping_window", None))
    for played in ("customer", "start_time", "end_time"):
        del params[played]
    events = _counted(ctx.store, meter, customer)
    summaries = [_summary(meter, customer, s, s + step, events) for s in range(start, end, step)]
    return ctx.store.page(list(reversed(summaries)), params, f"/v1/billing/meters/{meter['id']}/event_summaries")


def _window(start: int, end: int, grouping: str | None) -> int:
    """The length of each summary, once the range is checked: start and end "Must be aligned
    with minute boundaries" (https://docs.stripe.com/api/billing/meter-event_summary/list), and
    with hours or UTC days when grouped so (``value_grouping_window`` is ``day`` or ``hour``: the
    parameters' check refuses any other)."""
    for param, moment in (("start_time", start), ("end_time", end)):
        if moment % 60:
            raise invalid(param, f"Invalid {param}: {moment} must be aligned with minute boundaries.")
        if grouping is not None and moment % WINDOWS[grouping]:
            boundary = "hour boundaries" if grouping == "hour" else "UTC day boundaries (00:00 UTC)"
            raise invalid(
                param, f"Invalid {param}: {moment} must align with {boundary} for value_grouping_window={grouping}."
            )
    if end <= start:
        raise invalid("end_time", f"Invalid end_time: {end} must be after start_time ({start}).")
    return WINDOWS[grouping] if grouping is not None else end - start


def _counted(store: Store, meter: Mapping[str, Any], customer: str) -> list[dict[str, Any]]:
    """The customer's events the meter took and no adjustment canceled, oldest first."""
    key = _v2_meters.customer_key(meter)
    canceled = _bucket(store, _CANCELED)
    return [
        kept["event"]
        for identifier, kept in _bucket(store, _EVENTS).items()
        if kept["meter"] == meter["id"] and identifier not in canceled and kept["event"]["payload"].get(key) == customer
    ]


def _summary(
    meter: Mapping[str, Any], customer: str, start: int, end: int, events: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    inside = [e for e in events if start <= e["timestamp"] < end]
    digest = hashlib.sha256(f"{meter['id']} {customer} {start} {end}".encode()).hexdigest()[:24]
    return {
        # The same summary has the same id on every call, so the list's cursors hold.
        "id": f"mtrusg_test_{digest}",
        "object": "billing.meter_event_summary",
        "aggregated_value": _aggregate(meter, inside),
        "end_time": end,
        "livemode": False,
        "meter": meter["id"],
        "start_time": start,
    }


def _aggregate(meter: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> float:
    """``sum`` of the values, ``count`` of the events, or the ``last`` event's value (by
    timestamp; the one received later among equals) (https://docs.stripe.com/api/billing/meter/object)."""
    formula = (meter.get("default_aggregation") or {}).get("formula")
    key = _v2_meters.value_key(meter)
    values = [float(_v2_meters.number(e["payload"].get(key)) or 0) for e in events]
    if formula == "sum":
        return float(sum(values))
    if formula == "count":
        return float(len(events))
    if formula == "last":
        latest = max(range(len(events)), key=lambda i: (events[i]["timestamp"], i), default=None)
        return 0.0 if latest is None else values[latest]
    raise not_simulated(
        "billing.meters.event_summaries.list", detail=f"the aggregation formula {formula!r} of meter {meter['id']}"
    )

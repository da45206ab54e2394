"""The fake's thin events: v2 events recorded on the account they happened on (``GET
/v2/core/events/{id}`` answers them with their ``data``) and their thin notifications delivered
to the event destinations that want them, signed with each destination's secret, through the
same outbox as v1 webhooks.

A thin notification is the event without its fetched attributes (``data``, ``changes``): ``id``,
``object: "v2.core.event"``, ``type``, ``created`` (RFC 3339), ``livemode``, ``context``,
``reason`` and ``related_object`` (https://docs.stripe.com/api/v2/core/events/event-types,
https://docs.stripe.com/event-destinations#thin-events).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._store import new_id
from ._webhooks import Delivery
from ._wire import FakeError

if TYPE_CHECKING:
    from ._fake import FakeStripe

#: The v2 operations that make an event, and its type
#: (https://docs.stripe.com/api/v2/core/accounts/event-types).
OPERATION_EVENTS = {
    "v2.core.accounts.create": "v2.core.account.created",
    "v2.core.accounts.update": "v2.core.account.updated",
    "v2.core.accounts.close": "v2.core.account.closed",
}
PING = "v2.core.event_destination.ping"
#: ``events_from``: the values of the API reference (``self``, ``other_accounts``:
#: https://docs.stripe.com/api/v2/core/event_destinations/create) and of stripe-python 16.1.0's
#: params (``@self``, ``@accounts``: "other accounts you manage"). A destination created
#: without it gets its own account's events.
SELF = frozenset({"self", "@self"})
OTHER_ACCOUNTS = frozenset({"other_accounts", "@accounts"})


def stamp(moment: datetime) -> str:
    """RFC 3339 with milliseconds, as v2 writes timestamps (``2024-10-22T16:26:54.063Z``)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def stamp_at(seconds: int) -> str:
    """A unix time as v2 writes it (:func:`stamp`)."""
    return stamp(datetime.fromtimestamp(seconds, timezone.utc))


def instant(value: Any, param: str) -> datetime:
    """An RFC 3339 timestamp as a UTC instant (no offset: UTC); a 400 naming ``param`` otherwise."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FakeError(400, f"Invalid timestamp: {value!r} is not an RFC 3339 date-time", param=param) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def now(fake: FakeStripe) -> datetime:
    return datetime.fromtimestamp(fake.now(), timezone.utc)


def related(obj_id: str, obj_type: str, url: str) -> dict[str, str]:
    return {"id": obj_id, "type": obj_type, "url": url}


def emit(
    fake: FakeStripe,
    account: str | None,
    event_type: str,
    related_object: Mapping[str, str] | None,
    *,
    data: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    request: Mapping[str, str | None] | None = None,
    to: Iterable[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Record a v2 event on ``account`` (``None``: the platform) and send its thin notification
    to the destinations that want it (``to``: to these only, as a ping is). Returns the event
    as ``GET /v2/core/events/{id}`` answers it."""
    owner = account or fake.platform_account
    store = fake.store_of(owner)
    reason = None
    if request is not None and request.get("id"):
        wanted = {"id": request["id"], "idempotency_key": request.get("idempotency_key")}
        reason = {"type": "request", "request": {k: v for k, v in wanted.items() if v is not None}}
    thin: dict[str, Any] = {
        "id": new_id("evt_test"),
        "object": "v2.core.event",
        "type": event_type,
        "created": stamp(now(fake)),
        "livemode": False,
        # "Authentication context needed to fetch the event or related object": the connected
        # account the event happened on, none for the platform's own.
        "context": None if owner == fake.platform_account else owner,
        "reason": reason,
        "related_object": dict(related_object) if related_object is not None else None,
    }
    event = store.put({**thin, "data": copy.deepcopy(data), "changes": copy.deepcopy(changes)})
    destinations = list(to) if to is not None else destinations_for(fake, owner, event_type)
    payload = json.dumps(thin).encode()
    for destination in destinations:
        endpoint = destination.get("webhook_endpoint") or {}
        if deliverable(destination):
            fake._outbox.send(Delivery(thin["id"], event_type, endpoint["url"]), payload, endpoint["signing_secret"])
    return event


def deliverable(destination: Mapping[str, Any]) -> bool:
    """An enabled webhook endpoint destination of thin events, with a URL and its secret: a
    disabled one gets nothing."""
    endpoint = destination.get("webhook_endpoint") or {}
    return (
        destination.get("status") == "enabled"
        and destination.get("type") == "webhook_endpoint"
        and destination.get("event_payload") == "thin"
        and bool(endpoint.get("url"))
        and bool(endpoint.get("signing_secret"))
    )


def destinations_for(fake: FakeStripe, owner: str, event_type: str) -> list[dict[str, Any]]:
    """The destinations an event of ``owner`` goes to: those of the account itself that take
    its own events (``events_from`` ``self``), and for a connected account, the platform's that
    take its connected accounts' events (``other_accounts``); each with the type among its
    ``enabled_events``."""
    found = [d for d in fake.store_of(owner).all("v2.core.event_destination") if _from(d) & SELF]
    if owner != fake.platform_account:
        found += [d for d in fake.store.all("v2.core.event_destination") if _from(d) & OTHER_ACCOUNTS]
    return [d for d in found if event_type in (d.get("enabled_events") or ())]


def _from(destination: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(destination.get("events_from") or ("self",))

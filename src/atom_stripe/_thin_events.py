"""Thin events: the event notifications an event destination delivers, and what they point to.

A thin event (``"object": "v2.core.event"``) carries no snapshot: its ``type``, its
``related_object`` (``id``, ``type``, ``url``) and the ``context`` (the account it happened
on). ``fetch_event()`` reads the full event (``GET /v2/core/events/{id}``, with its ``data``)
and ``fetch_related_object()`` reads the object as it is now, both with the notification's
``context`` as ``Stripe-Context``, as stripe-python does.
https://docs.stripe.com/event-destinations#thin-payload
https://docs.stripe.com/event-destinations#fetch-data

One class per event type is generated (``atom_stripe._generated.notifications``, stripe-python's
names); a type this release does not know parses to :class:`UnknownEventNotification`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from ._endpoint import find_endpoint
from ._errors import APIResponseError, SignatureVerificationError, StripeUsageError, StripeValueError
from ._generated.models.v2_core_event import V2CoreEvent, V2CoreEventReason
from ._request import Requester
from .models._base import StripeObject

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: A related object's ``url`` and an event id: an API path, no query, escapes or dot segments.
_API_PATH = re.compile(r"/v[12](/[A-Za-z0-9_.\-~:@!$&'()*+,;=]+)+")
_EVENT_ID = re.compile(r"[A-Za-z0-9_\-]{1,255}")


class RelatedObject(BaseModel):
    """The object an event is about: read it now with ``fetch_related_object()``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    type: str
    url: str


class RelatedSingletonObject(BaseModel):
    """A related object without an id (an account's settings, a balance): one per account."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    url: str


class V2Event(V2CoreEvent):
    """A v2 event as ``GET /v2/core/events/{id}`` returns it: the generated ``V2CoreEvent`` with
    what a typed event adds, its ``related_object`` and ``data``. Each known type has its own
    subclass (generated, stripe-python's names: ``V1BillingMeterErrorReportTriggeredEvent``),
    its ``data`` parsed into that type's model; this class is what an unknown type parses to."""

    #: The event type this class is for (``None`` on the generic event).
    LOOKUP_TYPE: ClassVar[str | None] = None

    related_object: RelatedObject | RelatedSingletonObject | None = None
    data: StripeObject | None = None


# Built now rather than on first use: the generated event classes inherit its fields, and pydantic
# resolves a deferred parent's annotations in the subclass's module, where V2CoreEvent's names are not.
V2Event.model_rebuild()


class EventNotification(BaseModel):
    """What an event destination POSTs: a thin event. Subclasses (one per type) are generated."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    #: The event type this class is for (``None`` on :class:`UnknownEventNotification`).
    LOOKUP_TYPE: ClassVar[str | None] = None

    id: str
    object: str = "v2.core.event"
    type: str
    created: datetime
    livemode: bool = False
    context: str | None = None
    reason: V2CoreEventReason | None = None

    _requester: Requester | None = PrivateAttr(default=None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, type={self.type!r}, context={self.context!r})"

    async def fetch_event(self) -> V2Event:
        """The full event (``GET /v2/core/events/{id}``), with ``data``: parsed into its type's
        event class (:class:`V2Event` for a type this release lacks)."""
        if not _EVENT_ID.fullmatch(self.id):
            raise StripeValueError("id", "is not an event id that can be put in a URL")
        path = f"/v2/core/events/{self.id}"
        requester = self._requester_for(path)
        answer: V2Event = await requester.request(
            "GET", path, event_class(self.type), template="/v2/core/events/{id}", headers=self._trigger()
        )
        return answer

    async def _fetch_related(self) -> Any:
        related = getattr(self, "related_object", None)
        if related is None:
            return None
        from .models._references import parse_object

        path = related.url
        response = await self._requester_for(path).send("GET", path, template=_template(path), headers=self._trigger())
        try:
            data = json.loads(response.content)
        except (ValueError, RecursionError):
            raise APIResponseError(f"GET {_template(path)}: the answer is not JSON.", response=response) from None
        return parse_object(data)

    def _trigger(self) -> dict[str, str]:
        return {"Stripe-Request-Trigger": f"event={self.id}"}

    def _requester_for(self, path: str) -> Requester:
        """The client's requester in this notification's context, once ``path`` is checked."""
        requester = self._requester
        if requester is None:
            raise StripeUsageError(
                "This notification was built without a client: parse it with client.parse_event_notification()."
            )
        if not isinstance(path, str) or not _API_PATH.fullmatch(path) or "/../" in path + "/" or "/./" in path + "/":
            raise StripeValueError("related_object.url", "is not an API path such as '/v1/billing/meters/mtr_123'")
        return _reader(requester, self.context)


class UnknownEventNotification(EventNotification):
    """A notification of a type this release has no class for; its related object, if any, is generic."""

    related_object: RelatedObject | RelatedSingletonObject | None = None

    async def fetch_related_object(self) -> StripeObject | None:
        """The related object as it is now (``None`` when the event names none)."""
        result: StripeObject | None = await self._fetch_related()
        return result


def _template(path: str) -> str:
    """The endpoint's path template, so stats and hooks group these reads with the client's own.

    A path the table does not know (an object newer than this release) has each segment with a
    digit in it taken for an id.
    """
    found = find_endpoint("GET", path)
    if found is not None:
        return found[1].path
    return "/".join("{id}" if any(c.isdigit() for c in p) and p[:2] not in ("v1", "v2") else p for p in path.split("/"))


# -- the two reads ------------------------------------------------------------------------
# stripe-python sends Stripe-Request-Trigger on both (a per-call header through the one pipeline:
# retries, hooks, stats) and the notification's context as Stripe-Context.


def _reader(requester: Requester, context: str | None) -> Requester:
    """The client's requester, acting in ``context`` when the notification names one."""
    if not context:
        return requester
    # The context names the account (v2's successor of Stripe-Account): not both.
    return requester.evolve(stripe_context=context, stripe_account=None)


# -- parsing --------------------------------------------------------------------------------


@cache
def _classes() -> Mapping[str, type[EventNotification]]:
    from ._generated.notifications import NOTIFICATIONS

    return NOTIFICATIONS


@cache
def event_class(event_type: str) -> type[V2Event]:
    """The full event's class for an event type (:class:`V2Event` when this release lacks one),
    a model loaded on first use."""
    from . import models
    from ._generated.events import EVENTS

    name = EVENTS.get(event_type)
    return V2Event if name is None else cast("type[V2Event]", getattr(models, name))


def notification_class(event_type: str) -> type[EventNotification]:
    """The class for an event type (:class:`UnknownEventNotification` when this release lacks one)."""
    return _classes().get(event_type, UnknownEventNotification)


def parse_notification(payload: bytes | str | Mapping[str, Any], requester: Requester | None) -> EventNotification:
    """A verified (or trusted) payload parsed into its notification class.

    A v1 snapshot event (``"object": "event"``) is refused with a pointer to
    :func:`~atom_stripe.webhooks.construct_event`; anything that is not a thin event is refused.
    Every refusal is a :class:`SignatureVerificationError`, as for v1 webhooks.
    """
    if isinstance(payload, (bytes, str)):
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):
            raise SignatureVerificationError("The payload is not JSON.") from None
    else:
        data = payload
    if not isinstance(data, dict):
        raise SignatureVerificationError("The payload is not an event notification object.")
    kind = data.get("object")
    if kind == "event":
        raise SignatureVerificationError(
            "This is a v1 snapshot event (object 'event'): parse it with construct_event() or a WebhookRouter."
        )
    if kind is not None and kind != "v2.core.event":
        raise SignatureVerificationError(f"Unexpected object {kind!r}: an event notification is 'v2.core.event'.")
    event_type = data.get("type")
    event_id = data.get("id")
    if not isinstance(event_type, str) or not isinstance(event_id, str) or not event_id:
        raise SignatureVerificationError("The event notification has no usable id or type.")
    cls = notification_class(event_type)
    try:
        notification = cls.model_validate(data)
    except ValidationError as exc:
        raise SignatureVerificationError(
            f"The event notification does not parse: {exc.error_count()} error(s)."
        ) from None
    notification._requester = requester
    return notification


def verify_and_parse(
    payload: bytes | str,
    sig_header: str | None,
    secret: str | Sequence[str],
    requester: Requester | None,
    *,
    tolerance: float | None,
) -> EventNotification:
    """Check the signature as for v1 webhooks (one verifier), then parse."""
    from .webhooks import verify_header

    verify_header(payload, sig_header, secret, tolerance=tolerance)
    return parse_notification(payload, requester)

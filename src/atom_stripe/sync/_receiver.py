"""The mirror's webhook router: the event's JSON goes to the mirror as it came, never built into a
typed :class:`~atom_stripe.models.Event` (the mirror stores the JSON: the model, and its dump back
to JSON, cost more than the rest of applying the event; docs/performance.md, "Local mirror")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import SignatureVerificationError, StripeValueError
from ..webhooks import WebhookRouter, verify_header


def _usable_id(value: str) -> bool:
    """An id fit for the event store's key, by the rule construct_event applies: 1-255 printable
    ASCII characters, no space or colon."""
    return 0 < len(value) <= 255 and value.isascii() and value.isprintable() and " " not in value and ":" not in value


def event_dict(event: Any) -> dict[str, Any]:
    """A webhook event as the JSON Stripe sent: an ``atom_stripe.models.Event`` or a dict."""
    if hasattr(event, "model_dump"):
        event = event.model_dump(mode="json", exclude_unset=True)
    if not isinstance(event, Mapping):
        raise StripeValueError("event", "must be an atom_stripe.models.Event or the event's JSON as a dict")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not (isinstance(event.get("id"), str) and isinstance(event.get("created"), int) and isinstance(obj, Mapping)):
        raise StripeValueError("event", "needs 'id', 'created' and 'data.object' (a thin event: fetch it first)")
    return dict(event)


@dataclass(frozen=True)
class Delivery:
    """What the router reads of an event (its id, type and account) and the event's JSON."""

    id: str
    type: str
    account: str | None
    body: dict[str, Any]


class MirrorRouter(WebhookRouter):
    """A :class:`~atom_stripe.webhooks.WebhookRouter` whose handlers get a :class:`Delivery`;
    the same checks as :func:`~atom_stripe.webhooks.construct_event` refuse a delivery (400)."""

    def _verify(self, body: bytes | str, signature: str | None, secret: list[str]) -> tuple[Any, str | None]:
        verify_header(body, signature, secret, tolerance=self.tolerance)
        try:
            data = json.loads(body)
        except ValueError:
            raise SignatureVerificationError("The payload verifies but is not JSON.") from None
        except RecursionError:
            raise SignatureVerificationError("The payload verifies but is nested too deeply to parse.") from None
        if isinstance(data, dict) and data.get("object") == "v2.core.event":
            raise SignatureVerificationError(
                "This is a v2 thin event (object 'v2.core.event'): the mirror's receiver takes v1 snapshot "
                "events. Route thin events with a NotificationRouter and pass them to mirror.apply(event, client)."
            )
        if not isinstance(data, dict) or data.get("object") != "event":
            raise SignatureVerificationError("The payload verifies but is not an event object.")
        event_id = data.get("id")
        if not isinstance(event_id, str) or not _usable_id(event_id):
            raise SignatureVerificationError("The event verifies but has no usable id (a string such as 'evt_...').")
        try:
            event = event_dict(data)
        except StripeValueError as exc:
            raise SignatureVerificationError(f"The event does not parse: {exc.message}") from None
        account = event.get("account")
        delivery = Delivery(event_id, str(event.get("type", "")), account if isinstance(account, str) else None, event)
        return delivery, delivery.account

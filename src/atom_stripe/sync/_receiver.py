"""The mirror's webhook router: the event's JSON goes to the mirror as it came, never built into a
typed :class:`~atom_stripe.models.Event` (the mirror stores the JSON: the model, and its dump back
to JSON, cost more than the rest of applying the event; docs/performance.md, "Local mirror")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import SignatureVerificationError, StripeValueError
from ..webhooks import WebhookRouter, verify_event_json


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
    :func:`~atom_stripe.webhooks.verify_event_json` (``construct_event``'s checks) refuses a delivery (400)."""

    def _verify(self, body: bytes | str, signature: str | None, secret: list[str]) -> tuple[Any, str | None]:
        data = verify_event_json(body, signature, secret, tolerance=self.tolerance)
        try:
            event = event_dict(data)
        except StripeValueError as exc:
            raise SignatureVerificationError(f"The event does not parse: {exc.message}") from None
        account = event.get("account")
        delivery = Delivery(
            data["id"], str(event.get("type", "")), account if isinstance(account, str) else None, event
        )
        return delivery, delivery.account

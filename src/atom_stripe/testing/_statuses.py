"""Actions that change nothing but their own object's status (expire an open Checkout Session,
archive an alert...): each allowed from the statuses Stripe allows it from, with its event."""

from __future__ import annotations

from typing import Any, NamedTuple

from ._engine import Ctx, behaviour
from ._wire import invalid


class StatusAction(NamedTuple):
    status: str
    #: The statuses it may start from (empty: any).
    start: tuple[str, ...] = ()
    event: str | None = None


#: https://docs.stripe.com/api/checkout/sessions/expire ("only open sessions"),
#: https://docs.stripe.com/api/quotes/finalize (draft -> open), /quotes/cancel,
#: https://docs.stripe.com/api/identity/verification_sessions/cancel (not verified or canceled),
#: https://docs.stripe.com/api/billing/alert and /billing/meter, /invoice-rendering-templates.
ACTIONS: dict[str, StatusAction] = {
    "checkout.sessions.expire": StatusAction("expired", ("open",), "checkout.session.expired"),
    "quotes.finalize_quote": StatusAction("open", ("draft",), "quote.finalized"),
    "quotes.cancel": StatusAction("canceled", ("draft", "open"), "quote.canceled"),
    "identity.verification_sessions.cancel": StatusAction(
        "canceled", ("requires_input", "processing"), "identity.verification_session.canceled"
    ),
    "billing.alerts.activate": StatusAction("active", ("inactive",)),
    "billing.alerts.deactivate": StatusAction("inactive", ("active",)),
    "billing.alerts.archive": StatusAction("archived", ("active", "inactive")),
    "billing.meters.deactivate": StatusAction("inactive", ("active",)),
    "billing.meters.reactivate": StatusAction("active", ("inactive",)),
    "invoice_rendering_templates.archive": StatusAction("archived", ("active",)),
    "invoice_rendering_templates.unarchive": StatusAction("active", ("archived",)),
}


@behaviour(*ACTIONS)
def change_status(ctx: Ctx) -> dict[str, Any]:
    """Sets the object's status (from the statuses Stripe allows), with its event."""
    action = ACTIONS[ctx.name]
    obj = ctx.parent()
    assert obj is not None
    if action.start and obj.get("status") not in action.start:
        kind = obj["object"].rsplit(".", 1)[-1].replace("_", " ")
        verb = ctx.name.rsplit(".", 1)[-1].split("_")[0]
        raise invalid(
            ctx.endpoint.ids[-1],
            f"You cannot {verb} this {kind} because it has a status of {obj.get('status')}; "
            f"only one with a status of {' or '.join(action.start)} can be.",
        )
    return ctx.update(obj, event=action.event, status=action.status)

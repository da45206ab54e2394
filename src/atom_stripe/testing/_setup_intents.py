"""SetupIntents as Stripe's test mode plays them: confirm checks the card, asks for 3-D Secure
where the test card does, and attaches the payment method to the customer when it succeeds
(https://docs.stripe.com/payments/save-and-reuse, https://docs.stripe.com/testing#regulatory-cards)."""

from __future__ import annotations

import copy
from typing import Any

from ._engine import Ctx, behaviour
from ._payments import ATTACH_DECLINES, AUTHENTICATE, CARDS, MESSAGES, attach_to, card_of, next_action, payment_method
from ._wire import FakeError, invalid

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def unexpected(si: dict[str, Any], action: str) -> FakeError:
    return invalid(
        "intent",
        f"You cannot {action} this SetupIntent because it has a status of {si['status']}.",
        "setup_intent_unexpected_state",
    )


def _with_payment_method(ctx: Ctx) -> dict[str, Any]:
    """The request's parameters with a test shortcut (``pm_card_visa``) made a real payment method."""
    params = dict(ctx.params)
    if isinstance(params.get("payment_method"), str):
        params["payment_method"] = payment_method(ctx, params["payment_method"])["id"]
    return params


@behaviour("setup_intents.create")
def create_setup_intent(ctx: Ctx) -> dict[str, Any]:
    """A SetupIntent (``usage`` ``off_session`` by default), confirmed at once with ``confirm=true``."""
    params = _with_payment_method(ctx)
    si = ctx.create(
        params=params,
        status="requires_confirmation" if params.get("payment_method") else "requires_payment_method",
        usage=params.get("usage", "off_session"),
    )
    return confirm(ctx, si) if params.get("confirm") else si


@behaviour("setup_intents.confirm")
def confirm_setup_intent(ctx: Ctx) -> dict[str, Any]:
    """Confirms: the card is checked (a decline card: 402 and ``setup_intent.setup_failed``),
    3-D Secure cards go to ``requires_action``, others succeed and are attached to the customer."""
    si = ctx.get("setup_intent", ctx.last_id, "intent")
    ctx.update(si, _with_payment_method(ctx), event=None)
    return confirm(ctx, si)


def confirm(ctx: Ctx, si: dict[str, Any]) -> dict[str, Any]:
    if si["status"] not in CONFIRMABLE:
        raise unexpected(si, "confirm")
    if not si.get("payment_method"):
        raise invalid(
            "payment_method",
            "You cannot confirm this SetupIntent because it's missing a payment method. "
            "Update it with a payment_method, or confirm it with one.",
            "setup_intent_unexpected_state",
        )
    pm = ctx.get("payment_method", si["payment_method"], "payment_method")
    card = card_of(ctx, pm)
    if card in ATTACH_DECLINES:
        decline = CARDS[card][2] or "generic_decline"
        code, message = MESSAGES[decline]
        error: dict[str, Any] = {"type": "card_error", "code": code, "message": message}
        if code == "card_declined":
            error["decline_code"] = decline
        fields = {
            "status": "requires_payment_method",
            "last_setup_error": {**error, "payment_method": copy.deepcopy(pm)},
        }
        ctx.update(si, {}, event="setup_intent.setup_failed", **fields)
        raise FakeError(
            402, message, setup_intent=copy.deepcopy(si), **{k: v for k, v in error.items() if k != "message"}
        )
    if AUTHENTICATE.get(CARDS[card][2] or "") is not None:
        action = next_action(ctx, si["id"])
        return ctx.update(si, {}, event="setup_intent.requires_action", status="requires_action", next_action=action)
    return succeed(ctx, si, pm)


def succeed(ctx: Ctx, si: dict[str, Any], pm: dict[str, Any]) -> dict[str, Any]:
    if si.get("customer") and pm.get("customer") is None:
        attach_to(ctx, pm, si["customer"])
    return ctx.update(
        si, {}, event="setup_intent.succeeded", status="succeeded", next_action=None, last_setup_error=None
    )


def authenticate(ctx: Ctx, si: dict[str, Any], passed: bool) -> dict[str, Any]:
    """The customer completes (or fails) 3-D Secure on a SetupIntent that requires action."""
    if si["status"] != "requires_action":
        raise unexpected(si, "authenticate")
    if passed:
        return succeed(ctx, si, ctx.get("payment_method", si["payment_method"], "payment_method"))
    error = {
        "type": "invalid_request_error",
        "code": "setup_intent_authentication_failure",
        "message": "The latest attempt to set up the payment method has failed because authentication failed.",
    }
    return ctx.update(
        si,
        {},
        event="setup_intent.setup_failed",
        status="requires_payment_method",
        next_action=None,
        last_setup_error=error,
    )


@behaviour("setup_intents.cancel")
def cancel_setup_intent(ctx: Ctx) -> dict[str, Any]:
    """Cancels one that has not succeeded (``setup_intent.canceled``)."""
    si = ctx.get("setup_intent", ctx.last_id, "intent")
    if si["status"] not in CONFIRMABLE:
        raise unexpected(si, "cancel")
    reason = ctx.params.get("cancellation_reason", "requested_by_customer")
    return ctx.update(
        si, {}, event="setup_intent.canceled", status="canceled", next_action=None, cancellation_reason=reason
    )


@behaviour("setup_intents.update", "payment_intents.update")
def update_intent(ctx: Ctx) -> dict[str, Any]:
    """Updates; a test shortcut given as ``payment_method`` makes a real payment method."""
    kind = "setup_intent" if ctx.name.startswith("setup") else "payment_intent"
    return ctx.update(ctx.get(kind, ctx.last_id, "intent"), _with_payment_method(ctx))

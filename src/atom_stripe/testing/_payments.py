"""Payments as Stripe's test mode plays them: test cards, PaymentIntents (confirm, 3-D Secure,
manual capture, cancel), charges, refunds, and the balance they move."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from . import _connect_money as connect
from ._engine import Ctx, behaviour
from ._wire import FakeError, invalid, required

#: Test card name (``pm_card_<name>``, ``tok_<name>``) -> (brand, last4, decline code or None).
CARDS: dict[str, tuple[str, str, str | None]] = {
    "visa": ("visa", "4242", None),
    "visa_debit": ("visa", "5556", None),
    "mastercard": ("mastercard", "4444", None),
    "amex": ("amex", "8431", None),
    "chargeDeclined": ("visa", "0002", "generic_decline"),
    "chargeCustomerFail": ("visa", "0341", "generic_decline"),
    "visa_chargeDeclined": ("visa", "0002", "generic_decline"),
    "chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    "visa_chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    "chargeDeclinedExpiredCard": ("visa", "0069", "expired_card"),
    "chargeDeclinedIncorrectCvc": ("visa", "0127", "incorrect_cvc"),
    "chargeDeclinedFraudulent": ("visa", "0019", "fraudulent"),
    "authenticationRequired": ("visa", "3184", "authentication_required"),
    "threeDSecure2Required": ("visa", "3220", "authentication_required"),
    "authenticationRequiredOnSetup": ("visa", "3155", "authentication_required_on_setup"),
    "bypassPending": ("visa", "0077", None),
}
#: Cards whose charges' funds "bypass the pending balance" and are available at once
#: (https://docs.stripe.com/testing#available-balance); any other card's are pending first.
AVAILABLE_AT_ONCE = frozenset({"bypassPending"})
#: Cards Stripe declines when they are attached to a customer (a check of the card is made then):
#: every decline card but ``chargeCustomerFail``, which "attaches to a Customer object, but
#: attempts to charge the customer fail" (https://docs.stripe.com/testing#declined-payments).
ATTACH_DECLINES = frozenset(
    name
    for name, (_, _, code) in CARDS.items()
    if code and not code.startswith("authentication") and name != "chargeCustomerFail"
)
#: Cards that ask for 3-D Secure (https://docs.stripe.com/testing#regulatory-cards): on every
#: payment and setup, or on setup and on-session payments only (off-session ones then succeed).
AUTHENTICATE = {"authentication_required": "always", "authentication_required_on_setup": "on_setup"}
#: Test card numbers -> their name above.
NUMBERS = {
    "4242424242424242": "visa",
    "4000056655665556": "visa_debit",
    "5555555555554444": "mastercard",
    "378282246310005": "amex",
    "4000000000000002": "chargeDeclined",
    "4000000000000341": "chargeCustomerFail",
    "4000000000009995": "chargeDeclinedInsufficientFunds",
    "4000000000000069": "chargeDeclinedExpiredCard",
    "4000000000000127": "chargeDeclinedIncorrectCvc",
    "4100000000000019": "chargeDeclinedFraudulent",
    "4000002760003184": "authenticationRequired",
    "4000000000003220": "threeDSecure2Required",
    "4000002500003155": "authenticationRequiredOnSetup",
    "4000000000000077": "bypassPending",
}
MESSAGES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "fraudulent": ("card_declined", "Your card was declined."),
    "expired_card": ("expired_card", "Your card has expired."),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect."),
    "authentication_required": (
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
}
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")


def fee(amount: int) -> int:
    """Stripe's card fee: 2.9% + 30 (in the minor unit)."""
    return round(amount * 0.029) + 30 if amount > 0 else 0


# -- payment methods -----------------------------------------------------------------------------


def card_method(ctx: Ctx, card: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new card payment method made from a test card."""
    if card not in CARDS:
        raise invalid("payment_method", f"No such PaymentMethod: 'pm_card_{card}'", "resource_missing")
    brand, last4, _ = CARDS[card]
    details = {
        "brand": brand,
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "country": "US",
        "display_brand": brand,
        "exp_month": 12,
        "exp_year": 2034,
        "fingerprint": f"fp{last4}{brand}"[:16],
        "funding": "debit" if card.endswith("_debit") else "credit",
        "generated_from": None,
        "last4": last4,
        "networks": {"available": [brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }
    billing = {"address": None, "email": None, "name": None, "phone": None, "tax_id": None}
    pm = ctx.create(
        "payment_method", params or {}, event=None, type="card", card=details, billing_details=billing, customer=None
    )
    ctx.store.cards[pm["id"]] = card
    return pm


def payment_method(ctx: Ctx, pm_id: str, param: str = "payment_method") -> dict[str, Any]:
    """The payment method an id names (``pm_card_visa`` and friends make a fresh one)."""
    if pm_id.startswith("pm_card_"):
        return card_method(ctx, pm_id.removeprefix("pm_card_"))
    return ctx.get("payment_method", pm_id, param)


@behaviour("payment_methods.create")
def create_payment_method(ctx: Ctx) -> dict[str, Any]:
    """A card payment method from a test card number or token; other types stored as sent."""
    card = ctx.params.get("card")
    if ctx.params.get("type") == "card" and isinstance(card, dict):
        number = str(card.get("number", "")).replace(" ", "")
        token = str(card.get("token", ""))
        name = NUMBERS.get(number) or (token.removeprefix("tok_") if token.startswith("tok_") else "visa")
        params = {k: v for k, v in ctx.params.items() if k != "card"}
        pm = card_method(ctx, name if name in CARDS else "visa", params)
        ctx.emit("payment_method.created", pm)
        return pm
    return ctx.create()


def card_of(ctx: Ctx, pm: Mapping[str, Any] | str | None) -> str:
    """The test card a payment method (or its id) was made from (``visa`` for any other)."""
    pm_id = pm.get("id") if isinstance(pm, Mapping) else pm
    return ctx.store.cards.get(str(pm_id or ""), "visa")


def attach_to(ctx: Ctx, pm: dict[str, Any], customer: str) -> dict[str, Any]:
    """Attach a payment method to a customer, checking the card first as Stripe does: a decline
    card is refused with its 402 ``card_error`` and stays unattached."""
    card = card_of(ctx, pm)
    if card in ATTACH_DECLINES:
        code, message = MESSAGES[CARDS[card][2] or "generic_decline"]
        extra = {"decline_code": CARDS[card][2]} if code == "card_declined" else {}
        raise FakeError(402, message, type="card_error", code=code, **extra)
    if pm.get("customer") not in (None, customer):
        raise invalid(
            "payment_method",
            "The payment method you provided has already been attached to a customer.",
            "payment_method_unexpected_state",
        )
    return ctx.update(pm, {}, event="payment_method.attached", customer=customer)


@behaviour("payment_methods.attach")
def attach(ctx: Ctx) -> dict[str, Any]:
    """Attaches after the card check (a decline card: 402 at attach); shortcuts make a new one."""
    pm = payment_method(ctx, ctx.last_id)
    customer = ctx.get("customer", required(ctx.params, "customer"), "customer")
    return attach_to(ctx, pm, customer["id"])


@behaviour("payment_methods.detach")
def detach(ctx: Ctx) -> dict[str, Any]:
    """Detaches (``payment_method.detached``)."""
    pm = ctx.get("payment_method", ctx.last_id, "payment_method")
    return ctx.update(pm, {}, event="payment_method.detached", customer=None)


_DEFAULT_PM = "invoice_settings[default_payment_method]"


def not_attached(pm_id: str) -> FakeError:
    return invalid(
        _DEFAULT_PM,
        f"The customer does not have a payment method with the ID {pm_id}. "
        "The payment method must be attached to the customer.",
        "resource_missing",
    )


#: How many customers one test clock may hold.
CUSTOMERS_PER_CLOCK = 3


@behaviour(
    "customers.create",
    not_simulated_params={"source": "a card made from a source or token", "tax_id_data": "tax ids made with it"},
)
def create_customer(ctx: Ctx) -> dict[str, Any]:
    """A customer, with ``payment_method`` attached (after its card check) and
    ``invoice_settings.default_payment_method`` naming it (a test shortcut named in both places
    is the same new payment method, Stripe's quick-start pattern)."""
    params = dict(ctx.params)
    pm_id = params.pop("payment_method", None)
    settings = dict(params.get("invoice_settings") or {})
    default = settings.get("default_payment_method")
    if isinstance(default, str) and default != pm_id:
        raise not_attached(default)
    if isinstance(params.get("test_clock"), str):
        clock = ctx.get("test_helpers.test_clock", params["test_clock"], "test_clock")
        on_clock = [c for c in ctx.store.all("customer") if c.get("test_clock") == clock["id"]]
        # A test clock holds at most three customers
        # (https://docs.stripe.com/billing/testing/test-clocks/api-advanced-usage#limitations).
        if len(on_clock) >= CUSTOMERS_PER_CLOCK:
            raise invalid(
                "test_clock",
                f"The test clock {clock['id']} already has the maximum of {CUSTOMERS_PER_CLOCK} customers.",
                "test_clock_customer_limit",
            )
    pm = payment_method(ctx, pm_id) if isinstance(pm_id, str) else None
    if pm is not None and card_of(ctx, pm) in ATTACH_DECLINES:
        attach_to(ctx, pm, "")  # Stripe checks the card before it makes the customer: nothing is made
    if pm is not None and isinstance(default, str):
        params["invoice_settings"] = {**settings, "default_payment_method": pm["id"]}
    customer = ctx.create(params=params)
    if pm is not None:
        attach_to(ctx, pm, customer["id"])
    return customer


@behaviour("customers.update", not_simulated_params={"source": "a card made from a source or token"})
def update_customer(ctx: Ctx) -> dict[str, Any]:
    """Updates; a new ``invoice_settings.default_payment_method`` must be attached to the customer."""
    customer = ctx.get("customer", ctx.last_id, "customer")
    default = (ctx.params.get("invoice_settings") or {}).get("default_payment_method")
    if isinstance(default, str) and default:
        pm = ctx.store.find(default, "payment_method")
        if pm is None or pm.get("customer") != customer["id"]:
            raise not_attached(default)
    return ctx.update(customer)


# -- charges, balance transactions and the balance -------------------------------------------------


def balance_transaction(ctx: Ctx, source: dict[str, Any], amount: int, kind: str) -> dict[str, Any]:
    """A charge's or refund's balance transaction (a charge pays Stripe's fee, and a direct charge
    on a connected account its application fee). A charge's funds are pending until the
    account's payout schedule makes them available, but for a bypass-pending card's; a refund
    takes from the available balance at once."""
    if kind != "charge":
        return connect.ledger(ctx, source, amount, kind)
    # The fee is capped at what is captured, as ``connect.captured`` caps the application fee.
    direct = min(connect.direct_fee(ctx, source), amount)
    fees = {"stripe_fee": fee(amount), "application_fee": direct}
    card = card_of(ctx, source.get("payment_method"))
    held = None if card in AVAILABLE_AT_ONCE else connect.held_until(ctx, ctx.clock_time(source))
    return connect.ledger(ctx, source, amount, kind, fees, available_on=held)


def book(ctx: Ctx, obj: dict[str, Any], amount: int) -> dict[str, Any]:
    """A captured charge's balance transaction, and the money it moves between accounts."""
    bt = balance_transaction(ctx, obj, amount, "charge")
    obj["balance_transaction"] = bt["id"]
    connect.captured(ctx, obj, amount)
    return bt


def charge(
    ctx: Ctx,
    amount: int,
    currency: str,
    *,
    customer: str | None,
    pm: dict[str, Any] | None,
    capture: bool,
    payment_intent: str | None = None,
    description: str | None = None,
    decline: str | None = None,
    connected: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A charge on a card: succeeded (captured or not) or failed, with its events (``decline``:
    fails with this decline code whatever the card)."""
    outcome_code = decline or CARDS.get(card_of(ctx, pm), CARDS["visa"])[2]
    failed = (outcome_code is not None and not outcome_code.startswith("authentication_required")) or bool(decline)
    code, message = MESSAGES.get(outcome_code or "", (None, None))
    card = pm.get("card") if pm else None
    obj = ctx.create(
        "charge",
        {},
        event=None,
        amount=amount,
        currency=currency,
        customer=customer,
        description=description,
        payment_intent=payment_intent,
        payment_method=pm["id"] if pm else None,
        status="failed" if failed else "succeeded",
        paid=not failed,
        captured=capture and not failed,
        amount_captured=amount if capture and not failed else 0,
        failure_code=code if failed else None,
        failure_message=message if failed else None,
        balance_transaction=None,
        **(connected or {}),
    )
    obj["refunds"] = {"object": "list", "data": [], "has_more": False, "url": f"/v1/charges/{obj['id']}/refunds"}
    obj["outcome"] = {
        **(obj.get("outcome") or {}),
        "type": "issuer_declined" if failed else "authorized",
        "network_status": "declined_by_network" if failed else "approved_by_network",
        "reason": outcome_code if failed else None,
        "seller_message": message or "Payment complete.",
    }
    if isinstance(card, dict) and isinstance((obj.get("payment_method_details") or {}).get("card"), dict):
        obj["payment_method_details"]["card"].update(brand=card.get("brand"), last4=card.get("last4"))
        obj["payment_method_details"]["type"] = "card"
    if obj["captured"]:
        book(ctx, obj, amount)
    ctx.emit("charge.failed" if failed else "charge.succeeded", obj)
    return obj


def decline_error(ctx: Ctx, charge_obj: dict[str, Any], pi: dict[str, Any] | None = None) -> FakeError:
    reason = charge_obj["outcome"]["reason"]
    code, message = MESSAGES[reason]
    extra: dict[str, Any] = {"charge": charge_obj["id"], "payment_method": charge_obj["payment_method"]}
    if code == "card_declined":
        extra["decline_code"] = reason
    if pi is not None:
        extra["payment_intent"] = copy.deepcopy(pi)
    return FakeError(402, message, type="card_error", code=code, **extra)


@behaviour("charges.create", not_simulated_params=connect.NOT_SIMULATED)
def create_charge(ctx: Ctx) -> dict[str, Any]:
    """A charge on a test card (``source``): succeeded, or failed with its 402, with its balance transaction."""
    source = ctx.params.get("source")
    customer = ctx.params.get("customer")
    pm = None
    if isinstance(source, str) and source.startswith("tok_"):
        pm = card_method(ctx, source.removeprefix("tok_"))
    elif isinstance(source, str):
        pm = payment_method(ctx, source, "source")
    amount, currency = required(ctx.params, "amount"), required(ctx.params, "currency")
    obj = charge(
        ctx,
        amount,
        currency,
        customer=customer,
        pm=pm,
        capture=ctx.params.get("capture", True),
        description=ctx.params.get("description"),
        connected=connect.charge_fields(ctx, ctx.params, amount),
    )
    skip = ("source", "capture", "transfer_data", "application_fee_amount", "on_behalf_of")
    obj = ctx.update(obj, {k: v for k, v in ctx.params.items() if k not in skip}, event=None)
    if obj["status"] == "failed":
        raise decline_error(ctx, obj)
    return obj


@behaviour("charges.capture")
def capture_charge(ctx: Ctx) -> dict[str, Any]:
    """Captures an uncaptured charge (all or part), with its balance transaction."""
    obj = ctx.get("charge", ctx.last_id, "charge")
    if obj["captured"]:
        raise invalid("charge", f"Charge {obj['id']} has already been captured.", "charge_already_captured")
    amount = ctx.params.get("amount", obj["amount"])
    book(ctx, obj, amount)
    return ctx.update(obj, {}, event="charge.captured", captured=True, amount_captured=amount)


# -- payment intents ------------------------------------------------------------------------------


@behaviour("payment_intents.create", not_simulated_params=connect.NOT_SIMULATED)
def create_intent(ctx: Ctx) -> dict[str, Any]:
    """A PaymentIntent (test shortcuts as ``payment_method``), confirmed at once with ``confirm=true``."""
    params = dict(ctx.params)
    pm_id = params.pop("payment_method", None)
    pm = payment_method(ctx, pm_id) if isinstance(pm_id, str) else None
    connect.charge_fields(ctx, params, required(params, "amount"))
    pi = ctx.create(
        params=params,
        payment_method=pm["id"] if pm else None,
        status="requires_confirmation" if pm else "requires_payment_method",
    )
    if params.get("confirm"):
        return confirm(ctx, pi)
    return pi


@behaviour("payment_intents.confirm")
def confirm_intent(ctx: Ctx) -> dict[str, Any]:
    """Confirms: charged, held for capture, declined (402), or ``requires_action`` for 3-D Secure cards."""
    pi = ctx.get("payment_intent", ctx.last_id, "intent")
    params = dict(ctx.params)
    pm_id = params.pop("payment_method", None)
    if isinstance(pm_id, str):
        params["payment_method"] = payment_method(ctx, pm_id)["id"]
    ctx.update(pi, params, event=None)
    return confirm(ctx, pi)


def confirm(ctx: Ctx, pi: dict[str, Any]) -> dict[str, Any]:
    if pi["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
        raise unexpected(pi, "confirm")
    if not pi.get("payment_method"):
        raise invalid(
            "payment_method",
            "You cannot confirm this PaymentIntent because it's missing a payment "
            "method. Update it with a payment_method, or confirm it with one.",
            "payment_intent_unexpected_state",
        )
    pm = ctx.get("payment_method", pi["payment_method"], "payment_method")
    asks = AUTHENTICATE.get(CARDS.get(card_of(ctx, pm), CARDS["visa"])[2] or "")
    off_session = bool(ctx.params.get("off_session"))
    if asks == "always" and off_session:
        # Off session nobody can authenticate: Stripe declines with authentication_required
        # (https://docs.stripe.com/payments/save-and-reuse#charge-saved-payment-method).
        return settle(ctx, pi, pm, decline="authentication_required")
    if asks is not None and not off_session:
        action = next_action(ctx, pi["id"])
        return ctx.update(pi, {}, event="payment_intent.requires_action", status="requires_action", next_action=action)
    return settle(ctx, pi, pm)


def next_action(ctx: Ctx, intent: str) -> dict[str, Any]:
    """What the customer must do for 3-D Secure: be redirected when the request gave a
    ``return_url``, or let Stripe.js handle it (https://docs.stripe.com/api/payment_intents/object#payment_intent_object-next_action)."""
    return_url = ctx.params.get("return_url")
    if isinstance(return_url, str):
        url = f"https://hooks.stripe.com/redirect/authenticate/src_{intent}?client_secret={intent}_secret"
        return {"type": "redirect_to_url", "redirect_to_url": {"return_url": return_url, "url": url}}
    return {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""}}


def authenticate(ctx: Ctx, pi: dict[str, Any], succeed: bool) -> dict[str, Any]:
    """The customer completes (or fails) 3-D Secure on a PaymentIntent that requires action."""
    if pi["status"] != "requires_action":
        raise unexpected(pi, "authenticate")
    if succeed:
        return settle(ctx, pi, ctx.get("payment_method", pi["payment_method"], "payment_method"))
    error = {
        "type": "card_error",
        "code": "payment_intent_authentication_failure",
        "message": "The provided PaymentMethod has failed authentication.",
    }
    return ctx.update(
        pi,
        {},
        event="payment_intent.payment_failed",
        status="requires_payment_method",
        next_action=None,
        last_payment_error=error,
    )


def settle(ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any], *, decline: str | None = None) -> dict[str, Any]:
    """Charge the card: the PaymentIntent succeeds, waits for capture, or fails (402; ``decline``
    forces that decline code). With ``setup_future_usage`` and a customer, a payment method that
    paid is attached to the customer, as Stripe does."""
    manual = pi.get("capture_method") == "manual"
    made = charge(
        ctx,
        pi["amount"],
        pi["currency"],
        customer=pi.get("customer"),
        pm=pm,
        capture=not manual,
        payment_intent=pi["id"],
        description=pi.get("description"),
        decline=decline,
        connected=connect.charge_fields(ctx, pi, pi["amount"]),
    )
    if made["status"] == "failed":
        error = decline_error(ctx, made)
        ctx.update(
            pi,
            {},
            event="payment_intent.payment_failed",
            status="requires_payment_method",
            latest_charge=made["id"],
            last_payment_error={**error.body, "payment_method": copy.deepcopy(pm)},
        )
        raise decline_error(ctx, made, pi)
    if pi.get("setup_future_usage") and pi.get("customer") and pm.get("customer") is None:
        attach_to(ctx, pm, pi["customer"])
    if manual:
        return ctx.update(
            pi,
            {},
            event="payment_intent.amount_capturable_updated",
            status="requires_capture",
            amount_capturable=pi["amount"],
            latest_charge=made["id"],
            next_action=None,
        )
    return ctx.update(
        pi,
        {},
        event="payment_intent.succeeded",
        status="succeeded",
        amount_received=pi["amount"],
        latest_charge=made["id"],
        next_action=None,
    )


def unexpected(pi: dict[str, Any], action: str) -> FakeError:
    return invalid(
        "intent",
        f"You cannot {action} this PaymentIntent because it has a status of {pi['status']}.",
        "payment_intent_unexpected_state",
    )


@behaviour("payment_intents.capture")
def capture_intent(ctx: Ctx) -> dict[str, Any]:
    """Captures a ``requires_capture`` PaymentIntent (all or part)."""
    pi = ctx.get("payment_intent", ctx.last_id, "intent")
    if pi["status"] != "requires_capture":
        raise unexpected(pi, "capture")
    amount = ctx.params.get("amount_to_capture", pi["amount_capturable"])
    if amount > pi["amount_capturable"]:
        raise invalid(
            "amount_to_capture", "The amount to capture is greater than the amount capturable.", "amount_too_large"
        )
    made = ctx.get("charge", pi["latest_charge"])
    book(ctx, made, amount)
    ctx.update(made, {}, event="charge.captured", captured=True, amount_captured=amount)
    return ctx.update(
        pi,
        {k: v for k, v in ctx.params.items() if k != "amount_to_capture"},
        event="payment_intent.succeeded",
        status="succeeded",
        amount_received=amount,
        amount_capturable=0,
    )


@behaviour("payment_intents.cancel")
def cancel_intent(ctx: Ctx) -> dict[str, Any]:
    """Cancels one that can be canceled (``payment_intent.canceled``)."""
    pi = ctx.get("payment_intent", ctx.last_id, "intent")
    if pi["status"] not in CANCELABLE:
        raise unexpected(pi, "cancel")
    return ctx.update(
        pi,
        ctx.params,
        event="payment_intent.canceled",
        status="canceled",
        canceled_at=ctx.clock_time(pi),
        amount_capturable=0,
        cancellation_reason=ctx.params.get("cancellation_reason", "requested_by_customer"),
    )


# -- refunds -----------------------------------------------------------------------------------------


@behaviour("refunds.create")
def create_refund(ctx: Ctx) -> dict[str, Any]:
    """Refunds a charge or a PaymentIntent's charge (all or part), reflected on the charge and the balance."""
    params = dict(ctx.params)
    charge_id = params.get("charge")
    intent_id = params.get("payment_intent")
    if isinstance(intent_id, str) and not charge_id:
        pi = ctx.get("payment_intent", intent_id, "payment_intent")
        charge_id = pi.get("latest_charge")
        if not charge_id:
            raise invalid(
                "payment_intent",
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                "charge_not_refundable",
            )
    if not isinstance(charge_id, str):
        raise invalid(
            "charge",
            "One of the following params should be provided for this request: payment_intent or charge.",
            "parameter_missing",
        )
    made = ctx.get("charge", charge_id, "charge")
    remaining = made["amount_captured"] - made["amount_refunded"]
    if remaining <= 0:
        raise invalid("charge", f"Charge {made['id']} has already been refunded.", "charge_already_refunded")
    amount = params.get("amount", remaining)
    if amount > remaining:
        raise invalid(
            "amount",
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            "amount_too_large",
        )
    refund = ctx.create(
        params=params,
        amount=amount,
        charge=made["id"],
        currency=made["currency"],
        payment_intent=made.get("payment_intent"),
        status="succeeded",
    )
    refund["balance_transaction"] = balance_transaction(ctx, refund, -amount, "refund")["id"]
    connect.refunded(ctx, made, refund, amount)
    refunds = copy.deepcopy(
        made.get("refunds")
        or {"object": "list", "data": [], "has_more": False, "url": f"/v1/charges/{made['id']}/refunds"}
    )
    refunds["data"].insert(0, copy.deepcopy(refund))
    refunded = made["amount_refunded"] + amount
    ctx.update(
        made,
        {},
        event="charge.refunded",
        amount_refunded=refunded,
        refunds=refunds,
        refunded=refunded >= made["amount_captured"],
    )
    return refund

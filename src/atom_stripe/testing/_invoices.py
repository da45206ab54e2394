"""Invoices as Stripe bills them: lines from subscription items and pending invoice items, finalized
with a PaymentIntent (``payments``, ``confirmation_secret``), paid, failed or waiting for 3-D Secure
through that PaymentIntent, and dunning's retry schedule.

Since API version 2025-03-31 an invoice is paid through ``invoice_payment`` objects, each naming
the PaymentIntent it was paid with (https://docs.stripe.com/invoicing/payments and
https://docs.stripe.com/api/invoice-payment/object); the client secret a front end confirms is
``invoice.confirmation_secret`` (https://docs.stripe.com/api/invoices/object#invoice_object-confirmation_secret).
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._generated.endpoints import ENDPOINTS
from . import _payments, _simulated
from ._engine import Ctx, behaviour
from ._store import new_id
from ._wire import FakeError, invalid, required

if TYPE_CHECKING:
    from ._fake import FakeStripe

DAY = 86_400


def not_simulated(ctx: Ctx, param: str, why: str = "") -> FakeError:
    """The fake's refusal of a parameter whose behaviour it does not play (never a silent 200)."""
    return _simulated.not_simulated(ctx.name, param, why)


def others(name: str, simulated: Iterable[str]) -> dict[str, str]:
    """The parameters of ``name`` other than ``simulated``: a request that sets one is refused
    (``fake_not_simulated``) rather than answered as if it had done nothing."""
    params_type = ENDPOINTS[name].params_type
    hints = typing.get_type_hints(params_type) if params_type is not None else {}
    return dict.fromkeys(sorted(set(hints) - {*simulated, "expand"}), "")


# -- dunning: the retry schedule and what happens when it runs out --------------------------------


@dataclass
class Dunning:
    """Automatic collection's retries of a failed invoice.

    Stripe's Smart Retries retry a failed subscription payment several times within a window that
    defaults to two weeks, at times it picks per payment; a custom schedule retries a set number of
    days after the first attempt (https://docs.stripe.com/billing/revenue-recovery/smart-retries).
    The fake uses such a fixed schedule: ``retry_days`` after the first failed attempt (by default
    3, 7 and 14 days: three retries inside Smart Retries' default two weeks). When the last retry
    fails the subscription becomes ``exhausted``: ``canceled`` (the Dashboard's default "cancel the
    subscription"), ``unpaid`` or ``past_due`` (leave it as it is), as the account's "Manage failed
    payments" setting says (same page, "Subscription status" after all retries fail).
    """

    retry_days: tuple[int, ...] = (3, 7, 14)
    exhausted: str = "canceled"


_DUNNING_KEY = "fake:dunning"


def configure_dunning(fake: FakeStripe, *, retry_days: Iterable[int] = (3, 7, 14), exhausted: str = "canceled") -> None:
    """Set the account's retry schedule (days after the first failed attempt) and the status a
    subscription ends in once every retry failed (``canceled``, ``unpaid`` or ``past_due``)."""
    days = tuple(int(d) for d in retry_days)
    if list(days) != sorted(set(days)) or any(d <= 0 for d in days):
        raise ValueError("retry_days must be increasing positive day counts")
    if exhausted not in ("canceled", "unpaid", "past_due"):
        raise ValueError("exhausted must be 'canceled', 'unpaid' or 'past_due'")
    fake.store.singletons[_DUNNING_KEY] = {"retry_days": list(days), "exhausted": exhausted}


def dunning(ctx: Ctx) -> Dunning:
    saved = ctx.fake.store.singletons.get(_DUNNING_KEY)
    if saved is None:
        return Dunning()
    return Dunning(tuple(saved["retry_days"]), saved["exhausted"])


# -- building invoices ----------------------------------------------------------------------------------


def price_line(
    ctx: Ctx,
    *,
    amount: int,
    currency: str,
    price: Mapping[str, Any] | None,
    quantity: int,
    start: int,
    end: int,
    description: str,
    subscription: str | None,
    item: str | None,
    invoice_item: str | None = None,
    proration: bool = False,
) -> dict[str, Any]:
    """One invoice line (``line_item``) for a price over [start, end)."""
    line: dict[str, Any] = copy.deepcopy(ctx.store.fixtures["invoice"]["lines"]["data"][0])
    line.update(
        id=new_id("il"),
        amount=amount,
        currency=currency,
        subtotal=amount,
        quantity=quantity,
        quantity_decimal=str(quantity),
        period={"start": start, "end": end},
        subscription=subscription,
        description=description,
        discount_amounts=[],
        discountable=not proration,
        discounts=[],
        metadata={},
        pretax_credit_amounts=[],
        taxes=[],
    )
    if subscription is not None and item is not None:
        line["parent"] = {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription,
                "subscription_item": item,
            },
        }
    else:
        line["parent"] = {
            "type": "invoice_item_details",
            "subscription_item_details": None,
            "invoice_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription,
            },
        }
    line["pricing"] = (
        {
            "type": "price_details",
            "unit_amount_decimal": str(price.get("unit_amount")),
            "price_details": {"price": price["id"], "product": price.get("product")},
        }
        if price is not None
        else None
    )
    return line


def pending_items(ctx: Ctx, customer: str, subscription: str | None) -> list[dict[str, Any]]:
    """The customer's invoice items not on an invoice yet that the next invoice takes: those of
    this subscription and those of no subscription (oldest first)."""
    out = []
    for ii in reversed(ctx.store.all("invoiceitem")):
        owner = ((ii.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        if ii["customer"] == customer and ii.get("invoice") is None and owner in (None, subscription):
            out.append(ii)
    return out


def item_line(ctx: Ctx, ii: dict[str, Any]) -> dict[str, Any]:
    details = (ii.get("parent") or {}).get("subscription_details") or {}
    price_id = ((ii.get("pricing") or {}).get("price_details") or {}).get("price")
    price = ctx.store.find(price_id, "price") if isinstance(price_id, str) else None
    return price_line(
        ctx,
        amount=ii["amount"],
        currency=ii["currency"],
        price=price,
        quantity=ii.get("quantity") or 1,
        start=ii["period"]["start"],
        end=ii["period"]["end"],
        description=ii.get("description") or "",
        subscription=details.get("subscription"),
        item=details.get("subscription_item"),
        invoice_item=ii["id"],
        proration=bool(ii.get("proration")),
    )


def create_invoice(
    ctx: Ctx,
    *,
    customer: str,
    currency: str,
    reason: str,
    lines: list[dict[str, Any]],
    start: int,
    end: int,
    subscription: Mapping[str, Any] | None = None,
    take_pending: bool = True,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A draft invoice of ``lines`` plus the pending invoice items it takes (``invoice.created``)."""
    sub_id = subscription["id"] if subscription else None
    taken = pending_items(ctx, customer, sub_id) if take_pending else []
    lines = [*lines, *(item_line(ctx, ii) for ii in taken)]
    total = sum(line["amount"] for line in lines)
    now = ctx.now(customer)
    collection = (subscription or params or {}).get("collection_method") or "charge_automatically"
    invoice = ctx.create(
        "invoice",
        params or {},
        event=None,
        customer=customer,
        currency=currency,
        billing_reason=reason,
        collection_method=collection,
        period_start=start,
        period_end=end,
        amount_due=max(total, 0),
        amount_paid=0,
        amount_remaining=max(total, 0),
        amount_overpaid=0,
        amount_shipping=0,
        starting_balance=0,
        ending_balance=None,
        subtotal=total,
        total=total,
        subtotal_excluding_tax=total,
        total_excluding_tax=total,
        status="draft",
        attempted=False,
        attempt_count=0,
        next_payment_attempt=None,
        test_clock=(ctx.store.find(customer, "customer") or {}).get("test_clock"),
        due_date=None,
        effective_at=None,
        created=now,
        auto_advance=True,
        number=None,
        confirmation_secret=None,
        hosted_invoice_url=None,
        invoice_pdf=None,
        default_payment_method=None,
        discounts=[],
        from_invoice=None,
        last_finalization_error=None,
        latest_revision=None,
        post_payment_credit_notes_amount=0,
        pre_payment_credit_notes_amount=0,
        shipping_cost=None,
        shipping_details=None,
        webhooks_delivered_at=None,
        payment_settings={"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        parent=(
            {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "metadata": copy.deepcopy(subscription.get("metadata")),
                    "subscription": subscription["id"],
                },
            }
            if subscription
            else None
        ),
        status_transitions={"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None, "voided_at": None},
    )
    for line in lines:
        line["invoice"] = invoice["id"]
    invoice["lines"] = {
        "object": "list",
        "data": lines,
        "has_more": False,
        "url": f"/v1/invoices/{invoice['id']}/lines",
    }
    invoice["payments"] = _payments_list(invoice)
    for ii in taken:
        ii["invoice"] = invoice["id"]
    owner = ctx.get("customer", customer, "customer")
    balance = int(owner.get("balance") or 0)
    if total < 0 or (balance < 0 and subscription is not None):
        # A credit goes to the customer's balance, and a credit balance pays the next invoices
        # first (https://docs.stripe.com/billing/customer/balance). Subscription invoices only:
        # they are finalized as they are made (a manual draft would take it at finalization).
        applied = total if total < 0 else max(balance, -total)
        due = max(total + applied, 0) if total > 0 else 0
        ctx.update(owner, {}, balance=balance + (total if total < 0 else -applied))
        invoice.update(
            starting_balance=balance,
            ending_balance=owner["balance"],
            amount_due=due,
            amount_remaining=due,
        )
    ctx.emit("invoice.created", invoice)
    return invoice


def finalize(ctx: Ctx, invoice: dict[str, Any]) -> dict[str, Any]:
    """Open the invoice: its number, and (automatic collection of an amount) its PaymentIntent.
    A zero invoice is paid at once."""
    now = ctx.now(invoice["customer"])
    invoice["number"] = f"FAKE-{sum(1 for i in ctx.store.all('invoice') if i.get('number')) + 1:04d}"
    invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/{invoice['id']}"
    invoice["invoice_pdf"] = f"https://pay.stripe.com/invoice/{invoice['id']}/pdf"
    invoice["status_transitions"] = {**invoice["status_transitions"], "finalized_at": now}
    invoice["effective_at"] = now
    invoice["status"] = "open"
    if invoice["collection_method"] == "send_invoice" and invoice.get("due_date") is None:
        sub = ctx.store.find(subscription_of(invoice) or "", "subscription") or {}
        invoice["due_date"] = now + int(sub.get("days_until_due") or 30) * DAY
    if invoice["amount_due"] > 0:
        pi = ctx.create(
            "payment_intent",
            {},
            event="payment_intent.created",
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            customer=invoice["customer"],
            description=invoice_description(invoice),
            status="requires_payment_method",
            capture_method="automatic",
            confirmation_method="automatic",
            payment_method_types=["card"],
            setup_future_usage="off_session" if invoice.get("parent") else None,
            created=now,
            transfer_data=None,
            on_behalf_of=None,
            application_fee_amount=None,
            automatic_payment_methods=None,
            statement_descriptor=None,
            statement_descriptor_suffix=None,
            receipt_email=None,
            review=None,
            shipping=None,
            payment_method_configuration_details=None,
        )
        payment = ctx.create(
            "invoice_payment",
            {"id": new_id("inpay")},
            event=None,
            invoice=invoice["id"],
            amount_requested=invoice["amount_due"],
            amount_paid=None,
            currency=invoice["currency"],
            is_default=True,
            livemode=False,
            payment={"type": "payment_intent", "payment_intent": pi["id"], "charge": None, "payment_record": None},
            status="open",
            status_transitions={"canceled_at": None, "paid_at": None},
            created=now,
        )
        invoice["payments"] = {**_payments_list(invoice), "data": [copy.deepcopy(payment)]}
        invoice["confirmation_secret"] = {"client_secret": pi["client_secret"], "type": "payment_intent"}
    ctx.emit("invoice.finalized", invoice)
    if invoice["amount_due"] == 0:
        mark_paid(ctx, invoice)
    return invoice


def _payments_list(invoice: Mapping[str, Any]) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "url": f"/v1/invoice_payments?invoice={invoice['id']}"}


def invoice_description(invoice: Mapping[str, Any]) -> str:
    return {
        "subscription_create": "Subscription creation",
        "subscription_cycle": "Subscription cycle",
        "subscription_update": "Subscription update",
    }.get(str(invoice.get("billing_reason")), "Invoice")


def intent_of(ctx: Ctx, invoice: Mapping[str, Any]) -> dict[str, Any] | None:
    for payment in (invoice.get("payments") or {}).get("data", []):
        pi_id = payment["payment"].get("payment_intent")
        if isinstance(pi_id, str):
            return ctx.store.find(pi_id, "payment_intent")
    return None


def payment_of(ctx: Ctx, pi_id: str) -> dict[str, Any] | None:
    return next(
        (p for p in ctx.store.all("invoice_payment") if p["payment"].get("payment_intent") == pi_id),
        None,
    )


def _sync_payments(ctx: Ctx, invoice: dict[str, Any]) -> None:
    held = [copy.deepcopy(p) for p in reversed(ctx.store.all("invoice_payment")) if p["invoice"] == invoice["id"]]
    invoice["payments"] = {**(invoice.get("payments") or _payments_list(invoice)), "data": held}


def collect(ctx: Ctx, invoice: dict[str, Any], pm: Mapping[str, Any] | None) -> dict[str, Any]:
    """One automatic attempt to pay an open invoice with ``pm`` through its PaymentIntent: paid,
    waiting for 3-D Secure (``invoice.payment_action_required``), or failed (``invoice.payment_failed``,
    with the next retry of the schedule while one remains)."""
    pi = intent_of(ctx, invoice)
    if invoice["status"] != "open" or pi is None:
        return invoice
    if pm is None:
        # Stripe does not attempt an invoice without a payment method: it stays open, its
        # PaymentIntent waiting for one (https://docs.stripe.com/billing/subscriptions/overview#payment-status).
        return invoice
    ctx.update(pi, {}, event=None, payment_method=pm["id"], status="requires_confirmation")
    try:
        _payments.confirm(ctx, pi)
    except FakeError as exc:
        if exc.status != 402:
            raise
    if pi["status"] == "requires_action":
        return ctx.update(
            invoice,
            {},
            event="invoice.payment_action_required",
            attempted=True,
            attempt_count=invoice["attempt_count"] + 1,
            next_payment_attempt=None,
        )
    if pi["status"] == "requires_payment_method":
        return failed(ctx, invoice)
    return invoice


def failed(ctx: Ctx, invoice: dict[str, Any]) -> dict[str, Any]:
    """A failed attempt: the next retry of the schedule (renewals), or none left."""
    attempts = invoice["attempt_count"] + 1
    retry = None
    if invoice.get("billing_reason") not in ("subscription_create", "manual") and invoice.get("auto_advance"):
        schedule = dunning(ctx).retry_days
        if attempts <= len(schedule):
            first = invoice.get("effective_at") or invoice["created"]
            retry = first + schedule[attempts - 1] * DAY
    return ctx.update(
        invoice,
        {},
        event="invoice.payment_failed",
        attempted=True,
        attempt_count=attempts,
        next_payment_attempt=retry,
    )


def mark_paid(ctx: Ctx, invoice: dict[str, Any], pi: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The invoice is paid (by ``pi``, or as a zero invoice): its invoice payment, events, and its
    subscription's status."""
    now = ctx.now(invoice["customer"])
    if pi is not None:
        payment = payment_of(ctx, pi["id"])
        if payment is not None:
            ctx.update(
                payment,
                {},
                event="invoice_payment.paid",
                status="paid",
                amount_paid=pi["amount"],
                status_transitions={**payment["status_transitions"], "paid_at": now},
            )
        _sync_payments(ctx, invoice)
    ctx.update(
        invoice,
        {},
        event="invoice.paid",
        status="paid",
        amount_paid=invoice["amount_due"],
        amount_remaining=0,
        attempted=invoice["attempted"] or pi is not None,
        attempt_count=invoice["attempt_count"] + (1 if pi is not None else 0),
        next_payment_attempt=None,
        status_transitions={**invoice["status_transitions"], "paid_at": now},
    )
    ctx.emit("invoice.payment_succeeded", invoice)
    from ._subscriptions import invoice_paid

    invoice_paid(ctx, invoice)
    return invoice


def close_intent(ctx: Ctx, invoice: Mapping[str, Any], reason: str) -> None:
    """Cancel the PaymentIntent of an invoice that will not be paid (void, uncollectible)."""
    pi = intent_of(ctx, invoice)
    if pi is not None and pi["status"] in _payments.CANCELABLE:
        ctx.update(pi, {}, event="payment_intent.canceled", status="canceled", cancellation_reason=reason)
        payment = payment_of(ctx, pi["id"])
        if payment is not None:
            now = ctx.now(invoice["customer"])
            transitions = {**payment["status_transitions"], "canceled_at": now}
            ctx.update(payment, {}, event=None, status="canceled", status_transitions=transitions)


# -- a PaymentIntent of an invoice that succeeds pays its invoice -----------------------------------------

_settle = _payments.settle


def _settle_and_pay(ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``_payments.settle``, then the invoice of the PaymentIntent (if any) is paid: however the
    intent was confirmed (an automatic attempt, ``payment_intents.confirm`` with the
    ``confirmation_secret``, 3-D Secure completed with ``FakeStripe.authenticate``)."""
    out = _settle(ctx, pi, pm, *args, **kwargs)
    if out["status"] == "succeeded":
        payment = payment_of(ctx, out["id"])
        invoice = ctx.store.find(payment["invoice"], "invoice") if payment else None
        if invoice is not None and invoice["status"] == "open":
            mark_paid(ctx, invoice, out)
    return out


_payments.settle = _settle_and_pay

_authenticate = _payments.authenticate


def _authenticate_or_fail(ctx: Ctx, pi: dict[str, Any], succeed: bool, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``_payments.authenticate``; a customer who fails 3-D Secure on an invoice's PaymentIntent
    fails that attempt of the invoice (``invoice.payment_failed``)."""
    out = _authenticate(ctx, pi, succeed, *args, **kwargs)
    payment = payment_of(ctx, out["id"]) if not succeed else None
    invoice = ctx.store.find(payment["invoice"], "invoice") if payment else None
    if invoice is not None and invoice["status"] == "open":
        ctx.emit("invoice.payment_failed", invoice)
    return out


_payments.authenticate = _authenticate_or_fail


# -- the invoice API -----------------------------------------------------------------------------------------


def _invoice(ctx: Ctx) -> dict[str, Any]:
    return ctx.get("invoice", ctx.last_id, "invoice")


def _state(invoice: Mapping[str, Any], action: str, allowed: tuple[str, ...]) -> None:
    if invoice["status"] not in allowed:
        raise invalid(
            "invoice",
            f"You can only {action} an invoice that is {' or '.join(allowed)}: this one is {invoice['status']}.",
        )


@behaviour("invoices.list")
def list_invoices(ctx: Ctx) -> dict[str, Any]:
    """Invoices, newest first; ``subscription`` filters on the invoice's parent subscription."""
    params = dict(ctx.params)
    items = ctx.store.all("invoice")
    sub = params.pop("subscription", None)
    if isinstance(sub, str):
        items = [i for i in items if subscription_of(i) == sub]
    return ctx.store.page(items, params, "/v1/invoices")


@behaviour("invoice_items.list", filters=("pending", "created"))
def list_invoice_items(ctx: Ctx) -> dict[str, Any]:
    """Invoice items, newest first; ``pending=true`` only those on no invoice yet, ``false`` only
    those on one; ``created`` is the item's ``date`` (its creation time: an invoice item has no
    ``created``) (https://docs.stripe.com/api/invoiceitems/list)."""
    params = dict(ctx.params)
    items = ctx.store.all("invoiceitem")
    pending = params.pop("pending", None)
    if pending is not None:
        items = [i for i in items if (i.get("invoice") is None) == pending]
    created = params.pop("created", None)
    if created is not None:
        params["date"] = created
    return ctx.store.page(items, params, "/v1/invoiceitems")


@behaviour("invoice_payments.list", filters=("payment",))
def list_invoice_payments(ctx: Ctx) -> dict[str, Any]:
    """Invoice payments, newest first; ``payment`` finds the invoice a PaymentIntent (or charge)
    paid, as Stripe documents for finding an invoice from its payment
    (https://docs.stripe.com/api/invoice-payment/list)."""
    params = dict(ctx.params)
    items = ctx.store.all("invoice_payment")
    wanted = params.pop("payment", None)
    if isinstance(wanted, Mapping):
        kind = wanted.get("type")
        items = [p for p in items if p["payment"]["type"] == kind and p["payment"].get(kind) == wanted.get(kind)]
    return ctx.store.page(items, params, "/v1/invoice_payments")


def subscription_of(invoice: Mapping[str, Any]) -> str | None:
    found = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    return found if isinstance(found, str) else None


@behaviour(
    "invoices.create",
    not_simulated_params=others(
        "invoices.create",
        (
            "customer",
            "currency",
            "collection_method",
            "days_until_due",
            "description",
            "metadata",
            "auto_advance",
            "pending_invoice_items_behavior",
        ),
    ),
)
def create_manual_invoice(ctx: Ctx) -> dict[str, Any]:
    customer = ctx.get("customer", required(ctx.params, "customer"), "customer")
    # Since 2022-08-01 a new invoice leaves pending invoice items alone unless told to include them
    # (https://docs.stripe.com/api/invoices/create#create_invoice-pending_invoice_items_behavior).
    include = ctx.params.get("pending_invoice_items_behavior") == "include"
    params = {k: v for k, v in ctx.params.items() if k in ("description", "metadata", "collection_method")}
    now = ctx.now(customer["id"])
    invoice = create_invoice(
        ctx,
        customer=customer["id"],
        currency=ctx.params.get("currency") or "usd",
        reason="manual",
        lines=[],
        start=now,
        end=now,
        take_pending=include,
        params=params,
    )
    invoice["auto_advance"] = bool(ctx.params.get("auto_advance", False))
    if isinstance(ctx.params.get("days_until_due"), int):
        invoice["due_date"] = now + ctx.params["days_until_due"] * DAY
    return invoice


@behaviour("invoices.finalize_invoice", not_simulated_params=others("invoices.finalize_invoice", ("auto_advance",)))
def finalize_invoice(ctx: Ctx) -> dict[str, Any]:
    invoice = _invoice(ctx)
    _state(invoice, "finalize", ("draft",))
    return finalize(ctx, invoice)


@behaviour(
    "invoices.pay", not_simulated_params=others("invoices.pay", ("payment_method", "off_session", "paid_out_of_band"))
)
def pay_invoice(ctx: Ctx) -> dict[str, Any]:
    invoice = _invoice(ctx)
    if invoice["status"] == "draft":
        finalize(ctx, invoice)
    _state(invoice, "pay", ("open",))
    if ctx.params.get("paid_out_of_band"):
        return mark_paid(ctx, invoice)
    pm_id = ctx.params.get("payment_method")
    if isinstance(pm_id, str):
        pm: Mapping[str, Any] | None = _payments.payment_method(ctx, pm_id)
    else:
        from ._subscriptions import payment_method_for

        pm = payment_method_for(ctx, invoice)
    if pm is None:
        raise invalid(
            "payment_method",
            "This customer has no attached payment source or default payment method. Please consider "
            "adding a default payment method.",
            "resource_missing",
        )
    collect(ctx, invoice, pm)
    pi = intent_of(ctx, invoice)
    if invoice["status"] != "paid" and pi is not None:
        if pi["status"] == "requires_action":
            raise FakeError(
                402,
                "This payment requires additional user action before it can be completed successfully.",
                type="card_error",
                code="invoice_payment_intent_requires_action",
                payment_intent=copy.deepcopy(pi),
            )
        error = dict(pi.get("last_payment_error") or {})
        error.pop("payment_method", None)
        raise FakeError(402, str(error.pop("message", "Your card was declined.")), **error)
    return invoice


@behaviour("invoices.void_invoice")
def void_invoice(ctx: Ctx) -> dict[str, Any]:
    invoice = _invoice(ctx)
    _state(invoice, "void", ("open", "uncollectible"))
    close_intent(ctx, invoice, "void_invoice")
    transitions = {**invoice["status_transitions"], "voided_at": ctx.now(invoice["customer"])}
    return ctx.update(
        invoice, {}, event="invoice.voided", status="void", next_payment_attempt=None, status_transitions=transitions
    )


@behaviour("invoices.mark_uncollectible")
def mark_uncollectible(ctx: Ctx) -> dict[str, Any]:
    invoice = _invoice(ctx)
    _state(invoice, "mark uncollectible", ("open",))
    transitions = {**invoice["status_transitions"], "marked_uncollectible_at": ctx.now(invoice["customer"])}
    return ctx.update(
        invoice,
        {},
        event="invoice.marked_uncollectible",
        status="uncollectible",
        next_payment_attempt=None,
        status_transitions=transitions,
    )


@behaviour("invoices.delete")
def delete_invoice(ctx: Ctx) -> dict[str, Any]:
    invoice = _invoice(ctx)
    _state(invoice, "delete", ("draft",))
    ctx.store.remove("invoice", invoice["id"])
    ctx.emit("invoice.deleted", invoice)
    return {"id": invoice["id"], "object": "invoice", "deleted": True}


@behaviour(
    "invoice_items.create",
    not_simulated_params=others(
        "invoice_items.create",
        ("customer", "amount", "currency", "description", "metadata", "period", "pricing", "quantity", "subscription"),
    ),
)
def create_invoice_item(ctx: Ctx) -> dict[str, Any]:
    customer = ctx.get("customer", required(ctx.params, "customer"), "customer")
    now = ctx.now(customer["id"])
    quantity = ctx.params.get("quantity", 1)
    price_id = (ctx.params.get("pricing") or {}).get("price")
    if isinstance(price_id, str):
        price = ctx.get("price", price_id, "pricing[price]")
        amount = (price.get("unit_amount") or 0) * quantity
        currency = price["currency"]
    else:
        amount = ctx.params.get("amount")
        currency = ctx.params.get("currency")
        if amount is None or currency is None:
            raise invalid("amount", "Missing required param: amount (or pricing[price]).", "parameter_missing")
        price = None
    sub = ctx.params.get("subscription")
    if isinstance(sub, str):
        ctx.get("subscription", sub, "subscription")
    return make_invoice_item(
        ctx,
        customer=customer["id"],
        amount=amount,
        currency=currency,
        description=ctx.params.get("description"),
        start=(ctx.params.get("period") or {}).get("start", now),
        end=(ctx.params.get("period") or {}).get("end", now),
        price=price,
        quantity=quantity,
        subscription=sub,
        metadata=ctx.params.get("metadata", {}),
    )


def make_invoice_item(
    ctx: Ctx,
    *,
    customer: str,
    amount: int,
    currency: str,
    description: str | None,
    start: int,
    end: int,
    price: Mapping[str, Any] | None,
    quantity: int,
    subscription: str | None,
    item: str | None = None,
    proration: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A pending invoice item (``invoiceitem.created``): the next invoice of its customer takes it."""
    found = ctx.store.find(customer, "customer") or {}
    return ctx.create(
        "invoiceitem",
        {},
        event="invoiceitem.created",
        customer=customer,
        amount=amount,
        currency=currency,
        description=description,
        date=ctx.now(customer),
        created=ctx.now(customer),
        discountable=not proration,
        discounts=[],
        invoice=None,
        metadata=dict(metadata or {}),
        net_amount=amount,
        period={"start": start, "end": end},
        proration=proration,
        quantity=quantity,
        quantity_decimal=str(quantity),
        tax_rates=[],
        test_clock=found.get("test_clock"),
        customer_account=None,
        parent=(
            {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription, "subscription_item": item},
            }
            if subscription
            else None
        ),
        pricing=(
            {
                "type": "price_details",
                "unit_amount_decimal": str(price.get("unit_amount")),
                "price_details": {"price": price["id"], "product": price.get("product")},
            }
            if price
            else None
        ),
    )

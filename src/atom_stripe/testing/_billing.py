"""Billing as services depend on it: prices, subscriptions that bill an invoice at creation,
cancel/pause/resume, test clocks that renew them, Checkout and portal sessions, webhook endpoints."""

from __future__ import annotations

import calendar
import copy
import datetime
from typing import Any

from . import _payments
from ._engine import Ctx, behaviour
from ._store import new_id
from ._wire import invalid, required

DAY = 86_400


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    if interval in ("day", "week"):
        return ts + count * DAY * (7 if interval == "week" else 1)
    months = count * (12 if interval == "year" else 1)
    when = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())


# -- products and prices ---------------------------------------------------------------------------


@behaviour("prices.create")
def create_price(ctx: Ctx) -> dict[str, Any]:
    params = dict(ctx.params)
    if isinstance(params.get("product_data"), dict):
        product = ctx.create("product", params.pop("product_data"))
        params["product"] = product["id"]
    elif isinstance(params.get("product"), str):
        ctx.get("product", params["product"], "product")
    recurring = params.pop("recurring", None)
    if isinstance(recurring, dict):
        recurring = {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", 1),
            "meter": recurring.get("meter"),
            "usage_type": recurring.get("usage_type", "licensed"),
            "trial_period_days": recurring.get("trial_period_days"),
        }
    amount = params.get("unit_amount")
    return ctx.create(
        params=params,
        recurring=recurring,
        type="recurring" if recurring else "one_time",
        unit_amount_decimal=str(amount) if amount is not None else None,
        transform_quantity=None,
        custom_unit_amount=None,
        tiers_mode=None,
    )


# -- subscriptions and their invoices -----------------------------------------------------------------


def payment_method_of(ctx: Ctx, sub: dict[str, Any]) -> dict[str, Any] | None:
    customer = ctx.get("customer", sub["customer"], "customer")
    pm_id = sub.get("default_payment_method") or (customer.get("invoice_settings") or {}).get("default_payment_method")
    return ctx.store.find(pm_id, "payment_method") if isinstance(pm_id, str) else None


def bill(ctx: Ctx, sub: dict[str, Any], reason: str, start: int, end: int, *, charge: bool = True) -> dict[str, Any]:
    """An invoice for the subscription's items over [start, end), paid with its payment method if it can."""
    lines = []
    total = 0
    trialing = sub["status"] == "trialing"
    for item in sub["items"]["data"]:
        amount = 0 if trialing else (item["price"].get("unit_amount") or 0) * (item.get("quantity") or 1)
        total += amount
        line = copy.deepcopy(ctx.store.fixtures["invoice"]["lines"]["data"][0])
        line.update(
            id=new_id("il"),
            amount=amount,
            currency=sub["currency"],
            subtotal=amount,
            quantity=item.get("quantity") or 1,
            period={"start": start, "end": end},
            subscription=sub["id"],
            description=f"{item.get('quantity') or 1} × {item['price'].get('nickname') or item['price']['id']}",
        )
        line["parent"] = {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": None,
                "subscription": sub["id"],
                "subscription_item": item["id"],
            },
        }
        line["pricing"] = {
            "type": "price_details",
            "unit_amount_decimal": str(item["price"].get("unit_amount")),
            "price_details": {"price": item["price"]["id"], "product": item["price"].get("product")},
        }
        lines.append(line)
    invoice = ctx.create(
        "invoice",
        {},
        event=None,
        customer=sub["customer"],
        subscription=sub["id"],
        currency=sub["currency"],
        billing_reason=reason,
        collection_method=sub.get("collection_method", "charge_automatically"),
        period_start=start,
        period_end=end,
        amount_due=total,
        amount_paid=0,
        amount_remaining=total,
        subtotal=total,
        total=total,
        subtotal_excluding_tax=total,
        total_excluding_tax=total,
        status="open",
        attempted=False,
        attempt_count=0,
        test_clock=sub.get("test_clock"),
        due_date=None,
        effective_at=start,
        created=start,
        auto_advance=True,
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": copy.deepcopy(sub.get("metadata")), "subscription": sub["id"]},
        },
        status_transitions={"finalized_at": start, "marked_uncollectible_at": None, "paid_at": None, "voided_at": None},
    )
    invoice["number"] = f"FAKE-{len(ctx.store.all('invoice')):04d}"
    invoice["lines"] = {
        "object": "list",
        "data": lines,
        "has_more": False,
        "url": f"/v1/invoices/{invoice['id']}/lines",
    }
    for line in invoice["lines"]["data"]:
        line["invoice"] = invoice["id"]
    invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/{invoice['id']}"
    ctx.emit("invoice.created", invoice)
    ctx.emit("invoice.finalized", invoice)
    if not charge or sub.get("collection_method") == "send_invoice":
        return invoice
    if total == 0:
        return pay(ctx, invoice, start)
    pm = payment_method_of(ctx, sub)
    if pm is None:
        return invoice
    made = _payments.charge(
        ctx,
        total,
        invoice["currency"],
        customer=sub["customer"],
        pm=pm,
        capture=True,
        description=f"Subscription {reason.replace('_', ' ')}",
    )
    if made["status"] == "failed":
        return ctx.update(
            invoice,
            {},
            event="invoice.payment_failed",
            attempted=True,
            attempt_count=1,
            next_payment_attempt=add_interval(start, "day", 3),
        )
    return pay(ctx, invoice, start)


def pay(ctx: Ctx, invoice: dict[str, Any], when: int) -> dict[str, Any]:
    transitions = {**invoice["status_transitions"], "paid_at": when}
    ctx.update(
        invoice,
        {},
        event="invoice.paid",
        status="paid",
        amount_paid=invoice["amount_due"],
        amount_remaining=0,
        attempted=True,
        attempt_count=1,
        status_transitions=transitions,
    )
    ctx.emit("invoice.payment_succeeded", invoice)
    return invoice


def period_of(sub: dict[str, Any]) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def set_period(ctx: Ctx, sub: dict[str, Any], start: int) -> None:
    """Move every item of the subscription to the period that starts at ``start``."""
    data = []
    for item in sub["items"]["data"]:
        recurring = item["price"].get("recurring") or {"interval": "month", "interval_count": 1}
        end = add_interval(start, recurring["interval"], recurring.get("interval_count") or 1)
        stored = ctx.store.find(item["id"], "subscription_item") or item
        stored.update(current_period_start=start, current_period_end=end)
        data.append(copy.deepcopy(stored))
    sub["items"] = {**sub["items"], "data": data}


@behaviour("subscriptions.create")
def create_subscription(ctx: Ctx) -> dict[str, Any]:
    params = dict(ctx.params)
    customer = ctx.get("customer", required(params, "customer"), "customer")
    items = params.pop("items", [])
    if not items:
        raise invalid("items", "Missing required param: items.", "parameter_missing")
    prices = []
    for index, item in enumerate(items):
        if isinstance(item.get("price"), str):
            prices.append(ctx.get("price", item["price"], f"items[{index}][price]"))
        else:
            raise invalid(f"items[{index}][price]", "Missing required param: price.", "parameter_missing")
    now = ctx.now(customer["id"])
    pm_id = params.pop("default_payment_method", None)
    if isinstance(pm_id, str):
        pm_id = _payments.payment_method(ctx, pm_id, "default_payment_method")["id"]
    trial_days = params.pop("trial_period_days", None)
    trial_end = now + trial_days * DAY if trial_days else None
    status = "trialing" if trial_end else "incomplete"
    sub = ctx.create(
        params=params,
        event=None,
        status=status,
        currency=prices[0]["currency"],
        start_date=now,
        billing_cycle_anchor=trial_end or now,
        created=now,
        default_payment_method=pm_id,
        test_clock=customer.get("test_clock"),
        trial_start=now if trial_end else None,
        trial_end=trial_end,
        billing_cycle_anchor_config=None,
    )
    made = [
        ctx.create(
            "subscription_item",
            {"quantity": item.get("quantity", 1), "metadata": item.get("metadata", {})},
            event=None,
            price=copy.deepcopy(price),
            subscription=sub["id"],
            created=now,
            plan=None,
            discounts=[],
            tax_rates=[],
            billing_thresholds=None,
        )
        for item, price in zip(items, prices, strict=True)
    ]
    sub["items"] = {
        "object": "list",
        "data": made,
        "has_more": False,
        "total_count": len(made),
        "url": f"/v1/subscription_items?subscription={sub['id']}",
    }
    set_period(ctx, sub, now)
    if trial_end:
        for item in sub["items"]["data"]:
            ctx.store.get("subscription_item", item["id"]).update(current_period_end=trial_end)
            item["current_period_end"] = trial_end
    charge = ctx.params.get("payment_behavior") != "default_incomplete"
    invoice = bill(ctx, sub, "subscription_create", now, period_of(sub)[1], charge=charge)
    sub["latest_invoice"] = invoice["id"]
    if not trial_end and (invoice["status"] == "paid" or sub.get("collection_method") == "send_invoice"):
        sub["status"] = "active"
    ctx.emit("customer.subscription.created", sub)
    return sub


@behaviour("subscriptions.list")
def list_subscriptions(ctx: Ctx) -> dict[str, Any]:
    params = dict(ctx.params)
    status = params.pop("status", None)
    items = [
        s
        for s in ctx.store.all("subscription")
        if status == "all" or (s["status"] == status if status else s["status"] != "canceled")
    ]
    if isinstance(params.get("price"), str):
        price = params.pop("price")
        items = [s for s in items if any(i["price"]["id"] == price for i in s["items"]["data"])]
    return ctx.store.page(items, params, "/v1/subscriptions")


@behaviour("subscriptions.cancel")
def cancel_subscription(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.get("subscription", ctx.last_id, "subscription_exposed_id")
    if sub["status"] == "canceled":
        raise invalid("subscription_exposed_id", f"No such subscription: '{sub['id']}'", "resource_missing")
    now = ctx.now(sub["customer"])
    details = {**(sub.get("cancellation_details") or {}), **ctx.params.get("cancellation_details", {})}
    if "reason" in details:
        details["reason"] = "cancellation_requested"
    return ctx.update(
        sub,
        {},
        event="customer.subscription.deleted",
        status="canceled",
        canceled_at=now,
        ended_at=now,
        cancellation_details=details,
    )


@behaviour("subscriptions.pause")
def pause_subscription(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.get("subscription", ctx.last_id, "subscription")
    return ctx.update(sub, {}, event="customer.subscription.paused", status="paused")


@behaviour("subscriptions.resume")
def resume_subscription(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.get("subscription", ctx.last_id, "subscription")
    if sub["status"] == "canceled":
        raise invalid("subscription", "A canceled subscription cannot be resumed.", "subscription_canceled")
    now = ctx.now(sub["customer"])
    if ctx.params.get("billing_cycle_anchor", "now") == "now":
        set_period(ctx, sub, now)
        invoice = bill(ctx, sub, "subscription_cycle", now, period_of(sub)[1])
        sub["latest_invoice"] = invoice["id"]
    return ctx.update(sub, {}, event="customer.subscription.resumed", status="active", pause_collection=None)


# -- test clocks -------------------------------------------------------------------------------------


@behaviour("test_helpers.test_clocks.create")
def create_clock(ctx: Ctx) -> dict[str, Any]:
    frozen = required(ctx.params, "frozen_time")
    return ctx.create(status="ready", deletes_after=frozen + 30 * DAY, status_details={})


@behaviour("test_helpers.test_clocks.advance")
def advance_clock(ctx: Ctx) -> dict[str, Any]:
    clock = ctx.get("test_helpers.test_clock", ctx.last_id, "test_clock")
    frozen = required(ctx.params, "frozen_time")
    if frozen <= clock["frozen_time"]:
        raise invalid("frozen_time", "The frozen_time must be later than the test clock's current frozen_time.")
    ctx.update(clock, {}, event="test_helpers.test_clock.advancing", status="advancing")
    clock["frozen_time"] = frozen
    customers = {c["id"] for c in ctx.store.all("customer") if c.get("test_clock") == clock["id"]}
    for sub in reversed(ctx.store.all("subscription")):
        if sub["customer"] in customers:
            renew(ctx, sub, frozen)
    return ctx.update(clock, {}, event="test_helpers.test_clock.ready", status="ready", deletes_after=frozen + 30 * DAY)


def renew(ctx: Ctx, sub: dict[str, Any], now: int) -> None:
    """Every period of ``sub`` that ends by ``now``: its renewal (an invoice), or its end."""
    while sub["status"] in ("active", "trialing", "past_due") and period_of(sub)[1] <= now:
        end = period_of(sub)[1]
        if sub.get("cancel_at_period_end") or (sub.get("cancel_at") and sub["cancel_at"] <= end):
            ctx.update(sub, {}, event="customer.subscription.deleted", status="canceled", canceled_at=end, ended_at=end)
            return
        status = "active" if sub["status"] == "trialing" else sub["status"]
        sub["status"] = status
        set_period(ctx, sub, end)
        invoice = bill(ctx, sub, "subscription_cycle", end, period_of(sub)[1])
        ctx.update(
            sub, {}, status="active" if invoice["status"] == "paid" else "past_due", latest_invoice=invoice["id"]
        )


# -- sessions and webhook endpoints -----------------------------------------------------------------------


@behaviour("checkout.sessions.create")
def create_checkout_session(ctx: Ctx) -> dict[str, Any]:
    params = dict(ctx.params)
    if isinstance(params.get("customer"), str):
        ctx.get("customer", params["customer"], "customer")
    lines = params.pop("line_items", [])
    total = 0
    currency = params.get("currency")
    priced = []
    for index, line in enumerate(lines):
        price = (
            ctx.get("price", line["price"], f"line_items[{index}][price]")
            if isinstance(line.get("price"), str)
            else None
        )
        quantity = line.get("quantity", 1)
        amount = ((price or {}).get("unit_amount") or 0) * quantity
        total += amount
        currency = currency or (price or {}).get("currency")
        priced.append((price, quantity, amount))
    session = ctx.create(
        params=params,
        event=None,
        status="open",
        payment_status="unpaid",
        amount_subtotal=total,
        amount_total=total,
        currency=currency or "usd",
        expires_at=ctx.now() + DAY,
        customer=params.get("customer"),
        client_secret=None,
    )
    session["url"] = f"https://checkout.stripe.com/c/pay/{session['id']}"
    for price, quantity, amount in priced:
        ctx.create(
            "item",
            {},
            under=session["id"],
            event=None,
            price=copy.deepcopy(price),
            quantity=quantity,
            amount_subtotal=amount,
            amount_total=amount,
            currency=session["currency"],
            description=(price or {}).get("nickname"),
        )
    return session


@behaviour("billing_portal.sessions.create")
def create_portal_session(ctx: Ctx) -> dict[str, Any]:
    if isinstance(ctx.params.get("customer"), str):
        ctx.get("customer", ctx.params["customer"], "customer")
    session = ctx.create(event=None, flow=None, livemode=False, configuration=new_id("bpc"))
    session["url"] = f"https://billing.stripe.com/p/session/{session['id']}"
    return session


@behaviour("webhook_endpoints.create")
def create_webhook_endpoint(ctx: Ctx) -> dict[str, Any]:
    return ctx.create(event=None, status="enabled", secret=new_id("whsec"), api_version=ctx.params.get("api_version"))

"""Subscriptions as Stripe bills them: items (with their legacy ``plan``), the first invoice and its
``payment_behavior``, item changes with prorations, pending updates, cancel, pause and resume."""

from __future__ import annotations

import calendar
import copy
import datetime
from collections.abc import Mapping
from typing import Any

from . import _payments
from ._engine import Ctx, behaviour
from ._invoices import (
    DAY,
    collect,
    create_invoice,
    finalize,
    make_invoice_item,
    not_simulated,
    others,
    pending_items,
    price_line,
)
from ._wire import FakeError, invalid, required

#: What a subscription create may carry: everything else is refused (``fake_not_simulated``).
CREATE_PARAMS = (
    "add_invoice_items",
    "customer",
    "items",
    "default_payment_method",
    "trial_period_days",
    "trial_end",
    "payment_behavior",
    "proration_behavior",
    "collection_method",
    "days_until_due",
    "cancel_at_period_end",
    "metadata",
    "description",
    "off_session",
    "currency",
)
UPDATE_PARAMS = (
    "add_invoice_items",
    "items",
    "proration_behavior",
    "proration_date",
    "payment_behavior",
    "default_payment_method",
    "cancel_at_period_end",
    "metadata",
    "description",
    "off_session",
    "collection_method",
    "days_until_due",
    "trial_end",
    "cancellation_details",
)
#: How long a pending update waits for its invoice to be paid: 23 hours, as an incomplete
#: subscription does (https://docs.stripe.com/billing/subscriptions/pending-updates).
PENDING_EXPIRES = 23 * 3600


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    if interval in ("day", "week"):
        return ts + count * DAY * (7 if interval == "week" else 1)
    months = count * (12 if interval == "year" else 1)
    when = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())


def period_end(anchor: int, start: int, price: Mapping[str, Any]) -> int:
    """The end of the period that contains ``start``, counted in whole intervals from the billing
    cycle anchor (a month-end anchor stays at month end: Jan 31, Feb 28, Mar 31)."""
    recurring = price.get("recurring") or {"interval": "month", "interval_count": 1}
    count = recurring.get("interval_count") or 1
    n = 1
    while (end := add_interval(anchor, recurring["interval"], count * n)) <= start:
        n += 1
    return end


def plan_of(price: Mapping[str, Any]) -> dict[str, Any] | None:
    """Stripe's legacy ``plan``, which mirrors a recurring price on subscription items
    (https://docs.stripe.com/api/subscription_items/object#subscription_item_object-plan)."""
    recurring = price.get("recurring")
    if not recurring:
        return None
    return {
        "id": price["id"],
        "object": "plan",
        "active": price.get("active", True),
        "amount": price.get("unit_amount"),
        "amount_decimal": price.get("unit_amount_decimal"),
        "billing_scheme": price.get("billing_scheme") or "per_unit",
        "created": price.get("created"),
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring.get("interval_count") or 1,
        "livemode": False,
        "metadata": dict(price.get("metadata") or {}),
        "meter": recurring.get("meter"),
        "nickname": price.get("nickname"),
        "product": price.get("product"),
        "tiers_mode": price.get("tiers_mode"),
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type") or "licensed",
    }


# -- items ---------------------------------------------------------------------------------------


def items_of(ctx: Ctx, sub: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The subscription's items as held, oldest first (a subscription put in the store whole, as
    ``FakeStripe.add`` does, has its embedded items adopted)."""
    held = [si for si in reversed(ctx.store.all("subscription_item")) if si["subscription"] == sub["id"]]
    if not held and (sub.get("items") or {}).get("data"):
        for si in sub["items"]["data"]:
            held.append(ctx.store.put({**copy.deepcopy(si), "subscription": sub["id"]}))
    return held


def sync_items(ctx: Ctx, sub: dict[str, Any]) -> None:
    """The subscription's embedded ``items`` list, from the items held."""
    data = [copy.deepcopy(si) for si in items_of(ctx, sub)]
    sub["items"] = {
        "object": "list",
        "data": data,
        "has_more": False,
        "total_count": len(data),
        "url": f"/v1/subscription_items?subscription={sub['id']}",
    }


def period_of(sub: Mapping[str, Any]) -> tuple[int, int]:
    if not (sub.get("items") or {}).get("data"):
        raise invalid("subscription", f"The subscription {sub['id']} has no items (Stripe's always have one).")
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def new_item(ctx: Ctx, sub: Mapping[str, Any], price: dict[str, Any], quantity: int, metadata: Any) -> dict[str, Any]:
    start, end = period_of(sub) if sub.get("items", {}).get("data") else (sub["start_date"], sub["start_date"])
    return ctx.create(
        "subscription_item",
        {"metadata": metadata or {}},
        event=None,
        price=copy.deepcopy(price),
        plan=plan_of(price),
        quantity=quantity,
        subscription=sub["id"],
        created=ctx.now(sub["customer"]),
        discounts=[],
        tax_rates=[],
        billing_thresholds=None,
        current_period_start=start,
        current_period_end=end,
    )


def set_period(ctx: Ctx, sub: dict[str, Any], start: int, end: int | None = None) -> None:
    """Move every item of the subscription to the period that starts at ``start``."""
    for si in items_of(ctx, sub):
        si.update(
            current_period_start=start,
            current_period_end=end or period_end(sub["billing_cycle_anchor"], start, si["price"]),
        )
    sync_items(ctx, sub)


def item_amount(si: Mapping[str, Any]) -> int:
    return int(si["price"].get("unit_amount") or 0) * int(si.get("quantity") or 1)


def describe(si: Mapping[str, Any]) -> str:
    return (
        f"{si.get('quantity') or 1} × {si['price'].get('nickname') or si['price'].get('product') or si['price']['id']}"
    )


def cycle_lines(ctx: Ctx, sub: Mapping[str, Any], start: int, end: int, *, trial: bool = False) -> list[dict[str, Any]]:
    return [
        price_line(
            ctx,
            amount=0 if trial else item_amount(si),
            currency=sub["currency"],
            price=si["price"],
            quantity=si.get("quantity") or 1,
            start=start,
            end=end,
            description=("Trial period for " if trial else "") + describe(si),
            subscription=sub["id"],
            item=si["id"],
        )
        for si in items_of(ctx, sub)
    ]


# -- payment ---------------------------------------------------------------------------------------


def payment_method_for(ctx: Ctx, owner: Mapping[str, Any]) -> dict[str, Any] | None:
    """The payment method Stripe charges for a subscription or invoice: its own default, else its
    subscription's, else the customer's ``invoice_settings.default_payment_method``
    (https://docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority)."""
    pm_id = owner.get("default_payment_method")
    if not pm_id and owner.get("object") == "invoice":
        sub_id = ((owner.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        sub = ctx.store.find(sub_id, "subscription") if isinstance(sub_id, str) else None
        pm_id = (sub or {}).get("default_payment_method")
    if not pm_id:
        customer = ctx.store.find(owner["customer"], "customer") or {}
        pm_id = (customer.get("invoice_settings") or {}).get("default_payment_method")
    return ctx.store.find(pm_id, "payment_method") if isinstance(pm_id, str) else None


def will_fail(ctx: Ctx, pm: Mapping[str, Any] | None) -> FakeError | None:
    """The error a payment with ``pm`` would end in, known from its test card before charging."""
    if pm is None:
        return invalid(
            "payment_method",
            "This customer has no attached payment source or default payment method. Please consider "
            "adding a default payment method.",
            "resource_missing",
        )
    outcome = _payments.CARDS.get(_payments.card_of(ctx, pm), _payments.CARDS["visa"])[2]
    if outcome is None:
        return None
    if outcome == "authentication_required":
        return FakeError(
            402,
            "Payment for this subscription requires additional user action before it can be completed successfully.",
            type="card_error",
            code="subscription_payment_intent_requires_action",
        )
    code, message = _payments.MESSAGES[outcome]
    extra = {"decline_code": outcome} if code == "card_declined" else {}
    return FakeError(402, message, type="card_error", code=code, **extra)


def check_behaviour(ctx: Ctx, *, update: bool) -> str:
    behaviour_ = ctx.params.get("payment_behavior") or "allow_incomplete"
    allowed: tuple[str, ...] = ("allow_incomplete", "default_incomplete", "error_if_incomplete")
    if update:
        allowed = (*allowed, "pending_if_incomplete")
    if behaviour_ not in allowed:
        raise invalid("payment_behavior", f"Invalid payment_behavior: must be one of {', '.join(allowed)}")
    return behaviour_


def invoice_paid(ctx: Ctx, invoice: Mapping[str, Any]) -> None:
    """An invoice of a subscription was paid: an incomplete or past-due subscription whose latest
    invoice it is becomes active; a pending update it paid for is applied."""
    sub_id = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    sub = ctx.store.find(sub_id, "subscription") if isinstance(sub_id, str) else None
    if sub is None:
        return
    pending = sub.get("pending_update")
    if pending and sub.get("latest_invoice") == invoice["id"]:
        apply_pending(ctx, sub, pending)
    if sub["status"] in ("incomplete", "past_due", "unpaid") and sub.get("latest_invoice") == invoice["id"]:
        # Paid while being created: the creation event tells it (no separate update).
        ctx.update(sub, {}, status="active", event=None if ctx.name == "subscriptions.create" else "")


def apply_pending(ctx: Ctx, sub: dict[str, Any], pending: Mapping[str, Any]) -> None:
    before_items = copy.deepcopy(sub["items"])
    for change in pending.get("subscription_items") or []:
        si = ctx.store.find(change["id"], "subscription_item")
        if si is not None:
            si.update(price=copy.deepcopy(change["price"]), plan=change.get("plan"), quantity=change["quantity"])
    sync_items(ctx, sub)
    sub["pending_update"] = None
    ctx.emit(
        "customer.subscription.updated", sub, {"items": before_items, "pending_update": copy.deepcopy(dict(pending))}
    )


def first_invoice(ctx: Ctx, sub: dict[str, Any], how: str) -> dict[str, Any]:
    """The subscription's first invoice, finalized and (unless ``default_incomplete``) attempted."""
    start, end = period_of(sub)
    trial = sub["status"] == "trialing"
    invoice = create_invoice(
        ctx,
        customer=sub["customer"],
        currency=sub["currency"],
        reason="subscription_create",
        lines=cycle_lines(ctx, sub, start, end, trial=trial),
        start=start,
        end=start,
        subscription=sub,
    )
    finalize(ctx, invoice)
    sub["latest_invoice"] = invoice["id"]
    if (
        invoice["status"] == "open"
        and sub["collection_method"] == "charge_automatically"
        and how != "default_incomplete"
    ):
        collect(ctx, invoice, payment_method_for(ctx, sub))
    return invoice


# -- create ------------------------------------------------------------------------------------------


def add_invoice_items(ctx: Ctx, sub: Mapping[str, Any]) -> None:
    """``add_invoice_items``: one-off prices (a setup fee) as invoice items the subscription's next
    invoice takes (https://docs.stripe.com/api/subscriptions/create#create_subscription-add_invoice_items)."""
    for index, added in enumerate(ctx.params.get("add_invoice_items") or []):
        for key in added:
            if key not in ("price", "price_data", "quantity"):
                raise not_simulated(ctx, f"add_invoice_items[{index}][{key}]")
        price = _price(ctx, added, f"add_invoice_items[{index}]")
        quantity = int(added.get("quantity", 1))
        now = ctx.now(sub["customer"])
        make_invoice_item(
            ctx,
            customer=sub["customer"],
            amount=int(price.get("unit_amount") or 0) * quantity,
            currency=price["currency"],
            description=describe({"price": price, "quantity": quantity}),
            start=now,
            end=now,
            price=price,
            quantity=quantity,
            subscription=sub["id"],
        )


def _price(ctx: Ctx, item: Mapping[str, Any], param: str) -> dict[str, Any]:
    if "price_data" in item:
        raise not_simulated(ctx, f"{param}[price_data]", "create a price and pass its id")
    if not isinstance(item.get("price"), str):
        raise invalid(f"{param}[price]", "Missing required param: price.", "parameter_missing")
    return ctx.get("price", item["price"], f"{param}[price]")


def _recurring(ctx: Ctx, item: Mapping[str, Any], param: str) -> dict[str, Any]:
    """A subscription item's price: recurring, as Stripe requires of items."""
    price = _price(ctx, item, param)
    recurring = price.get("recurring") or {}
    if price.get("billing_scheme") == "tiered" or recurring.get("usage_type") == "metered":
        raise not_simulated(
            ctx, f"{param}[price]", "tiered and metered (usage-based) prices are not billed by the fake"
        )
    if price.get("type") != "recurring":
        raise invalid(
            f"{param}[price]",
            "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
        )
    return price


@behaviour("subscriptions.create", not_simulated_params=others("subscriptions.create", CREATE_PARAMS))
def create_subscription(ctx: Ctx) -> dict[str, Any]:
    params = dict(ctx.params)
    customer = ctx.get("customer", required(params, "customer"), "customer")
    items = params.pop("items", None) or []
    if not items:
        raise invalid("items", "Missing required param: items.", "parameter_missing")
    for index, item in enumerate(items):
        for key in item:
            if key not in ("price", "price_data", "quantity", "metadata"):
                raise not_simulated(ctx, f"items[{index}][{key}]")
    prices = [_recurring(ctx, item, f"items[{index}]") for index, item in enumerate(items)]
    if len({p["currency"] for p in prices}) > 1:
        raise invalid("items", "All prices on a subscription must have the same currency.")
    how = check_behaviour(ctx, update=False)
    now = ctx.now(customer["id"])
    check_clock_limits(ctx, customer)
    pm_id = params.pop("default_payment_method", None)
    if isinstance(pm_id, str):
        pm_id = _payments.payment_method(ctx, pm_id, "default_payment_method")["id"]
    trial_days = params.pop("trial_period_days", None)
    trial_end = params.pop("trial_end", None)
    if trial_end == "now":
        trial_end = None
    elif isinstance(trial_end, int) and trial_end <= now:
        raise invalid("trial_end", "Invalid timestamp: must be an integer Unix timestamp in the future.")
    if trial_days:
        trial_end = now + trial_days * DAY
    collection = params.get("collection_method") or "charge_automatically"
    if collection == "charge_automatically" and how == "error_if_incomplete" and not trial_end:
        pm = ctx.store.find(pm_id, "payment_method") if pm_id else payment_method_for(ctx, {"customer": customer["id"]})
        total = sum((p.get("unit_amount") or 0) * (i.get("quantity") or 1) for p, i in zip(prices, items, strict=True))
        error = will_fail(ctx, pm) if total > 0 else None
        if error is not None:
            # error_if_incomplete: a payment that cannot be made now is an error and no subscription
            # is made (https://docs.stripe.com/api/subscriptions/create#create_subscription-payment_behavior).
            raise error
    for key in ("payment_behavior", "proration_behavior", "off_session"):
        params.pop(key, None)
    sub = ctx.create(
        params=params,
        event=None,
        status="trialing" if trial_end else "incomplete",
        collection_method=collection,
        currency=prices[0]["currency"],
        start_date=now,
        billing_cycle_anchor=trial_end or now,
        billing_cycle_anchor_config=None,
        created=now,
        customer=customer["id"],
        default_payment_method=pm_id,
        test_clock=customer.get("test_clock"),
        trial_start=now if trial_end else None,
        trial_end=trial_end,
        next_pending_invoice_item_invoice=None,
        pending_invoice_item_interval=None,
        pending_setup_intent=None,
        pending_update=None,
        pause_collection=None,
        cancel_at=None,
        canceled_at=None,
        ended_at=None,
        discounts=[],
        transfer_data=None,
        on_behalf_of=None,
        application=None,
        application_fee_percent=None,
        days_until_due=params.get("days_until_due"),
        billing_thresholds=None,
        billing_mode={"type": "classic", "flexible": None, "updated_at": None},
        billing_schedules=[],
        managed_payments=None,
        payment_settings={
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
    )
    sub["items"] = {"object": "list", "data": []}
    for item, price in zip(items, prices, strict=True):
        new_item(ctx, sub, price, item.get("quantity", 1), item.get("metadata"))
    set_period(ctx, sub, now, trial_end)
    add_invoice_items(ctx, sub)
    invoice = first_invoice(ctx, sub, how)
    if not trial_end and (invoice["status"] == "paid" or collection == "send_invoice"):
        sub["status"] = "active"
    ctx.emit("customer.subscription.created", sub)
    if trial_end and trial_end - now <= 3 * DAY:
        # Sent three days before the trial ends, or at once when less is left
        # (https://docs.stripe.com/billing/subscriptions/trials#events).
        ctx.emit("customer.subscription.trial_will_end", sub)
    return sub


def check_clock_limits(ctx: Ctx, customer: Mapping[str, Any]) -> None:
    """A test clock's customer may have three subscriptions
    (https://docs.stripe.com/billing/testing/test-clocks/api-advanced-usage#limitations)."""
    if not customer.get("test_clock"):
        return
    held = [s for s in ctx.store.all("subscription") if s["customer"] == customer["id"] and s["status"] != "canceled"]
    if len(held) >= 3:
        raise invalid(
            "customer",
            "This customer is attached to a test clock and already has the maximum of 3 subscriptions.",
            "customer_max_subscriptions",
        )


# -- update: item changes and prorations -------------------------------------------------------------


def _item_changes(
    ctx: Ctx, sub: dict[str, Any]
) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None, int, int, bool]]:
    """The requested item changes: (item or None for a new one, new price or None, old quantity,
    new quantity, deleted)."""
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None, int, int, bool]] = []
    held = {si["id"]: si for si in items_of(ctx, sub)}
    for index, change in enumerate(ctx.params.get("items") or []):
        for key in change:
            if key not in ("id", "price", "price_data", "quantity", "metadata", "deleted"):
                raise not_simulated(ctx, f"items[{index}][{key}]")
        si = None
        if isinstance(change.get("id"), str):
            si = held.get(change["id"])
            if si is None:
                raise invalid(f"items[{index}][id]", f"No such subscription item: '{change['id']}'", "resource_missing")
        price = _recurring(ctx, change, f"items[{index}]") if "price" in change or "price_data" in change else None
        if si is None and price is None:
            raise invalid(f"items[{index}][price]", "Missing required param: price.", "parameter_missing")
        if price is not None and price.get("currency") != sub["currency"]:
            raise invalid(f"items[{index}][price]", "The price's currency must match the subscription's currency.")
        old_qty = int(si.get("quantity") or 1) if si else 0
        new_qty = int(change.get("quantity", old_qty or 1))
        changes.append((si, price, old_qty, new_qty, bool(change.get("deleted"))))
    return changes


def prorate(
    ctx: Ctx,
    sub: dict[str, Any],
    when: int,
    old: list[tuple[dict[str, Any], int]],
    new: list[tuple[dict[str, Any], dict[str, Any], int]],
) -> list[dict[str, Any]]:
    """Proration invoice items for a change at ``when``: unused time on what the customer had
    (credited) and remaining time on what they have now (charged), each the price times the share
    of the current period left, to the second, rounded to the minor unit
    (https://docs.stripe.com/billing/subscriptions/prorations#how-prorations-are-calculated)."""
    start, end = period_of(sub)
    if not start <= when < end or end == start:
        return []
    share = (end - when) / (end - start)
    stamp = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).strftime("%d %b %Y")
    # Credits for what the customer had, then charges for what they have now.
    lines = [(-1, "Unused time on", si, si["price"], qty) for si, qty in old]
    lines += [(1, "Remaining time on", si, price, qty) for si, price, qty in new]
    made = []
    for sign, what, si, price, qty in lines:
        amount = sign * round(int(price.get("unit_amount") or 0) * qty * share)
        if amount:
            made.append(
                make_invoice_item(
                    ctx,
                    customer=sub["customer"],
                    amount=amount,
                    currency=sub["currency"],
                    description=f"{what} {describe({'price': price, 'quantity': qty})} after {stamp}",
                    start=when,
                    end=end,
                    price=price,
                    quantity=qty,
                    subscription=sub["id"],
                    item=si["id"],
                    proration=True,
                )
            )
    return made


def change_items(ctx: Ctx, sub: dict[str, Any], how_prorate: str, how_pay: str) -> None:
    """Apply the request's item changes (``items``, or one item's price/quantity/deletion) with
    their prorations and, for ``always_invoice``, an invoice now."""
    changes = _item_changes(ctx, sub)
    if not changes:
        return
    now = ctx.now(sub["customer"])
    when = ctx.params.get("proration_date", now)
    if how_prorate not in ("create_prorations", "always_invoice", "none"):
        raise invalid(
            "proration_behavior", "Invalid proration_behavior: must be one of create_prorations, always_invoice, none"
        )
    trialing = sub["status"] == "trialing"
    prorating = how_prorate != "none" and not trialing
    if how_pay == "pending_if_incomplete":
        return pending_change(ctx, sub, changes, when)
    if how_prorate == "always_invoice" and how_pay == "error_if_incomplete" and prorating:
        due = sum(
            int((price or (si or {}).get("price") or {}).get("unit_amount") or 0) * (0 if deleted else new_qty)
            - (int(si["price"].get("unit_amount") or 0) * old_qty if si else 0)
            for si, price, old_qty, new_qty, deleted in changes
        )
        error = will_fail(ctx, payment_method_for(ctx, sub)) if due > 0 else None
        if error is not None and sub["collection_method"] == "charge_automatically":
            raise error
    before = copy.deepcopy(sub["items"])
    old: list[tuple[dict[str, Any], int]] = []
    new: list[tuple[dict[str, Any], dict[str, Any], int]] = []
    for si, price, old_qty, new_qty, deleted in changes:
        if si is not None and (deleted or price is not None or new_qty != old_qty):
            old.append((copy.deepcopy(si), old_qty))
        if deleted and si is not None:
            ctx.store.remove("subscription_item", si["id"])
            continue
        if si is None:
            assert price is not None
            si = new_item(ctx, sub, price, new_qty, None)
        elif price is not None or new_qty != old_qty:
            target = price or si["price"]
            si.update(price=copy.deepcopy(target), plan=plan_of(target), quantity=new_qty)
        else:
            continue
        new.append((si, si["price"], new_qty))
    sync_items(ctx, sub)
    made = prorate(ctx, sub, when, old, new) if prorating else []
    if how_prorate == "always_invoice" and made:
        # One request, one event: the item change and the invoice it paid for together.
        bill_now(ctx, sub, how_pay, {"items": before})
    else:
        ctx.emit("customer.subscription.updated", sub, {"items": before})


def invoice_pending(ctx: Ctx, sub: dict[str, Any]) -> dict[str, Any]:
    """A finalized invoice now of the subscription's pending invoice items (its prorations;
    ``billing_reason`` ``subscription_update``), the subscription's ``latest_invoice``."""
    now = ctx.now(sub["customer"])
    invoice = create_invoice(
        ctx,
        customer=sub["customer"],
        currency=sub["currency"],
        reason="subscription_update",
        lines=[],
        start=now,
        end=now,
        subscription=sub,
    )
    finalize(ctx, invoice)
    sub["latest_invoice"] = invoice["id"]
    return invoice


def charged_automatically(sub: Mapping[str, Any], invoice: Mapping[str, Any]) -> bool:
    """Whether an invoice of the subscription is collected now: open, and the subscription charges
    its payment method (not ``send_invoice``)."""
    return bool(invoice["status"] == "open" and sub["collection_method"] == "charge_automatically")


def bill_now(ctx: Ctx, sub: dict[str, Any], how_pay: str, changed: Mapping[str, Any]) -> dict[str, Any]:
    """An invoice now for the subscription's pending prorations, collected as ``how_pay`` says."""
    previous = {**changed, "latest_invoice": sub.get("latest_invoice")}
    invoice = invoice_pending(ctx, sub)
    if charged_automatically(sub, invoice):
        if how_pay != "default_incomplete":
            collect(ctx, invoice, payment_method_for(ctx, sub))
        if invoice["status"] == "open" and sub["status"] == "active":
            # allow_incomplete / default_incomplete: a payment due and not made leaves the
            # subscription past_due (https://docs.stripe.com/api/subscriptions/update#update_subscription-payment_behavior).
            previous["status"] = sub["status"]
            sub["status"] = "past_due"
    ctx.emit("customer.subscription.updated", sub, previous)
    return invoice


def pending_change(
    ctx: Ctx,
    sub: dict[str, Any],
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None, int, int, bool]],
    when: int,
) -> None:
    """``pending_if_incomplete``: the change is invoiced now and applied only once that invoice is
    paid; until then it waits in ``pending_update`` (https://docs.stripe.com/billing/subscriptions/pending-updates)."""
    targets = []
    old, new = [], []
    for si, price, old_qty, new_qty, deleted in changes:
        if si is None or deleted:
            raise not_simulated(
                ctx, "items", "pending_if_incomplete only for changes of existing items' price or quantity"
            )
        target = price or si["price"]
        changed = copy.deepcopy(si)
        changed.update(price=copy.deepcopy(target), plan=plan_of(target), quantity=new_qty)
        targets.append(changed)
        old.append((copy.deepcopy(si), old_qty))
        new.append((si, target, new_qty))
    prorate(ctx, sub, when, old, new)
    now = ctx.now(sub["customer"])
    invoice = create_invoice(
        ctx,
        customer=sub["customer"],
        currency=sub["currency"],
        reason="subscription_update",
        lines=[],
        start=now,
        end=now,
        subscription=sub,
    )
    sub["latest_invoice"] = invoice["id"]
    # Known before the payment, so that paying the invoice (now or later) applies it.
    sub["pending_update"] = {
        "billing_cycle_anchor": None,
        "expires_at": now + PENDING_EXPIRES,
        "subscription_items": targets,
        "trial_end": None,
        "trial_from_plan": None,
    }
    finalize(ctx, invoice)
    if invoice["status"] == "open":
        collect(ctx, invoice, payment_method_for(ctx, sub))
    if sub.get("pending_update"):
        ctx.emit("customer.subscription.updated", sub, {"pending_update": None})


@behaviour("subscriptions.update", not_simulated_params=others("subscriptions.update", UPDATE_PARAMS))
def update_subscription(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.get("subscription", ctx.last_id, "subscription_exposed_id")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise invalid(
            "subscription_exposed_id",
            "A canceled subscription can only update its cancellation_details and metadata.",
            "resource_missing",
        )
    how_pay = check_behaviour(ctx, update=True)
    how_prorate = ctx.params.get("proration_behavior") or "create_prorations"
    add_invoice_items(ctx, sub)
    change_items(ctx, sub, how_prorate, how_pay)
    rest = {
        k: v
        for k, v in ctx.params.items()
        if k
        not in (
            "items",
            "proration_behavior",
            "proration_date",
            "payment_behavior",
            "off_session",
            "default_payment_method",
            "trial_end",
        )
    }
    fields: dict[str, Any] = {}
    if isinstance(ctx.params.get("default_payment_method"), str):
        fields["default_payment_method"] = _payments.payment_method(
            ctx, ctx.params["default_payment_method"], "default_payment_method"
        )["id"]
    if ctx.params.get("trial_end") == "now" and sub["status"] == "trialing":
        return end_trial(ctx, sub)
    if "trial_end" in ctx.params:
        raise not_simulated(ctx, "trial_end", "only trial_end=now on a trialing subscription")
    return ctx.update(sub, rest, **fields)


def end_trial(ctx: Ctx, sub: dict[str, Any]) -> dict[str, Any]:
    """The trial ends now: a new period and its invoice (``trial_end=now``)."""
    now = ctx.now(sub["customer"])
    ctx.emit("customer.subscription.trial_will_end", sub)
    from ._clocks import renew_at

    renew_at(ctx, sub, now, trial_end=now)
    return sub


@behaviour(
    "subscription_items.create",
    not_simulated_params=others(
        "subscription_items.create",
        (
            "subscription",
            "price",
            "price_data",
            "quantity",
            "metadata",
            "proration_behavior",
            "proration_date",
            "payment_behavior",
        ),
    ),
)
def create_item(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.get("subscription", required(ctx.params, "subscription"), "subscription")
    change: dict[str, Any] = {
        k: ctx.params[k] for k in ("price", "price_data", "quantity", "metadata") if k in ctx.params
    }
    before = {si["id"] for si in items_of(ctx, sub)}
    _change_one(ctx, sub, change)
    made = next(si for si in items_of(ctx, sub) if si["id"] not in before)
    return made


@behaviour(
    "subscription_items.update",
    not_simulated_params=others(
        "subscription_items.update",
        (
            "price",
            "price_data",
            "quantity",
            "metadata",
            "proration_behavior",
            "proration_date",
            "payment_behavior",
            "off_session",
        ),
    ),
)
def update_item(ctx: Ctx) -> dict[str, Any]:
    si = ctx.get("subscription_item", ctx.last_id, "item")
    sub = ctx.get("subscription", si["subscription"], "subscription")
    change: dict[str, Any] = {"id": si["id"]}
    change.update((k, ctx.params[k]) for k in ("price", "price_data", "quantity") if k in ctx.params)
    _change_one(ctx, sub, change)
    if "metadata" in ctx.params:
        ctx.update(si, {"metadata": ctx.params["metadata"]}, event=None)
        sync_items(ctx, sub)
    return si


@behaviour(
    "subscription_items.delete",
    not_simulated_params=others(
        "subscription_items.delete", ("proration_behavior", "proration_date", "payment_behavior")
    ),
)
def delete_item(ctx: Ctx) -> dict[str, Any]:
    si = ctx.get("subscription_item", ctx.last_id, "item")
    sub = ctx.get("subscription", si["subscription"], "subscription")
    if len(items_of(ctx, sub)) == 1:
        raise invalid(
            "item",
            "A subscription must have at least one active plan. To cancel a subscription, please use the "
            "cancel API endpoint on /v1/subscriptions.",
        )
    _change_one(ctx, sub, {"id": si["id"], "deleted": True})
    return {"id": si["id"], "object": "subscription_item", "deleted": True}


def _change_one(ctx: Ctx, sub: dict[str, Any], change: dict[str, Any]) -> None:
    """An item call, played as the ``subscriptions.update`` with ``items=[change]`` Stripe treats it as."""
    saved = ctx.params
    ctx.params = {
        **{k: saved[k] for k in ("proration_behavior", "proration_date", "payment_behavior") if k in saved},
        "items": [change],
    }
    try:
        how_pay = check_behaviour(ctx, update=True)
        change_items(ctx, sub, ctx.params.get("proration_behavior") or "create_prorations", how_pay)
    finally:
        ctx.params = saved


@behaviour("subscription_items.list")
def list_items(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.get("subscription", required(ctx.params, "subscription"), "subscription")
    params = {k: v for k, v in ctx.params.items() if k != "subscription"}
    return ctx.store.page(list(reversed(items_of(ctx, sub))), params, "/v1/subscription_items")


# -- list, cancel, pause, resume --------------------------------------------------------------------


@behaviour("subscriptions.list", filters=("price", "plan"))
def list_subscriptions(ctx: Ctx) -> dict[str, Any]:
    params = dict(ctx.params)
    status = params.pop("status", None)
    # "Pass ended to find subscriptions that are canceled and subscriptions that are expired due
    # to incomplete payment" (https://docs.stripe.com/api/subscriptions/list#list_subscriptions-status).
    wanted = ("canceled", "incomplete_expired") if status == "ended" else (status,)
    items = [
        s
        for s in ctx.store.all("subscription")
        if status == "all"
        or (s["status"] in wanted if status else s["status"] not in ("canceled", "incomplete_expired"))
    ]
    # Prices replace plans "and [are] backwards compatible" (https://docs.stripe.com/api/plans): a
    # recurring price is also the plan of the same id, so ``plan`` filters as ``price`` does.
    for key in ("price", "plan"):
        if isinstance(params.get(key), str):
            wanted = params.pop(key)
            items = [s for s in items if any(i["price"]["id"] == wanted for i in s["items"]["data"])]
    return ctx.store.page(items, params, "/v1/subscriptions")


def cancel(
    ctx: Ctx, sub: dict[str, Any], when: int, reason: str, details: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The subscription ends at ``when``; its open invoices stay as they are unless told otherwise."""
    merged = {
        **(sub.get("cancellation_details") or {"comment": None, "feedback": None, "reason": None}),
        **(details or {}),
    }
    merged["reason"] = reason
    return ctx.update(
        sub,
        {},
        event="customer.subscription.deleted",
        status="canceled",
        canceled_at=when,
        ended_at=when,
        cancellation_details=merged,
    )


@behaviour(
    "subscriptions.cancel",
    not_simulated_params=others("subscriptions.cancel", ("cancellation_details", "invoice_now", "prorate")),
)
def cancel_subscription(ctx: Ctx) -> dict[str, Any]:
    """Cancels now; ``prorate``: a proration invoice item crediting the unused time until the
    period's end (none for a trial); ``invoice_now``: a final invoice of the pending proration
    items, collected as the subscription's invoices are (none when nothing is pending)."""
    # "prorate: Will generate a proration invoice item that credits remaining unused time until
    # the subscription period end"; "invoice_now: Will generate a final invoice that invoices for
    # any un-invoiced metered usage and new/pending proration invoice items"
    # (https://docs.stripe.com/api/subscriptions/cancel). The fake bills no metered usage (it
    # refuses metered prices). A trial was not paid for: no credit, as change_items makes no
    # prorations for one. The final invoice is the subscription's last change: billing_reason
    # subscription_update ("A subscription was updated"), its latest_invoice.
    sub = ctx.get("subscription", ctx.last_id, "subscription_exposed_id")
    if sub["status"] == "canceled":
        raise invalid("subscription_exposed_id", f"No such subscription: '{sub['id']}'", "resource_missing")
    when = ctx.now(sub["customer"])
    if ctx.params.get("prorate") and sub["status"] != "trialing":
        prorate(ctx, sub, when, [(si, si["quantity"]) for si in sub["items"]["data"]], [])
    if ctx.params.get("invoice_now") and pending_items(ctx, sub["customer"], sub["id"]):
        invoice = invoice_pending(ctx, sub)
        if charged_automatically(sub, invoice):
            collect(ctx, invoice, payment_method_for(ctx, sub))
    return cancel(ctx, sub, when, "cancellation_requested", ctx.params.get("cancellation_details"))


@behaviour("subscriptions.pause")
def pause_subscription(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.get("subscription", ctx.last_id, "subscription")
    return ctx.update(sub, {}, event="customer.subscription.paused", status="paused")


@behaviour(
    "subscriptions.resume",
    not_simulated_params=others("subscriptions.resume", ("billing_cycle_anchor", "proration_behavior")),
)
def resume_subscription(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.get("subscription", ctx.last_id, "subscription")
    if sub["status"] == "canceled":
        raise invalid("subscription", "A canceled subscription cannot be resumed.", "subscription_canceled")
    now = ctx.now(sub["customer"])
    # Since 2026 the anchor is {"type": "now" | "unchanged"}; "now" starts a new period billed at once.
    anchor = (ctx.params.get("billing_cycle_anchor") or {}).get("type", "now")
    if anchor != "now":
        raise not_simulated(ctx, "billing_cycle_anchor", "only billing_cycle_anchor[type]=now")
    sub["billing_cycle_anchor"] = now
    set_period(ctx, sub, now)
    start, end = period_of(sub)
    invoice = create_invoice(
        ctx,
        customer=sub["customer"],
        currency=sub["currency"],
        reason="subscription_cycle",
        lines=cycle_lines(ctx, sub, start, end),
        start=start,
        end=start,
        subscription=sub,
    )
    finalize(ctx, invoice)
    if invoice["status"] == "open":
        collect(ctx, invoice, payment_method_for(ctx, sub))
    sub["latest_invoice"] = invoice["id"]
    status = "active" if invoice["status"] == "paid" else "past_due"
    return ctx.update(sub, {}, event="customer.subscription.resumed", status=status, pause_collection=None)

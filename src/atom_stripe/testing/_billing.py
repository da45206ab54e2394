"""Billing as services depend on it: prices, subscriptions that bill an invoice at creation,
cancel/pause/resume, test clocks that renew them, Checkout and portal sessions, webhook endpoints."""

from __future__ import annotations

import copy
from typing import Any

from . import _clocks, _invoices, _subscriptions  # noqa: F401 - they register their behaviours
from ._engine import Ctx, behaviour
from ._invoices import DAY
from ._store import new_id

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


# -- sessions and webhook endpoints -----------------------------------------------------------------------


@behaviour("promotion_codes.list", filters=("coupon",))
def list_promotion_codes(ctx: Ctx) -> dict[str, Any]:
    """Promotion codes, newest first; ``coupon`` finds the codes of a coupon, which a code names
    in its ``promotion`` (``{"type": "coupon", "coupon": ...}``,
    https://docs.stripe.com/api/promotion_codes/object#promotion_code_object-promotion)."""
    params = dict(ctx.params)
    items = ctx.store.all("promotion_code")
    coupon = params.pop("coupon", None)
    if coupon is not None:
        items = [p for p in items if _coupon_of(p) == coupon]
    return ctx.store.page(items, params, "/v1/promotion_codes")


def _coupon_of(code: dict[str, Any]) -> Any:
    held = (code.get("promotion") or {}).get("coupon")
    return held.get("id") if isinstance(held, dict) else held


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

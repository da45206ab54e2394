"""Test clocks: ``advance`` answers ``advancing`` and plays, in time order, everything due by the new
time (renewals, dunning retries, trial reminders, expiry of incomplete subscriptions); the clock is
``ready`` once done. Stripe's limits on how far one advance may go are enforced."""

from __future__ import annotations

import copy
from typing import Any

from ._connect_money import pending_on_clock, settle
from ._engine import Ctx, behaviour
from ._invoices import DAY, close_intent, collect, create_invoice, dunning, finalize, intent_of
from ._subscriptions import (
    add_interval,
    cancel,
    charged_automatically,
    cycle_lines,
    payment_method_for,
    period_of,
    set_period,
)
from ._wire import invalid, required

#: Before this, an incomplete subscription's first invoice must be paid, or it expires
#: (https://docs.stripe.com/billing/subscriptions/overview#payment-window).
INCOMPLETE_WINDOW = 23 * 3600
#: ``customer.subscription.trial_will_end`` comes this long before the trial ends
#: (https://docs.stripe.com/billing/subscriptions/trials#events).
TRIAL_NOTICE = 3 * DAY


@behaviour("test_helpers.test_clocks.create")
def create_clock(ctx: Ctx) -> dict[str, Any]:
    frozen = required(ctx.params, "frozen_time")
    return ctx.create(status="ready", deletes_after=frozen + 30 * DAY, status_details={})


def _limit(ctx: Ctx, clock: dict[str, Any], subs: list[dict[str, Any]]) -> int:
    """The furthest one advance may go: two intervals of the shortest subscription interval on the
    clock, or two years without subscriptions (https://docs.stripe.com/api/test_clocks/advance)."""
    start = int(clock["frozen_time"])
    ends = []
    for sub in subs:
        if sub["status"] in ("canceled", "incomplete_expired"):
            continue
        for si in sub["items"]["data"]:
            recurring = si["price"].get("recurring") or {"interval": "month", "interval_count": 1}
            ends.append(add_interval(start, recurring["interval"], 2 * (recurring.get("interval_count") or 1)))
    return min(ends) if ends else add_interval(start, "year", 2)


@behaviour("test_helpers.test_clocks.advance")
def advance_clock(ctx: Ctx) -> dict[str, Any]:
    clock = ctx.get("test_helpers.test_clock", ctx.last_id, "test_clock")
    frozen = required(ctx.params, "frozen_time")
    if clock["status"] != "ready":
        raise invalid("test_clock", f"The test clock {clock['id']} is {clock['status']}: wait until it is ready.")
    if frozen <= clock["frozen_time"]:
        raise invalid("frozen_time", "The frozen_time must be later than the test clock's current frozen_time.")
    customers = {c["id"] for c in ctx.store.all("customer") if c.get("test_clock") == clock["id"]}
    subs = [s for s in reversed(ctx.store.all("subscription")) if s["customer"] in customers]
    if frozen > _limit(ctx, clock, subs):
        # The wording is the fake's; the rule is the advance endpoint's documented one.
        raise invalid(
            "frozen_time",
            "Cannot advance the test clock more than two intervals of the shortest subscription on it "
            "(two years without subscriptions).",
        )
    answer = copy.deepcopy(clock)
    answer.update(status="advancing", status_details={"advancing": {"target_frozen_time": frozen}})
    # Everything the advance sets off is Stripe's own work: its events carry no request.
    with ctx.automatic():
        clock.update(status="advancing", status_details=answer["status_details"])
        ctx.emit("test_helpers.test_clock.advancing", clock)
        run_until(ctx, clock, customers, frozen)
        clock.update(frozen_time=frozen, deletes_after=frozen + 30 * DAY)
        for account in [None, *ctx.fake.connected_accounts()]:  # what is due at the target itself
            settle(ctx.on(account), clock=(customers, frozen))
        ctx.update(clock, {}, event="test_helpers.test_clock.ready", status="ready", status_details={})
    # Stripe answers while the clock still advances; a test waits until retrieve says ready.
    return answer


def run_until(ctx: Ctx, clock: dict[str, Any], customers: set[str], target: int) -> None:
    """Play, oldest first, everything the clock's customers have due by ``target``."""
    since = int(clock["frozen_time"])
    noticed: set[str] = set()
    while True:
        due = _next_due(ctx, customers, since, target, noticed)
        if due is None:
            return
        when, what, obj = due
        clock["frozen_time"] = when
        if what == "settle":
            # Funds from this clock's charges become available as it passes their available_on,
            # with the balance.available event then (not on the next balance read), on each account.
            # Funds that do not move then (due on another clock) are not tried again.
            if not settle(ctx.on(obj["account"]), clock=(customers, when)):
                noticed.add(f"settle {when} {obj['account']}")
        elif what == "trial_will_end":
            noticed.add(obj["id"])
            ctx.emit("customer.subscription.trial_will_end", obj)
        elif what == "expire":
            expire(ctx, obj, when)
        elif what == "retry":
            retry(ctx, obj, when)
        else:
            renew_at(ctx, obj, when)


def _next_due(
    ctx: Ctx, customers: set[str], since: int, target: int, noticed: set[str]
) -> tuple[int, str, dict[str, Any]] | None:
    found: list[tuple[int, int, str, dict[str, Any]]] = []
    for order, sub in enumerate(reversed(ctx.store.all("subscription"))):
        if sub["customer"] not in customers:
            continue
        if sub["status"] == "incomplete":
            found.append((sub["created"] + INCOMPLETE_WINDOW, order, "expire", sub))
        elif sub["status"] in ("active", "trialing", "past_due", "unpaid"):
            found.append((period_of(sub)[1], order, "renew", sub))
        notice = (sub.get("trial_end") or 0) - TRIAL_NOTICE
        if sub["status"] == "trialing" and since < notice and sub["id"] not in noticed:
            found.append((notice, order, "trial_will_end", sub))
    for order, invoice in enumerate(reversed(ctx.store.all("invoice"))):
        attempt = invoice.get("next_payment_attempt")
        if invoice["customer"] in customers and invoice["status"] == "open" and attempt:
            found.append((attempt, order, "retry", invoice))
    for order, (available_on, account) in enumerate(pending_on_clock(ctx, customers)):
        # One already due waits for the settling at the target; at one time, funds settle before
        # the renewals (whose invoices they may pay out of), the platform's first.
        if available_on > since and f"settle {available_on} {account}" not in noticed:
            found.append((available_on, order - 1_000_000, "settle", {"account": account}))
    due = [f for f in found if f[0] <= target]
    if not due:
        return None
    when, _, what, obj = min(due, key=lambda f: (f[0], f[1]))
    return when, what, obj


def renew_at(ctx: Ctx, sub: dict[str, Any], when: int, *, trial_end: int | None = None) -> None:
    """The period that ends at ``when``: the subscription's end, or its renewal (an invoice)."""
    if sub.get("cancel_at_period_end") or (sub.get("cancel_at") and sub["cancel_at"] <= when):
        cancel(ctx, sub, when, "cancellation_requested")
        return
    before = copy.deepcopy(sub)
    if trial_end is not None:
        sub.update(trial_end=trial_end, billing_cycle_anchor=trial_end)
    if sub["status"] == "trialing":
        sub["status"] = "active"
    set_period(ctx, sub, when)
    start, end = period_of(sub)
    invoice = create_invoice(
        ctx,
        customer=sub["customer"],
        currency=sub["currency"],
        reason="subscription_cycle",
        lines=cycle_lines(ctx, sub, start, end),
        start=before["items"]["data"][0]["current_period_start"],
        end=start,
        subscription=sub,
    )
    finalize(ctx, invoice)
    sub["latest_invoice"] = invoice["id"]
    if charged_automatically(sub, invoice):
        if sub["status"] == "unpaid":
            # An unpaid subscription's new invoices are not attempted
            # (https://docs.stripe.com/billing/subscriptions/overview#unpaid-subscriptions).
            invoice["auto_advance"] = False
        else:
            collect(ctx, invoice, payment_method_for(ctx, sub))
    if invoice["status"] == "open" and sub["status"] == "active" and sub["collection_method"] == "charge_automatically":
        sub["status"] = "past_due"
    elif invoice["status"] == "paid" and sub["status"] == "past_due":
        sub["status"] = "active"
    previous = {k: v for k, v in before.items() if sub.get(k) != v}
    ctx.emit("customer.subscription.updated", sub, previous)


def retry(ctx: Ctx, invoice: dict[str, Any], when: int) -> None:
    """A retry of dunning's schedule: with the payment method the subscription has now."""
    sub_id = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    sub = ctx.store.find(sub_id, "subscription") if isinstance(sub_id, str) else None
    invoice["next_payment_attempt"] = None
    if intent_of(ctx, invoice) is None:
        return
    collect(ctx, invoice, payment_method_for(ctx, sub or invoice))
    if invoice["status"] != "open" or invoice.get("next_payment_attempt") or sub is None:
        return
    if sub.get("latest_invoice") != invoice["id"] or sub["status"] != "past_due":
        # Only the latest invoice's exhausted retries change the subscription
        # (https://support.stripe.com/questions/retry-schedules-longer-than-a-subscription-s-billing-period).
        return
    exhausted = dunning(ctx).exhausted
    if exhausted == "canceled":
        cancel(ctx, sub, when, "payment_failed")
    elif exhausted == "unpaid":
        ctx.update(sub, {}, status="unpaid")


def expire(ctx: Ctx, sub: dict[str, Any], when: int) -> None:
    """An incomplete subscription whose first invoice was not paid in time: ``incomplete_expired``,
    its invoice voided."""
    invoice = ctx.store.find(sub.get("latest_invoice") or "", "invoice")
    if invoice is not None and invoice["status"] == "open":
        close_intent(ctx, invoice, "void_invoice")
        transitions = {**invoice["status_transitions"], "voided_at": when}
        ctx.update(invoice, {}, event="invoice.voided", status="void", status_transitions=transitions)
    ctx.update(sub, {}, status="incomplete_expired", ended_at=when)

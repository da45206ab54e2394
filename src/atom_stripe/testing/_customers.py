"""Customers as Stripe keeps them after a delete."""

from __future__ import annotations

from typing import Any

from ._engine import Ctx, behaviour, event_name


def deleted_stub(customer_id: str) -> dict[str, Any]:
    """What Stripe returns for a deleted customer: "a subset of the customer's information,
    including a deleted property that's set to true" (https://docs.stripe.com/api/customers/retrieve)."""
    return {"id": customer_id, "object": "customer", "deleted": True}


@behaviour("customers.delete")
def delete_customer(ctx: Ctx) -> dict[str, Any]:
    """Deletes it (retrieve then answers ``deleted: true``) and "immediately cancels any active
    subscriptions on the customer" (https://docs.stripe.com/api/customers/delete)."""
    customer = ctx.get("customer", ctx.last_id)
    now = ctx.clock_time(customer)
    for sub in ctx.store.all("subscription"):
        if sub.get("customer") == customer["id"] and sub.get("status") not in ("canceled", "incomplete_expired"):
            ended = {"status": "canceled", "canceled_at": now, "ended_at": now}
            ctx.update(sub, {}, event="customer.subscription.deleted", **ended)
    ctx.store.remove("customer", customer["id"])
    ctx.store.deleted[customer["id"]] = "customer"
    ctx.emit(event_name("customer", "deleted"), customer)
    return deleted_stub(customer["id"])


@behaviour("customers.retrieve")
def retrieve_customer(ctx: Ctx) -> dict[str, Any]:
    """The customer, or its ``deleted: true`` stub once deleted."""
    if ctx.store.deleted.get(ctx.last_id) == "customer":
        return deleted_stub(ctx.last_id)
    return ctx.get("customer", ctx.last_id)

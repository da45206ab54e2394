"""Events listed as Stripe lists them (type wildcards), and the webhook endpoints they go to."""

from __future__ import annotations

import fnmatch
from typing import Any

from ._engine import Ctx, behaviour
from ._store import new_id
from ._wire import FakeError, invalid


@behaviour("events.list", filters=("types", "delivery_success"))  # type, created: fields
def list_events(ctx: Ctx) -> dict[str, Any]:
    """Newest first, filtered by ``type`` (``*`` a wildcard: ``invoice.*``) or ``types`` (up to
    20 names), ``created`` and ``delivery_success`` (https://docs.stripe.com/api/events/list)."""
    params = dict(ctx.params)
    wanted = params.pop("type", None)
    many = params.pop("types", None)
    if wanted is not None and many is not None:
        raise invalid("types", "You may pass either type or types, but not both.")
    if many is not None and len(many) > 20:
        raise invalid("types", "You may pass at most 20 types.")
    patterns = [wanted] if wanted is not None else list(many or [])
    success = params.pop("delivery_success", None)
    failed = {d.event_id for d in ctx.fake.deliveries if not d.ok}
    items = [
        e
        for e in ctx.store.all("event")
        if (not patterns or any(fnmatch.fnmatchcase(e["type"], p) for p in patterns))
        and (success is None or (e["id"] not in failed) == success)
    ]
    return ctx.store.page(items, params, "/v1/events")


@behaviour("webhook_endpoints.create")
def create_webhook_endpoint(ctx: Ctx) -> dict[str, Any]:
    """An enabled endpoint with its signing secret; ``connect=true`` (a platform's only): it gets
    the events of connected accounts instead of the platform's own
    (https://docs.stripe.com/api/webhook_endpoints/create#create_webhook_endpoint-connect)."""
    params = dict(ctx.params)
    connect = params.pop("connect", None)
    if connect and not ctx.platform:
        raise FakeError(403, "Only Stripe Connect platforms can create Connect webhook endpoints (connect=true).")
    endpoint = ctx.create(
        "webhook_endpoint",
        params,
        event=None,
        status="enabled",
        secret=new_id("whsec"),
        api_version=params.get("api_version"),
    )
    if connect:
        ctx.store.connect_endpoints.add(endpoint["id"])
    return endpoint


@behaviour("webhook_endpoints.update")
def update_webhook_endpoint(ctx: Ctx) -> dict[str, Any]:
    """Updates; ``disabled`` sets its ``status`` (a disabled endpoint gets no events)."""
    endpoint = ctx.get("webhook_endpoint", ctx.last_id)
    params = dict(ctx.params)
    disabled = params.pop("disabled", None)
    fields = {"status": "disabled" if disabled else "enabled"} if disabled is not None else {}
    return ctx.update(endpoint, params, **fields)

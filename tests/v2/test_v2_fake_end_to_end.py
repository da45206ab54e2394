"""End to end: a service's NotificationRouter, served by uvicorn, receives the fake's thin
notifications, verifies them, and reads back from the fake (in process, or served over HTTP)
the event and its related object, typed, in the notification's context (``Stripe-Context``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from atom_stripe import AsyncStripeClient
from atom_stripe._thin_events import EventNotification, V2Event
from atom_stripe.models import V2CoreAccount, V2CoreEventDestination
from atom_stripe.testing import FAKE_KEY, FakeStripe
from atom_stripe.webhooks import NotificationRouter

from ..helpers import serve_asgi

TYPES = ["v2.core.event_destination.ping", "v2.core.account.created", "v1.billing.meter.no_meter_found"]


@contextlib.asynccontextmanager
async def clients(fake: FakeStripe, served: bool) -> AsyncIterator[tuple[AsyncStripeClient, AsyncStripeClient]]:
    """The test's client and the service's (its router's, used on uvicorn's own event loop, so
    it keeps no connection open between calls): on the fake in process, or served over HTTP."""
    if not served:
        yield fake.client(), fake.client()
        return
    async with fake.serve() as url:
        once = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
        async with AsyncStripeClient(FAKE_KEY, base_url=url, meter_events_base_url=url) as ours:
            yield ours, AsyncStripeClient(FAKE_KEY, base_url=url, http_client=once)
        await once.aclose()


@pytest.mark.parametrize("served", [False, True], ids=["in_process", "served"])
async def test_a_served_router_verifies_and_fetches_back_in_the_notifications_context(
    stripe_fake: FakeStripe, served: bool
) -> None:
    fetched: list[tuple[EventNotification, V2Event, Any]] = []
    routers: list[NotificationRouter] = []

    async def service(scope: Any, receive: Any, send: Any) -> None:
        await routers[0].asgi_app()(scope, receive, send)

    async with clients(stripe_fake, served) as (stripe, services):
        with serve_asgi(service) as url:
            connected = (await stripe.accounts.create(type="express")).id
            secrets: list[str] = []
            # The platform's destination takes its own and its connected accounts' events; the
            # connected account has one of its own.
            platform: dict[str, Any] = {"events_from": ["self", "other_accounts"]}
            for name, options in (("platform", platform), ("own", {"stripe_context": connected})):
                made = await stripe.v2.core.event_destinations.create(
                    name=name,
                    type="webhook_endpoint",
                    event_payload="thin",
                    enabled_events=TYPES,
                    webhook_endpoint={"url": f"{url}/stripe/thin-events"},
                    include=["webhook_endpoint.signing_secret"],
                    **options,
                )
                assert made.webhook_endpoint is not None and made.webhook_endpoint.signing_secret
                secrets.append(made.webhook_endpoint.signing_secret)
            own = made.id  # the connected account's destination
            router = NotificationRouter(secrets, client=services)
            routers.append(router)

            @router.on("*")
            async def handle(notification: EventNotification) -> None:
                event = await notification.fetch_event()
                fetch_related = getattr(notification, "fetch_related_object", None)
                fetched.append((notification, event, await fetch_related() if fetch_related else None))

            account = await stripe.v2.core.accounts.create(display_name="Ada")
            await stripe.v2.core.event_destinations.ping(own, stripe_context=connected)
            session = await stripe.v2.billing.meter_event_session.create(stripe_context=connected)
            meter_host = stripe.with_options(api_key=session.authentication_token)
            await meter_host.v2.billing.meter_event_stream.create(
                events=[{"event_name": "not_a_meter", "payload": {"stripe_customer_id": "cus_1", "value": "1"}}]
            )
            delivered = await stripe_fake.webhooks_delivered()

    assert len(delivered) == 4 and all(d.ok for d in delivered), delivered
    by_type: dict[str, list[tuple[EventNotification, V2Event, Any]]] = {}
    for item in fetched:
        by_type.setdefault(item[0].type, []).append(item)
    # The platform's own v2 account: its event has no context, its related object is the account.
    [(created, event, obj)] = by_type["v2.core.account.created"]
    assert created.context is None and event.id == created.id and event.type == created.type
    assert isinstance(obj, V2CoreAccount) and obj.id == account.id
    # The connected account's ping (to its own destination) and its meter error (delivered to its
    # own and to the platform's, which takes its connected accounts' events; one path here, so
    # handled once): fetched in its context.
    [(ping, ping_event, pinged)] = by_type["v2.core.event_destination.ping"]
    assert ping.context == connected and ping_event.context == connected
    assert isinstance(pinged, V2CoreEventDestination) and pinged.id == own
    [(error, error_event, nothing)] = by_type["v1.billing.meter.no_meter_found"]
    assert error.context == connected and nothing is None
    assert error_event.data is not None and error_event.data.model_dump()["reason"]["error_count"] == 1
    assert sorted(d.event_id for d in delivered).count(error.id) == 2
    reads = [r for r in stripe_fake.requests if r["method"] == "GET" and r["path"].startswith("/v2/")]
    context_of = {r["path"]: r["headers"].get("stripe-context") for r in reads}
    assert context_of[f"/v2/core/events/{ping.id}"] == context_of[f"/v2/core/events/{error.id}"] == connected
    assert context_of[f"/v2/core/event_destinations/{own}"] == connected
    assert context_of[f"/v2/core/events/{created.id}"] is None
    assert all(r["headers"]["stripe-request-trigger"].startswith("event=") for r in reads)

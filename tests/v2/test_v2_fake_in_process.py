"""``fake.v2.deliver_notifications(app)``: the fake's thin notifications POSTed to a service's
ASGI app in process (a FastAPI app's ``/stripe/thin-events`` here), signed with the yielded
destination's secret; nothing after the block, and bad arguments refused before anything."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI

from atom_stripe import AsyncStripeClient, NotFoundError, StripeValueError
from atom_stripe._thin_events import EventNotification
from atom_stripe.contrib.fastapi import create_stripe_router
from atom_stripe.models import BillingMeter, V2CoreAccount
from atom_stripe.testing import FakeStripe
from atom_stripe.webhooks import NotificationRouter, V1BillingMeterErrorReportTriggeredEventNotification


def service(client: AsyncStripeClient, secret: dict[str, str], seen: list[Any]) -> FastAPI:
    """A FastAPI service taking thin events at /stripe/thin-events, verified with ``secret["value"]``."""
    router = NotificationRouter(lambda: secret["value"], client=client)

    @router.on("v2.core.account.*")
    async def accounts(notification: EventNotification) -> None:
        seen.append(await getattr(notification, "fetch_related_object")())

    app = FastAPI()
    app.include_router(create_stripe_router(lambda: client, notification_router=router))
    return app


async def test_notifications_reach_a_fastapi_app_in_process(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    secret: dict[str, str] = {}
    seen: list[Any] = []
    app = service(stripe_client, secret, seen)
    async with stripe_fake.v2.deliver_notifications(app) as destination:
        assert destination["status"] == "enabled" and destination["event_payload"] == "thin"
        secret["value"] = destination["webhook_endpoint"]["signing_secret"]
        assert secret["value"].startswith("whsec_")
        made = await stripe_client.v2.core.accounts.create(display_name="Ada")
        await stripe_client.v2.core.accounts.update(made.id, display_name="Ada L.")
        delivered = await stripe_fake.webhooks_delivered()
        assert [(d.event_type, d.ok, d.status) for d in delivered] == [
            ("v2.core.account.created", True, 200),
            ("v2.core.account.updated", True, 200),
        ]
        assert all(isinstance(a, V2CoreAccount) and a.id == made.id for a in seen) and len(seen) == 2
        assert seen[-1].display_name == "Ada L."  # the object as it is now
    listed = [d async for d in stripe_client.v2.core.event_destinations.list()]
    assert [(d.id, d.status) for d in listed] == [(destination["id"], "disabled")]
    await stripe_client.v2.core.accounts.create(display_name="after")
    assert len(await stripe_fake.webhooks_delivered()) == 2  # a disabled destination gets nothing


async def test_a_destination_of_a_connected_account_and_one_for_its_events(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    connected = (await stripe_client.accounts.create(type="express")).id
    got: dict[str, list[str | None]] = {"own": [], "platform": []}

    def receiver(name: str, secret: dict[str, str]) -> Any:
        router = NotificationRouter(lambda: secret["value"])

        @router.on("*")
        def keep(notification: EventNotification) -> None:
            got[name].append(notification.context)

        return router.asgi_app()

    secrets: dict[str, dict[str, str]] = {"own": {}, "platform": {}}
    own_app, platform_app = receiver("own", secrets["own"]), receiver("platform", secrets["platform"])
    async with (
        stripe_fake.v2.deliver_notifications(own_app, "/own", stripe_context=connected) as own,
        stripe_fake.v2.deliver_notifications(platform_app, "/platform", events_from=["other_accounts"]) as platform,
    ):
        secrets["own"]["value"] = own["webhook_endpoint"]["signing_secret"]
        secrets["platform"]["value"] = platform["webhook_endpoint"]["signing_secret"]
        await stripe_client.v2.core.accounts.create(display_name="platform's own")  # neither takes it
        await stripe_client.v2.core.accounts.create(display_name="theirs", stripe_context=connected)
        await stripe_client.v2.core.event_destinations.ping(own["id"], stripe_context=connected)
        await stripe_fake.webhooks_delivered()
    assert got == {"own": [connected, connected], "platform": [connected]}


@pytest.mark.parametrize(
    ("arguments", "param"),
    [
        ({"path": "thin"}, "path"),
        ({"enabled_events": []}, "enabled_events"),
        ({"enabled_events": "v2.core.account.created"}, "enabled_events"),
        ({"events_from": ["everyone"]}, "events_from"),
        ({"stripe_context": "acct_1NotConnectedHere"}, "stripe_account"),
    ],
)
async def test_bad_arguments_are_refused_before_anything(
    stripe_fake: FakeStripe, arguments: dict[str, Any], param: str
) -> None:
    with pytest.raises(StripeValueError) as refused:
        async with stripe_fake.v2.deliver_notifications(FastAPI(), **arguments):
            pass
    assert refused.value.param == param
    assert stripe_fake.store.all("v2.core.event_destination") == []


async def test_stripe_context_names_the_account_on_a_v1_read_too(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    # "The Stripe-Context header supersedes the Stripe-Account header" (https://docs.stripe.com/context):
    # a thin event's related v1 object (a connected account's meter) is read back in its context.
    connected = (await stripe_client.accounts.create(type="express")).id
    meter = await stripe_client.billing.meters.create(
        display_name="API calls",
        event_name="api_call",
        default_aggregation={"formula": "sum"},
        stripe_account=connected,
    )
    body = json.dumps(
        {
            "id": "evt_test_65R1",
            "object": "v2.core.event",
            "type": "v1.billing.meter.error_report_triggered",
            "created": "2026-12-04T10:00:00.000Z",
            "livemode": False,
            "context": connected,
            "related_object": {"id": meter.id, "type": "billing.meter", "url": f"/v1/billing/meters/{meter.id}"},
        }
    )
    notification = stripe_client.parse_event_notification_without_verification(body)
    assert isinstance(notification, V1BillingMeterErrorReportTriggeredEventNotification)
    related = await notification.fetch_related_object()
    assert isinstance(related, BillingMeter) and related.id == meter.id
    [read] = [r for r in stripe_fake.requests if r["path"] == f"/v1/billing/meters/{meter.id}"]
    assert read["headers"]["stripe-context"] == connected and "stripe-account" not in read["headers"]
    with pytest.raises(NotFoundError):  # the platform has no such meter
        await stripe_client.billing.meters.retrieve(meter.id)

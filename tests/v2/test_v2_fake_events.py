"""The fake emits thin events: event destinations get a signing secret, are enabled, disabled and
pinged as on Stripe; v2 changes and the meter event stream's validation record ``v2.core.event``s
(read back at ``/v2/core/events``) and POST their thin notifications, signed, to the enabled
destinations that want them, received here by a NotificationRouter served by uvicorn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import respx

from atom_stripe import AsyncStripeClient
from atom_stripe._thin_events import EventNotification
from atom_stripe.testing import FakeStripe, FakeTransport
from atom_stripe.webhooks import NotificationRouter

from ..helpers import serve_asgi

PING = "v2.core.event_destination.ping"
ACCOUNT_CREATED = "v2.core.account.created"


@dataclass
class Receiver:
    """A service's receiving end: a NotificationRouter (it verifies each signature) served by
    uvicorn, keeping the notifications it handled."""

    url: str
    routers: dict[str, NotificationRouter]
    got: dict[str, list[EventNotification]] = field(default_factory=dict)

    def path(self, name: str, secret: str) -> str:
        """The URL of a new path, whose notifications must be signed with ``secret``."""
        router = self.routers[name] = NotificationRouter(secret)
        seen = self.got.setdefault(name, [])

        @router.on("*")
        def keep(notification: EventNotification) -> None:
            seen.append(notification)

        return f"{self.url}/{name}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    routers: dict[str, NotificationRouter] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        name = scope["path"].strip("/")
        await routers[name].asgi_app()(scope, receive, send)

    with serve_asgi(app) as url:
        yield Receiver(url, routers)


async def destination(
    client: AsyncStripeClient, receiver: Receiver, name: str, events: list[str], **extra: Any
) -> tuple[str, str]:
    """An event destination POSTing to ``receiver``'s path ``name``: (its id, its secret)."""
    made = await client.v2.core.event_destinations.create(
        name=name,
        type="webhook_endpoint",
        event_payload="thin",
        enabled_events=events,
        webhook_endpoint={"url": f"{receiver.url}/{name}"},
        include=["webhook_endpoint.signing_secret"],
        **extra,
    )
    assert made.webhook_endpoint is not None and made.webhook_endpoint.signing_secret is not None
    secret = made.webhook_endpoint.signing_secret
    assert receiver.path(name, secret) == f"{receiver.url}/{name}"
    return made.id, secret


async def test_a_destination_shows_its_secret_and_url_only_when_included(stripe_client: AsyncStripeClient) -> None:
    destinations = stripe_client.v2.core.event_destinations
    args: Any = {"name": "d", "type": "webhook_endpoint", "event_payload": "thin", "enabled_events": [PING]}
    made = await destinations.create(
        **args, webhook_endpoint={"url": "https://example.com/hook"}, include=["webhook_endpoint.signing_secret"]
    )
    assert made.status == "enabled" and made.webhook_endpoint is not None
    assert str(made.webhook_endpoint.signing_secret).startswith("whsec_") and made.webhook_endpoint.url is None
    plain = await destinations.retrieve(made.id)
    assert plain.webhook_endpoint is not None
    assert (plain.webhook_endpoint.signing_secret, plain.webhook_endpoint.url) == (None, None)
    shown = await destinations.retrieve(made.id, include=["webhook_endpoint.url"])
    assert shown.webhook_endpoint is not None and shown.webhook_endpoint.url == "https://example.com/hook"
    moved = await destinations.update(
        made.id, webhook_endpoint={"url": "https://example.com/new"}, include=["webhook_endpoint.url"]
    )
    assert moved.webhook_endpoint is not None and moved.webhook_endpoint.url == "https://example.com/new"
    listed = [d async for d in destinations.list()]
    assert [d.webhook_endpoint.signing_secret for d in listed if d.webhook_endpoint] == [None]
    other = await destinations.create(**args, include=["webhook_endpoint.signing_secret"])
    assert other.webhook_endpoint is not None
    assert other.webhook_endpoint.signing_secret != made.webhook_endpoint.signing_secret


async def test_a_ping_reaches_the_destination_signed_unless_it_is_disabled(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, receiver: Receiver
) -> None:
    destinations = stripe_client.v2.core.event_destinations
    pinged, _ = await destination(stripe_client, receiver, "pinged", ["v1.billing.meter.no_meter_found"])
    await destination(stripe_client, receiver, "bystander", [PING])
    event = await destinations.ping(pinged)
    assert event.type == PING and event.context is None
    await stripe_fake.webhooks_delivered()
    assert [(n.id, n.type) for n in receiver.got["pinged"]] == [(event.id, PING)]
    assert receiver.got["bystander"] == []  # a ping goes to the destination pinged only
    related = getattr(receiver.got["pinged"][0], "related_object", None)
    assert related is not None and related.url == f"/v2/core/event_destinations/{pinged}"

    disabled = await destinations.disable(pinged)
    assert disabled.status == "disabled" and disabled.status_details is not None
    await destinations.ping(pinged)
    await stripe_fake.webhooks_delivered()
    assert len(receiver.got["pinged"]) == 1
    assert (await destinations.enable(pinged)).status == "enabled"
    again = await destinations.ping(pinged)
    await stripe_fake.webhooks_delivered()
    assert [n.id for n in receiver.got["pinged"]] == [event.id, again.id]
    assert all(d.ok and d.status == 200 for d in stripe_fake.deliveries)


async def test_a_notification_signed_with_another_secret_is_refused(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, receiver: Receiver
) -> None:
    pinged, _ = await destination(stripe_client, receiver, "pinged", [PING])
    receiver.path("pinged", "whsec_not_the_destinations")
    await stripe_client.v2.core.event_destinations.ping(pinged)
    delivered = await stripe_fake.webhooks_delivered()
    assert [(d.ok, d.status) for d in delivered] == [(False, 400)]
    assert receiver.got["pinged"] == []


async def test_v2_account_changes_are_events_sent_to_the_destinations_enabling_them(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, receiver: Receiver
) -> None:
    await destination(stripe_client, receiver, "created", [ACCOUNT_CREATED])
    await destination(
        stripe_client, receiver, "all", [ACCOUNT_CREATED, "v2.core.account.updated", "v2.core.account.closed"]
    )
    accounts = stripe_client.v2.core.accounts
    account = await accounts.create(display_name="Ada", idempotency_key="make-ada")
    assert account.id.startswith("acct_")
    await accounts.update(account.id, display_name="Ada L.")
    await accounts.close(account.id)
    await stripe_fake.webhooks_delivered()
    assert [n.type for n in receiver.got["created"]] == [ACCOUNT_CREATED]
    kinds = ["v2.core.account.created", "v2.core.account.updated", "v2.core.account.closed"]
    assert [n.type for n in receiver.got["all"]] == kinds

    events = stripe_client.v2.core.events
    listed = [e async for e in events.list(object_id=account.id)]
    assert [e.type for e in listed] == kinds[::-1]  # newest first
    assert [e.type async for e in events.list(object_id=account.id, types=[ACCOUNT_CREATED])] == [ACCOUNT_CREATED]
    assert [e async for e in events.list(object_id="acct_1Unrelated")] == []
    first = await events.retrieve(receiver.got["created"][0].id)
    assert first.type == ACCOUNT_CREATED and first.reason is not None and first.reason.request is not None
    assert first.reason.request.idempotency_key == "make-ada"
    assert first.changes is not None and first.changes["before"] is None
    assert first.changes["after"]["display_name"] == "Ada"
    updated = await events.retrieve(receiver.got["all"][1].id)
    assert updated.changes == {"before": {"display_name": "Ada"}, "after": {"display_name": "Ada L."}}
    sent = json.loads(json.dumps(receiver.got["created"][0].model_dump(mode="json")))
    assert sent["related_object"] == {
        "id": account.id,
        "type": "v2.core.account",
        "url": f"/v2/core/accounts/{account.id}",
    }
    assert "data" not in sent and "changes" not in sent  # thin: no snapshot


async def test_events_from_routes_a_connected_accounts_events(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, receiver: Receiver
) -> None:
    connected = (await stripe_client.accounts.create(type="express")).id
    await destination(stripe_client, receiver, "own", [PING, ACCOUNT_CREATED])
    await destination(stripe_client, receiver, "others", [PING, ACCOUNT_CREATED], events_from=["other_accounts"])
    await destination(stripe_client, receiver, "both", [PING, ACCOUNT_CREATED], events_from=["@self", "@accounts"])
    theirs, _ = await destination(stripe_client, receiver, "theirs", [ACCOUNT_CREATED], stripe_context=connected)

    made = await stripe_client.v2.core.accounts.create(display_name="on the platform")
    on_connected = await stripe_client.v2.core.accounts.create(display_name="theirs", stripe_context=connected)
    await stripe_fake.webhooks_delivered()
    got = {name: [(n.related_object.id, n.context) for n in seen] for name, seen in receiver.got.items()}  # type: ignore[attr-defined]
    assert got == {
        "own": [(made.id, None)],
        "others": [(on_connected.id, connected)],
        "both": [(made.id, None), (on_connected.id, connected)],
        "theirs": [(on_connected.id, connected)],
    }
    # The connected account's event is its own: read in its context only.
    mine = await stripe_client.v2.core.events.retrieve(receiver.got["theirs"][0].id, stripe_context=connected)
    assert mine.context == connected
    assert [e async for e in stripe_client.v2.core.events.list(object_id=on_connected.id)] == []
    assert theirs not in {d.id async for d in stripe_client.v2.core.event_destinations.list()}


# -- the meter event stream's asynchronous validation ---------------------------------------------


async def stream(fake: FakeStripe, client: AsyncStripeClient, events: list[Any], **options: Any) -> None:
    session = await client.v2.billing.meter_event_session.create(**options)
    async with fake.client(api_key=session.authentication_token) as meter_host:
        await meter_host.v2.billing.meter_event_stream.create(events=events)


def usage(identifier: str, event_name: str = "api_call", **payload: str) -> dict[str, Any]:
    return {"event_name": event_name, "identifier": identifier, "payload": payload}


async def test_stream_events_without_a_meter_are_reported_as_no_meter_found(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, receiver: Receiver
) -> None:
    await destination(stripe_client, receiver, "meters", ["v1.billing.meter.no_meter_found"])
    customer = await stripe_client.customers.create(email="a@example.com")
    await stripe_client.billing.meters.create(
        display_name="API calls", event_name="api_call", default_aggregation={"formula": "sum"}
    )
    events = [usage("ok", stripe_customer_id=customer.id, value="3"), usage("typo-1", "api_cal"), usage("typo-2", "x")]
    await stream(stripe_fake, stripe_client, events)
    await stream(stripe_fake, stripe_client, [usage("typo-1", "api_cal")])  # a resend: seen, not reported again
    await stripe_fake.webhooks_delivered()
    assert [e["identifier"] for e in stripe_fake.v2.meter_events] == ["ok", "typo-1", "typo-2"]
    [notification] = receiver.got["meters"]
    assert notification.type == "v1.billing.meter.no_meter_found"
    assert getattr(notification, "related_object", None) is None
    data = (await stripe_client.v2.core.events.retrieve(notification.id)).model_dump(mode="json")["data"]
    assert data["reason"]["error_count"] == 2
    [errors] = data["reason"]["error_types"]
    assert errors["code"] == "no_meter" and errors["error_count"] == 2
    assert [s["request"]["identifier"] for s in errors["sample_errors"]] == ["typo-1", "typo-2"]


async def test_events_a_meter_refuses_are_reported_against_the_meter(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, receiver: Receiver
) -> None:
    await destination(stripe_client, receiver, "meters", ["v1.billing.meter.error_report_triggered"])
    customer = await stripe_client.customers.create(email="a@example.com")
    meter = await stripe_client.billing.meters.create(
        display_name="Tokens",
        event_name="tokens",
        default_aggregation={"formula": "sum"},
        customer_mapping={"type": "by_id", "event_payload_key": "user"},
        value_settings={"event_payload_key": "count"},
    )
    events = [
        usage("good", "tokens", user=customer.id, count="12"),
        usage("nobody", "tokens", count="1"),
        usage("stranger", "tokens", user="cus_NotOnThisAccount", count="1"),
        usage("nan", "tokens", user=customer.id, count="many"),
        usage("default-key", "tokens", stripe_customer_id=customer.id, count="1"),  # the meter reads "user"
    ]
    await stream(stripe_fake, stripe_client, events)
    await stripe_fake.webhooks_delivered()
    [notification] = receiver.got["meters"]
    related = getattr(notification, "related_object", None)
    assert related is not None and (related.id, related.url) == (meter.id, f"/v1/billing/meters/{meter.id}")
    reason = (await stripe_client.v2.core.events.retrieve(notification.id)).model_dump(mode="json")["data"]["reason"]
    by_code = {t["code"]: [s["request"]["identifier"] for s in t["sample_errors"]] for t in reason["error_types"]}
    assert by_code == {
        "meter_event_no_customer_defined": ["nobody", "default-key"],
        "meter_event_customer_not_found": ["stranger"],
        "meter_event_invalid_value": ["nan"],
    }
    assert reason["error_count"] == 4


async def test_a_meter_made_without_payload_keys_reads_stripes_defaults(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, receiver: Receiver
) -> None:
    await destination(stripe_client, receiver, "meters", ["v1.billing.meter.error_report_triggered"])
    customer = await stripe_client.customers.create(email="a@example.com")
    meter = await stripe_client.billing.meters.create(
        display_name="API calls", event_name="api_call", default_aggregation={"formula": "sum"}
    )
    assert meter.customer_mapping.event_payload_key == "stripe_customer_id"
    assert meter.value_settings.event_payload_key == "value"
    await stream(stripe_fake, stripe_client, [usage("fine", stripe_customer_id=customer.id, value="2")])
    await stream(stripe_fake, stripe_client, [usage("old-key", customer=customer.id, value="2")])
    await stripe_fake.webhooks_delivered()
    [notification] = receiver.got["meters"]
    data = (await stripe_client.v2.core.events.retrieve(notification.id)).model_dump(mode="json")["data"]
    assert [(t["code"], t["error_count"]) for t in data["reason"]["error_types"]] == [
        ("meter_event_no_customer_defined", 1)
    ]


async def test_a_delivery_failing_outside_http_does_not_stop_the_next(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, receiver: Receiver
) -> None:
    """A destination whose URL the transport refuses with its own exception (respx, for a URL it
    does not mock) counts as a failed delivery; the deliveries after it still go out."""
    elsewhere = await stripe_client.v2.core.event_destinations.create(
        name="elsewhere",
        type="webhook_endpoint",
        event_payload="thin",
        enabled_events=[PING],
        webhook_endpoint={"url": "https://example.com/stripe/thin"},
    )
    reachable, _ = await destination(stripe_client, receiver, "reachable", [PING])
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.route(host="api.stripe.com").mock(side_effect=FakeTransport(stripe_fake).handle_async_request)
        mock.route(host="127.0.0.1").pass_through()
        await stripe_client.v2.core.event_destinations.ping(elsewhere.id)
        await stripe_client.v2.core.event_destinations.ping(reachable)
        delivered = await stripe_fake.webhooks_delivered(timeout=5)
    assert [(d.url.rsplit("/", 1)[-1], d.ok) for d in delivered] == [("thin", False), ("reachable", True)]
    assert len(receiver.got["reachable"]) == 1

"""Webhooks for Connect: an endpoint made with ``connect=true`` gets the events of connected
accounts (``account`` set), an account endpoint gets the platform's own only; in process
(``deliver_webhooks``) and over HTTP (``webhook_endpoints.create``)."""

from __future__ import annotations

import json

import pytest

from atom_stripe import AsyncStripeClient, PermissionDeniedError
from atom_stripe.testing import FakeStripe
from atom_stripe.webhooks import construct_event

from ..helpers import serve_asgi
from .test_fake_stripe import Receiver


def received(receiver: Receiver, secret: str) -> list[tuple[str, str | None]]:
    """(type, account) of each delivery, each checked against the endpoint's signature."""
    out = []
    for body, signature in receiver.bodies:
        construct_event(body, signature, secret)
        event = json.loads(body)
        out.append((event["type"], event.get("account")))
    return out


async def test_connect_endpoints_get_connected_accounts_events_only(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    own_receiver, connect_receiver = Receiver(), Receiver()
    async with (
        stripe_fake.deliver_webhooks(own_receiver, "/own") as own,
        stripe_fake.deliver_webhooks(connect_receiver, "/connect", connect=True) as connect,
    ):
        seller = await stripe_client.accounts.create(type="express")
        await stripe_client.customers.create(email="platform@example.com")
        await stripe_client.for_account(seller.id).customers.create(email="seller@example.com")
        stripe_fake.complete_onboarding(seller.id)
        await stripe_fake.webhooks_delivered()
    assert received(own_receiver, own["secret"]) == [("customer.created", None)]
    assert received(connect_receiver, connect["secret"]) == [
        ("customer.created", seller.id),
        ("account.updated", seller.id),
    ]


async def test_served_endpoints_created_with_connect(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    own_receiver, connect_receiver = Receiver(), Receiver()
    with serve_asgi(own_receiver) as own_url, serve_asgi(connect_receiver) as connect_url:
        own = await stripe_client.webhook_endpoints.create(url=f"{own_url}/hook", enabled_events=["*"])
        connect = await stripe_client.webhook_endpoints.create(
            url=f"{connect_url}/hook", enabled_events=["customer.created"], connect=True
        )
        seller = await stripe_client.accounts.create(type="custom")
        acting = stripe_client.for_account(seller.id)
        customer = await acting.customers.create(email="seller@example.com")
        await acting.customers.update(customer.id, name="not wanted by the Connect endpoint")
        await stripe_client.products.create(name="the platform's own")
        await stripe_fake.webhooks_delivered()
    assert own.secret is not None and connect.secret is not None
    assert received(own_receiver, own.secret) == [("product.created", None)]
    assert received(connect_receiver, connect.secret) == [("customer.created", seller.id)]
    # The event as the connected account lists it: one endpoint wanted it, delivered.
    [event] = (await acting.events.list(type="customer.created")).data
    assert event.account == seller.id and event.pending_webhooks == 0


async def test_a_connected_accounts_own_endpoint_gets_its_own_events(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    first, second = Receiver(), Receiver()
    a = await stripe_client.accounts.create(type="standard")
    b = await stripe_client.accounts.create(type="standard")
    with serve_asgi(first) as first_url, serve_asgi(second) as second_url:
        endpoint = await stripe_client.for_account(a.id).webhook_endpoints.create(
            url=f"{first_url}/h", enabled_events=["*"]
        )
        await stripe_client.for_account(b.id).webhook_endpoints.create(url=f"{second_url}/h", enabled_events=["*"])
        await stripe_client.for_account(a.id).customers.create(email="a@example.com")
        await stripe_fake.webhooks_delivered()
    assert endpoint.secret is not None
    assert received(first, endpoint.secret) == [("customer.created", a.id)]
    assert second.bodies == []
    # A connected account is no platform: it has no Connect endpoints.
    with pytest.raises(PermissionDeniedError):
        await stripe_client.for_account(a.id).webhook_endpoints.create(
            url=f"{first_url}/h", enabled_events=["*"], connect=True
        )

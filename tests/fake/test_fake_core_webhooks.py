"""The fake's webhooks delivered to an ASGI app in process (no server, no port), on the test's
own event loop: signed, retried, waited for, and handled once by a service's WebhookRouter."""

from __future__ import annotations

from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe.testing import FakeStripe
from atom_stripe.webhooks import WebhookRouter, construct_event

from .test_fake_stripe import Receiver

SECRET = "whsec_in_process"


async def test_deliveries_reach_an_asgi_app_in_process_and_are_retried(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    receiver = Receiver(fail=1)
    async with stripe_fake.deliver_webhooks(receiver, enabled_events=["customer.created"]) as endpoint:
        customer = await stripe_client.customers.create(email="in@example.com")
        await stripe_client.products.create(name="not wanted")
        deliveries = await stripe_fake.webhooks_delivered()
    assert [(d.event_type, d.attempts, d.status, d.ok) for d in deliveries] == [("customer.created", 2, 200, True)]
    body, signature = receiver.bodies[-1]
    event = construct_event(body, signature, endpoint["secret"])
    assert getattr(event.data.object, "id", None) == customer.id
    # One endpoint wanted it; delivered, none is pending any more (Stripe's pending_webhooks).
    assert stripe_fake.events("customer.created")[0]["pending_webhooks"] == 0
    assert (await stripe_client.events.list(type="customer.created", delivery_success=True)).data[0].id == (
        stripe_fake.events("customer.created")[0]["id"]
    )
    # Once the block is left, the endpoint no longer takes events.
    await stripe_client.customers.create(email="after@example.com")
    assert len(await stripe_fake.webhooks_delivered()) == 1


async def test_a_webhook_router_handles_each_event_once(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    router = WebhookRouter(SECRET)
    seen: list[str] = []

    @router.on("payment_intent.succeeded")
    async def paid(event: Any) -> None:
        seen.append(event.data.object.id)

    async with stripe_fake.deliver_webhooks(router.asgi_app(), "/", secret=SECRET) as endpoint:
        assert endpoint["secret"] == SECRET and endpoint["status"] == "enabled"
        pi = await stripe_client.payment_intents.create(
            amount=300, currency="usd", payment_method="pm_card_visa", confirm=True
        )
    assert seen == [pi.id]
    assert all(d.ok for d in stripe_fake.deliveries)


async def test_a_bad_secret_or_path_is_refused(stripe_fake: FakeStripe) -> None:
    with pytest.raises(StripeValueError):
        async with stripe_fake.deliver_webhooks(Receiver(), secret="sk_test_oops"):
            pass
    with pytest.raises(StripeValueError):
        async with stripe_fake.deliver_webhooks(Receiver(), "webhooks"):
            pass

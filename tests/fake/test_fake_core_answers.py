"""Answers as Stripe gives them, as a service's tests meet them: deleted customers, a customer's
subscriptions on expand, events filtered by type wildcards with every changed field in
``previous_attributes``, API keys checked, and a closed client refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from atom_stripe import AsyncStripeClient, AuthenticationError, InvalidRequestError, StripeError
from atom_stripe.testing import FakeStripe


async def paying_customer(stripe: AsyncStripeClient) -> tuple[Any, Any]:
    customer = await stripe.customers.create(
        email="sub@example.com",
        payment_method="pm_card_visa",
        invoice_settings={"default_payment_method": "pm_card_visa"},
    )
    product = await stripe.products.create(name="Pro")
    price = await stripe.prices.create(
        product=product.id, currency="usd", unit_amount=1500, recurring={"interval": "month"}
    )
    return customer, price


async def test_a_deleted_customer_is_answered_as_deleted(stripe_client: AsyncStripeClient) -> None:
    customer, price = await paying_customer(stripe_client)
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    gone = await stripe_client.customers.delete(customer.id)
    assert gone.id == customer.id and gone.deleted is True
    again = await stripe_client.customers.retrieve(customer.id)
    assert again.model_dump(exclude_none=True) == {"id": customer.id, "object": "customer", "deleted": True}
    assert (await stripe_client.customers.list()).data == []
    # "Also immediately cancels any active subscriptions on the customer."
    assert (await stripe_client.subscriptions.retrieve(sub.id)).status == "canceled"
    with pytest.raises(InvalidRequestError) as exc:
        await stripe_client.payment_intents.create(amount=100, currency="usd", customer=customer.id)
    assert exc.value.status_code == 400 and exc.value.param == "customer"


async def test_a_customers_subscriptions_on_expand(stripe_client: AsyncStripeClient) -> None:
    customer, price = await paying_customer(stripe_client)
    plain = await stripe_client.customers.retrieve(customer.id)
    assert plain.subscriptions is None
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    expanded = await stripe_client.customers.retrieve(customer.id, expand=["subscriptions"])
    assert expanded.subscriptions is not None
    assert [s.id for s in expanded.subscriptions.data] == [sub.id]


async def test_events_by_type_wildcard_and_types(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="e@example.com")
    await stripe_client.customers.update(customer.id, name="Ada", metadata={"plan": "pro"})
    await stripe_client.payment_intents.create(
        amount=500, currency="usd", customer=customer.id, payment_method="pm_card_visa", confirm=True
    )
    customer_events = (await stripe_client.events.list(type="customer.*")).data
    assert [e.type for e in customer_events] == ["customer.updated", "customer.created"]
    several = (await stripe_client.events.list(types=["charge.succeeded", "customer.created"])).data
    assert [e.type for e in several] == ["charge.succeeded", "customer.created"]
    assert (await stripe_client.events.list(type="invoice.*")).data == []
    with pytest.raises(InvalidRequestError):
        await stripe_client.events.list(type="customer.*", types=["charge.succeeded"])
    updated = customer_events[0]
    assert updated.data.previous_attributes == {"name": None, "metadata": {}}


async def test_previous_attributes_hold_every_changed_field(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    pi = await stripe_client.payment_intents.create(
        amount=800, currency="usd", payment_method="pm_card_visa", capture_method="manual", confirm=True
    )
    await stripe_client.payment_intents.capture(pi.id)
    succeeded = stripe_fake.events("payment_intent.succeeded")[-1]
    previous = succeeded["data"]["previous_attributes"]
    assert previous["status"] == "requires_capture"
    assert previous["amount_received"] == 0 and previous["amount_capturable"] == 800


async def test_pending_webhooks_count_the_enabled_endpoints_that_want_it(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    await stripe_client.webhook_endpoints.create(url="http://127.0.0.1:9/a", enabled_events=["customer.created"])
    await stripe_client.webhook_endpoints.create(url="http://127.0.0.1:9/b", enabled_events=["*"])
    off = await stripe_client.webhook_endpoints.create(url="http://127.0.0.1:9/c", enabled_events=["*"])
    await stripe_client.webhook_endpoints.update(off.id, disabled=True)
    await stripe_client.customers.create(email="w@example.com")
    await stripe_client.products.create(name="Only the catch-all wants this")
    assert stripe_fake.events("customer.created")[0]["pending_webhooks"] == 2
    assert stripe_fake.events("product.created")[0]["pending_webhooks"] == 1


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("sk_live_abcdefgh1234", "Invalid API Key provided: sk_live_****1234"),
        ("pk_test_abcdefgh5678", "Invalid API Key provided: pk_test_****5678"),
        ("whatever9876", "Invalid API Key provided: ****9876"),
    ],
)
async def test_only_test_keys_are_taken(stripe_fake: FakeStripe, key: str, message: str) -> None:
    async with stripe_fake.serve() as url, httpx.AsyncClient(base_url=url) as http:
        answer = await http.get("/v1/customers", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 401
        assert answer.json()["error"]["message"].startswith(message)
        assert key not in answer.text
        restricted = await http.get("/v1/customers", headers={"Authorization": "Bearer rk_test_abc"})
        assert restricted.status_code == 200
    with pytest.raises(AuthenticationError):
        await stripe_fake.client(api_key="sk_test_x").with_options(api_key="sk_tast_typo").customers.list()


async def test_a_closed_client_is_refused(stripe_fake: FakeStripe) -> None:
    client = stripe_fake.client()
    await client.customers.create(email="c@example.com")
    await client.aclose()
    with pytest.raises(StripeError, match="closed"):
        await client.customers.list()
    assert len(stripe_fake.requests) == 1

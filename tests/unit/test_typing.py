"""What the type checker sees (checked by mypy --strict over tests/; the asserts run too)."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from typing_extensions import assert_type

from atom_stripe import AsyncStripeClient
from atom_stripe.models import (
    Account,
    Balance,
    Charge,
    Customer,
    DeletedCustomer,
    Event,
    Page,
    PaymentIntent,
    PaymentIntentEvent,
    Price,
    Product,
    Refund,
    SearchPage,
    Subscription,
)


async def test_results_are_typed(client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]) -> None:
    api.get("/v1/customers/cus_1").mock(return_value=httpx.Response(200, json=fixtures["customer"]))
    customer = await client.customers.retrieve("cus_1")
    assert_type(customer, Customer)
    assert isinstance(customer, Customer)


async def typed_signatures(stripe: AsyncStripeClient) -> None:
    """Never run: only type-checked."""
    assert_type(await stripe.customers.create(email="a@example.com"), Customer)
    assert_type(await stripe.customers.delete("cus_1"), DeletedCustomer)
    assert_type(await stripe.customers.list(limit=3), Page[Customer])
    assert_type(await stripe.customers.search(query="x"), SearchPage[Customer])
    assert_type(await stripe.payments.create(amount=100, currency="usd"), PaymentIntent)
    assert_type(await stripe.subscriptions.cancel("sub_1"), Subscription)
    assert_type(await stripe.products.retrieve("prod_1"), Product)
    assert_type(await stripe.prices.create(currency="usd", unit_amount=5), Price)
    assert_type(await stripe.balance.retrieve(), Balance)
    assert_type(await stripe.account.retrieve(), Account)
    assert_type(await stripe.refunds.create(charge="ch_1"), Refund)
    assert_type(await stripe.charges.retrieve("ch_1"), Charge)
    event = await stripe.events.retrieve("evt_1")
    assert_type(event, Event)
    if isinstance(event, PaymentIntentEvent):
        assert_type(event.data.object, PaymentIntent)
    async for item in stripe.customers.list():
        assert_type(item, Customer)
    async for page in stripe.payments.list().pages():
        assert_type(page, Page[PaymentIntent])

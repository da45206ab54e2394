"""Billing on the fake Stripe as a billing service meets it: every invoice paid through a
PaymentIntent (``invoice.payments``, ``invoice_payments``, ``confirmation_secret``), 3-D Secure and
declines on the first invoice, and ``payment_behavior`` on subscription create."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import BaseModel

from atom_stripe import AsyncStripeClient, CardError, InvalidRequestError
from atom_stripe.testing import FakeStripe

START = 1_767_225_600  # 2026-01-01T00:00:00Z


def assert_clean(obj: Any, path: str = "") -> None:
    """Every model in ``obj`` parsed whole: nothing kept raw in ``model_invalid``."""
    if isinstance(obj, BaseModel):
        invalid = getattr(obj, "model_invalid", {})
        assert not invalid, f"{path or type(obj).__name__}: {invalid}"
        for name in type(obj).model_fields:
            assert_clean(getattr(obj, name, None), f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        for index, item in enumerate(obj):
            assert_clean(item, f"{path}[{index}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            assert_clean(item, f"{path}[{key}]")


async def plan(stripe: AsyncStripeClient, amount: int = 1200, interval: str = "month") -> Any:
    product = await stripe.products.create(name=f"Plan {amount}")
    return await stripe.prices.create(
        product=product.id, currency="usd", unit_amount=amount, recurring={"interval": interval}
    )


async def customer_with(stripe: AsyncStripeClient, card: str | None, clock: str | None = None) -> Any:
    """A customer whose invoices are paid with ``card`` (attached, made the invoice default)."""
    extra: dict[str, Any] = {"test_clock": clock} if clock else {}
    customer = await stripe.customers.create(email="billing@example.com", **extra)
    if card is not None:
        pm = await stripe.payment_methods.attach(card, customer=customer.id)
        await stripe.customers.update(customer.id, invoice_settings={"default_payment_method": pm.id})
    return customer


def types(fake: FakeStripe) -> list[str]:
    return [e["type"] for e in fake.events()]


async def test_every_invoice_is_paid_through_a_payment_intent(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="atom_stripe")
    price = await plan(stripe_client)
    customer = await customer_with(stripe_client, "pm_card_visa")
    sub = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": price.id}], expand=["latest_invoice.payments"]
    )
    assert sub.status == "active"
    invoice = sub.latest_invoice
    assert invoice is not None and not isinstance(invoice, str)
    assert invoice.status == "paid" and invoice.amount_paid == 1200 and invoice.billing_reason == "subscription_create"
    assert invoice.payments is not None and len(invoice.payments.data) == 1
    payment = invoice.payments.data[0]
    assert payment.status == "paid" and payment.amount_paid == 1200 and payment.payment.type == "payment_intent"
    pi_id = str(payment.payment.payment_intent)
    listed = await stripe_client.invoice_payments.list(invoice=invoice.id)
    assert [p.id for p in listed.data] == [payment.id]
    # How a service finds the invoice a PaymentIntent paid (the intent has no invoice field since 2025).
    by_intent = await stripe_client.invoice_payments.list(payment={"type": "payment_intent", "payment_intent": pi_id})
    assert [p.invoice for p in by_intent.data] == [invoice.id]
    other = await stripe_client.invoice_payments.list(payment={"type": "payment_intent", "payment_intent": "pi_x"})
    assert other.data == []
    pi = await stripe_client.payment_intents.retrieve(pi_id, expand=["latest_charge"])
    assert pi.status == "succeeded" and pi.amount_received == 1200 and pi.customer == customer.id
    charge = pi.latest_charge
    assert charge is not None and not isinstance(charge, str) and charge.payment_intent == pi_id
    for kind in ("payment_intent.created", "payment_intent.succeeded", "invoice.paid", "invoice_payment.paid"):
        assert kind in types(stripe_fake)
    # Paid at creation: the creation event says so; no separate update follows.
    assert "customer.subscription.updated" not in types(stripe_fake)
    # A service that refunds by PaymentIntent (a cancellation with a refund) can be tested.
    refund = await stripe_client.refunds.create(payment_intent=pi_id, amount=500)
    assert refund.status == "succeeded" and refund.charge == charge.id
    for obj in (sub, pi, refund, listed, await stripe_client.invoices.retrieve(invoice.id)):
        assert_clean(obj)
    assert [r.getMessage() for r in caplog.records] == []


async def test_authentication_required_card_waits_for_3d_secure(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    price = await plan(stripe_client)
    customer = await customer_with(stripe_client, "pm_card_authenticationRequired")
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    assert sub.status == "incomplete"
    invoice = await stripe_client.invoices.retrieve(str(sub.latest_invoice), expand=["payments"])
    assert invoice.status == "open" and invoice.attempt_count == 1
    assert invoice.payments is not None
    pi = await stripe_client.payment_intents.retrieve(str(invoice.payments.data[0].payment.payment_intent))
    assert pi.status == "requires_action" and pi.next_action is not None
    assert "invoice.payment_action_required" in types(stripe_fake)

    stripe_fake.authenticate(pi.id)
    assert (await stripe_client.invoices.retrieve(invoice.id)).status == "paid"
    active = await stripe_client.subscriptions.retrieve(sub.id)
    assert active.status == "active"
    updated = [e for e in stripe_fake.events("customer.subscription.updated") if e["data"]["object"]["id"] == sub.id]
    assert updated[-1]["data"]["previous_attributes"]["status"] == "incomplete"
    assert_clean(active)


async def test_declined_first_payment_leaves_the_subscription_incomplete(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    price = await plan(stripe_client)
    # chargeCustomerFail attaches, then every charge on it fails (Stripe's testing docs).
    customer = await customer_with(stripe_client, "pm_card_chargeCustomerFail")
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    assert sub.status == "incomplete"
    invoice = await stripe_client.invoices.retrieve(str(sub.latest_invoice), expand=["payments"])
    assert invoice.status == "open" and invoice.attempted and invoice.next_payment_attempt is None
    assert invoice.payments is not None
    pi = await stripe_client.payment_intents.retrieve(str(invoice.payments.data[0].payment.payment_intent))
    assert pi.status == "requires_payment_method" and pi.last_payment_error is not None
    assert {"invoice.payment_failed", "payment_intent.payment_failed", "charge.failed"} <= set(types(stripe_fake))
    # The customer brings another card: paying the invoice makes the subscription active.
    await stripe_client.payment_methods.attach("pm_card_visa", customer=customer.id)
    good = (await stripe_client.customers.payment_methods.list(customer.id)).data[0]
    paid = await stripe_client.invoices.pay(invoice.id, payment_method=good.id)
    assert paid.status == "paid"
    assert (await stripe_client.subscriptions.retrieve(sub.id)).status == "active"


async def test_error_if_incomplete_refuses_a_failing_card_and_makes_nothing(stripe_client: AsyncStripeClient) -> None:
    price = await plan(stripe_client)
    customer = await customer_with(stripe_client, "pm_card_chargeCustomerFail")
    with pytest.raises(CardError) as info:
        await stripe_client.subscriptions.create(
            customer=customer.id, items=[{"price": price.id}], payment_behavior="error_if_incomplete"
        )
    assert info.value.status_code == 402 and info.value.code == "card_declined"
    assert (await stripe_client.subscriptions.list(customer=customer.id, status="all")).data == []
    ok = await customer_with(stripe_client, "pm_card_visa")
    sub = await stripe_client.subscriptions.create(
        customer=ok.id, items=[{"price": price.id}], payment_behavior="error_if_incomplete"
    )
    assert sub.status == "active"


async def test_default_incomplete_hands_a_confirmation_secret_to_the_front_end(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    price = await plan(stripe_client)
    customer = await customer_with(stripe_client, None)
    sub = await stripe_client.subscriptions.create(
        customer=customer.id,
        items=[{"price": price.id}],
        payment_behavior="default_incomplete",
        expand=["latest_invoice.confirmation_secret", "latest_invoice.payments"],
    )
    assert sub.status == "incomplete"
    invoice = sub.latest_invoice
    assert invoice is not None and not isinstance(invoice, str) and invoice.status == "open"
    secret = invoice.confirmation_secret
    assert secret is not None and secret.type == "payment_intent"
    assert invoice.payments is not None
    pi_id = str(invoice.payments.data[0].payment.payment_intent)
    pi = await stripe_client.payment_intents.retrieve(pi_id)
    assert pi.status == "requires_payment_method" and secret.client_secret == pi.client_secret
    assert not invoice.attempted
    # What Stripe.js does with the secret: confirm the PaymentIntent with the card collected.
    await stripe_client.payment_intents.confirm(pi_id, payment_method="pm_card_visa")
    assert (await stripe_client.invoices.retrieve(invoice.id)).status == "paid"
    assert (await stripe_client.subscriptions.retrieve(sub.id)).status == "active"
    assert_clean(sub)


async def test_allow_incomplete_without_a_payment_method(stripe_client: AsyncStripeClient) -> None:
    price = await plan(stripe_client)
    customer = await customer_with(stripe_client, None)
    sub = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": price.id}], payment_behavior="allow_incomplete"
    )
    assert sub.status == "incomplete"
    invoice = await stripe_client.invoices.retrieve(str(sub.latest_invoice))
    assert invoice.status == "open" and not invoice.attempted


async def test_unsimulated_parameters_are_refused(stripe_client: AsyncStripeClient) -> None:
    price = await plan(stripe_client)
    customer = await customer_with(stripe_client, "pm_card_visa")
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.subscriptions.create(
            customer=customer.id, items=[{"price": price.id}], billing_cycle_anchor=START + 86_400
        )
    assert info.value.code == "fake_not_simulated" and info.value.param == "billing_cycle_anchor"


async def test_items_of_recurring_prices_carry_their_plan(stripe_client: AsyncStripeClient) -> None:
    price = await plan(stripe_client, 900, "year")
    customer = await customer_with(stripe_client, "pm_card_visa")
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id, "quantity": 3}])
    item = sub.items.data[0]
    assert item.plan is not None and item.plan.id == price.id and item.plan.amount == 900
    assert item.plan.interval == "year" and item.plan.interval_count == 1
    assert sub.latest_invoice is not None
    assert (await stripe_client.invoices.retrieve(str(sub.latest_invoice))).amount_paid == 2700
    assert_clean(sub)


async def test_add_invoice_items_bills_a_setup_fee_on_the_first_invoice(stripe_client: AsyncStripeClient) -> None:
    monthly = await plan(stripe_client)
    product = await stripe_client.products.create(name="Setup")
    setup = await stripe_client.prices.create(product=product.id, currency="usd", unit_amount=5000)
    customer = await customer_with(stripe_client, "pm_card_visa")
    sub = await stripe_client.subscriptions.create(
        customer=customer.id,
        items=[{"price": monthly.id}],
        add_invoice_items=[{"price": setup.id}],
        expand=["latest_invoice"],
    )
    invoice = sub.latest_invoice
    assert invoice is not None and not isinstance(invoice, str)
    assert invoice.status == "paid" and invoice.amount_paid == 6200
    assert sorted(line.amount for line in invoice.lines.data) == [1200, 5000]
    assert_clean(sub)


async def test_failed_3d_secure_fails_the_invoice_attempt(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    price = await plan(stripe_client)
    customer = await customer_with(stripe_client, "pm_card_authenticationRequired")
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    invoice = await stripe_client.invoices.retrieve(str(sub.latest_invoice), expand=["payments"])
    assert invoice.payments is not None
    pi = stripe_fake.authenticate(str(invoice.payments.data[0].payment.payment_intent), succeed=False)
    assert pi["status"] == "requires_payment_method"
    assert "invoice.payment_failed" in types(stripe_fake)
    assert (await stripe_client.invoices.retrieve(invoice.id)).status == "open"
    assert (await stripe_client.subscriptions.retrieve(sub.id)).status == "incomplete"


async def test_stripes_subscription_quick_start_ends_active_and_paid(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    # https://docs.stripe.com/billing/subscriptions/build-subscriptions: the customer is created
    # with the card and that card as the invoices' default, then subscribed.
    customer = await stripe_client.customers.create(
        email="quickstart@example.com",
        payment_method="pm_card_visa",
        invoice_settings={"default_payment_method": "pm_card_visa"},
    )
    price = await plan(stripe_client)
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    assert sub.status == "active"
    invoice = await stripe_client.invoices.retrieve(str(sub.latest_invoice), expand=["payments"])
    assert invoice.status == "paid" and invoice.amount_paid == 1200
    assert invoice.payments is not None
    pi = await stripe_client.payment_intents.retrieve(str(invoice.payments.data[0].payment.payment_intent))
    default = (await stripe_client.customers.retrieve(customer.id)).invoice_settings
    assert default is not None and pi.payment_method == default.default_payment_method
    assert_clean(sub)

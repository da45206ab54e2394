"""List filters as Stripe applies them, or refused: a filter the fake cannot apply is never
answered with the whole list (before: filters on anything but a plain field were skipped)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from atom_stripe import AsyncStripeClient, InvalidRequestError

from .test_fake_core_answers import paying_customer


async def test_a_plural_filter_looks_among_the_values_given(stripe_client: AsyncStripeClient) -> None:
    product = await stripe_client.products.create(name="Pro")
    others = [await stripe_client.products.create(name=f"Other {n}") for n in range(2)]
    monthly = await stripe_client.prices.create(
        product=product.id, currency="usd", unit_amount=1500, recurring={"interval": "month"}, lookup_key="pro_m"
    )
    yearly = await stripe_client.prices.create(
        product=product.id, currency="usd", unit_amount=15000, recurring={"interval": "year"}, lookup_key="pro_y"
    )
    await stripe_client.prices.create(product=product.id, currency="usd", unit_amount=99, lookup_key="setup")
    by_key = await stripe_client.prices.list(lookup_keys=["pro_y", "pro_m", "missing"])
    assert {p.id for p in by_key.data} == {monthly.id, yearly.id}
    by_id = await stripe_client.products.list(ids=[product.id, others[1].id])
    assert {p.id for p in by_id.data} == {product.id, others[1].id}


async def test_an_object_filter_compares_field_by_field(stripe_client: AsyncStripeClient) -> None:
    product = await stripe_client.products.create(name="Pro")
    monthly = await stripe_client.prices.create(
        product=product.id, currency="usd", unit_amount=1500, recurring={"interval": "month"}
    )
    await stripe_client.prices.create(
        product=product.id, currency="usd", unit_amount=15000, recurring={"interval": "year"}
    )
    one_time = await stripe_client.prices.create(product=product.id, currency="usd", unit_amount=99)
    assert [p.id for p in (await stripe_client.prices.list(recurring={"interval": "month"})).data] == [monthly.id]
    assert [p.id for p in (await stripe_client.prices.list(type="one_time")).data] == [one_time.id]


async def test_a_field_the_object_leaves_null_matches_no_filter_value(stripe_client: AsyncStripeClient) -> None:
    await stripe_client.customers.create(email="a@example.com")
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=1_767_225_600)
    on_clock = await stripe_client.customers.create(email="b@example.com", test_clock=clock.id)
    assert [c.id for c in (await stripe_client.customers.list(test_clock=clock.id)).data] == [on_clock.id]
    assert (await stripe_client.customers.list(test_clock="clock_1NotHere")).data == []


async def test_invoice_items_pending_and_created(stripe_client: AsyncStripeClient) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=1_767_225_600)
    customer = await stripe_client.customers.create(email="ii@example.com", test_clock=clock.id)
    first = await stripe_client.invoice_items.create(customer=customer.id, amount=500, currency="usd")
    invoice = await stripe_client.invoices.create(customer=customer.id, pending_invoice_items_behavior="include")
    await stripe_client.test_helpers.test_clocks.advance(clock.id, frozen_time=1_767_225_600 + 3600)
    second = await stripe_client.invoice_items.create(customer=customer.id, amount=700, currency="usd")
    assert (await stripe_client.invoice_items.retrieve(first.id)).invoice == invoice.id
    assert [i.id for i in (await stripe_client.invoice_items.list(pending=True)).data] == [second.id]
    assert [i.id for i in (await stripe_client.invoice_items.list(pending=False)).data] == [first.id]
    both = await stripe_client.invoice_items.list(customer=customer.id)
    assert [i.id for i in both.data] == [second.id, first.id]
    assert (first.date, second.date) == (1_767_225_600, 1_767_225_600 + 3600)
    later = await stripe_client.invoice_items.list(created={"gt": first.date})
    assert [i.id for i in later.data] == [second.id]


async def test_false_matches_a_flag_left_unset(stripe_client: AsyncStripeClient) -> None:
    """``attach_to_self`` defaults to false (https://docs.stripe.com/api/setup_intents/create#create_setup_intent-attach_to_self):
    a SetupIntent that never set it is listed by ``attach_to_self=False``."""
    plain = await stripe_client.setup_intents.create()
    assert plain.attach_to_self is None
    assert [s.id for s in (await stripe_client.setup_intents.list(attach_to_self=False)).data] == [plain.id]
    assert (await stripe_client.setup_intents.list(attach_to_self=True)).data == []


async def test_a_list_of_cards_and_bank_accounts_filters_on_object(stripe_client: AsyncStripeClient) -> None:
    account = await stripe_client.accounts.create(type="custom", country="US")
    bank = await stripe_client.accounts.external_accounts.create(account.id, external_account="btok_us_verified")
    banks = await stripe_client.accounts.external_accounts.list(account.id, object="bank_account")
    assert [b.id for b in banks.data] == [bank.id]
    assert (await stripe_client.accounts.external_accounts.list(account.id, object="card")).data == []


async def test_subscriptions_by_plan_and_promotion_codes_by_coupon(stripe_client: AsyncStripeClient) -> None:
    customer, price = await paying_customer(stripe_client)
    other = await stripe_client.prices.create(
        product=str(price.product), currency="usd", unit_amount=90, recurring={"interval": "month"}
    )
    sub = await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": price.id}])
    await stripe_client.subscriptions.create(customer=customer.id, items=[{"price": other.id}])
    assert [s.id for s in (await stripe_client.subscriptions.list(plan=price.id)).data] == [sub.id]
    ten = await stripe_client.coupons.create(percent_off=10, duration="once")
    twenty = await stripe_client.coupons.create(percent_off=20, duration="once")
    code = await stripe_client.promotion_codes.create(promotion={"type": "coupon", "coupon": ten.id}, code="TEN")
    await stripe_client.promotion_codes.create(promotion={"type": "coupon", "coupon": twenty.id}, code="TWENTY")
    assert [p.id for p in (await stripe_client.promotion_codes.list(coupon=ten.id)).data] == [code.id]


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda stripe: stripe.shipping_rates.list(currency="usd"), "currency"),
        (
            lambda stripe: stripe.financial_connections.transactions.list(
                account="fca_1", transaction_refresh={"after": "fctxnref_1"}
            ),
            "transaction_refresh",
        ),
        (lambda stripe: stripe.subscriptions.list(current_period_end={"gt": 1}), "current_period_end"),
        (lambda stripe: stripe.balance_transactions.list(payout="po_1"), "payout"),
    ],
)
async def test_a_filter_the_fake_cannot_apply_is_refused(
    stripe_client: AsyncStripeClient, call: Callable[[AsyncStripeClient], Awaitable[object]], param: str
) -> None:
    await stripe_client.shipping_rates.create(
        display_name="Post", type="fixed_amount", fixed_amount={"amount": 500, "currency": "usd"}
    )
    with pytest.raises(InvalidRequestError) as refused:
        await call(stripe_client)
    assert refused.value.code == "fake_not_simulated" and refused.value.param == param
    assert "a list filter the fake does not apply" in str(refused.value)


async def test_an_operation_whose_required_filter_cannot_be_applied_is_refused(
    stripe_client: AsyncStripeClient,
) -> None:
    customer = await stripe_client.customers.create(email="e@example.com")
    with pytest.raises(InvalidRequestError) as refused:
        await stripe_client.entitlements.active_entitlements.list(customer=customer.id)
    assert refused.value.code == "fake_not_simulated" and refused.value.param is None


async def test_ended_subscriptions_are_the_canceled_and_the_expired(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="e@example.com", payment_method="pm_card_visa")
    product = await stripe_client.products.create(name="Pro")
    price = await stripe_client.prices.create(
        product=product.id, currency="usd", unit_amount=900, recurring={"interval": "month"}
    )
    live = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": price.id}], default_payment_method="pm_card_visa"
    )
    gone = await stripe_client.subscriptions.create(
        customer=customer.id, items=[{"price": price.id}], default_payment_method="pm_card_visa"
    )
    await stripe_client.subscriptions.cancel(gone.id)
    assert [s.id for s in (await stripe_client.subscriptions.list(status="ended")).data] == [gone.id]
    assert [s.id for s in (await stripe_client.subscriptions.list()).data] == [live.id]

"""Payments as Stripe's test mode plays them, written as a service's tests would be: cards checked
when attached, Stripe's quick-start customer, SetupIntents, 3-D Secure's next action, off-session
payments, and unknown ids in a request's parameters."""

from __future__ import annotations

from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, CardError, InvalidRequestError, NotFoundError
from atom_stripe.testing import FakeStripe


def error_of(exc: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    body: dict[str, Any] = exc.value.body["error"]
    return body


# -- cards checked when they are attached (https://docs.stripe.com/testing#declined-payments) ---------


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_visa_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
async def test_a_decline_card_is_refused_when_attached(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, card: str, decline_code: str
) -> None:
    customer = await stripe_client.customers.create(email="a@example.com")
    with pytest.raises(CardError) as exc:
        await stripe_client.payment_methods.attach(card, customer=customer.id)
    assert exc.value.status_code == 402 and exc.value.code == "card_declined"
    assert exc.value.decline_code == decline_code
    assert (await stripe_client.customers.payment_methods.list(customer.id)).data == []
    assert stripe_fake.events("payment_method.attached") == []
    with pytest.raises(CardError):
        await stripe_client.customers.create(email="b@example.com", payment_method=card)
    assert [c.email for c in (await stripe_client.customers.list()).data] == ["a@example.com"]


async def test_charge_customer_fail_attaches_then_fails_when_charged(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="a@example.com")
    pm = await stripe_client.payment_methods.attach("pm_card_chargeCustomerFail", customer=customer.id)
    assert pm.customer == customer.id and pm.card is not None and pm.card.last4 == "0341"
    with pytest.raises(CardError) as exc:
        await stripe_client.payment_intents.create(
            amount=1000, currency="usd", customer=customer.id, payment_method=pm.id, confirm=True
        )
    assert exc.value.code == "card_declined"
    assert error_of(exc)["payment_intent"]["status"] == "requires_payment_method"


async def test_quick_start_customer_names_its_attached_payment_method(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(
        email="quick@example.com",
        payment_method="pm_card_visa",
        invoice_settings={"default_payment_method": "pm_card_visa"},
    )
    attached = (await stripe_client.customers.payment_methods.list(customer.id)).data
    assert len(attached) == 1 and attached[0].id.startswith("pm_") and attached[0].id != "pm_card_visa"
    assert customer.invoice_settings is not None
    assert customer.invoice_settings.default_payment_method == attached[0].id
    with pytest.raises(InvalidRequestError) as exc:
        await stripe_client.customers.update(customer.id, invoice_settings={"default_payment_method": "pm_other"})
    assert error_of(exc)["param"] == "invoice_settings[default_payment_method]"


# -- SetupIntents -------------------------------------------------------------------------------------


async def test_setup_intent_confirm_attaches_the_card(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customer = await stripe_client.customers.create(email="s@example.com")
    si = await stripe_client.setup_intents.create(customer=customer.id)
    assert si.status == "requires_payment_method" and si.usage == "off_session"
    assert si.client_secret is not None and si.client_secret.startswith(si.id)
    done = await stripe_client.setup_intents.confirm(si.id, payment_method="pm_card_visa")
    assert done.status == "succeeded" and done.next_action is None
    attached = (await stripe_client.customers.payment_methods.list(customer.id)).data
    assert [pm.id for pm in attached] == [done.payment_method]
    types = [e["type"] for e in stripe_fake.events() if e["type"].startswith(("setup_intent.", "payment_method."))]
    assert types == ["setup_intent.created", "payment_method.attached", "setup_intent.succeeded"]
    # Saved off session, it pays later without the customer.
    paid = await stripe_client.payment_intents.create(
        amount=700,
        currency="usd",
        customer=customer.id,
        payment_method=str(done.payment_method),
        off_session=True,
        confirm=True,
    )
    assert paid.status == "succeeded"


async def test_setup_intent_with_3ds_card_requires_action_then_authenticates(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customer = await stripe_client.customers.create(email="s@example.com")
    si = await stripe_client.setup_intents.create(
        customer=customer.id, payment_method="pm_card_authenticationRequiredOnSetup", confirm=True
    )
    assert si.status == "requires_action" and si.next_action is not None
    assert si.next_action.type == "use_stripe_sdk"
    assert (await stripe_client.customers.payment_methods.list(customer.id)).data == []
    done = stripe_fake.authenticate(si.id)
    assert done["status"] == "succeeded"
    assert stripe_fake.events("setup_intent.succeeded")[0]["request"]["id"] is None
    assert len((await stripe_client.customers.payment_methods.list(customer.id)).data) == 1


async def test_setup_intent_with_a_decline_card_fails(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    si = await stripe_client.setup_intents.create()
    with pytest.raises(CardError) as exc:
        await stripe_client.setup_intents.confirm(si.id, payment_method="pm_card_chargeDeclined")
    assert exc.value.code == "card_declined" and error_of(exc)["setup_intent"]["id"] == si.id
    failed = await stripe_client.setup_intents.retrieve(si.id)
    assert failed.status == "requires_payment_method" and failed.last_setup_error is not None
    assert [e["type"] for e in stripe_fake.events()][-1] == "setup_intent.setup_failed"
    canceled = await stripe_client.setup_intents.cancel(si.id)
    assert canceled.status == "canceled"
    with pytest.raises(InvalidRequestError) as again:
        await stripe_client.setup_intents.cancel(si.id)
    assert again.value.code == "setup_intent_unexpected_state"


# -- 3-D Secure and off-session payments ---------------------------------------------------------------


async def test_3ds_next_action_is_a_redirect_when_a_return_url_is_given(stripe_client: AsyncStripeClient) -> None:
    redirected = await stripe_client.payment_intents.create(
        amount=1000,
        currency="usd",
        payment_method="pm_card_authenticationRequired",
        confirm=True,
        return_url="https://shop.example.com/return",
    )
    assert redirected.status == "requires_action" and redirected.next_action is not None
    assert redirected.next_action.type == "redirect_to_url"
    target = redirected.next_action.redirect_to_url
    assert target is not None and target.return_url == "https://shop.example.com/return"
    assert target.url is not None and target.url.startswith("https://")
    sdk = await stripe_client.payment_intents.create(
        amount=1000, currency="usd", payment_method="pm_card_authenticationRequired", confirm=True
    )
    assert sdk.next_action is not None and sdk.next_action.type == "use_stripe_sdk"


async def test_off_session_is_a_boolean_and_3ds_cards_decline_off_session(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="o@example.com")
    with pytest.raises(CardError) as exc:
        await stripe_client.payment_intents.create(
            amount=1000,
            currency="usd",
            customer=customer.id,
            payment_method="pm_card_authenticationRequired",
            off_session=True,
            confirm=True,
        )
    assert exc.value.code == "authentication_required"
    assert error_of(exc)["payment_intent"]["status"] == "requires_payment_method"
    saved = await stripe_client.payment_intents.create(
        amount=1000, currency="usd", payment_method="pm_card_visa", off_session=True, confirm=True
    )
    assert saved.status == "succeeded"


async def test_setup_future_usage_saves_the_card_on_the_customer(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="f@example.com")
    pi = await stripe_client.payment_intents.create(
        amount=1000,
        currency="usd",
        customer=customer.id,
        payment_method="pm_card_visa",
        setup_future_usage="off_session",
        confirm=True,
    )
    charge = await stripe_client.charges.retrieve(str(pi.latest_charge))
    assert charge.payment_intent == pi.id and pi.status == "succeeded"
    assert [m.id for m in (await stripe_client.customers.payment_methods.list(customer.id)).data] == [pi.payment_method]


# -- ids: unknown in the body is a 400 naming the parameter, unknown in the path a 404 -------------------


async def test_unknown_ids_in_the_body_and_in_the_path(stripe_client: AsyncStripeClient) -> None:
    with pytest.raises(InvalidRequestError) as body:
        await stripe_client.payment_intents.create(amount=100, currency="usd", customer="cus_nope")
    assert body.value.status_code == 400
    assert error_of(body) | {"doc_url": None} == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "customer",
        "message": "No such customer: 'cus_nope'",
        "doc_url": None,
        "request_log_url": None,
    }
    with pytest.raises(NotFoundError) as path:
        await stripe_client.customers.retrieve("cus_nope")
    assert path.value.status_code == 404 and error_of(path)["param"] == "id"

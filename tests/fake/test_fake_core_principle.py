"""The fake's core rules, as a service's tests meet them: everything of a test-clock customer on
the clock's time, automatic events with a null request, and a plain ``fake_not_simulated`` refusal
of what the fake does not play (never a 200 built from an example)."""

from __future__ import annotations

from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, InvalidRequestError
from atom_stripe.testing import FakeStripe

START = 1_704_067_200  # 2024-01-01, far from the wall clock


def refusal(exc: pytest.ExceptionInfo[InvalidRequestError]) -> dict[str, Any]:
    error: dict[str, Any] = exc.value.body["error"]
    assert exc.value.status_code == 400
    assert error["type"] == "invalid_request_error" and error["code"] == "fake_not_simulated"
    return error


async def test_everything_of_a_clock_customer_carries_the_clocks_time(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await stripe_client.customers.create(email="c@example.com", test_clock=clock.id)
    pi = await stripe_client.payment_intents.create(
        amount=2000, currency="usd", customer=customer.id, payment_method="pm_card_visa", confirm=True
    )
    charge = await stripe_client.charges.retrieve(str(pi.latest_charge))
    balance_transaction = await stripe_client.balance_transactions.retrieve(str(charge.balance_transaction))
    refund = await stripe_client.refunds.create(payment_intent=pi.id, amount=500)
    refund_bt = await stripe_client.balance_transactions.retrieve(str(refund.balance_transaction))
    stamped: list[Any] = [customer, pi, charge, balance_transaction, refund, refund_bt]
    assert [o.created for o in stamped] == [START] * len(stamped)
    assert balance_transaction.available_on == START + 2 * 86_400  # a card charge's funds: pending two days
    events = (await stripe_client.events.list(limit=100)).data
    mine = [e for e in events if e.type.startswith(("customer.", "payment_intent.", "charge."))]
    assert mine and {e.created for e in mine} == {START}
    other = await stripe_client.customers.create(email="wall@example.com")
    assert other.created > START + 86_400 * 365


async def test_a_customers_answer_to_3ds_makes_automatic_events(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    pi = await stripe_client.payment_intents.create(
        amount=1000, currency="usd", payment_method="pm_card_authenticationRequired", confirm=True
    )
    assert pi.status == "requires_action"
    created = stripe_fake.events("payment_intent.created")[0]
    assert str(created["request"]["id"]).startswith("req_")
    stripe_fake.authenticate(pi.id)
    succeeded = stripe_fake.events("payment_intent.succeeded")
    assert len(succeeded) == 1
    # Stripe: "If null, the event was automatic" (https://docs.stripe.com/api/events/object).
    assert succeeded[0]["request"] == {"id": None, "idempotency_key": None}
    event = await stripe_client.events.retrieve(succeeded[0]["id"])
    assert event.request is not None and event.request.id is None


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda s: s.payouts.reverse("po_1"), "payouts.reverse"),
        (lambda s: s.topups.create(amount=100, currency="usd"), "topups.create"),
        (lambda s: s.disputes.close("dp_1"), "disputes.close"),
        (
            lambda s: s.payment_intents.increment_authorization("pi_1", amount=5),
            "payment_intents.increment_authorization",
        ),
        (lambda s: s.reviews.approve("prv_1"), "reviews.approve"),
    ],
)
async def test_operations_with_side_effects_are_refused_plainly(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, call: Any, operation: str
) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        await call(stripe_client)
    error = refusal(exc)
    assert f"does not simulate {operation} (POST /v1/" in error["message"]
    assert "param" not in error
    assert stripe_fake.events() == []


async def test_a_parameter_not_simulated_is_refused_by_name(stripe_client: AsyncStripeClient) -> None:
    customer = await stripe_client.customers.create(email="a@example.com")
    with pytest.raises(InvalidRequestError) as exc:
        await stripe_client.customers.update(customer.id, source="tok_visa")
    error = refusal(exc)
    assert error["param"] == "source"
    assert "the parameter 'source' of customers.update" in error["message"]
    # Everything else of the same operation is still played.
    assert (await stripe_client.customers.update(customer.id, name="Ada")).name == "Ada"
    # Connect's legacy money movement on a charge: refused by name, nothing charged.
    with pytest.raises(InvalidRequestError) as connect:
        await stripe_client.charges.create(
            amount=1000, currency="usd", source="tok_visa", destination={"account": "acct_1"}
        )
    assert refusal(connect)["param"] == "destination"
    assert (await stripe_client.charges.list()).data == []


async def test_plain_status_actions_follow_stripes_rules(stripe_client: AsyncStripeClient) -> None:
    session = await stripe_client.checkout.sessions.create(
        mode="payment", success_url="https://example.com/ok", line_items=[]
    )
    expired = await stripe_client.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    with pytest.raises(InvalidRequestError) as again:
        await stripe_client.checkout.sessions.expire(session.id)
    assert "status of expired" in again.value.message
    assert (await stripe_client.events.list()).data[0].type == "checkout.session.expired"

"""Money between accounts on the fake, as Stripe's Connect moves it: destination and direct charges
with application fees, transfers and reversals, refunds that reverse transfers and refund fees,
per-account balances that always equal the sum of their balance transactions, and payouts."""

from __future__ import annotations

import pytest

from atom_stripe import AsyncStripeClient, InvalidRequestError, NotFoundError
from atom_stripe.testing import FakeStripe


def stripe_fee(amount: int) -> int:
    """Stripe's US card fee, 2.9% + 30 (https://stripe.com/pricing)."""
    return round(amount * 0.029) + 30


async def connected(client: AsyncStripeClient) -> AsyncStripeClient:
    account = await client.accounts.create(type="custom", country="US")
    return client.for_account(account.id)


async def available(client: AsyncStripeClient, currency: str = "usd") -> int:
    """The account's available balance, checked against the sum of its balance transactions."""
    balance = await client.balance.retrieve()
    amount = next(b.amount for b in balance.available if b.currency == currency)
    pending = next(b.amount for b in balance.pending if b.currency == currency)
    transactions = [bt async for bt in client.balance_transactions.list(limit=100)]
    assert sum(bt.net for bt in transactions if bt.currency == currency) == amount + pending
    for bt in transactions:
        assert bt.net == bt.amount - bt.fee == bt.amount - sum(d.amount for d in bt.fee_details)
    return amount


async def test_destination_charge_with_an_application_fee(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    pi = await stripe_client.payment_intents.create(
        amount=10000,
        currency="usd",
        payment_method="pm_card_bypassPending",
        confirm=True,
        application_fee_amount=1230,
        transfer_data={"destination": a.stripe_account},
        on_behalf_of=a.stripe_account,
    )
    assert pi.status == "succeeded" and pi.application_fee_amount == 1230
    assert pi.latest_charge is not None
    charge = await stripe_client.charges.retrieve(str(pi.latest_charge))
    assert charge.application_fee_amount == 1230 and charge.on_behalf_of == a.stripe_account
    assert charge.transfer_data is not None and charge.transfer_data.destination == a.stripe_account

    # The full amount goes to the destination, which pays the fee back to the platform.
    transfer = await stripe_client.transfers.retrieve(str(charge.transfer))
    assert (transfer.amount, transfer.destination, transfer.source_transaction) == (10000, a.stripe_account, charge.id)
    fee = await stripe_client.application_fees.retrieve(str(charge.application_fee))
    assert (fee.amount, fee.account, fee.originating_transaction) == (1230, a.stripe_account, charge.id)
    assert str(fee.charge) == str(transfer.destination_payment) and str(fee.charge).startswith("py_")

    payment = await a.charges.retrieve(str(transfer.destination_payment))
    assert (payment.amount, payment.source_transfer) == (10000, transfer.id)
    payment_bt = await a.balance_transactions.retrieve(str(payment.balance_transaction))
    assert (payment_bt.type, payment_bt.amount, payment_bt.fee, payment_bt.net) == ("payment", 10000, 1230, 8770)
    fee_bt = await stripe_client.balance_transactions.retrieve(str(fee.balance_transaction))
    assert (fee_bt.type, fee_bt.net) == ("application_fee", 1230)

    assert await available(stripe_client) == 10000 - stripe_fee(10000) - 10000 + 1230
    assert await available(a) == 8770
    types = [e.type for e in (await stripe_client.events.list()).data]
    assert "transfer.created" in types and "application_fee.created" in types
    # The platform's objects stay the platform's.
    with pytest.raises(NotFoundError):
        await a.transfers.retrieve(transfer.id)
    with pytest.raises(NotFoundError):
        await a.charges.retrieve(charge.id)
    assert stripe_fake.get(str(transfer.destination_payment), stripe_account=a.stripe_account) is not None


async def test_destination_charge_with_a_transfer_amount(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    charge = await stripe_client.charges.create(
        amount=10000,
        currency="usd",
        source="tok_bypassPending",
        transfer_data={"destination": a.stripe_account, "amount": 7000},
    )
    assert charge.application_fee is None
    transfer = await stripe_client.transfers.retrieve(str(charge.transfer))
    assert transfer.amount == 7000
    assert await available(stripe_client) == 10000 - stripe_fee(10000) - 7000
    assert await available(a) == 7000


async def test_direct_charge_with_an_application_fee(stripe_client: AsyncStripeClient) -> None:
    a, b = await connected(stripe_client), await connected(stripe_client)
    charge = await a.charges.create(amount=5000, currency="usd", source="tok_bypassPending", application_fee_amount=500)
    bt = await a.balance_transactions.retrieve(str(charge.balance_transaction))
    assert (bt.amount, bt.fee, bt.net) == (5000, stripe_fee(5000) + 500, 5000 - stripe_fee(5000) - 500)
    assert sorted(d.type for d in bt.fee_details) == ["application_fee", "stripe_fee"]
    fee = await stripe_client.application_fees.retrieve(str(charge.application_fee))
    assert (fee.amount, fee.account, str(fee.charge)) == (500, a.stripe_account, charge.id)
    assert await available(a) == 5000 - stripe_fee(5000) - 500
    assert await available(stripe_client) == 500
    assert await available(b) == 0
    for other in (b, stripe_client):
        with pytest.raises(NotFoundError):
            await other.charges.retrieve(charge.id)
    with pytest.raises(NotFoundError):
        await a.application_fees.retrieve(fee.id)


async def test_transfers_and_reversals(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    await stripe_client.charges.create(amount=20000, currency="usd", source="tok_bypassPending")
    start = await available(stripe_client)
    transfer = await stripe_client.transfers.create(
        amount=5000, currency="usd", destination=a.stripe_account, transfer_group="ORDER_1"
    )
    assert (transfer.amount, transfer.transfer_group, transfer.amount_reversed, transfer.reversed) == (
        5000,
        "ORDER_1",
        0,
        False,
    )
    updated = await stripe_client.transfers.update(transfer.id, metadata={"order": "1"})
    assert updated.metadata == {"order": "1"}
    assert [t.id for t in (await stripe_client.transfers.list()).data] == [transfer.id]
    assert await available(a) == 5000 and await available(stripe_client) == start - 5000

    first = await stripe_client.transfers.reversals.create(transfer.id, amount=2000)
    assert (first.amount, first.transfer) == (2000, transfer.id)
    after = await stripe_client.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (2000, False)
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.transfers.reversals.create(transfer.id, amount=3001)
    assert info.value.param == "amount"
    rest = await stripe_client.transfers.reversals.create(transfer.id)
    assert rest.amount == 3000
    after = await stripe_client.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (5000, True)
    assert [r.id for r in (await stripe_client.transfers.reversals.list(transfer.id)).data] == [rest.id, first.id]
    assert await available(a) == 0 and await available(stripe_client) == start
    assert "transfer.reversed" in [e.type for e in (await stripe_client.events.list()).data]


async def test_transfer_errors(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.transfers.create(amount=100, currency="usd", destination=a.stripe_account)
    assert info.value.code == "balance_insufficient"
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.transfers.create(amount=100, currency="usd", destination="acct_1NoSuchAccountHere")
    assert (info.value.code, info.value.param) == ("resource_missing", "destination")
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.payment_intents.create(
            amount=1000, currency="usd", transfer_data={"destination": "acct_1NoSuchAccountHere"}
        )
    assert info.value.param == "transfer_data[destination]"
    # A fee needs a connected account to take it from.
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.payment_intents.create(amount=1000, currency="usd", application_fee_amount=100)
    assert info.value.param == "application_fee_amount"
    # A source_transaction funds the transfer whatever the available balance (none: the charge's
    # funds are pending, and so is the transfer's money until they are available).
    charge = await stripe_client.charges.create(amount=1000, currency="usd", source="tok_visa")
    funded = await stripe_client.transfers.create(
        amount=900, currency="usd", destination=a.stripe_account, source_transaction=charge.id
    )
    assert funded.source_transaction == charge.id
    assert await available(stripe_client) == 0
    pending = (await stripe_client.balance.retrieve()).pending[0].amount
    assert pending == 1000 - stripe_fee(1000) - 900


async def test_refund_reverses_the_transfer_and_refunds_the_fee(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    pi = await stripe_client.payment_intents.create(
        amount=10000,
        currency="usd",
        payment_method="pm_card_bypassPending",
        confirm=True,
        application_fee_amount=1000,
        transfer_data={"destination": a.stripe_account},
    )
    refund = await stripe_client.refunds.create(
        payment_intent=pi.id, amount=5000, reverse_transfer=True, refund_application_fee=True
    )
    charge = await stripe_client.charges.retrieve(str(pi.latest_charge))
    transfer = await stripe_client.transfers.retrieve(str(charge.transfer))
    assert (transfer.amount_reversed, transfer.reversed) == (5000, False)  # in proportion: 5000 of 10000
    assert refund.transfer_reversal == transfer.reversals.data[0].id
    fee = await stripe_client.application_fees.retrieve(str(charge.application_fee))
    assert (fee.amount_refunded, fee.refunded, [r.amount for r in fee.refunds.data]) == (500, False, [500])
    assert await available(stripe_client) == 10000 - stripe_fee(10000) - 10000 + 1000 - 5000 + 5000 - 500
    assert await available(a) == 9000 - 5000 + 500

    # The rest: the whole remaining transfer and fee.
    await stripe_client.refunds.create(payment_intent=pi.id, reverse_transfer=True, refund_application_fee=True)
    transfer = await stripe_client.transfers.retrieve(transfer.id)
    fee = await stripe_client.application_fees.retrieve(fee.id)
    assert (transfer.reversed, fee.refunded, fee.amount_refunded) == (True, True, 1000)
    assert await available(a) == 0
    assert await available(stripe_client) == -stripe_fee(10000)  # the platform pays Stripe's fee


async def test_refund_of_a_direct_charge_refunds_the_fee(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    charge = await a.charges.create(amount=5000, currency="usd", source="tok_bypassPending", application_fee_amount=500)
    await a.refunds.create(charge=charge.id, refund_application_fee=True)
    fee = await stripe_client.application_fees.retrieve(str(charge.application_fee))
    assert (fee.amount_refunded, fee.refunded) == (500, True)
    assert await available(stripe_client) == 0
    assert await available(a) == -stripe_fee(5000)
    with pytest.raises(InvalidRequestError) as info:
        await a.refunds.create(charge=charge.id, reverse_transfer=True)
    assert info.value.code == "charge_already_refunded"


async def test_fee_refund_through_the_application_fee(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    charge = await a.charges.create(amount=5000, currency="usd", source="tok_bypassPending", application_fee_amount=500)
    made = await stripe_client.application_fees.refunds.create(str(charge.application_fee), amount=200)
    assert made.amount == 200
    assert await available(stripe_client) == 300
    assert await available(a) == 5000 - stripe_fee(5000) - 300
    with pytest.raises(InvalidRequestError):
        await stripe_client.application_fees.refunds.create(str(charge.application_fee), amount=301)


async def test_payouts_from_a_connected_account(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    charge = await stripe_client.charges.create(amount=3000, currency="usd", source="tok_bypassPending")
    await stripe_client.transfers.create(
        amount=3000, currency="usd", destination=a.stripe_account, source_transaction=charge.id
    )
    payout = await a.payouts.create(amount=2000, currency="usd")
    assert (payout.amount, payout.status) == (2000, "pending")
    bt = await a.balance_transactions.retrieve(str(payout.balance_transaction))
    assert (bt.type, bt.net) == ("payout", -2000)
    assert await available(a) == 1000
    with pytest.raises(InvalidRequestError) as info:
        await a.payouts.create(amount=1001, currency="usd")
    assert info.value.code == "balance_insufficient"
    assert [e.type for e in (await a.events.list(type="payout.*")).data] == ["payout.created"]
    assert (await stripe_client.events.list(type="payout.*")).data == []


async def test_what_the_fake_does_not_move_is_refused(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.charges.create(
            amount=1000, currency="usd", source="tok_bypassPending", destination={"account": a.stripe_account}
        )
    assert (info.value.code, info.value.param) == ("fake_not_simulated", "destination")
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.payment_intents.create(
            amount=1000,
            currency="usd",
            application_fee_amount=100,
            transfer_data={"destination": a.stripe_account, "amount": 800},
        )
    assert info.value.code == "fake_not_simulated"


async def test_direct_payment_intent_and_a_partly_captured_destination_charge(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    direct = await a.payment_intents.create(
        amount=2000, currency="usd", payment_method="pm_card_bypassPending", confirm=True, application_fee_amount=200
    )
    charge = await a.charges.retrieve(str(direct.latest_charge))
    assert (await stripe_client.application_fees.retrieve(str(charge.application_fee))).amount == 200
    assert await available(a) == 2000 - stripe_fee(2000) - 200

    held = await stripe_client.payment_intents.create(
        amount=10000,
        currency="usd",
        payment_method="pm_card_bypassPending",
        confirm=True,
        capture_method="manual",
        application_fee_amount=1000,
        transfer_data={"destination": a.stripe_account},
    )
    held_charge = await stripe_client.charges.retrieve(str(held.latest_charge))
    assert held_charge.transfer is None  # nothing moves before the capture
    await stripe_client.payment_intents.capture(held.id, amount_to_capture=6000)
    held_charge = await stripe_client.charges.retrieve(held_charge.id)
    transfer = await stripe_client.transfers.retrieve(str(held_charge.transfer))
    assert transfer.amount == 6000
    assert await available(a) == 2000 - stripe_fee(2000) - 200 + 6000 - 1000
    assert await available(stripe_client) == 200 + 6000 - stripe_fee(6000) - 6000 + 1000
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.charges.create(
            amount=1000,
            currency="usd",
            source="tok_bypassPending",
            transfer_data={"destination": a.stripe_account, "amount": 1001},
        )
    assert info.value.param == "transfer_data[amount]"


async def test_a_direct_charge_pays_no_more_fee_than_is_captured(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    held = await a.payment_intents.create(
        amount=2000,
        currency="usd",
        payment_method="pm_card_bypassPending",
        confirm=True,
        capture_method="manual",
        application_fee_amount=1500,
    )
    await a.payment_intents.capture(held.id, amount_to_capture=1000)
    charge = await a.charges.retrieve(str(held.latest_charge))
    bt = await a.balance_transactions.retrieve(str(charge.balance_transaction))
    assert (bt.amount, bt.fee) == (1000, stripe_fee(1000) + 1000)
    assert (await stripe_client.application_fees.retrieve(str(charge.application_fee))).amount == 1000
    assert await available(a) + await available(stripe_client) == 1000 - stripe_fee(1000)

"""Pending and available funds on the fake, as Stripe's test mode keeps them: a card charge's money
is pending until its ``available_on`` (the account's payout ``delay_days`` later), on every account
it reaches; the bypass-pending test card puts it in the available balance at once; only available
funds can be transferred or paid out; a ``balance.available`` event when pending funds become
available."""

from __future__ import annotations

import anyio
import pytest

from atom_stripe import AsyncStripeClient, InvalidRequestError
from atom_stripe.testing import FakeStripe

from .test_fake_connect_money import connected, stripe_fee

START = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400


async def sides(client: AsyncStripeClient) -> dict[str, tuple[int, int]]:
    """The account's balance by currency: (available, pending)."""
    balance = await client.balance.retrieve()
    pending = {b.currency: b.amount for b in balance.pending}
    return {b.currency: (b.amount, pending.get(b.currency, 0)) for b in balance.available}


async def clock_customer(client: AsyncStripeClient) -> tuple[str, str]:
    clock = await client.test_helpers.test_clocks.create(frozen_time=START)
    customer = await client.customers.create(email="c@example.com", test_clock=clock.id)
    return clock.id, customer.id


async def test_a_card_charge_is_pending_until_its_available_on(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    clock, customer = await clock_customer(stripe_client)
    paid = await stripe_client.payment_intents.create(
        amount=5000, currency="usd", customer=customer, payment_method="pm_card_visa", confirm=True
    )
    charge = await stripe_client.charges.retrieve(str(paid.latest_charge))
    bt = await stripe_client.balance_transactions.retrieve(str(charge.balance_transaction))
    assert (bt.status, bt.created, bt.available_on) == ("pending", START, START + 2 * DAY)
    net = 5000 - stripe_fee(5000)
    assert await sides(stripe_client) == {"usd": (0, net)}

    # Pending funds can be neither transferred nor paid out.
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.transfers.create(amount=1000, currency="usd", destination=a.stripe_account)
    assert info.value.code == "balance_insufficient"
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.payouts.create(amount=1000, currency="usd")
    assert info.value.code == "balance_insufficient"

    # A day later they are still pending; once available_on passes, they are available.
    await stripe_client.test_helpers.test_clocks.advance(clock, frozen_time=START + DAY)
    assert await sides(stripe_client) == {"usd": (0, net)}
    assert stripe_fake.events("balance.available") == []
    await stripe_client.test_helpers.test_clocks.advance(clock, frozen_time=START + 2 * DAY)
    # Sent as the clock passes available_on, before anything reads the balance (a service that
    # waits for the webhook gets it).
    [event] = stripe_fake.events("balance.available")
    assert await sides(stripe_client) == {"usd": (net, 0)}
    bt = await stripe_client.balance_transactions.retrieve(bt.id)
    assert bt.status == "available"
    assert event["data"]["object"]["object"] == "balance"
    assert event["data"]["object"]["available"][0] == {"amount": net, "currency": "usd", "source_types": {"card": net}}
    assert event["request"] == {"id": None, "idempotency_key": None}  # Stripe's own doing, no request's

    transfer = await stripe_client.transfers.create(amount=1000, currency="usd", destination=a.stripe_account)
    assert transfer.amount == 1000
    assert await sides(stripe_client) == {"usd": (net - 1000, 0)}
    assert await sides(a) == {"usd": (1000, 0)}  # a transfer of available funds is available at once
    assert len(stripe_fake.events("balance.available")) == 1


async def test_the_bypass_pending_card_is_available_at_once(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    made = await stripe_client.payment_methods.create(type="card", card={"number": "4000000000000077"})
    assert made.card is not None and made.card.last4 == "0077"
    charges = [
        await stripe_client.charges.create(amount=1000, currency="usd", source="tok_bypassPending"),
        await stripe_client.charges.retrieve(
            str(
                (
                    await stripe_client.payment_intents.create(
                        amount=2000, currency="usd", payment_method="pm_card_bypassPending", confirm=True
                    )
                ).latest_charge
            )
        ),
        await stripe_client.charges.retrieve(
            str(
                (
                    await stripe_client.payment_intents.create(
                        amount=3000, currency="usd", payment_method=made.id, confirm=True
                    )
                ).latest_charge
            )
        ),
    ]
    for charge in charges:
        bt = await stripe_client.balance_transactions.retrieve(str(charge.balance_transaction))
        assert (bt.status, bt.available_on) == ("available", bt.created)
    net = sum(amount - stripe_fee(amount) for amount in (1000, 2000, 3000))
    assert await sides(stripe_client) == {"usd": (net, 0)}
    await stripe_client.transfers.create(amount=net, currency="usd", destination=a.stripe_account)
    assert await sides(stripe_client) == {"usd": (0, 0)}
    assert await sides(a) == {"usd": (net, 0)}


async def test_a_destination_charge_is_pending_on_both_sides_per_currency(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    clock, customer = await clock_customer(stripe_client)
    pending = await stripe_client.payment_intents.create(
        amount=10000,
        currency="usd",
        customer=customer,
        payment_method="pm_card_visa",
        confirm=True,
        application_fee_amount=1230,
        transfer_data={"destination": a.stripe_account},
    )
    await stripe_client.payment_intents.create(
        amount=5000,
        currency="eur",
        payment_method="pm_card_bypassPending",
        confirm=True,
        application_fee_amount=500,
        transfer_data={"destination": a.stripe_account},
    )
    platform_usd = 10000 - stripe_fee(10000) - 10000 + 1230
    platform_eur = 5000 - stripe_fee(5000) - 5000 + 500
    assert await sides(stripe_client) == {"eur": (platform_eur, 0), "usd": (0, platform_usd)}
    assert await sides(a) == {"eur": (4500, 0), "usd": (0, 8770)}

    # The transfer, the destination's payment and the fee wait for the charge's funds.
    charge = await stripe_client.charges.retrieve(str(pending.latest_charge))
    transfer = await stripe_client.transfers.retrieve(str(charge.transfer))
    payment = await a.charges.retrieve(str(transfer.destination_payment))
    fee = await stripe_client.application_fees.retrieve(str(charge.application_fee))
    held = [
        await stripe_client.balance_transactions.retrieve(str(charge.balance_transaction)),
        await stripe_client.balance_transactions.retrieve(str(transfer.balance_transaction)),
        await a.balance_transactions.retrieve(str(payment.balance_transaction)),
        await stripe_client.balance_transactions.retrieve(str(fee.balance_transaction)),
    ]
    assert {(bt.status, bt.available_on) for bt in held} == {("pending", START + 2 * DAY)}
    with pytest.raises(InvalidRequestError) as info:
        await a.payouts.create(amount=1, currency="usd")
    assert info.value.code == "balance_insufficient"

    # Both sides become available when the charge's funds do, on the charge's clock.
    await stripe_client.test_helpers.test_clocks.advance(clock, frozen_time=START + 2 * DAY)
    assert len(stripe_fake.events("balance.available", stripe_account=a.stripe_account)) == 1
    assert len(stripe_fake.events("balance.available")) == 1
    assert await sides(a) == {"eur": (4500, 0), "usd": (8770, 0)}
    assert await sides(stripe_client) == {"eur": (platform_eur, 0), "usd": (platform_usd, 0)}
    assert len(stripe_fake.events("balance.available", stripe_account=a.stripe_account)) == 1
    assert len(stripe_fake.events("balance.available")) == 1
    payout = await a.payouts.create(amount=8770, currency="usd")
    assert payout.amount == 8770


async def test_a_transfer_from_a_pending_charge_waits_for_its_funds(stripe_client: AsyncStripeClient) -> None:
    """A transfer with a ``source_transaction`` is made at once, but its money moves when the
    charge's funds become available
    (https://docs.stripe.com/connect/separate-charges-and-transfers#transfer-availability)."""
    a = await connected(stripe_client)
    assert a.stripe_account is not None
    clock, customer = await clock_customer(stripe_client)
    paid = await stripe_client.payment_intents.create(
        amount=3000, currency="usd", customer=customer, payment_method="pm_card_visa", confirm=True
    )
    transfer = await stripe_client.transfers.create(
        amount=2000, currency="usd", destination=a.stripe_account, source_transaction=str(paid.latest_charge)
    )
    net = 3000 - stripe_fee(3000)
    assert await sides(stripe_client) == {"usd": (0, net - 2000)}
    assert await sides(a) == {"usd": (0, 2000)}
    payment = await a.charges.retrieve(str(transfer.destination_payment))
    bt = await a.balance_transactions.retrieve(str(payment.balance_transaction))
    assert (bt.status, bt.available_on) == ("pending", START + 2 * DAY)
    await stripe_client.test_helpers.test_clocks.advance(clock, frozen_time=START + 3 * DAY)
    assert await sides(a) == {"usd": (2000, 0)}
    assert await sides(stripe_client) == {"usd": (net - 2000, 0)}


async def test_the_payout_schedule_sets_how_long_funds_are_pending(stripe_client: AsyncStripeClient) -> None:
    a = await connected(stripe_client)
    await stripe_client.accounts.update(
        str(a.stripe_account), settings={"payouts": {"schedule": {"delay_days": 7, "interval": "daily"}}}
    )
    charge = await a.charges.create(amount=1000, currency="usd", source="tok_visa")
    bt = await a.balance_transactions.retrieve(str(charge.balance_transaction))
    assert (bt.status, bt.available_on) == ("pending", bt.created + 7 * DAY)


async def test_an_advance_makes_funds_available_in_order_at_the_clocks_time(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    """Advancing 40 days over a monthly subscription: the first payment's funds become available
    on day 2 (``balance.available`` created then), the renewal bills on day 31, its funds on day
    33: the events in that order, each at the clock's time, not one at the end."""
    clock, customer = await clock_customer(stripe_client)
    await stripe_client.payment_methods.attach("pm_card_visa", customer=customer)
    product = await stripe_client.products.create(name="Pro")
    price = await stripe_client.prices.create(
        product=product.id, currency="usd", unit_amount=2000, recurring={"interval": "month"}
    )
    await stripe_client.subscriptions.create(
        customer=customer, items=[{"price": price.id}], default_payment_method="pm_card_visa"
    )
    await stripe_client.test_helpers.test_clocks.advance(clock, frozen_time=START + 40 * DAY)
    timeline = [
        (e["type"], e["created"]) for e in stripe_fake.events() if e["type"] in ("balance.available", "invoice.paid")
    ]
    renewed = next(created for kind, created in timeline[1:] if kind == "invoice.paid")
    assert timeline == [
        ("invoice.paid", START),
        ("balance.available", START + 2 * DAY),
        ("invoice.paid", renewed),
        ("balance.available", renewed + 2 * DAY),
    ]
    assert START + 28 * DAY <= renewed <= START + 31 * DAY


async def test_funds_another_clock_holds_do_not_stall_an_advance(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    """Pending funds whose charge names this clock's customer but waits on another clock (here a
    connected account's charge, held by ``fake.add``, on which the customer id means nothing) are
    tried once, not again and again (the advance hung), and wall-clock funds keep their own time."""
    later = 1_900_000_000  # 2030: ahead of the wall clock
    account = (await stripe_client.accounts.create(type="express", country="US")).id
    clock = await stripe_client.test_helpers.test_clocks.create(frozen_time=later)
    customer = await stripe_client.customers.create(email="a@example.com", test_clock=clock.id)
    charge = stripe_fake.add("charge", stripe_account=account, customer=customer.id, amount=1000, currency="usd")
    stripe_fake.add(
        "balance_transaction",
        stripe_account=account,
        source=charge["id"],
        status="pending",
        available_on=later + DAY,
        net=1000,
        amount=1000,
        currency="usd",
        fee=0,
    )
    body = f"frozen_time={later + 3 * DAY}".encode()
    headers = {"authorization": "Bearer sk_test_stall", "content-type": "application/x-www-form-urlencoded"}
    path = f"/v1/test_helpers/test_clocks/{clock.id}/advance"
    with anyio.fail_after(20):  # in a thread: a fake that spins fails the test instead of hanging it
        status, _, _ = await anyio.to_thread.run_sync(
            lambda: stripe_fake.handle("POST", path, "", body, headers), abandon_on_cancel=True
        )
    assert status == 200
    assert stripe_fake.events("balance.available", stripe_account=account) == []

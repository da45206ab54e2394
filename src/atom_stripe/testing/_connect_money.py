"""Money between accounts, as Stripe's Connect moves it: destination and direct charges with
application fees, transfers and their reversals, refunds that reverse transfers and refund fees,
each account's balance transactions, balance and payouts.

Every amount lands as a balance transaction on the account it belongs to, so an account's
balance is always the sum of its balance transactions: pending until its ``available_on``, then
available (see :func:`ledger` for which are pending)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._accounts import account_object, platform_object
from ._engine import Ctx, behaviour, generic
from ._simulated import not_simulated
from ._store import new_id
from ._wire import FakeError, invalid, required

#: Stripe's refusal of a transfer or payout larger than the available balance
#: (https://docs.stripe.com/error-codes#balance-insufficient); in test mode the card
#: 4000000000000077 puts a charge straight into the available balance
#: (https://docs.stripe.com/testing#available-balance), any other card's stays pending first.
INSUFFICIENT = (
    "You have insufficient available funds in your Stripe account. Try adding funds directly to your "
    "available balance by creating Charges using the 4000000000000077 test card. "
    "See: https://stripe.com/docs/testing#available-balance"
)


def _list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "url": url}


# -- balance transactions and the balance ------------------------------------------------------


DAY = 86_400
#: How long a card charge's funds are pending when the account's payout schedule does not say:
#: two days, the ``delay_days`` of a new US account's schedule in Stripe's example account and
#: balance settings (https://docs.stripe.com/api/accounts/object#account_object-settings-payouts-schedule-delay_days,
#: https://docs.stripe.com/api/balance-settings/object: ``settlement_timing.delay_days: 2``).
HELD_DAYS = 2


def held_until(ctx: Ctx, created: int) -> int:
    """When the funds of a card charge made now on the acting account become available: its payout
    schedule's ``delay_days`` ("The number of days charges for the account will be held before
    being paid out") after the charge."""
    account = platform_object(ctx.fake) if ctx.platform else ctx.fake.store.find(str(ctx.account), "account")
    schedule = (((account or {}).get("settings") or {}).get("payouts") or {}).get("schedule") or {}
    days = schedule.get("delay_days")
    return created + (days if isinstance(days, int) else HELD_DAYS) * DAY


def ledger(
    ctx: Ctx,
    source: Mapping[str, Any],
    amount: int,
    kind: str,
    fees: Mapping[str, int] | None = None,
    *,
    available_on: int | None = None,
) -> dict[str, Any]:
    """A balance transaction on the acting account: ``amount`` (signed) of ``source``, less
    ``fees`` by fee type (``stripe_fee``, ``application_fee``), ``pending`` until ``available_on``.

    Which are pending, as Stripe keeps them: a card charge's funds until its ``available_on``
    (:func:`held_until`; at once with the bypass-pending test card:
    https://docs.stripe.com/testing#available-balance), and so is all the money that comes out of
    that charge on every account it reaches, with the charge's ``available_on``: the transfer
    of a destination charge or one with a ``source_transaction`` and the destination's payment
    ("the transfer itself doesn't occur until the funds from the source_transaction become
    available": https://docs.stripe.com/connect/separate-charges-and-transfers#transfer-availability),
    the application fee the charge pays. Everything else is available at once (``available_on``
    None): debits, as transfers and payouts are made of "Available funds that you can transfer or
    pay out [...] through the Transfers API or Payouts API"
    (https://docs.stripe.com/api/balance/balance_object#balance_object-available), and refunds
    (the fake does not play a refund Stripe holds back, ``pending_reason``
    ``insufficient_funds`` or ``charge_pending``:
    https://docs.stripe.com/changelog/basil/2025-04-30/refund-pending-reason); a transfer of
    available funds and its payment ("Transfers that are immediately processed":
    https://docs.stripe.com/changelog/2015-07-28/transfers-immediately-processed-trigger-balance-available);
    reversals and fee refunds, which give back funds already moved."""
    details = [
        {
            "amount": value,
            "application": ctx.fake.client_id if name == "application_fee" else None,
            "currency": source["currency"],
            "description": "Stripe processing fees" if name == "stripe_fee" else "Application fee",
            "type": name,
        }
        for name, value in (fees or {}).items()
        if value
    ]
    charged = sum(d["amount"] for d in details)
    created = ctx.clock_time(source)
    bt = ctx.create(
        "balance_transaction",
        {},
        event=None,
        amount=amount,
        currency=source["currency"],
        fee=charged,
        fee_details=details,
        net=amount - charged,
        source=source["id"],
        type=kind,
        reporting_category=REPORTING.get(kind, kind),
        status="available" if available_on is None else "pending",
        created=created,
        available_on=created if available_on is None else available_on,
        description=source.get("description"),
    )
    if bt["status"] == "pending" and _due(ctx, bt, _charge_behind(ctx, bt)):
        bt["status"] = "available"
    return bt


#: A balance transaction's ``reporting_category`` by its ``type`` where they differ
#: (https://docs.stripe.com/reports/reporting-categories).
REPORTING = {
    "payment": "charge",
    "payment_refund": "refund",
    "transfer_refund": "transfer_reversal",
    "application_fee": "platform_earning",
    "application_fee_refund": "platform_earning_refund",
}


def funds_of(ctx: Ctx, charge_id: str | None) -> int | None:
    """The ``available_on`` of a charge's funds (its balance transaction's), for the money that
    comes out of it; None for a charge without one (held without it: ``fake.add``)."""
    charge = ctx.store.find(charge_id or "", "charge")
    bt = ctx.store.find(str((charge or {}).get("balance_transaction") or ""), "balance_transaction")
    return int(bt["available_on"]) if bt is not None else None


def _charge_behind(ctx: Ctx, bt: Mapping[str, Any]) -> Behind:
    """The charge whose funds a pending balance transaction holds, with the account it is on: its
    own source, or the charge a transfer, a destination's payment or an application fee comes from."""
    source = ctx.store.find(str(bt.get("source") or ""))
    platform = ctx.on(None)
    if source is not None and source.get("source_transfer"):  # a destination's payment (py_...)
        source = platform.store.find(str(source["source_transfer"]), "transfer")
        ctx = platform
    if source is None:
        return None
    if source["object"] == "transfer":
        return _found(ctx, source.get("source_transaction"))
    if source["object"] == "application_fee":
        if source.get("originating_transaction"):  # a destination charge's, paid by its payment
            return _found(ctx, source["originating_transaction"])
        account = source.get("account")
        return _found(ctx.on(account), source.get("charge")) if account in ctx.fake.stores else None
    return ctx, source


def _found(ctx: Ctx, charge_id: Any) -> tuple[Ctx, Mapping[str, Any]] | None:
    charge = ctx.store.find(str(charge_id or ""), "charge")
    return (ctx, charge) if charge is not None else None


#: The account and charge behind pending funds (:func:`_charge_behind`), if any.
Behind = tuple[Ctx, Mapping[str, Any]] | None


def _due(ctx: Ctx, bt: Mapping[str, Any], behind: Behind) -> bool:
    """Whether a pending balance transaction's ``available_on`` has come, on the clock of the
    charge its funds come from (``behind``: :func:`_charge_behind`'s; a test clock customer's
    charge: its clock's time)."""
    return bool(bt["available_on"] <= (behind[0].clock_time(behind[1]) if behind else ctx.clock_time(bt)))


def _on_clock(behind: Behind, customers: set[str]) -> bool:
    """Whether the charge behind funds is one of ``customers``' (a test clock's)."""
    return behind is not None and behind[1].get("customer") in customers


def pending_on_clock(ctx: Ctx, customers: set[str]) -> list[tuple[int, str | None]]:
    """``(available_on, account)`` of every account's pending funds that come from a charge of
    one of ``customers`` (a test clock's): when advancing that clock makes them available; each
    once, the platform's first."""
    found: dict[tuple[int, str | None], None] = {}
    for account in [None, *ctx.fake.connected_accounts()]:
        on = ctx.on(account)
        for bt in on.store.all("balance_transaction"):
            if bt["status"] == "pending" and _on_clock(_charge_behind(on, bt), customers):
                found[int(bt["available_on"]), account] = None
    return list(found)


def settle(ctx: Ctx, *, clock: tuple[set[str], int] | None = None) -> bool:
    """Make available the acting account's pending funds whose ``available_on`` has come, on the
    clock of the charge they come from (a test clock customer's charge: its clock's time, so
    advancing the clock makes them available; the wall clock's otherwise), with the
    ``balance.available`` event Stripe sends then: "Occurs whenever your Stripe balance has been
    updated (e.g., when a charge is available to be paid out) [...] not fired for negative
    transactions" (https://docs.stripe.com/api/events/types#event_types-balance.available).
    ``clock``: a test clock's customers and its time: only their charges' funds, the event at
    that time (a clock's advance). Whether any funds were made available."""
    credited = moved = False
    for bt in ctx.store.all("balance_transaction"):
        if bt["status"] != "pending":
            continue
        behind = _charge_behind(ctx, bt)
        if (clock is not None and not _on_clock(behind, clock[0])) or not _due(ctx, bt, behind):
            continue
        bt["status"] = "available"
        moved, credited = True, credited or bt["net"] > 0
    if credited:
        ctx.emit("balance.available", _balance(ctx), automatic=True, at=None if clock is None else clock[1])
    return moved


def available(ctx: Ctx, currency: str) -> int:
    """The acting account's available balance in a currency."""
    settle(ctx)
    return sum(
        bt["net"]
        for bt in ctx.store.all("balance_transaction")
        if bt["currency"] == currency and bt["status"] == "available"
    )


@behaviour("balance.retrieve")
def balance(ctx: Ctx) -> dict[str, Any]:
    """The acting account's balance: its balance transactions summed by currency, available or
    pending as each transaction's ``status`` says (once the ones due are made available)."""
    settle(ctx)
    return _balance(ctx)


@behaviour("balance_transactions.retrieve", "balance_transactions.list")
def balance_transactions(ctx: Ctx) -> Any:
    """The acting account's balance transactions, each ``pending`` or ``available`` as of now."""
    settle(ctx)
    return generic(ctx)


def _balance(ctx: Ctx) -> dict[str, Any]:
    totals: dict[str, dict[str, int]] = {"available": {}, "pending": {}}
    for bt in ctx.store.all("balance_transaction"):
        held = totals["available" if bt["status"] == "available" else "pending"]
        held[bt["currency"]] = held.get(bt["currency"], 0) + bt["net"]
    obj = ctx.store.template("balance", ctx.now())
    for key in ("id", "created", "metadata"):
        obj.pop(key, None)
    currencies = sorted({*totals["available"], *totals["pending"]}) or ["usd"]
    for side, by_currency in totals.items():
        obj[side] = [
            {"amount": by_currency.get(c, 0), "currency": c, "source_types": {"card": by_currency.get(c, 0)}}
            for c in currencies
        ]
    return obj


# -- charges for connected accounts --------------------------------------------------------------

#: Connect parameters of a charge or PaymentIntent the fake does not play.
NOT_SIMULATED = {
    "application_fee": "the legacy application fee of a charge (use application_fee_amount)",
    "destination": "the legacy destination of a charge (use transfer_data[destination])",
}


def charge_fields(ctx: Ctx, params: Mapping[str, Any], amount: int) -> dict[str, Any]:
    """The Connect fields of a new charge or PaymentIntent, checked as Stripe checks them."""
    fee = params.get("application_fee_amount")
    transfer_data = params.get("transfer_data")
    fields: dict[str, Any] = {}
    if isinstance(transfer_data, Mapping):
        if not ctx.platform:
            raise not_simulated(ctx.name, "transfer_data", "a destination charge made by a connected account")
        destination = required(dict(transfer_data), "destination")
        account_object(ctx, destination, "transfer_data[destination]")
        share = transfer_data.get("amount")
        if share is not None and fee is not None:
            raise not_simulated(ctx.name, "transfer_data[amount]", "together with application_fee_amount")
        if share is not None and share > amount:
            # transfer_data[amount] "is capped at the total transaction amount"
            # (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-transfer_data-amount)
            raise invalid("transfer_data[amount]", "The transfer amount cannot exceed the charge amount.")
        fields["transfer_data"] = {"amount": share, "destination": destination}
    if fee is not None:
        # An application fee needs a direct charge (Stripe-Account) or a destination charge
        # (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-application_fee_amount).
        if ctx.platform and "transfer_data" not in fields:
            raise invalid(
                "application_fee_amount",
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment "
                "(using an OAuth key or Stripe-Account header) or destination payment (using "
                "`transfer_data[destination]`).",
            )
        if not isinstance(fee, int) or fee < 0 or fee > amount:
            raise invalid("application_fee_amount", "The application fee cannot exceed the charge amount.")
        fields["application_fee_amount"] = fee
    on_behalf_of = params.get("on_behalf_of")
    if isinstance(on_behalf_of, str) and on_behalf_of:
        account_object(ctx, on_behalf_of, "on_behalf_of")
        fields["on_behalf_of"] = on_behalf_of
    return fields


def direct_fee(ctx: Ctx, charge: Mapping[str, Any]) -> int:
    """The application fee a direct charge (on a connected account) takes out of its balance transaction."""
    fee = charge.get("application_fee_amount")
    return int(fee or 0) if not ctx.platform else 0


def captured(ctx: Ctx, charge: dict[str, Any], amount: int) -> None:
    """What follows a captured charge between accounts: for a destination charge, the transfer of
    the captured amount (or ``transfer_data[amount]``) to the destination, which pays the
    application fee back to the platform; for a direct charge, its application fee to the platform.

    "When creating charges with an application_fee_amount, the full charge amount is immediately
    transferred from the platform to the transfer_data[destination] account after the charge is
    captured. The application_fee_amount (capped at the full amount of the charge) is then
    transferred back to the platform" (https://docs.stripe.com/connect/marketplace/tasks/app-fees).
    Direct charges: the fee goes from the connected account's charge to the platform
    (https://docs.stripe.com/connect/direct-charges#collect-fees)."""
    fee = min(int(charge.get("application_fee_amount") or 0), amount)
    destination = (charge.get("transfer_data") or {}).get("destination")
    funds_on = funds_of(ctx, charge["id"])
    if destination:
        share = (charge.get("transfer_data") or {}).get("amount")
        transfer = make_transfer(
            ctx,
            {"amount": min(share, amount) if share is not None else amount, "currency": charge["currency"]},
            destination,
            source_transaction=charge["id"],
            application_fee=fee,
            funds_on=funds_on,
        )
        charge["transfer"] = transfer["id"]
        if fee:
            application_fee(ctx, destination, transfer["destination_payment"], fee, charge, funds_on)
    elif fee and not ctx.platform:
        application_fee(ctx, ctx.account, charge["id"], fee, charge, funds_on)


def application_fee(
    ctx: Ctx, account: str | None, charge_id: str, amount: int, charge: dict[str, Any], funds_on: int | None
) -> None:
    """The platform's ``application_fee`` for a charge on ``account`` (its balance transaction:
    the platform's earning, available with the charge's funds, ``funds_on``);
    ``charge.application_fee`` names it."""
    platform = ctx.on(None)
    fee = platform.create(
        "application_fee",
        {},
        event=None,
        account=account,
        amount=amount,
        amount_refunded=0,
        application=ctx.fake.client_id,
        charge=charge_id,
        currency=charge["currency"],
        fee_source={"charge": charge_id, "type": "charge"},
        originating_transaction=charge["id"] if charge_id != charge["id"] else None,
        refunded=False,
    )
    fee["refunds"] = _list(f"/v1/application_fees/{fee['id']}/refunds")
    fee["balance_transaction"] = ledger(platform, fee, amount, "application_fee", available_on=funds_on)["id"]
    charge["application_fee"] = fee["id"]
    platform.emit("application_fee.created", fee)


# -- transfers ---------------------------------------------------------------------------------------


def make_transfer(
    ctx: Ctx,
    params: Mapping[str, Any],
    destination: str,
    *,
    source_transaction: str | None = None,
    application_fee: int = 0,
    funds_on: int | None = None,
) -> dict[str, Any]:
    """A transfer from the platform to a connected account: on the platform, the transfer and its
    (negative) balance transaction; on the destination, the payment (``py_...``) it made and its
    balance transaction (less the application fee a destination charge pays back). Both are
    pending until ``funds_on`` (the source charge's funds'), if given."""
    platform, there = ctx.on(None), ctx.on(destination)
    amount = params["amount"]
    transfer = platform.create(
        "transfer",
        params,
        event=None,
        destination=destination,
        amount_reversed=0,
        reversed=False,
        source_transaction=source_transaction,
    )
    transfer["reversals"] = _list(f"/v1/transfers/{transfer['id']}/reversals")
    transfer["balance_transaction"] = ledger(platform, transfer, -amount, "transfer", available_on=funds_on)["id"]
    payment = there.create(
        "charge",
        {"id": new_id("py")},
        event=None,
        amount=amount,
        amount_captured=amount,
        amount_refunded=0,
        captured=True,
        paid=True,
        refunded=False,
        status="succeeded",
        currency=transfer["currency"],
        customer=None,
        description=None,
        payment_intent=None,
        payment_method=None,
        source_transfer=transfer["id"],
        application_fee_amount=application_fee or None,
    )
    payment["refunds"] = _list(f"/v1/charges/{payment['id']}/refunds")
    fees = {"application_fee": application_fee}
    payment["balance_transaction"] = ledger(there, payment, amount, "payment", fees, available_on=funds_on)["id"]
    transfer["destination_payment"] = payment["id"]
    platform.emit("transfer.created", transfer)
    return transfer


@behaviour("transfers.create")
def create_transfer(ctx: Ctx) -> dict[str, Any]:
    """A transfer from the platform's available balance (or funded by ``source_transaction``, a
    charge of the platform's: https://docs.stripe.com/connect/separate-charges-and-transfers#transfer-availability)."""
    if not ctx.platform:
        raise not_simulated(ctx.name, detail="a transfer made by a connected account")
    amount, currency = required(ctx.params, "amount"), required(ctx.params, "currency")
    destination = required(ctx.params, "destination")
    account_object(ctx, destination, "destination")
    source = ctx.params.get("source_transaction")
    if isinstance(source, str):
        paid = ctx.get("charge", source, "source_transaction")
        if amount > paid["amount_captured"] - paid["amount_refunded"]:
            raise invalid(
                "amount", "The transfer amount exceeds the amount of its source_transaction.", "amount_too_large"
            )
    elif amount > available(ctx, currency):
        raise FakeError(400, INSUFFICIENT, code="balance_insufficient")
    params = {k: v for k, v in ctx.params.items() if k not in ("destination", "source_transaction")}
    if not isinstance(source, str):
        return make_transfer(ctx, params, destination)
    return make_transfer(ctx, params, destination, source_transaction=source, funds_on=funds_of(ctx, source))


def reverse(ctx: Ctx, transfer: dict[str, Any], amount: int, params: Mapping[str, Any]) -> dict[str, Any]:
    """Reverse (part of) a transfer: the money goes back from the destination's payment to the
    platform (``transfer.reversed``); each side has its balance transaction."""
    remaining = transfer["amount"] - transfer["amount_reversed"]
    if amount > remaining or amount <= 0:
        raise invalid(
            "amount",
            f"You have requested a reversal of {amount}, but only {remaining} remains on transfer {transfer['id']}.",
            "amount_too_large",
        )
    platform = ctx.on(None)
    back = give_back(ctx, transfer, amount)
    reversal = platform.create(
        "transfer_reversal",
        params,
        under=transfer["id"],
        event=None,
        amount=amount,
        currency=transfer["currency"],
        transfer=transfer["id"],
        destination_payment_refund=back["id"] if back else None,
    )
    reversal["balance_transaction"] = ledger(platform, reversal, amount, "transfer_refund")["id"]
    reversals = {**transfer["reversals"], "data": [dict(reversal), *transfer["reversals"]["data"]]}
    reversed_total = transfer["amount_reversed"] + amount
    platform.update(
        transfer,
        {},
        event="transfer.reversed",
        amount_reversed=reversed_total,
        reversed=reversed_total >= transfer["amount"],
        reversals=reversals,
    )
    return reversal


def give_back(ctx: Ctx, transfer: Mapping[str, Any], amount: int) -> dict[str, Any] | None:
    """The destination's side of a reversal: a refund (``pyr_...``) of the payment the transfer
    made, and its balance transaction. None for a transfer held without one (``fake.add``)."""
    destination = transfer.get("destination")
    if destination not in ctx.fake.stores or not transfer.get("destination_payment"):
        return None
    there = ctx.on(destination)
    payment = there.get("charge", transfer["destination_payment"], "destination_payment")
    back = there.create(
        "refund",
        {"id": new_id("pyr")},
        event=None,
        amount=amount,
        charge=payment["id"],
        currency=transfer["currency"],
        payment_intent=None,
        status="succeeded",
    )
    back["balance_transaction"] = ledger(there, back, -amount, "payment_refund")["id"]
    there.update(payment, {}, event=None, amount_refunded=payment["amount_refunded"] + amount)
    return back


@behaviour("transfers.reversals.create", not_simulated_params={"refund_application_fee": "refunding the fee"})
def create_reversal(ctx: Ctx) -> dict[str, Any]:
    """Reverses all that remains of a transfer, or ``amount`` of it."""
    transfer = ctx.get("transfer", ctx.last_id)
    amount = ctx.params.get("amount", transfer["amount"] - transfer["amount_reversed"])
    return reverse(ctx, transfer, amount, {k: v for k, v in ctx.params.items() if k != "amount"})


# -- refunds -----------------------------------------------------------------------------------------


def proportion(part: int, of: int, whole: int) -> int:
    """``of`` scaled by ``part / whole``, to the nearest minor unit."""
    return of if part >= whole else round(of * part / whole)


def refunded(ctx: Ctx, charge: dict[str, Any], refund: dict[str, Any], amount: int) -> None:
    """What a refund's ``reverse_transfer`` and ``refund_application_fee`` do: "The transfer will be
    reversed proportionally to the amount being refunded"; "If a full charge refund is given, the
    full application fee will be refunded. Otherwise, the application fee will be refunded in an
    amount proportional to the amount of the charge refunded"
    (https://docs.stripe.com/api/refunds/create#create_refund-reverse_transfer)."""
    if ctx.params.get("reverse_transfer"):
        if not charge.get("transfer"):
            raise invalid("reverse_transfer", f"Charge {charge['id']} has no transfer to reverse.")
        transfer = ctx.get("transfer", charge["transfer"], "charge")
        share = proportion(amount, transfer["amount"], charge["amount_captured"])
        share = min(share, transfer["amount"] - transfer["amount_reversed"])
        if share:
            refund["transfer_reversal"] = reverse(ctx, transfer, share, {"metadata": {}})["id"]
            ctx.on(None).update(
                ctx.on(None).get("transfer_reversal", refund["transfer_reversal"]),
                {},
                event=None,
                source_refund=refund["id"],
            )
    if ctx.params.get("refund_application_fee"):
        fee_id = charge.get("application_fee")
        if not fee_id:
            raise invalid("refund_application_fee", f"Charge {charge['id']} has no application fee to refund.")
        fee = ctx.on(None).get("application_fee", fee_id, "charge")
        back = proportion(amount, fee["amount"], charge["amount_captured"])
        back = min(back, fee["amount"] - fee["amount_refunded"])
        if back:
            refund_fee(ctx, fee, back, {})


def refund_fee(ctx: Ctx, fee: dict[str, Any], amount: int, params: Mapping[str, Any]) -> dict[str, Any]:
    """Give (part of) an application fee back to the account that paid it: the platform's
    ``fee_refund`` and its balance transaction; the account's balance transaction."""
    remaining = fee["amount"] - fee["amount_refunded"]
    if amount > remaining or amount <= 0:
        raise invalid(
            "amount",
            f"Refund amount ({amount}) is greater than the unrefunded amount on the application fee ({remaining})",
            "amount_too_large",
        )
    platform = ctx.on(None)
    made = platform.create(
        "fee_refund", params, under=fee["id"], event=None, amount=amount, currency=fee["currency"], fee=fee["id"]
    )
    made["balance_transaction"] = ledger(platform, made, -amount, "application_fee_refund")["id"]
    if fee["account"] in ctx.fake.stores:  # not for a fee held without its account (``fake.add``)
        ledger(ctx.on(fee["account"]), made, amount, "application_fee_refund")
    total = fee["amount_refunded"] + amount
    refunds = {**fee["refunds"], "data": [dict(made), *fee["refunds"]["data"]]}
    platform.update(
        fee,
        {},
        event="application_fee.refunded",
        amount_refunded=total,
        refunded=total >= fee["amount"],
        refunds=refunds,
    )
    return made


@behaviour("application_fees.refunds.create")
def create_fee_refund(ctx: Ctx) -> dict[str, Any]:
    """Refunds all that remains of an application fee, or ``amount`` of it (the platform only)."""
    if not ctx.platform:
        raise not_simulated(ctx.name, detail="a fee refund made by a connected account")
    fee = ctx.get("application_fee", ctx.last_id)
    amount = ctx.params.get("amount", fee["amount"] - fee["amount_refunded"])
    return refund_fee(ctx, fee, amount, {k: v for k, v in ctx.params.items() if k != "amount"})


# -- payouts -------------------------------------------------------------------------------------------


@behaviour("payouts.create", not_simulated_params={"method": "instant payouts", "destination": "a chosen bank account"})
def create_payout(ctx: Ctx) -> dict[str, Any]:
    """A payout of the acting account's available balance to its bank account (``pending``), with
    its balance transaction; more than is available is Stripe's ``balance_insufficient``."""
    amount, currency = required(ctx.params, "amount"), required(ctx.params, "currency")
    if amount > available(ctx, currency):
        raise FakeError(
            400,
            "You have insufficient funds in your Stripe account for this transfer. Your card balance is too low. "
            "You can use the /v1/balance endpoint to view your Stripe balance (for more details, see "
            "stripe.com/docs/api#balance).",
            code="balance_insufficient",
        )
    payout = ctx.create(
        params=ctx.params,
        event=None,
        automatic=False,
        status="pending",
        method="standard",
        destination=None,
        arrival_date=ctx.now() + 2 * 86400,
        failure_balance_transaction=None,
        original_payout=None,
        reversed_by=None,
    )
    payout["balance_transaction"] = ledger(ctx, payout, -amount, "payout")["id"]
    ctx.emit("payout.created", payout)
    return payout

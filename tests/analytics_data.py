"""Known data for the analytics tests and the analytics notebook: balance transactions and
subscriptions in USD, EUR, JPY (no decimals) and KWD (three decimals). The expected numbers in
tests/analytics/test_analytics.py are worked out by hand from these lists (see the comments there)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .ledger import Ledger, transaction

UTC = dt.timezone.utc
DAY = 86400


def at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """A Unix time in 2026, UTC."""
    return int(dt.datetime(2026, month, day, hour, minute, second, tzinfo=UTC).timestamp())


MAR1, MAR2, MAR3, MAR4 = at(3, 1), at(3, 2), at(3, 3), at(3, 4)

TRANSACTIONS = [
    # USD, March 1: 100.00 + 50.00 in, 20.00 refunded; the payout is not revenue.
    transaction("txn_u1", MAR1 + 10 * 3600, "usd", "charge", 10000, 320),
    transaction("txn_u2", MAR1 + 12 * 3600, "usd", "payment", 5000, 175),
    transaction("txn_u3", MAR1 + 15 * 3600, "usd", "refund", -2000),
    transaction("txn_u4", MAR1 + 18 * 3600, "usd", "payout", -8000),
    # USD, March 2: a charge, a payment refund; Stripe's own fee, a transfer and a dispute adjustment do not count.
    transaction("txn_u5", MAR2 + 9 * 3600, "usd", "charge", 25000, 755),
    transaction("txn_u6", MAR2 + 11 * 3600, "usd", "payment_refund", -5000),
    transaction("txn_u7", MAR2 + 13 * 3600, "usd", "stripe_fee", -500),
    transaction("txn_u8", MAR2 + 14 * 3600, "usd", "transfer", -3000),
    transaction("txn_u9", MAR3 - 1, "usd", "adjustment", -1500),
    # JPY (no minor unit): 12,345 yen on March 1; 1,000 in and 345 refunded on March 2; a payout.
    transaction("txn_j1", MAR1 + 8 * 3600, "jpy", "charge", 12345, 444),
    transaction("txn_j2", MAR2 + 8 * 3600, "jpy", "charge", 1000, 36),
    transaction("txn_j3", MAR2 + 9 * 3600, "jpy", "refund", -345),
    transaction("txn_j4", MAR2 + 10 * 3600, "jpy", "payout", -10000),
    # KWD (three decimals): 12.340 on March 1; on March 3 1.230 in, refunded, and the refund failed.
    transaction("txn_k1", MAR1 + 7 * 3600, "kwd", "charge", 12340, 370),
    transaction("txn_k2", MAR3 + 7 * 3600, "kwd", "payment", 1230, 40),
    transaction("txn_k3", MAR3 + 8 * 3600, "kwd", "refund", -1230),
    transaction("txn_k4", MAR3 + 10 * 3600, "kwd", "refund_failure", 1230),
    # EUR: one charge on March 3; one a second before the span and one at its (exclusive) end.
    transaction("txn_e1", MAR1 - 1, "eur", "charge", 9999, 300),
    transaction("txn_e2", MAR3 + 12 * 3600, "eur", "charge", 2000, 59),
    transaction("txn_e3", MAR4, "eur", "charge", 7777, 250),
]


def price(
    id: str,
    currency: str,
    unit_amount: int | None,
    interval: str,
    interval_count: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    recurring = {"interval": interval, "interval_count": interval_count, "usage_type": "licensed", "meter": None}
    recurring.update(extra.pop("recurring", {}))
    return {
        "id": id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": at(1, 1),
        "currency": currency,
        "livemode": False,
        "metadata": {},
        "product": f"prod_{id[6:]}",
        "recurring": recurring,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
        **extra,
    }


PRICES = {
    "month_usd": price("price_month_usd", "usd", 2000, "month"),
    "year_usd": price("price_year_usd", "usd", 24000, "year"),
    "day_usd": price("price_day_usd", "usd", 100, "day"),
    "seats_usd": price("price_seats_usd", "usd", 1000, "month", transform_quantity={"divide_by": 5, "round": "up"}),
    "metered_usd": price("price_metered_usd", "usd", 3, "month", recurring={"usage_type": "metered"}),
    "tiered_usd": price(
        "price_tiered_usd",
        "usd",
        None,
        "month",
        billing_scheme="tiered",
        tiers_mode="graduated",
        tiers=[
            {"up_to": 5, "unit_amount": 1000, "flat_amount": None},
            {"up_to": None, "unit_amount": 800, "flat_amount": 500},
        ],
    ),
    "week_eur": price("price_week_eur", "eur", 1000, "week"),
    "two_months_jpy": price("price_two_months_jpy", "jpy", 3000, "month", 2),
    "quarter_kwd": price("price_quarter_kwd", "kwd", 9000, "month", 3),
}


def subscription(
    id: str,
    status: str,
    currency: str,
    items: list[tuple[str, int | None]],
    *,
    start: int,
    ended: int | None = None,
    trial_end: int | None = None,
) -> dict[str, Any]:
    """A subscription with its items (price key, quantity) embedded, as a list call returns it;
    a tiered price comes without its tiers, as in Stripe's answers."""
    data = [
        {
            "id": f"si_{id[4:]}_{n}",
            "object": "subscription_item",
            "created": start,
            "price": {**PRICES[key], "tiers": None},
            "quantity": quantity,
            "subscription": id,
            "metadata": {},
        }
        for n, (key, quantity) in enumerate(items)
    ]
    return {
        "id": id,
        "object": "subscription",
        "status": status,
        "currency": currency,
        "customer": f"cus_{id[4:]}",
        "created": start,
        "start_date": start,
        "trial_start": None if trial_end is None else start,
        "trial_end": trial_end,
        "canceled_at": ended,
        "ended_at": ended,
        "cancel_at_period_end": False,
        "livemode": False,
        "metadata": {"plan": items[0][0]},
        "items": {"object": "list", "data": data, "has_more": False, "url": "/v1/subscription_items"},
    }


SUBSCRIPTIONS = [
    subscription("sub_s1", "active", "usd", [("month_usd", 3)], start=at(1, 1)),
    subscription("sub_s2", "active", "usd", [("year_usd", 1), ("seats_usd", 12)], start=at(2, 1)),
    subscription("sub_s3", "past_due", "usd", [("day_usd", 1)], start=at(2, 15)),
    subscription("sub_s4", "trialing", "usd", [("month_usd", 10)], start=at(3, 10), trial_end=at(4, 10)),
    subscription("sub_s5", "canceled", "usd", [("month_usd", 5)], start=at(1, 5), ended=at(3, 15)),
    subscription("sub_s6", "active", "eur", [("week_eur", 2)], start=at(1, 20)),
    subscription("sub_s7", "active", "jpy", [("two_months_jpy", 1)], start=at(2, 1)),
    subscription("sub_s8", "active", "kwd", [("quarter_kwd", 2)], start=at(3, 5)),
    subscription("sub_s9", "active", "usd", [("metered_usd", None)], start=at(1, 1)),
    subscription("sub_s10", "incomplete", "usd", [("month_usd", 1)], start=at(3, 20)),
    subscription("sub_s11", "canceled", "eur", [("week_eur", 1)], start=at(1, 1), ended=at(3, 20)),
    subscription("sub_s12", "unpaid", "usd", [("month_usd", 4)], start=at(1, 1)),
    # s13 was canceled in its trial.
    subscription(
        "sub_s13", "canceled", "usd", [("month_usd", 2)], start=at(2, 20), trial_end=at(3, 20), ended=at(3, 5)
    ),
    subscription("sub_s14", "canceled", "usd", [("month_usd", 7)], start=at(1, 1), ended=at(2, 10)),
    subscription("sub_s15", "canceled", "jpy", [("two_months_jpy", 2)], start=at(1, 1), ended=at(4, 5)),
    subscription("sub_s16", "active", "usd", [("tiered_usd", 7)], start=at(2, 1)),
]


def ledger() -> Ledger:
    """A fresh server state with the data above."""
    return Ledger(
        {
            "balance_transactions": TRANSACTIONS,
            "subscriptions": SUBSCRIPTIONS,
            "prices": list(PRICES.values()),
            "customers": [
                {"id": "cus_one", "object": "customer", "created": at(1, 2), "email": "one@example.com", "name": "One"}
            ],
            "payouts": [
                {
                    "id": "po_one",
                    "object": "payout",
                    "created": MAR1,
                    "amount": 8000,
                    "currency": "usd",
                    "status": "paid",
                }
            ],
        }
    )

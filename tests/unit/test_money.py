"""atom_stripe.money: minor units per currency, with no silent rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atom_stripe import StripeValueError
from atom_stripe.money import (
    ISO_CURRENCIES,
    THREE_DECIMAL,
    ZERO_DECIMAL,
    check_amount,
    decimals,
    format_amount,
    from_minor_units,
    max_amount,
    normalize_currency,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("10.99", "usd", 1099),
        (Decimal("10.99"), "USD", 1099),
        (10, "eur", 1000),
        ("0.5", "gbp", 50),
        (1000, "jpy", 1000),
        ("500", "krw", 500),
        ("5.12", "kwd", 5120),
        ("1.5", "bhd", 1500),
        (5, "isk", 500),
        ("12", "ugx", 1200),
        ("175.00", "huf", 17500),
        ("10.50", "twd", 1050),
    ],
)
def test_to_minor_units(amount: Decimal | int | str, currency: str, minor: int) -> None:
    assert to_minor_units(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10.999", "usd"),  # would need rounding
        ("10.5", "jpy"),  # zero-decimal
        ("5.124", "kwd"),  # last of three digits must be 0
        ("5.5", "isk"),  # whole units only
        ("1.01", "ugx"),
        (10.99, "usd"),  # floats cannot hold money exactly
        ("ten", "usd"),
        ("NaN", "usd"),
        ("10", "xyz"),
    ],
)
def test_refuses_to_round(amount: object, currency: str) -> None:
    with pytest.raises(StripeValueError):
        to_minor_units(amount, currency)  # type: ignore[arg-type]


def test_from_minor_units() -> None:
    assert from_minor_units(1099, "usd") == Decimal("10.99")
    assert from_minor_units(1000, "jpy") == Decimal("1000")
    assert from_minor_units(5120, "kwd") == Decimal("5.120")
    assert from_minor_units(500, "isk") == Decimal("5.00")
    assert format_amount(1099, "usd") == "10.99 USD"


def test_currency_lists() -> None:
    assert len(ZERO_DECIMAL) == 15 and "ugx" not in ZERO_DECIMAL  # UGX is sent times 100, like ISK
    assert {"bhd", "jod", "kwd", "omr", "tnd"} == THREE_DECIMAL
    assert {"usd", "eur", "jpy", "isk", "ugx", "huf", "twd"} <= ISO_CURRENCIES
    assert decimals("JPY") == 0 and decimals("kwd") == 3 and decimals("usd") == 2
    assert normalize_currency(" EUR ") == "eur"


def test_check_amount_limits() -> None:
    assert check_amount(99_999_999, currency="usd") == 99_999_999
    with pytest.raises(StripeValueError):
        check_amount(100_000_000, currency="usd")
    assert check_amount(999_999_999_999, currency="idr") == 999_999_999_999
    assert max_amount("inr") == 999_999_999
    assert check_amount(0, allow_zero=True) == 0
    for bad in (0, -1, True, 1.0, "1"):
        with pytest.raises(StripeValueError):
            check_amount(bad)


@given(st.integers(min_value=0, max_value=10**10), st.sampled_from(sorted(ISO_CURRENCIES)))
def test_round_trip(minor: int, currency: str) -> None:
    if currency in {"isk", "ugx"}:
        minor -= minor % 100
    if currency in THREE_DECIMAL:
        minor -= minor % 10
    assert to_minor_units(from_minor_units(minor, currency), currency) == minor

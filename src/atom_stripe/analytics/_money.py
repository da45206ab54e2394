"""Minor units shown as money: ``$12,345.67``, ``¥1,235``, ``KWD 1.234``, built on :mod:`atom_stripe.money`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._errors import StripeValueError
from ..money import WHOLE_UNITS_TIMES_100, decimals, from_minor_units, normalize_currency

if TYPE_CHECKING:
    import pandas as pd

#: Symbols that name one currency unambiguously (CLDR's English ones); others show their code.
SYMBOLS = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "inr": "₹",
    "krw": "₩",
    "ils": "₪",
    "vnd": "₫",
    "cny": "CN¥",
    "cad": "CA$",
    "aud": "A$",
    "nzd": "NZ$",
    "hkd": "HK$",
    "mxn": "MX$",
    "brl": "R$",
    "twd": "NT$",
}

#: The columns of atom_stripe.analytics frames that hold minor units.
MONEY_COLUMNS = ("amount", "fee", "net", "gross", "refunds", "fees", "mrr", "churned_mrr")


def format_money(amount: int, currency: str) -> str:
    """Minor units as money for people: ``format_money(1234567, "usd") == "$12,345.67"``.

    The currency's exponent comes from :mod:`atom_stripe.money` (``¥1,235`` for 1235 JPY,
    ``KWD 1.234`` for 1234 KWD); a currency without an unambiguous symbol shows its code.
    """
    code = normalize_currency(currency)
    value = from_minor_units(int(amount), code)
    places = decimals(code)
    if code in WHOLE_UNITS_TIMES_100 and value == value.to_integral_value():
        places = 0  # ISK and UGX are whole units, though sent times 100
    text = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{code.upper()} {text}"


def major_units(amount: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal in major units (``1099, "usd"`` -> ``Decimal("10.99")``)."""
    return from_minor_units(int(amount), currency)


def format_frame(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` for display, its money columns formatted with :func:`format_money`.

    The currency of each row comes from a ``currency`` column or index level. ``columns``
    defaults to the frame's columns among :data:`MONEY_COLUMNS`. The original keeps its integers.
    """
    shown: pd.DataFrame = frame.copy()
    if "currency" in frame.columns:
        currencies: Sequence[Any] = list(frame["currency"])
    elif "currency" in (frame.index.names or []):
        currencies = list(frame.index.get_level_values("currency"))
    else:
        raise StripeValueError("frame", "has no 'currency' column or index level to format its amounts with")
    import pandas as pd

    chosen = [c for c in (columns if columns is not None else MONEY_COLUMNS) if c in frame.columns]
    for column in chosen:
        shown[column] = [
            "" if pd.isna(v) or not isinstance(cur, str) else format_money(int(v), cur)
            for v, cur in zip(frame[column], currencies, strict=True)
        ]
    return shown

"""Money: Stripe's integer minor units, per currency, without silent rounding.

Stripe takes amounts as integers in the currency's smallest unit: ``1000`` is
USD 10.00 and JPY 1000. Zero-decimal currencies (JPY, KRW, ...) have no minor
unit; three-decimal ones (KWD, BHD, ...) have three digits, the last of which must
be 0; ISK and UGX are sent with two decimals but must be whole units (``500`` is
5 ISK). Every conversion here refuses a value it would have to round.

>>> to_minor_units("10.99", "usd")
1099
>>> from_minor_units(1099, "USD")
Decimal('10.99')
>>> to_minor_units(5, "isk")
500
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ._errors import StripeValueError

__all__ = [
    "ISO_CURRENCIES",
    "MAX_AMOUNT",
    "MAX_AMOUNT_BY_CURRENCY",
    "THREE_DECIMAL",
    "WHOLE_UNITS_TIMES_100",
    "WHOLE_UNIT_PAYOUTS",
    "ZERO_DECIMAL",
    "check_amount",
    "decimals",
    "format_amount",
    "from_minor_units",
    "max_amount",
    "normalize_currency",
    "to_minor_units",
]

#: Currencies with no minor unit: the amount is in whole units.
ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf", "xof", "xpf"]
)
#: Currencies with three decimals; Stripe needs the last digit to be 0.
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
#: Effectively zero-decimal, but sent with two decimals: whole units times 100.
WHOLE_UNITS_TIMES_100 = frozenset({"isk", "ugx"})
#: May be charged with two decimals, but manual payouts must be whole units.
WHOLE_UNIT_PAYOUTS = frozenset({"huf", "twd"})

#: Stripe's largest amount (8 digits), and the wider limits of a few currencies.
MAX_AMOUNT = 99_999_999
MAX_AMOUNT_BY_CURRENCY = {"idr": 999_999_999_999, "cop": 9_999_999_999, "inr": 999_999_999}

#: ISO 4217 codes in current use (lower case), the set a currency parameter is checked against.
ISO_CURRENCIES = frozenset(
    [
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bhd",
        "bif",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "btn",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "clp",
        "cny",
        "cop",
        "crc",
        "cuc",
        "cup",
        "cve",
        "czk",
        "djf",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "ern",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "ghs",
        "gip",
        "gmd",
        "gnf",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "iqd",
        "irr",
        "isk",
        "jmd",
        "jod",
        "jpy",
        "kes",
        "kgs",
        "khr",
        "kmf",
        "kpw",
        "krw",
        "kwd",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "lyd",
        "mad",
        "mdl",
        "mga",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mru",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "omr",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "pyg",
        "qar",
        "ron",
        "rsd",
        "rub",
        "rwf",
        "sar",
        "sbd",
        "scr",
        "sdg",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sll",
        "sos",
        "srd",
        "ssp",
        "stn",
        "svc",
        "syp",
        "szl",
        "thb",
        "tjs",
        "tmt",
        "tnd",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "ugx",
        "usd",
        "usdc",
        "uyu",
        "uzs",
        "ves",
        "vnd",
        "vuv",
        "wst",
        "xaf",
        "xcd",
        "xcg",
        "xof",
        "xpf",
        "yer",
        "zar",
        "zmw",
        "zwg",
        "zwl",
    ]
)


def normalize_currency(currency: str, *, param: str = "currency") -> str:
    """A known three-letter ISO code, lower-cased; anything else is refused."""
    if not isinstance(currency, str):
        raise StripeValueError(param, f"must be a three-letter ISO currency code, not {type(currency).__name__}")
    if type(currency) is str and currency in ISO_CURRENCIES:  # already a known, lower-case code
        return currency
    code = currency.strip().lower()
    if code not in ISO_CURRENCIES:
        raise StripeValueError(param, f"{currency!r} is not a known ISO 4217 currency code")
    return code


def decimals(currency: str) -> int:
    """How many decimals Stripe's integer amounts carry for ``currency``."""
    code = normalize_currency(currency)
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def max_amount(currency: str | None) -> int:
    """The largest amount Stripe takes in ``currency`` (minor units)."""
    if currency is None:
        return max(MAX_AMOUNT_BY_CURRENCY.values())
    return MAX_AMOUNT_BY_CURRENCY.get(normalize_currency(currency), MAX_AMOUNT)


def _as_decimal(amount: Decimal | int | str, param: str) -> Decimal:
    if isinstance(amount, (bool, float)):
        raise StripeValueError(param, "give a Decimal, an int or a string: a float cannot hold money exactly")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise StripeValueError(param, f"{amount!r} is not a number") from None
    if not value.is_finite():
        raise StripeValueError(param, f"{amount!r} is not a finite number")
    return value


def to_minor_units(amount: Decimal | int | str, currency: str, *, param: str = "amount") -> int:
    """Major units (``Decimal("10.99")``) to Stripe's integer (``1099``), refusing to round."""
    value = _as_decimal(amount, param)
    code = normalize_currency(currency)
    places = decimals(code)
    if code in WHOLE_UNITS_TIMES_100:
        if value != value.to_integral_value():
            raise StripeValueError(param, f"{code.upper()} amounts must be whole units, not {amount}")
        return int(value) * 100
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise StripeValueError(param, f"{amount} {code.upper()} has more than {places} decimal places")
    result = int(minor)
    if code in THREE_DECIMAL and result % 10:
        raise StripeValueError(param, f"{code.upper()} amounts must end in 0 in the third decimal place")
    return result


def from_minor_units(amount: int, currency: str) -> Decimal:
    """Stripe's integer (``1099``) to major units (``Decimal("10.99")``)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise StripeValueError("amount", "must be an integer number of minor units")
    code = normalize_currency(currency)
    places = 2 if code in WHOLE_UNITS_TIMES_100 else decimals(code)
    return Decimal(amount).scaleb(-places)


def check_amount(
    amount: object,
    *,
    currency: str | None = None,
    param: str = "amount",
    allow_zero: bool = False,
    allow_negative: bool = False,
) -> int:
    """A Stripe amount: an int, positive (or zero where allowed; any sign where Stripe takes
    credits and reversals), within Stripe's maximum."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise StripeValueError(
            param,
            f"must be an int, not {type(amount).__name__}: Stripe amounts are integers in the currency's minor "
            "unit (2000 is 20.00 USD, 2000 JPY is 2000 yen); convert with "
            "atom_stripe.money.to_minor_units(Decimal('20.00'), 'usd')",
        )
    if not allow_negative and (amount < 0 or (amount == 0 and not allow_zero)):
        raise StripeValueError(param, f"must be {'zero or more' if allow_zero else 'positive'}, not {amount}")
    code = None if currency is None else normalize_currency(currency)
    limit = max_amount(code)
    if abs(amount) > limit:
        raise StripeValueError(param, f"{amount} is above Stripe's maximum of {limit}")
    if code is not None:
        if code in WHOLE_UNITS_TIMES_100 and abs(amount) % 100:
            raise StripeValueError(param, f"{code.upper()} amounts must be a multiple of 100 (whole units)")
        if code in THREE_DECIMAL and abs(amount) % 10:
            raise StripeValueError(param, f"{code.upper()} amounts must end in 0")
    return amount


def format_amount(amount: int, currency: str) -> str:
    """``1099, "usd"`` -> ``"10.99 USD"``."""
    return f"{from_minor_units(amount, currency)} {normalize_currency(currency).upper()}"

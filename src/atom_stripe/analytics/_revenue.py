"""``revenue``: gross, refunds, fees and net per period and currency, from balance transactions."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from .._errors import StripeValueError
from .._extras import needs_extra
from ..money import normalize_currency
from ._time import When, span

if TYPE_CHECKING:
    import pandas as pd

    from .._client import AsyncStripeClient
    from ..sync import Mirror

#: Balance transaction types that are revenue: money in from a customer.
GROSS_TYPES = frozenset({"charge", "payment"})
#: Types that give money back to a customer (negative amounts); a failed refund (positive) undoes one.
REFUND_TYPES = frozenset({"refund", "payment_refund", "refund_failure"})
#: Period aliases ``freq`` takes: hours, days, weeks starting Monday, months, quarters, years.
FREQS = ("h", "D", "W", "M", "Q", "Y")
COLUMNS = ("gross", "refunds", "fees", "net")


async def revenue(
    client: AsyncStripeClient | Mirror,
    *,
    start: When,
    end: When | None = None,
    freq: str = "D",
    currency: str | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Revenue per period and currency from balance transactions created in ``[start, end)``.

    The ledger Stripe pays out from: a DataFrame indexed by (``period`` start as a UTC
    timestamp, ``currency``) with integer minor-unit columns ``gross`` (``charge`` and
    ``payment`` amounts), ``refunds`` (``refund`` and ``payment_refund``, as positive amounts;
    a ``refund_failure`` takes its refund back), ``fees`` (the ``fee`` of those transactions)
    and ``net`` = gross - refunds - fees. Payouts, transfers, adjustments (disputes), Stripe's
    own fee transactions and every other type are not revenue and are left out. ``currency``
    is the settlement currency of the balance. Every period in the span appears for every
    currency seen, with zeros where nothing happened. Amounts in different currencies are never added.

    ``client`` may be a :class:`~atom_stripe.sync.Mirror`: the same frame, read from its
    ``balance_transaction`` table (no Stripe call).
    """
    with needs_extra("analytics"):
        import pandas as pd

    if freq not in FREQS:
        raise StripeValueError("freq", f"must be one of {', '.join(FREQS)}, not {freq!r}")
    first, last = span(start, end)
    params: dict[str, Any] = {"created": {"gte": first, "lt": last}, "limit": 100}
    if currency is not None:
        params["currency"] = normalize_currency(currency)
    rows: list[tuple[int, str, int, int, int]] = []
    async with aclosing(_transactions(client, params, progress)) as txns:
        async for txn in txns:
            if txn.type in GROSS_TYPES:
                rows.append((txn.created, txn.currency, txn.amount, 0, txn.fee))
            elif txn.type in REFUND_TYPES:
                rows.append((txn.created, txn.currency, 0, -txn.amount, txn.fee))
    frame = pd.DataFrame(rows, columns=["created", "currency", "gross", "refunds", "fees"])
    frame["period"] = period_starts(pd.to_datetime(frame["created"], unit="s", utc=True), freq)
    table = frame.groupby(["period", "currency"])[["gross", "refunds", "fees"]].sum()
    periods = period_starts(pd.Series(pd.to_datetime([first, last - 1], unit="s", utc=True)), freq)
    grid = pd.MultiIndex.from_product(
        [pd.date_range(periods.iloc[0], periods.iloc[1], freq=_offset(freq)), sorted(set(frame["currency"]))],
        names=["period", "currency"],
    )
    table = table.reindex(grid, fill_value=0).astype("int64")
    table["net"] = table["gross"] - table["refunds"] - table["fees"]
    result: pd.DataFrame = table[list(COLUMNS)]
    return result


async def _transactions(source: Any, params: dict[str, Any], progress: bool | None) -> AsyncGenerator[Any, None]:
    """The balance transactions ``params`` select, listed from Stripe or read from a mirror."""
    from ._frame import each
    from ._source import mirror_of

    mirror = mirror_of(source)
    if mirror is None:
        async with aclosing(each(source.balance_transactions.list(**params), progress=progress)) as listed:
            async for txn in listed:
                yield txn
        return
    from ..models import BalanceTransaction

    created = params["created"]
    for data in await mirror.objects("balance_transaction", created=(created["gte"], created["lt"])):
        txn = BalanceTransaction.model_validate(data)
        if "currency" not in params or txn.currency == params["currency"]:
            yield txn


def period_starts(times: pd.Series, freq: str) -> pd.Series:
    """The start (UTC) of the period each UTC time falls in."""
    naive = times.dt.tz_convert("UTC").dt.tz_localize(None)
    starts: pd.Series = naive.dt.to_period(freq).dt.start_time.dt.tz_localize("UTC")
    return starts


def _offset(freq: str) -> str:
    """The date_range step between period starts."""
    return {"W": "W-MON", "M": "MS", "Q": "QS", "Y": "YS"}.get(freq, freq)

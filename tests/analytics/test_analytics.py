"""atom_stripe.analytics against a loopback server with known data (tests/analytics_data.py).

Every expected number is worked out by hand from that data in the comments next to it.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pandas as pd
import pytest

from atom_stripe import AsyncStripeClient, StripeError, StripeValueError, analytics
from atom_stripe.models import BalanceTransaction

from ..analytics_data import MAR1, MAR2, MAR3, SUBSCRIPTIONS, TRANSACTIONS, ledger
from ..helpers import ROOT, serve_asgi
from ..ledger import Ledger

UTC = dt.timezone.utc
COLUMNS = ["gross", "refunds", "fees", "net"]
D1, D2, D3 = (pd.Timestamp(t, unit="s", tz="UTC") for t in (MAR1, MAR2, MAR3))


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Ledger]]:
    state = ledger()
    with serve_asgi(state.app()) as url:
        yield url, state


@pytest.fixture
async def stripe(server: tuple[str, Ledger]) -> AsyncIterator[AsyncStripeClient]:
    server[1].requests.clear()
    async with AsyncStripeClient("sk_test_analytics", base_url=server[0], max_retries=0) as client:
        yield client


def requests(server: tuple[str, Ledger], path: str) -> list[dict[str, list[str]]]:
    return [query for p, query in server[1].requests if p == path]


# -- the extra is optional --------------------------------------------------------------


def test_importing_the_client_loads_no_pandas() -> None:
    code = (
        "import sys, atom_stripe, atom_stripe.analytics, atom_stripe.cli\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in {'pandas', 'numpy', 'matplotlib', 'pyarrow'}]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src")})


async def test_a_missing_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(analytics.MissingExtraError, match=r"pip install 'atom_stripe\[analytics\]'") as info:
        await analytics.to_frame([])
    assert isinstance(info.value, StripeError)


# -- to_frame ---------------------------------------------------------------------------


async def test_to_frame_walks_every_page_with_exact_types(
    stripe: AsyncStripeClient, server: tuple[str, Ledger]
) -> None:
    frame = await analytics.to_frame(stripe.balance_transactions.list(limit=5))
    # 20 transactions at 5 a page: 4 requests.
    assert len(requests(server, "/v1/balance_transactions")) == 4
    assert len(frame) == len(TRANSACTIONS) == 20
    assert list(frame.columns[:2]) == ["id", "amount"]
    assert frame["amount"].dtype == "int64" and frame["fee"].dtype == "int64"
    assert str(frame["created"].dtype).startswith("datetime64") and str(frame["created"].dt.tz) == "UTC"
    first = frame.set_index("id").loc["txn_j1"]
    assert first["amount"] == 12345 and first["currency"] == "jpy"  # minor units, never scaled
    assert first["created"] == pd.Timestamp("2026-03-01 08:00", tz="UTC")
    assert first["available_on"] == pd.Timestamp("2026-03-03 08:00", tz="UTC")
    assert first["fee_details"][0]["amount"] == 444  # a list stays a Python object


async def test_to_frame_from_a_page_a_list_and_an_async_iterable(stripe: AsyncStripeClient) -> None:
    page = await stripe.balance_transactions.list(limit=3)
    assert list((await analytics.to_frame(page))["id"]) == [t.id for t in page.data]
    models = [BalanceTransaction.model_validate(t) for t in TRANSACTIONS[:2]]
    assert list((await analytics.to_frame(models))["id"]) == ["txn_u1", "txn_u2"]

    async def some() -> AsyncIterator[BalanceTransaction]:
        for m in models:
            yield m

    assert len(await analytics.to_frame(some())) == 2
    with pytest.raises(StripeValueError, match="source"):
        await analytics.to_frame("txn_u1")
    with pytest.raises(StripeValueError, match="source"):
        await analytics.to_frame([object()])


async def test_to_frame_flattens_metadata_and_one_level_of_nesting() -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": "ch_1",
            "amount": 500,
            "created": MAR1,
            "canceled_at": None,
            "metadata": {"order": "o_1"},
            "billing_details": {"email": "a@example.com", "address": {"city": "Paris"}},
        },
        {"id": "ch_2", "amount": None, "created": MAR2, "canceled_at": MAR3, "metadata": {}, "billing_details": None},
    ]
    frame = await analytics.to_frame(rows)
    assert frame["metadata.order"].tolist()[0] == "o_1" and pd.isna(frame["metadata.order"][1])
    assert frame["billing_details.email"][0] == "a@example.com"
    assert frame["billing_details.address"][0] == {"city": "Paris"}  # wider than one level: an object
    assert str(frame["amount"].dtype) == "Int64" and frame["amount"][0] == 500 and pd.isna(frame["amount"][1])
    assert pd.isna(frame["canceled_at"][0]) and frame["canceled_at"][1] == D3


# -- revenue ----------------------------------------------------------------------------


def frame_of(rows: list[tuple[pd.Timestamp, str, int, int, int, int]], level: str = "period") -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([(r[0], r[1]) for r in rows], names=[level, "currency"])
    frame: pd.DataFrame = pd.DataFrame([r[2:] for r in rows], index=index, columns=COLUMNS, dtype="int64")
    return frame


async def test_revenue_by_day_counts_charges_payments_refunds_and_fees_only(
    stripe: AsyncStripeClient, server: tuple[str, Ledger]
) -> None:
    daily = await analytics.revenue(stripe, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 4))
    query = requests(server, "/v1/balance_transactions")[0]
    assert query["created[gte]"] == [str(MAR1)] and query["created[lt]"] == [str(MAR1 + 3 * 86400)]
    expected = frame_of(
        [
            # EUR: only txn_e2 (March 3) is in the span; txn_e1 is a second early, txn_e3 at the exclusive end.
            (D1, "eur", 0, 0, 0, 0),
            # JPY March 1: txn_j1 12,345 in, fee 444, net 11,901.
            (D1, "jpy", 12345, 0, 444, 11901),
            # KWD March 1: txn_k1 12.340 in, fee 0.370, net 11.970.
            (D1, "kwd", 12340, 0, 370, 11970),
            # USD March 1: 10000 + 5000 in, 2000 refunded, fees 320 + 175; the 8000 payout does not count.
            (D1, "usd", 15000, 2000, 495, 12505),
            (D2, "eur", 0, 0, 0, 0),
            # JPY March 2: 1000 in, 345 refunded, fee 36: 1000 - 345 - 36 = 619; the payout does not count.
            (D2, "jpy", 1000, 345, 36, 619),
            (D2, "kwd", 0, 0, 0, 0),
            # USD March 2: 25000 in, 5000 payment_refund, fee 755; stripe_fee, transfer, adjustment left out.
            (D2, "usd", 25000, 5000, 755, 19245),
            (D3, "eur", 2000, 0, 59, 1941),
            (D3, "jpy", 0, 0, 0, 0),
            # KWD March 3: 1230 in (fee 40), refunded -1230, the refund failed +1230: refunds 0, net 1190.
            (D3, "kwd", 1230, 0, 40, 1190),
            (D3, "usd", 0, 0, 0, 0),
        ]
    )
    pd.testing.assert_frame_equal(daily, expected, check_index_type=False)


async def test_revenue_by_week_starts_weeks_on_monday_and_by_month(stripe: AsyncStripeClient) -> None:
    start, end = dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 3, 4, tzinfo=UTC)
    weekly = await analytics.revenue(stripe, start=start, end=end, freq="W")
    # March 1 2026 is a Sunday: it closes the week of Monday February 23; March 2-3 open the next one.
    feb23, mar2 = pd.Timestamp("2026-02-23", tz="UTC"), pd.Timestamp("2026-03-02", tz="UTC")
    assert list(weekly.index.get_level_values("period").unique()) == [feb23, mar2]
    assert weekly.loc[(feb23, "usd")].tolist() == [15000, 2000, 495, 12505]
    # Week of March 2, USD: March 2 only (25000, 5000, 755); KWD: March 3 only.
    assert weekly.loc[(mar2, "usd")].tolist() == [25000, 5000, 755, 19245]
    assert weekly.loc[(mar2, "kwd")].tolist() == [1230, 0, 40, 1190]
    monthly = await analytics.revenue(stripe, start=start, end=end, freq="M", currency="JPY")
    # JPY over the three days: 12345 + 1000 gross, 345 refunds, 444 + 36 fees.
    assert monthly.to_dict("index") == {(D1, "jpy"): {"gross": 13345, "refunds": 345, "fees": 480, "net": 12520}}


async def test_revenue_refuses_bad_input_before_any_request(
    stripe: AsyncStripeClient, server: tuple[str, Ledger]
) -> None:
    with pytest.raises(StripeValueError, match="freq"):
        await analytics.revenue(stripe, start=MAR1, freq="fortnight")
    with pytest.raises(StripeValueError, match="naive"):
        await analytics.revenue(stripe, start=dt.datetime(2026, 3, 1))
    with pytest.raises(StripeValueError, match="after start"):
        await analytics.revenue(stripe, start=MAR2, end=MAR1)
    with pytest.raises(StripeValueError, match="currency"):
        await analytics.revenue(stripe, start=MAR1, currency="dollars")
    with pytest.raises(StripeValueError, match="at: must be a datetime"):
        await analytics.mrr(stripe, at="2026-03-01")  # type: ignore[arg-type]
    assert server[1].requests == []


async def test_revenue_of_an_empty_span_is_an_empty_frame(stripe: AsyncStripeClient) -> None:
    empty = await analytics.revenue(stripe, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 2))
    assert empty.empty and list(empty.columns) == ["gross", "refunds", "fees", "net"]
    assert list(empty.index.names) == ["period", "currency"]


# -- MRR and churn ----------------------------------------------------------------------

#: Each subscription's MRR, by hand (minor units):
#: s1  month 2000 x 3                                  = 6000
#: s2  year 24000 / 12 + seats 1000 x ceil(12 / 5 = 2.4 -> 3)  = 2000 + 3000 = 5000
#: s3  day 100 x 365 / 12                              = 3041.67 (past_due: counts)
#: s5  month 2000 x 5                                  = 10000 (canceled March 15)
#: s6  week 1000 x 2 x 52 / 12                         = 8666.67
#: s7  two-monthly 3000 / 2                            = 1500 JPY
#: s8  quarterly 9000 x 2 / 3                          = 6000 KWD (3 decimals: 6.000)
#: s9  metered                                         = 0 (counted as a subscription)
#: s11 week 1000 x 52 / 12                             = 4333.33 EUR (canceled March 20)
#: s15 two-monthly 3000 x 2 / 2                        = 3000 JPY (canceled April 5)
#: s16 graduated tiers: 5 x 1000 + (2 x 800 + 500 flat) = 7100
#: s4 trialing, s10 incomplete, s12 unpaid, s13 (canceled in its trial), s14 (ended Feb 10): never count now.


async def test_mrr_now_counts_active_and_past_due(stripe: AsyncStripeClient, server: tuple[str, Ledger]) -> None:
    now = await analytics.mrr(stripe)
    # USD: s1 6000 + s2 5000 + s3 3041.67 + s9 0 + s16 7100 = 21141.67 -> 21142, 5 subscriptions.
    assert now.to_dict("index") == {
        "eur": {"mrr": 8667, "subscriptions": 1},
        "jpy": {"mrr": 1500, "subscriptions": 1},
        "kwd": {"mrr": 6000, "subscriptions": 1},
        "usd": {"mrr": 21142, "subscriptions": 5},
    }
    assert now["mrr"].dtype == "int64"
    assert "status" not in requests(server, "/v1/subscriptions")[0]  # Stripe's default: not canceled
    # The tiered price came without tiers: fetched once, with them.
    assert requests(server, "/v1/prices/price_tiered_usd") == [{"expand": ["tiers"]}]
    assert analytics.format_money(now["mrr"]["kwd"], "kwd") == "KWD 6.000"


async def test_mrr_at_past_times_and_churn_over_march(stripe: AsyncStripeClient) -> None:
    history = await analytics.mrr(stripe, at=[dt.date(2026, 3, 1), dt.date(2026, 4, 1)])
    mar1, apr1 = pd.Timestamp("2026-03-01", tz="UTC"), pd.Timestamp("2026-04-01", tz="UTC")
    assert history.to_dict("index") == {
        # March 1, USD: s1 6000 + s2 5000 + s3 3041.67 + s5 10000 + s9 0 + s16 7100 = 31141.67 -> 31142 (6);
        # EUR: s6 8666.67 + s11 4333.33 = 13000 (2); JPY: s7 1500 + s15 3000 = 4500 (2); s8 starts March 5.
        (mar1, "eur"): {"mrr": 13000, "subscriptions": 2},
        (mar1, "jpy"): {"mrr": 4500, "subscriptions": 2},
        (mar1, "kwd"): {"mrr": 0, "subscriptions": 0},
        (mar1, "usd"): {"mrr": 31142, "subscriptions": 6},
        # April 1: s5 and s11 are gone, s15 is still there (ends April 5), s8 has started; s4 is in its trial.
        (apr1, "eur"): {"mrr": 8667, "subscriptions": 1},
        (apr1, "jpy"): {"mrr": 4500, "subscriptions": 2},
        (apr1, "kwd"): {"mrr": 6000, "subscriptions": 1},
        (apr1, "usd"): {"mrr": 21142, "subscriptions": 5},
    }
    lost = await analytics.churn(stripe, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1))
    assert list(lost.columns) == ["subscriptions", "churned", "churn_rate", "mrr", "churned_mrr", "mrr_churn_rate"]
    # USD: s5 (10000 of 31141.67) of 6; EUR: s11 (4333.33 of 13000) of 2; JPY: none (s15 ends after March).
    assert lost.loc["usd"].tolist() == pytest.approx([6, 1, 1 / 6, 31142, 10000, 10000 / (31141 + 2 / 3)])
    assert lost.loc["eur"].tolist() == pytest.approx([2, 1, 0.5, 13000, 4333, 1 / 3])
    assert lost.loc["jpy"].tolist() == pytest.approx([2, 0, 0.0, 4500, 0, 0.0])
    assert "kwd" not in lost.index  # s8 started in March: not in the base, cannot churn in it


async def test_a_subscription_with_more_items_than_it_embeds_lists_them_all() -> None:
    # s2 embeds only its yearly item and says there are more: the seats come from subscription_items.
    s2 = next(s for s in SUBSCRIPTIONS if s["id"] == "sub_s2")
    items = s2["items"]["data"]
    sub = {**s2, "items": {**s2["items"], "data": items[:1], "has_more": True}}
    state = Ledger({"subscriptions": [sub], "subscription_items": items})
    with serve_asgi(state.app()) as url:
        async with AsyncStripeClient("sk_test_analytics", base_url=url) as other:
            now = await analytics.mrr(other)
    assert now.to_dict("index") == {"usd": {"mrr": 5000, "subscriptions": 1}}  # 2000 + 3000, as above
    assert [q["subscription"] for p, q in state.requests if p == "/v1/subscription_items"] == [["sub_s2"]]


# -- money display and charts -------------------------------------------------------------


def test_format_money() -> None:
    assert analytics.format_money(1234567, "usd") == "$12,345.67"
    assert analytics.format_money(1235, "JPY") == "¥1,235"
    assert analytics.format_money(1234, "kwd") == "KWD 1.234"
    assert analytics.format_money(-2050, "eur") == "-€20.50"
    assert analytics.format_money(50000, "isk") == "ISK 500"
    assert analytics.format_money(0, "chf") == "CHF 0.00"
    with pytest.raises(StripeValueError):
        analytics.format_money(100, "zzz")


async def test_format_frame_shows_money_and_keeps_the_integers(stripe: AsyncStripeClient) -> None:
    daily = await analytics.revenue(stripe, start=MAR1, end=MAR2)
    shown = analytics.format_frame(daily)
    assert shown.loc[(D1, "usd"), "net"] == "$125.05" and shown.loc[(D1, "jpy"), "gross"] == "¥12,345"
    assert shown.loc[(D1, "kwd"), "fees"] == "KWD 0.370"
    assert daily.loc[(D1, "usd"), "net"] == 12505
    txns = analytics.format_frame(await analytics.to_frame(TRANSACTIONS[:1]), ["amount"])
    assert txns["amount"][0] == "$100.00"
    with pytest.raises(StripeValueError, match="currency"):
        analytics.format_frame(pd.DataFrame({"amount": [1]}))


async def test_charts_have_one_panel_per_currency(stripe: AsyncStripeClient) -> None:
    daily = await analytics.revenue(stripe, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 4))
    figure = analytics.plot_revenue(daily)
    axes = figure.get_axes()
    assert [ax.get_ylabel() for ax in axes] == ["EUR", "JPY", "KWD", "USD"]
    usd = axes[3]
    gross = [bar.get_height() for bar in usd.containers[0]]
    assert gross == [15000, 25000, 0]  # the USD panel holds USD only
    labels = [usd.yaxis.get_major_formatter()(v, 0) for v in (10000, 25000)]
    assert labels == ["$100.00", "$250.00"]
    assert axes[1].yaxis.get_major_formatter()(12345, 0) == "¥12,345"
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
    history = await analytics.mrr(stripe, at=[dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)])
    assert len(analytics.plot_mrr(history).get_axes()) == 4
    snapshot = analytics.plot_mrr(await analytics.mrr(stripe))
    assert [ax.get_ylabel() for ax in snapshot.get_axes()] == ["EUR", "JPY", "KWD", "USD"]
    with pytest.raises(StripeValueError, match="frame"):
        analytics.plot_revenue(history)

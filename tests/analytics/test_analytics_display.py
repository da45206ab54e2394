"""Analytics as a notebook user meets it: charts that show themselves, readable ticks and titles,
``mrr(at=[...])`` in time order, a progress display that suits where it runs."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pandas as pd
import pytest

from atom_stripe import AsyncStripeClient, analytics
from atom_stripe.analytics._progress import Progress

from ..analytics_data import ledger
from ..helpers import serve_asgi
from ..ledger import Ledger


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Ledger]]:
    state = ledger()
    with serve_asgi(state.app()) as url:
        yield url, state


@pytest.fixture
async def stripe(server: tuple[str, Ledger]) -> AsyncIterator[AsyncStripeClient]:
    async with AsyncStripeClient("sk_test_analytics", base_url=server[0], max_retries=0) as client:
        yield client


def renderer(figure: Any) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # type: ignore[no-untyped-call]
    return canvas.get_renderer()  # type: ignore[no-untyped-call]


def overlaps(figure: Any) -> list[tuple[str, str]]:
    """Pairs of x tick labels whose boxes overlap once drawn."""
    drawn = renderer(figure)
    found = []
    for ax in figure.get_axes():
        labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        boxes = [t.get_window_extent(drawn) for t in labels]
        for i in range(len(boxes) - 1):
            if boxes[i].overlaps(boxes[i + 1]):
                found.append((labels[i].get_text(), labels[i + 1].get_text()))
    return found


def inside(figure: Any, artist: Any) -> bool:
    box = artist.get_window_extent(renderer(figure))
    return bool(box.x0 >= 0 and box.y0 >= 0 and box.x1 <= figure.bbox.width and box.y1 <= figure.bbox.height)


async def test_charts_render_as_png_by_themselves(stripe: AsyncStripeClient) -> None:
    daily = await analytics.revenue(stripe, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 4))
    history = await analytics.mrr(stripe, at=[dt.date(2026, 3, 1), dt.date(2026, 4, 1)])
    for figure in (
        analytics.plot_revenue(daily),
        analytics.plot_mrr(history),
        analytics.plot_mrr(history.loc[history.index[0][0]]),
    ):
        # Jupyter shows what has a _repr_png_: no pyplot, no `%matplotlib inline` needed.
        png = figure._repr_png_()  # type: ignore[attr-defined]
        assert png.startswith(b"\x89PNG")
        assert "pyplot" not in repr(type(figure))


async def test_mrr_at_many_times_comes_back_in_time_order(stripe: AsyncStripeClient) -> None:
    asked = [dt.date(2026, 4, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 2, 1)]
    history = await analytics.mrr(stripe, at=asked)
    times = list(history.index.get_level_values("at").unique())
    assert times == [pd.Timestamp(f"2026-0{m}-01", tz="UTC") for m in (2, 3, 4)]
    assert history.index.is_monotonic_increasing


async def test_a_long_mrr_history_has_tick_labels_that_do_not_overlap(stripe: AsyncStripeClient) -> None:
    months = [dt.date(2025 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(1, 17)]
    figure = analytics.plot_mrr(await analytics.mrr(stripe, at=months))
    assert overlaps(figure) == []
    daily = await analytics.revenue(stripe, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 4), freq="h")
    assert overlaps(analytics.plot_revenue(daily)) == []


async def test_a_single_currency_title_is_not_clipped(stripe: AsyncStripeClient) -> None:
    daily = await analytics.revenue(stripe, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 4))
    usd = daily[daily.index.get_level_values("currency") == "usd"]
    long_title = "Revenue in US dollars over the first three days of March 2026, gross, refunds, fees and net"
    figure = analytics.plot_revenue(usd, title=long_title)
    assert inside(figure, getattr(figure, "_suptitle"))
    snapshot = await analytics.mrr(stripe)
    figure = analytics.plot_mrr(snapshot.loc[["kwd"]], title="Monthly recurring revenue by currency")
    assert inside(figure, getattr(figure, "_suptitle"))


def test_progress_in_a_notebook_updates_one_display_and_writes_no_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shown: list[tuple[str, dict[str, str]]] = []

    class Handle:
        def update(self, data: dict[str, str], raw: bool = False) -> None:
            shown.append(("update", data))

    def display(data: dict[str, str], raw: bool = False, display_id: bool = False) -> Handle:
        assert raw and display_id
        shown.append(("display", data))
        return Handle()

    monkeypatch.setattr("atom_stripe.analytics._progress.notebook_display", lambda: display)
    progress = Progress("customers")
    for _ in range(3):
        progress.advance()
    progress.close()
    assert shown[0] == ("display", {"text/plain": "fetched 0 customers"})
    assert shown[-1][0] == "update" and shown[-1][1]["text/plain"].startswith("fetched 3 customers")
    assert capsys.readouterr().err == ""


def test_progress_outside_a_notebook_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress("customers")
    progress.advance(2)
    progress.close()
    assert "fetched 2 customers" in capsys.readouterr().err


def test_the_figure_is_a_matplotlib_figure() -> None:
    from matplotlib.figure import Figure

    frame = pd.DataFrame({"mrr": [100], "subscriptions": [1]}, index=pd.Index(["usd"], name="currency"))
    figure = analytics.plot_mrr(frame)
    assert isinstance(figure, Figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")

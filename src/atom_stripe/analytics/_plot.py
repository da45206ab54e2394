"""Charts: one panel per currency, so amounts in different currencies are never added up."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from .._errors import StripeValueError
from .._extras import needs_extra
from ._money import format_money

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLORS = {"gross": "#2e7d32", "refunds": "#c62828", "fees": "#ef6c00", "net": "#1a237e", "mrr": "#1a237e"}


def _money_axis(ax: Axes, currency: str) -> None:
    with needs_extra("analytics"):
        from matplotlib import ticker
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda y, _pos: format_money(round(y), currency)))
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylabel(currency.upper())


def _figure(rows: int, cols: int = 1, *, width: float = 9.0, height: float = 2.6) -> tuple[Figure, list[Axes]]:
    with needs_extra("analytics"):
        from ._chart import Chart  # subclasses matplotlib's Figure

    figure = Chart(figsize=(width, 0.8 + height * rows), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False, sharex=cols == 1)
    return figure, [ax for row in axes for ax in row]


#: A character of tick or title text, in points per point of font size (DejaVu Sans' digits
#: are 0.64 em wide; a little over, so that estimates err on the side of room).
CHAR_EM = 0.66
#: What the money axis (tick labels and currency name) takes of a panel's width, in inches.
Y_AXIS_INCHES = 1.5


def _date_ticks(ax: Axes, where: list[Any], labels: list[str]) -> None:
    """As many date labels as fit the axis' width (12 at most), slanted 30 degrees, so that
    neighbours never overlap: each one's box is about ``len * em * cos 30 + em * sin 30`` wide."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    size = FontProperties(size=rcParams["xtick.labelsize"]).get_size_in_points()
    longest = max((len(label) for label in labels), default=1)
    box = longest * CHAR_EM * size * 0.866 + size * 0.5 + 4  # points, with a little gap
    room = (ax.get_figure().get_figwidth() - Y_AXIS_INCHES) * 72  # type: ignore[union-attr]
    fits = max(1, min(12, int(room // box)))
    every = max(1, -(-len(where) // fits))
    ax.set_xticks(where[::every], labels[::every], rotation=30, ha="right", rotation_mode="anchor")


def _title(figure: Figure, title: str) -> None:
    """The figure's title, wrapped to its width so that a narrow figure does not clip it."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    size = FontProperties(size=rcParams["figure.titlesize"]).get_size_in_points()
    per_line = max(8, int(figure.get_figwidth() * 72 / (CHAR_EM * size)) - 2)
    figure.suptitle(textwrap.fill(title, per_line))


def _labels(periods: pd.Index, freq_hint: str) -> list[str]:
    fmt = "%Y-%m-%d %H:%M" if freq_hint == "h" else "%Y-%m" if freq_hint in {"M", "Q", "Y"} else "%Y-%m-%d"
    return [p.strftime(fmt) for p in periods]


def plot_revenue(frame: pd.DataFrame, *, title: str = "Revenue by currency") -> Figure:
    """A figure from :func:`revenue`'s frame: one panel per currency, each with its own money
    axis; bars of gross above zero, refunds and fees below it, and net as a line."""
    _check(frame, {"period", "currency"}, ("gross", "refunds", "fees", "net"))
    currencies = list(dict.fromkeys(frame.index.get_level_values("currency")))
    figure, axes = _figure(max(len(currencies), 1))
    periods = frame.index.get_level_values("period").unique().sort_values()
    step = periods[1] - periods[0] if len(periods) > 1 else None
    seconds = 86400 if step is None else step.total_seconds()
    hint = "h" if seconds < 86400 else "M" if seconds > 27 * 86400 else "D"
    x = list(range(len(periods)))
    for ax, currency in zip(axes, currencies, strict=False):
        part = frame.xs(currency, level="currency").reindex(periods, fill_value=0)
        ax.bar(x, part["gross"], color=COLORS["gross"], label="gross")
        ax.bar(x, -part["refunds"], color=COLORS["refunds"], label="refunds")
        ax.bar(x, -part["fees"], bottom=-part["refunds"], color=COLORS["fees"], label="fees")
        ax.plot(x, part["net"], color=COLORS["net"], marker="o", markersize=3, label="net")
        ax.axhline(0, color="black", linewidth=0.6)
        _money_axis(ax, currency)
    if currencies:
        axes[0].legend(loc="upper left", ncols=4, fontsize="small")
        _date_ticks(axes[len(currencies) - 1], x, _labels(periods, hint))
    _title(figure, title)
    return figure


def plot_mrr(frame: pd.DataFrame, *, title: str = "Monthly recurring revenue by currency") -> Figure:
    """A figure from :func:`mrr`'s frame: one panel per currency. A frame indexed by
    (``at``, ``currency``) gives a line over time; one indexed by ``currency`` a bar each."""
    history = "at" in (frame.index.names or [])
    _check(frame, {"at", "currency"} if history else {"currency"}, ("mrr", "subscriptions"))
    currencies = sorted(set(frame.index.get_level_values("currency")))
    if history:
        figure, axes = _figure(max(len(currencies), 1))
        times = list(frame.index.get_level_values("at").unique().sort_values())
        for ax, currency in zip(axes, currencies, strict=False):
            part = frame.xs(currency, level="currency").reindex(times, fill_value=0)
            ax.plot(times, part["mrr"], color=COLORS["mrr"], marker="o")
            ax.fill_between(times, part["mrr"], alpha=0.15, color=COLORS["mrr"])
            ax.set_ylim(bottom=0, top=max(1, int(part["mrr"].max())) * 1.15)
            _money_axis(ax, currency)
        _date_ticks(axes[len(currencies) - 1], times, [t.strftime("%Y-%m-%d") for t in times])
    else:
        figure, axes = _figure(1, max(len(currencies), 1), width=2.6 * max(len(currencies), 1), height=3.2)
        for ax, currency in zip(axes, currencies, strict=False):
            value = int(frame.loc[currency, "mrr"])
            count = int(frame.loc[currency, "subscriptions"])
            ax.bar([0], [value], color=COLORS["mrr"], width=0.5)
            ax.set_xticks([0], [f"{count} subscription{'s' if count != 1 else ''}"])
            ax.set_xlim(-0.75, 0.75)
            ax.set_ylim(0, value * 1.2 or 1)
            ax.annotate(format_money(value, currency), (0, value), ha="center", va="bottom")
            _money_axis(ax, currency)
    _title(figure, title)
    return figure


def _check(frame: Any, levels: set[str], columns: tuple[str, ...]) -> None:
    names = set(getattr(getattr(frame, "index", None), "names", None) or [])
    missing = [c for c in columns if c not in getattr(frame, "columns", ())]
    if not levels <= names or missing:
        wanted = f"an index of {sorted(levels)} and columns {list(columns)}"
        raise StripeValueError("frame", f"needs {wanted} (the frame the matching analytics call returns)")

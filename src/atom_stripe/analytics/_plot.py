"""Charts: one panel per currency, so amounts in different currencies are never added up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import StripeValueError
from ._deps import need
from ._money import format_money

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLORS = {"gross": "#2e7d32", "refunds": "#c62828", "fees": "#ef6c00", "net": "#1a237e", "mrr": "#1a237e"}


def _money_axis(ax: Axes, currency: str) -> None:
    ticker = need("matplotlib.ticker")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda y, _pos: format_money(round(y), currency)))
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylabel(currency.upper())


def _figure(rows: int, cols: int = 1, *, width: float = 9.0, height: float = 2.6) -> tuple[Figure, list[Axes]]:
    need("matplotlib")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 0.8 + height * rows), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False, sharex=cols == 1)
    return figure, [ax for row in axes for ax in row]


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
        labels = _labels(periods, hint)
        every = max(1, len(x) // 12)
        axes[len(currencies) - 1].set_xticks(x[::every], labels[::every], rotation=30, ha="right")
    figure.suptitle(title)
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
        every = max(1, len(times) // 12)
        axes[len(currencies) - 1].set_xticks(times[::every], [t.strftime("%Y-%m-%d") for t in times[::every]])
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
    figure.suptitle(title)
    return figure


def _check(frame: Any, levels: set[str], columns: tuple[str, ...]) -> None:
    names = set(getattr(getattr(frame, "index", None), "names", None) or [])
    missing = [c for c in columns if c not in getattr(frame, "columns", ())]
    if not levels <= names or missing:
        wanted = f"an index of {sorted(levels)} and columns {list(columns)}"
        raise StripeValueError("frame", f"needs {wanted} (the frame the matching analytics call returns)")

"""Analytics for notebooks and reports: DataFrames, revenue, MRR and churn, money display, charts.

Needs the ``analytics`` extra (``pip install 'atom_stripe[analytics]'``: pandas, pyarrow for
Parquet, matplotlib for charts). Importing this module loads none of them; a call that needs
a missing one raises :class:`MissingExtraError` naming the ``pip install`` to run.

>>> from atom_stripe import analytics
>>> frame = await analytics.to_frame(stripe.customers.list(limit=100))     # doctest: +SKIP
>>> daily = await analytics.revenue(stripe, start=date(2026, 3, 1), freq="D")  # doctest: +SKIP
"""

from .._errors import MissingExtraError
from ._files import FORMATS, write_frame
from ._frame import to_frame
from ._money import MONEY_COLUMNS, SYMBOLS, format_frame, format_money, major_units
from ._mrr import PAYING, churn, mrr
from ._plot import plot_mrr, plot_revenue
from ._revenue import FREQS, GROSS_TYPES, REFUND_TYPES, revenue

__all__ = [
    "FORMATS",
    "FREQS",
    "GROSS_TYPES",
    "MONEY_COLUMNS",
    "PAYING",
    "REFUND_TYPES",
    "SYMBOLS",
    "MissingExtraError",
    "churn",
    "format_frame",
    "format_money",
    "major_units",
    "mrr",
    "plot_mrr",
    "plot_revenue",
    "revenue",
    "to_frame",
    "write_frame",
]

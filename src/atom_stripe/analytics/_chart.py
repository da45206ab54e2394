"""The figure the plot functions return: a matplotlib ``Figure`` that shows itself in Jupyter."""

from __future__ import annotations

import io

from matplotlib.figure import Figure


class Chart(Figure):
    """A matplotlib :class:`~matplotlib.figure.Figure` with a PNG representation, so a notebook
    shows it as a cell's result without pyplot or ``%matplotlib inline`` (IPython displays what
    has a ``_repr_png_``; a plain ``Figure`` made without pyplot shows as ``<Figure size ...>``)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

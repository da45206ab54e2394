"""examples/analytics.ipynb runs top to bottom against the loopback ledger, shows the known
numbers, and its stored outputs and the charts in docs/img come from that run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..analytics_data import ledger
from ..executor import run_cells
from ..helpers import ROOT, serve_asgi

NOTEBOOK = ROOT / "examples" / "analytics.ipynb"


async def test_the_analytics_notebook_runs_top_to_bottom(monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    cells = [(f"cell {i}", "".join(c["source"])) for i, c in enumerate(code)]
    namespace: dict[str, Any] = {}
    with serve_asgi(ledger().app()) as url:
        monkeypatch.setenv("STRIPE_BASE_URL", url)
        monkeypatch.setenv("STRIPE_API_KEY", "sk_test_notebook")
        values = await run_cells(cells, namespace, show=lambda v: v)
    assert len(values) == len(cells)
    assert len(values[1]) == 18  # the transactions of March 1-3
    # Revenue per day, shown as money (numbers worked out in tests/analytics/test_analytics.py).
    revenue_html = values[2]._repr_html_()
    for shown in ("$150.00", "$125.05", "¥12,345", "¥619", "KWD 11.970", "€19.41"):
        assert shown in revenue_html
    assert [ax.get_ylabel() for ax in values[3].get_axes()] == ["EUR", "JPY", "KWD", "USD"]
    mrr_html = values[4]._repr_html_()
    for shown in ("$211.42", "€86.67", "¥1,500", "KWD 6.000"):
        assert shown in mrr_html
    assert len(values[5].get_axes()) == 4
    assert values[6].loc["usd", "churned"] == 1 and values[6].loc["eur", "churned_mrr"] == 4333
    for figure in (values[3], values[5]):
        figure.clear()


def test_the_stored_notebook_and_docs_charts_come_from_a_run() -> None:
    """tools/analytics_notebook.py stored the outputs; the docs show its charts."""
    notebook = json.loads(NOTEBOOK.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    assert "$125.05" in "".join(code[2]["outputs"][0]["data"]["text/html"])
    assert "image/png" in code[3]["outputs"][0]["data"] and "image/png" in code[5]["outputs"][0]["data"]
    page = (ROOT / "docs" / "analytics.md").read_text()
    for name in ("analytics-revenue.png", "analytics-mrr.png"):
        assert (ROOT / "docs" / "img" / name).read_bytes().startswith(b"\x89PNG")
        assert f"img/{name}" in page

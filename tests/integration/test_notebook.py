"""examples/exploration.ipynb runs top to bottom against localstripe."""

from __future__ import annotations

import json

import pytest

from ..executor import run_cells
from ..helpers import ROOT


async def test_notebook_runs_top_to_bottom(localstripe_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_BASE_URL", localstripe_url)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_notebook")
    notebook = json.loads((ROOT / "examples" / "exploration.ipynb").read_text())
    cells = [(f"cell {i}", "".join(c["source"])) for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"]
    shown = await run_cells(cells, {})
    assert len(shown) == len(cells)
    assert "<table>" in shown[2]  # the page renders as an HTML table
    assert shown[1].startswith("Customer(") and "Notebook 0" in shown[1]
    assert "**********" in shown[4] and "_secret_" not in shown[4]

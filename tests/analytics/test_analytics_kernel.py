"""examples/analytics.ipynb executed as a new user runs it: nbconvert's client, a fresh Jupyter
kernel, no ``%matplotlib inline``; every chart cell shows an image and nothing goes to stderr."""

from __future__ import annotations

import json
from typing import Any

import nbclient
import nbformat
import pytest

from ..analytics_data import ledger
from ..helpers import ROOT, serve_asgi

NOTEBOOK = ROOT / "examples" / "analytics.ipynb"
#: code cells (counted among code cells) that draw a chart
CHARTS = (3, 5)


def executed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    with serve_asgi(ledger().app()) as url:
        monkeypatch.setenv("STRIPE_BASE_URL", url)
        monkeypatch.setenv("STRIPE_API_KEY", "sk_test_notebook")
        monkeypatch.delenv("MPLBACKEND", raising=False)  # what Jupyter picks, as for a new user
        nbclient.NotebookClient(
            notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
        ).execute()
    return [json.loads(json.dumps(c)) for c in notebook.cells if c.cell_type == "code"]


def test_the_notebook_in_a_fresh_kernel_shows_its_charts_and_no_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = executed(monkeypatch)
    for index in CHARTS:
        kinds = [kind for out in cells[index]["outputs"] for kind in out.get("data", {})]
        assert "image/png" in kinds, f"chart cell {index} shows no image: {cells[index]['outputs']}"
    stderr = [
        (index, out["text"])
        for index, cell in enumerate(cells)
        for out in cell["outputs"]
        if out["output_type"] == "stream" and out["name"] == "stderr"
    ]
    assert stderr == []

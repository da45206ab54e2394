"""Execute examples/analytics.ipynb against the loopback ledger (tests/analytics_data.py), store
its outputs in the notebook and its charts as PNGs in docs/img.

    .venv/bin/python tools/analytics_notebook.py

The test suite executes the same cells against the same data (tests/analytics/test_analytics_notebook.py).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.analytics_data import ledger  # noqa: E402
from tests.executor import run_cells  # noqa: E402
from tests.helpers import serve_asgi  # noqa: E402

NOTEBOOK = ROOT / "examples" / "analytics.ipynb"
IMAGES = ROOT / "docs" / "img"
#: code cell index (among code cells) -> the PNG its chart is saved as
CHARTS = {3: "analytics-revenue.png", 5: "analytics-mrr.png"}


def output(value: Any, count: int) -> list[dict[str, Any]]:
    """A cell's result as nbformat outputs: a figure as a PNG, a table as HTML and text."""
    if value is None:
        return []
    if hasattr(value, "savefig"):
        png = io.BytesIO()
        value.savefig(png, format="png", dpi=100)
        data: dict[str, Any] = {"image/png": base64.b64encode(png.getvalue()).decode(), "text/plain": repr(value)}
        return [{"output_type": "display_data", "data": data, "metadata": {}}]
    data = {"text/plain": repr(value)}
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        data["text/html"] = html()
    return [{"output_type": "execute_result", "execution_count": count, "data": data, "metadata": {}}]


async def execute(notebook: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The notebook with fresh outputs, and the PNG of each chart."""
    namespace: dict[str, Any] = {"__name__": "analytics_notebook"}
    charts: dict[str, bytes] = {}
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    for index, cell in enumerate(code):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            [value] = await run_cells([(f"cell {index}", "".join(cell["source"]))], namespace, show=lambda v: v)
        outputs = (
            [{"output_type": "stream", "name": "stdout", "text": printed.getvalue()}] if printed.getvalue() else []
        )
        cell["execution_count"] = index + 1
        cell["outputs"] = outputs + output(value, index + 1)
        if index in CHARTS:
            png = io.BytesIO()
            value.savefig(png, format="png", dpi=100)
            charts[CHARTS[index]] = png.getvalue()
    return notebook, charts


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    notebook = json.loads(NOTEBOOK.read_text())
    with serve_asgi(ledger().app()) as url:
        os.environ.update(STRIPE_BASE_URL=url, STRIPE_API_KEY="sk_test_notebook")
        fresh, charts = anyio.run(execute, notebook)
    NOTEBOOK.write_text(json.dumps(fresh, indent=1, ensure_ascii=False) + "\n")
    for name, png in charts.items():
        (IMAGES / name).write_bytes(png)
        print(f"wrote docs/img/{name}")
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

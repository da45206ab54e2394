"""Write docs/performance.md (the results table) and docs/img/benchmark.svg (a bar chart)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent / "docs"
COLORS = {
    "atom_stripe": "#3b5bdb",
    "atom_stripe-hooks": "#5c7cfa",
    "atom_stripe-trio": "#91a7ff",
    "httpx": "#adb5bd",
    "httpx-aiohttp": "#868e96",
    "aiohttp": "#495057",
    "stripe-python": "#e8590c",
}


def svg_chart(results: dict[str, Any]) -> str:
    """Grouped bars of CPU per request, one group per operation, log-free and relative to stripe-python."""
    rows = results["rows"]
    ops = list(dict.fromkeys(r["op"] for r in rows))
    clients = list(dict.fromkeys(r["client"] for r in rows))
    by = {(r["client"], r["op"]): r["cpu_ms_per_request"] for r in rows}
    width, height, left, top, bottom = 760, 320, 60, 30, 60
    group = (width - left - 20) / len(ops)
    bar = group / (len(clients) + 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        f'<text x="{left}" y="18" font-size="13">Client CPU per operation, % of stripe-python (lower is better)</text>',
    ]
    plot_h = height - top - bottom
    for i, op in enumerate(ops):
        base = by.get(("stripe-python", op)) or max(by.get((c, op), 0) for c in clients) or 1
        for j, client in enumerate(clients):
            value = by.get((client, op))
            if value is None:
                continue
            share = min(value / base, 1.5)
            h = plot_h * share / 1.5
            x = left + i * group + j * bar
            y = top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.9:.1f}" height="{h:.1f}" '
                f'fill="{COLORS.get(client, "#999")}"><title>{client} {op}: {value:.3f} ms</title></rect>'
            )
            parts.append(
                f'<text x="{x + bar * 0.45:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="9">'
                f"{share * 100:.0f}%</text>"
            )
        parts.append(
            f'<text x="{left + i * group + group / 2 - bar / 2:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{op}</text>'
        )
    for j, client in enumerate(clients):
        x = left + j * 100
        parts.append(f'<rect x="{x}" y="{height - 22}" width="10" height="10" fill="{COLORS.get(client, "#999")}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 13}">{client}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 20}" y2="{top + plot_h}" stroke="#333"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def write_docs(results: dict[str, Any], table: str) -> None:
    (DOCS / "img").mkdir(parents=True, exist_ok=True)
    (DOCS / "img" / "benchmark.svg").write_text(svg_chart(results))
    machine = results["machine"]
    text = f"""# Performance

atom_stripe is measured against the other ways to call Stripe from Python, on loopback
against nginx serving Stripe's own example JSON, each client in a process of its own,
rounds alternating between clients, medians reported. Rerun it with:

```bash
.venv/bin/python benchmarks/run.py --rounds 3 --write-docs
```

Last run: {datetime.date.today().isoformat()}, {machine["cpus"]} CPUs, Python {machine["python"]}.

![Client CPU per operation](img/benchmark.svg)

What makes the difference:

- **aiohttp underneath on asyncio**, through a small httpx transport of atom_stripe's own;
  httpx's own transport (used under trio) costs several times more CPU per request.
- **No httpx client layer on the hot path** when atom_stripe owns the pool: requests go
  straight to the transport (httpx's cookie jar alone costs about 0.1 ms a request).
- **JSON bytes parsed straight into pydantic models** (`model_validate_json`), with the
  schemas built once, on first use.
- **Nothing heavy at import**: models, aiohttp, backoff and pydantic's model machinery
  load on first use, so `import atom_stripe` costs less than `import httpx, pydantic`.
- **Auto-pagination fetches the next page while you work on this one** (one page ahead).
{table}
"""
    (DOCS / "performance.md").write_text(text)

"""Write docs/performance.md (the results table) and docs/img/benchmark.svg (a bar chart)."""

from __future__ import annotations

import datetime
import re
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
    "aiohttp+json": "#343a40",
    "aiohttp+pydantic": "#212529",
    "stripe-python": "#e8590c",
}


def svg_chart(results: dict[str, Any]) -> str:
    """Grouped bars of CPU per request, one group per operation, log-free and relative to stripe-python."""
    rows = results["rows"]
    ops = list(dict.fromkeys(r["op"] for r in rows))
    clients = list(dict.fromkeys(r["client"] for r in rows))
    by = {(r["client"], r["op"]): r["cpu_ms_per_request"] for r in rows}
    width, height, left, top, bottom = 960, 320, 60, 30, 60
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
        x = left + j * 98
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
rounds alternating between clients, medians reported. Calls run 32 at a time (8 for list
pages): that many workers, each starting its next call when its last one is done. Rerun it
with:

```bash
.venv/bin/python benchmarks/run.py --rounds 5 --coldstart-rounds 15 --write-docs
```

Last run: {datetime.date.today().isoformat()}, {machine["cpus"]} CPUs, Python {machine["python"]}.

![Client CPU per operation](img/benchmark.svg)

The floors: **aiohttp+json** is raw aiohttp with the body's bytes into `json.loads` (no
types, no checks, no retries: the least any Python client can do); **aiohttp+pydantic** is
raw aiohttp with the bytes straight into the same pydantic models atom_stripe returns
(the typed floor). "in GC" is the share of the CPU spent in Python's garbage collector
during the run (measured with `gc.callbacks`).

What makes the difference:

- **aiohttp underneath on asyncio**, through a small transport of atom_stripe's own.
- **No httpx objects on the hot path**: a plain 2xx answer over atom_stripe's own aiohttp
  transport goes from aiohttp's bytes straight into the model's `validate_json`;
  `httpx.Request` and `httpx.Response` are made only when something needs them (an error,
  `client.request(...)`, a transport of your own, a caller's `http_client`, or respx
  mocking httpx in tests). Deadlines, the body size cap, hooks, stats, spans, errors and
  retries are the same on either path; a guard test (`tests/unit/test_performance_guards.py`)
  fails if the fast path falls back to the slow one.
- **Parameter checks compile each TypedDict's fields once**, on first use, into small
  checkers (the exact types a field takes as they are, Literal values as a set), so a
  nested create costs a few microseconds to check and encode; the hot path runs no
  `import` statement (a guard test counts them).
- **Objects of one type share their set of sent fields**: pydantic gives every object its
  own `__pydantic_fields_set__` (about 2 KB for a Customer: more than half of a parsed
  page); objects that got the same fields share one set, copied back on first assignment.
  Types of fewer than five fields keep their own (such a set fits in the set object, and
  sharing it would cost a call per object).
- **Answers are parsed with the garbage collector paused**: parsing a page makes thousands
  of objects and no cycles, so the collector waits until it ends instead of walking the
  half-built page again and again (a tenth of a list page's CPU); a caller who disabled the
  collector keeps it disabled.
- **At import, what every call needs; the rest on first use.** `from atom_stripe import
  AsyncStripeClient` loads pydantic's model machinery (every answer and event becomes a model:
  a first call should not pay 40 ms for it), while `import atom_stripe` alone, which importing
  any submodule implies (the pytest plugin that every pytest run loads where atom_stripe is
  installed, `atom_stripe.webhooks`), loads no more than the package's names (about 1 ms); the
  models themselves load per object type, aiohttp with the first request on asyncio, and
  backoff with the first retry, the event models with the first event parsed (a receiver that
  only checks signatures, as the local mirror's does, never loads them: 0.4 s). The index of
  models a program loads names the ~175 top-level models; the ~2,400 nested ones are looked up
  in a second index only when one is asked for by name.
- **Auto-pagination fetches the next page while you work on this one** (one page ahead).

## Where the rest goes

- **Typed models cost what pydantic costs.** On a 100-item page most of the CPU is pydantic
  building objects (about 700 model objects for 100 customers); atom_stripe's own work is a
  few percent (compare atom_stripe with aiohttp+pydantic, which has no client at all). Two
  goals pull against each other here: sharing the sets of sent fields costs about a fifth
  of a page's parse and halves its memory (a parsed page is ~4.4x its JSON with sharing,
  ~8.4x without); atom_stripe keeps the memory.
- **Long paginations and the garbage collector.** Every parsed object is tracked by Python's
  cyclic GC, and each full collection walks every tracked object in the process (the
  imported modules, pydantic's schemas, your own data). A long-running service that parses
  many pages can take those out of the collector's walk once it has warmed up:

  ```python
  import gc

  async with AsyncStripeClient(key) as stripe:
      await stripe.customers.list(limit=1)  # warm: imports, schemas, the pool
      gc.freeze()  # everything alive now is left out of future collections
      async for customer in stripe.customers.list(limit=100):
          ...
  ```

  On this machine that cut the CPU of paginating 10,000 customers by 10 to 20% (the full
  collections went from 15-20% of the CPU to under 1%). `gc.freeze()` is process-wide: call
  it once, after start-up, not per request.
- **trio** runs on httpx's own transport (httpcore; aiohttp needs asyncio). httpcore's
  pool looks at every pooled connection, with a `poll()` each, every time a request is
  queued or a connection is released, so its cost per request grows with the number of
  concurrent requests: about 2x the asyncio path at one request in flight, 3.5x at four,
  6-7x at 32 (the table's atom_stripe-trio row). No other maintained HTTP client runs on
  trio today; a program that wants the least CPU runs atom_stripe on asyncio.
- **Cold start** (the table at the end): aiohttp is imported on the first request (75-90 ms
  here, a third of it the two SSL contexts aiohttp builds when imported, each loading the
  system's CA bundle), then pydantic scans every installed package for plugins (5-10 ms in
  a large environment, skipped with `PYDANTIC_DISABLE_PLUGINS=1` if you use no pydantic
  plugin) and builds the first models' schemas. pydantic itself (about 40 ms) is part of
  `import atom_stripe`. stripe-python pays for httpx's SSL context when its client is built.

{table}
"""
    (DOCS / "performance.md").write_text(text + kept_sections(text))


def kept_sections(text: str) -> str:
    """The ``## `` sections of docs/performance.md written by hand or by other benchmarks
    (meter events, the local mirror, the figures the code links to): kept, in their order,
    after this report's own, so that rewriting the report never drops them."""
    path = DOCS / "performance.md"
    old = path.read_text() if path.exists() else ""
    ours = {line for line in text.splitlines() if line.startswith("## ")}
    kept = [
        part for part in re.split(r"(?m)^(?=## )", old) if part.startswith("## ") and part.splitlines()[0] not in ours
    ]
    return "".join("\n" + part.rstrip("\n") + "\n" for part in kept)

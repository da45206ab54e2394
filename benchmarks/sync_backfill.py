"""The local mirror, side by side in one run, against a loopback Stripe (benchmarks/sync_server.py)
that answers after 250 ms and allows 25 requests a second (test mode's limit), 429 beyond:

    .venv/bin/python benchmarks/sync_backfill.py            # 100,000 objects over two years (~12 min)
    .venv/bin/python benchmarks/sync_backfill.py --objects 10000   # a quicker look

1. Backfill of every balance transaction: atom_stripe's ``Mirror.backfill`` (DuckDB file) vs
   the rate limit's bound (objects / 100 / 25 s), vs one ``async for`` over the list, vs
   stripe-python's ``auto_paging_iter`` (dev-only oracle); the atom_stripe clients paced at 24.5
   requests/s (``PACE``). Each in its own process: wall time, requests and 429s the server
   answered, errors that reached the caller, resident memory sampled through the run (at each
   quarter of the objects).
2. Live sync: signed webhooks delivered at 1,000 a second to ``mirror.asgi_app(secret)`` (in
   process, each POST as the ASGI calls an HTTP server makes for it); lag = when the receiver
   answered minus when it was due.
3. ``analytics.revenue`` for a year (monthly) from the mirror vs from the API: the same frame,
   and the time of each.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
YEAR_START = 1_735_689_600  # 2025-01-01 UTC: the second year of the server's history
YEAR = 365 * 86_400
RATE, DELAY, PAGE = 25, 0.25, 100
#: The clients' pace: 2% under the server's limit. The server counts the requests started in any
#: one second, so at exactly 25 a second one request sent a few milliseconds late (the event loop
#: busy) puts 26 in a window and the next is answered 429.
PACE = RATE * 0.98


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Memory:
    """Resident memory at each quarter of the objects, and its peak (sampled every 100 ms)."""

    def __init__(self, total: int) -> None:
        self.total, self.start, self.peak = total, rss_mb(), rss_mb()
        self.quarters: list[float] = []
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, rss_mb())

    def seen(self, count: int) -> None:
        while len(self.quarters) < 4 and count >= self.total * (len(self.quarters) + 1) / 4:
            self.quarters.append(round(rss_mb(), 1))

    def result(self) -> dict[str, Any]:
        self._stop.set()
        return {
            "rss_start_mb": round(self.start, 1),
            "rss_quarters_mb": self.quarters,
            "rss_peak_mb": round(self.peak, 1),
        }


def stats(url: str) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(f"{url}/stats") as answer:
        found: dict[str, int] = json.load(answer)
    return found


def child(kind: str, url: str, total: int, db: str) -> dict[str, Any]:
    import anyio

    result: dict[str, Any] = {"errors": 0}
    memory = Memory(total)
    before = stats(url)
    wall = time.perf_counter()
    if kind == "stripe-python":
        import stripe

        client = stripe.StripeClient("sk_test_bench", base_addresses={"api": url}, max_network_retries=5)
        count = 0
        for _ in client.balance_transactions.list(params={"limit": PAGE}).auto_paging_iter():
            count += 1
            memory.seen(count)
        result["objects"] = count
    else:
        anyio.run(_child, kind, url, db, result, memory)
    result["seconds"] = round(time.perf_counter() - wall, 2)
    after = stats(url)
    result["requests"] = after["answered"] - before["answered"]
    result["throttled_429"] = after["throttled"] - before["throttled"]
    result.update(memory.result())
    return result


async def _child(kind: str, url: str, db: str, result: dict[str, Any], memory: Memory) -> None:
    from atom_stripe import AsyncStripeClient, StripeError, analytics
    from atom_stripe.sync import Mirror, Progress

    async with AsyncStripeClient("sk_test_bench", base_url=url, max_requests_per_second=PACE, max_retries=5) as client:
        try:
            if kind == "mirror":
                async with await Mirror.open(db) as mirror:

                    def progress(now: Progress) -> None:
                        memory.seen(now.objects)

                    done = await mirror.backfill(client, ["balance_transaction"], concurrency=10, on_progress=progress)
                    result["objects"] = done.objects
                    result["pages"] = done.pages
            elif kind == "async-for":
                count = 0
                async for _ in client.balance_transactions.list(limit=PAGE):
                    count += 1
                    memory.seen(count)
                result["objects"] = count
            elif kind in ("revenue-api", "revenue-mirror"):
                if kind == "revenue-api":
                    frame = await analytics.revenue(
                        client, start=YEAR_START, end=YEAR_START + YEAR, freq="M", progress=False
                    )
                else:
                    async with await Mirror.open(db) as mirror:
                        frame = await analytics.revenue(mirror, start=YEAR_START, end=YEAR_START + YEAR, freq="M")
                Path(f"{db}.{kind}.pickle").write_bytes(pickle.dumps(frame))
                result["rows"] = len(frame)
        except StripeError as exc:
            result["errors"] += 1
            result["error"] = repr(exc)


def live(seconds: float, rate: int) -> dict[str, Any]:
    """Webhooks at ``rate`` a second for ``seconds`` into a mirror's ready receiver."""
    import anyio

    from atom_stripe.sync import Mirror
    from atom_stripe.webhooks import generate_test_header

    fixtures = json.loads((ROOT / "tests" / "data" / "stripe-fixtures3.json").read_text())["resources"]
    customer = fixtures["customer"]
    secret = "whsec_bench_live"
    total = int(seconds * rate)
    bodies = []
    now = int(time.time())
    for index in range(total):
        obj = {**customer, "id": f"cus_{index % 500:08d}", "email": f"v{index}@example.com", "created": now - 86_400}
        event = {
            "id": f"evt_{index:012d}",
            "object": "event",
            "type": "customer.updated",
            "created": now + index // rate,
            "livemode": False,
            "api_version": "2026-10-28.endive",
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }
        body = json.dumps(event).encode()
        bodies.append((body, generate_test_header(body, secret)))
    lags: list[float] = []
    statuses: dict[int, int] = {}

    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            async with await Mirror.open(f"{tmp}/live.duckdb") as mirror:
                app = mirror.asgi_app(secret)

                async def post(due: float, body: bytes, header: str) -> None:
                    # The ASGI calls a server makes for one POST (what uvicorn does after parsing it).
                    scope = {
                        "type": "http",
                        "method": "POST",
                        "path": "/",
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"stripe-signature", header.encode()),
                        ],
                    }
                    answer: dict[str, Any] = {}

                    async def receive() -> dict[str, Any]:
                        return {"type": "http.request", "body": body, "more_body": False}

                    async def send(message: MutableMapping[str, Any]) -> None:
                        if message["type"] == "http.response.start":
                            answer["status"] = message["status"]

                    await app(scope, receive, send)
                    lags.append(time.perf_counter() - due)
                    statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1

                start = time.perf_counter()
                async with anyio.create_task_group() as group:
                    for index, (body, header) in enumerate(bodies):
                        due = start + index / rate
                        await anyio.sleep(max(0.0, due - time.perf_counter()))
                        group.start_soon(post, due, body, header)
                elapsed = time.perf_counter() - start
                rows = await mirror.sql("select count(*) as n from stripe.customer")
                events = await mirror.sql("select count(*) as n from stripe.event")
        lags.sort()
        result.update(
            events=total,
            offered_per_s=rate,
            applied_per_s=round(total / elapsed, 1),
            lag_p50_ms=round(lags[len(lags) // 2] * 1000, 1),
            lag_p99_ms=round(lags[int(len(lags) * 0.99)] * 1000, 1),
            lag_max_ms=round(lags[-1] * 1000, 1),
            statuses=statuses,
            customers=int(rows.n[0]),
            events_stored=int(events.n[0]),
        )

    result: dict[str, Any] = {}
    anyio.run(run)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--live-seconds", type=float, default=5.0)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, args.objects, args.db)))
        return
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "sync_server.py"), "--objects", str(args.objects)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    results: dict[str, Any] = {}
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline().split()[1])}"
        with tempfile.TemporaryDirectory() as tmp:
            db = f"{tmp}/mirror.duckdb"
            for kind in ("mirror", "async-for", "stripe-python", "revenue-api", "revenue-mirror"):
                time.sleep(1.1)  # a fresh rate-limit window for each
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        kind,
                        "--url",
                        url,
                        "--objects",
                        str(args.objects),
                        "--db",
                        db,
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if done.returncode:
                    raise SystemExit(f"{kind} failed:\n{done.stderr}")
                results[kind] = json.loads(done.stdout)
                print(kind, results[kind], flush=True)
            api = pickle.loads(Path(f"{db}.revenue-api.pickle").read_bytes())
            local = pickle.loads(Path(f"{db}.revenue-mirror.pickle").read_bytes())
            results["revenue_same_frame"] = bool(api.equals(local))
    finally:
        server.terminate()
        server.wait(timeout=10)
    results["live"] = live(args.live_seconds, 1000)
    report(args.objects, results)


def report(objects: int, results: dict[str, Any]) -> None:
    bound = objects / PAGE / RATE
    print(f"\n{objects:,} balance transactions over two years; {DELAY * 1000:.0f} ms a request, {RATE} requests/s")
    print(
        f"{'backfill':<15} {'objects':>8} {'seconds':>8} {'x bound':>8} {'requests':>9} {'429s':>5} "
        f"{'errors':>6}  RSS MB start / quarters / peak"
    )
    print(f"{'bound':<15} {objects:>8} {bound:>8.1f} {1.0:>8.2f}")
    for kind in ("mirror", "async-for", "stripe-python"):
        found = results[kind]
        print(
            f"{kind:<15} {found.get('objects', 0):>8} {found['seconds']:>8.1f} {found['seconds'] / bound:>8.2f} "
            f"{found['requests']:>9} {found['throttled_429']:>5} {found['errors']:>6}  "
            f"{found['rss_start_mb']} / {found['rss_quarters_mb']} / {found['rss_peak_mb']}"
        )
    speedup = results["async-for"]["seconds"] / results["mirror"]["seconds"]
    print(f"mirror vs one async for: {speedup:.1f}x faster")
    api, local = results["revenue-api"], results["revenue-mirror"]
    print(
        f"revenue, a year monthly: API {api['seconds']:.1f} s ({api['requests']} requests), "
        f"mirror {local['seconds']:.2f} s; same frame: {results['revenue_same_frame']}"
    )
    print(f"live sync: {results['live']}")


if __name__ == "__main__":
    main()

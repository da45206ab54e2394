"""Time and memory of a 10,000-object pull through atom_stripe.analytics, against a loopback server.

    .venv/bin/python benchmarks/analytics_pull.py [--objects 10000] [--rounds 3]

The server (``python -m tests.ledger``: Starlette + uvicorn, its own process) serves synthetic
balance transactions in four currencies, 100 a page. Each measurement runs in a fresh process:
``to_frame`` of every transaction, ``revenue`` (daily, 30 days), and ``atom-stripe export
--format csv``. Reported: wall time, CPU of the client process, peak RSS (``ru_maxrss``) and
its growth over the process after imports, and the DataFrame's own size (``memory_usage(deep=True)``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START, DAYS = 1_772_323_200, 30  # 2026-03-01 UTC, as tests/ledger.synthetic_transactions


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, url: str) -> dict[str, Any]:
    import anyio
    import pandas  # noqa: F401  (imports are not the pull's cost)

    from atom_stripe import AsyncStripeClient, analytics
    from atom_stripe.cli import main

    base = rss_mb()
    result: dict[str, Any] = {}

    async def pull() -> None:
        async with AsyncStripeClient("sk_test_bench", base_url=url) as stripe:
            if kind == "to_frame":
                frame = await analytics.to_frame(stripe.balance_transactions.list(limit=100), progress=False)
                result["rows"] = len(frame)
                result["frame_mb"] = frame.memory_usage(deep=True).sum() / 2**20
            else:
                table = await analytics.revenue(stripe, start=START, end=START + DAYS * 86400, progress=False)
                result["rows"] = len(table)

    wall, cpu = time.perf_counter(), time.process_time()
    if kind == "export_csv":
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "txns.csv"
            devnull = open(os.devnull, "w")  # noqa: SIM115
            sys.stderr, saved = devnull, sys.stderr
            try:
                code = main(["--base-url", url, "export", "balance_transactions", "--out", str(out)])
            finally:
                sys.stderr = saved
                devnull.close()
            assert code == 0
            result["rows"] = sum(1 for _ in out.open()) - 1
            result["file_mb"] = out.stat().st_size / 2**20
    else:
        anyio.run(pull)
    result.update(
        seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
        peak_rss_mb=rss_mb(),
        rss_growth_mb=rss_mb() - base,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url)))
        return
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "STRIPE_API_KEY": "sk_test_bench"}
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger", "--transactions", str(args.objects)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline().split()[1])}"
        runs: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.rounds):
            for kind in ("to_frame", "revenue", "export_csv"):
                done = subprocess.run(
                    [sys.executable, __file__, "--child", kind, "--url", url],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.setdefault(kind, []).append(json.loads(done.stdout))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"{args.objects} balance transactions, 100 a page, medians of {args.rounds} runs")
    print(f"{'pull':<11} {'rows':>6} {'wall s':>7} {'cpu s':>6} {'peak RSS MB':>12} {'RSS growth MB':>14}  other")
    for kind, results in runs.items():
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        other = (
            f"frame {med['frame_mb']:.1f} MB"
            if "frame_mb" in med
            else f"file {med['file_mb']:.1f} MB"
            if "file_mb" in med
            else ""
        )
        print(
            f"{kind:<11} {int(med['rows']):>6} {med['seconds']:>7.2f} {med['cpu_seconds']:>6.2f} "
            f"{med['peak_rss_mb']:>12.0f} {med['rss_growth_mb']:>14.0f}  {other}"
        )


if __name__ == "__main__":
    main()

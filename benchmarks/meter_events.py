"""Meter events at full speed: atom_stripe's stream writer against stripe-python and a raw sender.

A loopback server answering like Stripe's meter events host (tests/meterhost.py: sessions,
batches of at most 100, dedup by identifier) runs in a process of its own; each sender runs
in a fresh process, ``RUNS`` times, and the medians are reported: events per second, CPU
per event (the sender process's own CPU time), and the sender's resident memory sampled
over the run (start, peak, end).

    .venv/bin/python benchmarks/meter_events.py [--events 100000] [--one-by-one 10000] [--runs 3]

Senders: ``writer`` (``client.meter_event_stream_writer()``, defaults), ``stripe_stream``
(stripe-python's ``v2.billing.meter_event_stream.create`` as its docs show: a session, then
batches of 100 with the session token, one request after another), ``stripe_one`` (stripe-python's
``v2.billing.meter_events.create``, one event per request, on the API host; fewer events,
it is slow) and ``raw`` (aiohttp + json, batches of 100 on 4 connections: the floor).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BATCH = 100
CONCURRENCY = 4


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def event(i: int) -> dict[str, Any]:
    return {
        "event_name": "api_call",
        "payload": {"stripe_customer_id": f"cus_{i % 1000}", "value": "1"},
        "identifier": uuid.uuid4().hex,
    }


class Sampler:
    """Resident memory at ten points of the run."""

    def __init__(self, total: int) -> None:
        self.every = max(total // 10, 1)
        self.samples = [rss_mb()]

    def tick(self, i: int) -> None:
        if i % self.every == 0:
            self.samples.append(rss_mb())


async def run_writer(url: str, n: int, sampler: Sampler) -> None:
    from atom_stripe import AsyncStripeClient

    async with (
        AsyncStripeClient("sk_test_bench", base_url=url, meter_events_base_url=url) as stripe,
        stripe.meter_event_stream_writer() as writer,
    ):
        for i in range(n):
            await writer.send(event_name="api_call", payload={"stripe_customer_id": f"cus_{i % 1000}", "value": "1"})
            sampler.tick(i)


async def run_raw(url: str, n: int, sampler: Sampler) -> None:
    import asyncio

    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/v2/billing/meter_event_session", json={}) as answer:
            token = (await answer.json())["authentication_token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        queue: asyncio.Queue[list[dict[str, Any]] | None] = asyncio.Queue(maxsize=CONCURRENCY * 2)

        async def worker() -> None:
            while (batch := await queue.get()) is not None:
                body = json.dumps({"events": batch}).encode()
                async with http.post(f"{url}/v2/billing/meter_event_stream", data=body, headers=headers) as answer:
                    await answer.read()

        workers = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
        batch: list[dict[str, Any]] = []
        for i in range(n):
            batch.append(event(i))
            sampler.tick(i)
            if len(batch) == BATCH:
                await queue.put(batch)
                batch = []
        if batch:
            await queue.put(batch)
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)


def run_stripe_stream(url: str, n: int, sampler: Sampler) -> None:
    import stripe

    client = stripe.StripeClient("sk_test_bench", base_addresses={"api": url, "meter_events": url})
    session = client.v2.billing.meter_event_session.create()
    meter_client = stripe.StripeClient(session.authentication_token, base_addresses={"api": url, "meter_events": url})
    batch: list[Any] = []
    for i in range(n):
        batch.append(event(i))
        sampler.tick(i)
        if len(batch) == BATCH:
            meter_client.v2.billing.meter_event_stream.create({"events": batch})
            batch = []
    if batch:
        meter_client.v2.billing.meter_event_stream.create({"events": batch})


def run_stripe_one(url: str, n: int, sampler: Sampler) -> None:
    import stripe

    client = stripe.StripeClient("sk_test_bench", base_addresses={"api": url, "meter_events": url})
    for i in range(n):
        client.v2.billing.meter_events.create(event(i))  # type: ignore[arg-type]
        sampler.tick(i)


def child(variant: str, url: str, n: int) -> None:
    """One run in this (fresh) process; prints its measurements as JSON."""
    # Imports and start-up are not what is measured: the sending is.
    import aiohttp  # noqa: F401
    import anyio
    import stripe  # noqa: F401

    import atom_stripe  # noqa: F401
    from atom_stripe import _meter_stream  # noqa: F401

    sampler = Sampler(n)
    wall, cpu = time.perf_counter(), time.process_time()
    if variant == "writer":
        anyio.run(run_writer, url, n, sampler)
    elif variant == "raw":
        anyio.run(run_raw, url, n, sampler)
    elif variant == "stripe_stream":
        run_stripe_stream(url, n, sampler)
    else:
        run_stripe_one(url, n, sampler)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sampler.samples.append(rss_mb())
    print(json.dumps({"events_per_s": n / wall, "cpu_us_per_event": cpu / n * 1e6, "rss_mb": sampler.samples}))


def serve() -> None:
    """The meter events host, in this process, until stdin closes."""
    sys.path.insert(0, str(ROOT))
    from tests.meterhost import MeterHost

    host = MeterHost().start()
    print(host.url, flush=True)
    sys.stdin.read()
    print(json.dumps({"events": len(host.events), "received": sum(host.received.values())}), flush=True)
    host.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--one-by-one", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "URL", "N"))
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    plan = [
        ("writer", args.events),
        ("stripe_stream", args.events),
        ("stripe_one", args.one_by_one),
        ("raw", args.events),
    ]
    results: dict[str, dict[str, Any]] = {}
    expected = 0
    try:
        for variant, n in plan:
            runs = []
            for _ in range(args.runs):
                done = subprocess.run(
                    [sys.executable, __file__, "--child", variant, url, str(n)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(done.stdout))
                expected += n
            results[variant] = {
                "events": n,
                "events_per_s": statistics.median(r["events_per_s"] for r in runs),
                "cpu_us_per_event": statistics.median(r["cpu_us_per_event"] for r in runs),
                "rss_mb_start": statistics.median(r["rss_mb"][0] for r in runs),
                "rss_mb_peak": statistics.median(max(r["rss_mb"]) for r in runs),
                "rss_mb_end": statistics.median(r["rss_mb"][-1] for r in runs),
            }
            print(variant, json.dumps(results[variant]), flush=True)
    finally:
        server.stdin.close()
        tally = json.loads(server.stdout.readline() or "{}")
        server.wait(30)
    print(f"host kept {tally.get('events')} of {expected} events sent ({tally.get('received')} received)")
    one, writer, raw = results["stripe_one"], results["writer"], results["raw"]
    print(
        f"writer / stripe-python one-by-one, events/s: {writer['events_per_s'] / one['events_per_s']:.1f}x; "
        f"writer / raw, CPU per event: {writer['cpu_us_per_event'] / raw['cpu_us_per_event']:.2f}x"
    )


if __name__ == "__main__":
    main()

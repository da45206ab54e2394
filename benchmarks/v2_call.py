"""A typed v2 call's CPU, side by side with v1's, against nginx on loopback.

    .venv/bin/python benchmarks/v2_call.py [--rounds 5] [--requests 6000] [--quick]

One nginx (as ``benchmarks/run.py`` starts it) answers v1 (``GET /v1/customers/cus_bench``,
``POST /v1/payment_intents``) and v2 (``GET /v2/core/event_destinations/ed_bench``,
``POST /v2/core/event_destinations``) with Stripe-shaped JSON. Each (client, call) runs in a
fresh process, 32 calls at a time; rounds alternate the clients; the table shows medians of
client CPU per call (``time.process_time``). The clients: atom_stripe (typed: ``client.v2.core.
event_destinations.retrieve/create``), stripe-python's same calls (``retrieve_async`` /
``create_async``), and the floor, raw aiohttp with the body's bytes into ``json.loads`` (v2: a
JSON body ready-made, as run.py's floor sends its form ready-made). The goal (issue 25): each
v2 ratio to the floor within the v1 ratio of the same run.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (benchmarks/run.py: nginx, the site, the worker environment)
import worker  # noqa: E402  (benchmarks/worker.py: the v1 calls, the batch runner)

CLIENTS = ["atom_stripe", "aiohttp+json", "stripe-python"]
CALLS = ["v1 retrieve", "v1 create", "v2 retrieve", "v2 create"]
FLOOR = "aiohttp+json"
CONCURRENCY = 32
V2_CREATE: dict[str, Any] = {
    "name": "usage alerts",
    "type": "webhook_endpoint",
    "event_payload": "thin",
    "enabled_events": ["v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found"],
    "webhook_endpoint": {"url": "https://atom.example/stripe/thin"},
    "metadata": worker.METADATA,
}
V2_CREATE_JSON = json.dumps(V2_CREATE).encode()
DESTINATION = {
    "id": "ed_bench",
    "object": "v2.core.event_destination",
    "created": "2026-11-30T06:20:52.246Z",
    "updated": "2026-11-30T06:20:52.246Z",
    "description": "usage alerts for ATOM",
    "enabled_events": V2_CREATE["enabled_events"],
    "event_payload": "thin",
    "events_from": ["@self"],
    "livemode": False,
    "metadata": worker.METADATA,
    "name": "usage alerts",
    "snapshot_api_version": None,
    "status": "enabled",
    "status_details": None,
    "type": "webhook_endpoint",
    "webhook_endpoint": {"signing_secret": None, "url": "https://atom.example/stripe/thin"},
}


def nginx_conf(workdir: Path, port: int) -> str:
    """run.py's configuration with the two v2 locations added."""
    body = json.dumps(DESTINATION)
    assert "$" not in body and "'" not in body
    v2 = (
        f"        location = /v2/core/event_destinations {{ return 200 '{body}'; }}\n"
        f"        location = /v2/core/event_destinations/ed_bench {{ return 200 '{body}'; }}\n"
    )
    conf = run.nginx_conf(workdir, port)
    anchor = "        location = /v1/payment_intents"
    assert anchor in conf
    return conf.replace(anchor, v2 + anchor, 1)


def start_nginx(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    workdir.chmod(0o755)
    run.build_site(workdir / "www")
    (workdir / "tmp").mkdir()
    port = run.free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_conf(workdir, port))
    proc = subprocess.Popen([run.ensure_nginx(), "-c", str(conf), "-p", str(workdir)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("nginx did not start")


# -- the worker side: one client, one call, in this process --------------------------------

Op = Callable[[], Awaitable[int]]


def v2_ops(client: str, url: str) -> tuple[dict[str, Op], Callable[[], Awaitable[None]]]:
    if client == "atom_stripe":
        from atom_stripe import AsyncStripeClient

        s = AsyncStripeClient(worker.KEY, base_url=url, max_retries=0)
        destinations = s.v2.core.event_destinations

        async def retrieve() -> int:
            await destinations.retrieve("ed_bench")
            return 1

        async def create() -> int:
            await destinations.create(**V2_CREATE)
            return 1

        return {"v2 retrieve": retrieve, "v2 create": create}, s.aclose
    if client == "stripe-python":
        import stripe

        sc = stripe.StripeClient(
            worker.KEY, base_addresses={"api": url}, http_client=stripe.HTTPXClient(), max_network_retries=0
        )
        their = sc.v2.core.event_destinations

        async def retrieve_stripe() -> int:
            await their.retrieve_async("ed_bench")
            return 1

        async def create_stripe() -> int:
            await their.create_async(params=V2_CREATE)  # type: ignore[arg-type]
            return 1

        async def close_stripe() -> None:
            await sc._requestor._client.close_async()  # type: ignore[union-attr]

        return {"v2 retrieve": retrieve_stripe, "v2 create": create_stripe}, close_stripe
    import aiohttp

    session: aiohttp.ClientSession | None = None
    headers = {**worker.HEADERS, "Stripe-Version": "2026-10-28.preview"}
    post_headers = {**headers, "Content-Type": "application/json"}

    def get() -> aiohttp.ClientSession:
        nonlocal session
        if session is None:
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        return session

    async def retrieve_raw() -> int:
        async with get().get(f"{url}/v2/core/event_destinations/ed_bench", headers=headers) as r:
            json.loads(await r.read())
        return 1

    async def create_raw() -> int:
        async with get().post(f"{url}/v2/core/event_destinations", data=V2_CREATE_JSON, headers=post_headers) as r:
            json.loads(await r.read())
        return 1

    async def close_raw() -> None:
        if session is not None:
            await session.close()

    return {"v2 retrieve": retrieve_raw, "v2 create": create_raw}, close_raw


async def measure(client: str, call: str, url: str, requests: int) -> dict[str, Any]:
    if call.startswith("v1 "):
        ops, close = worker.make(client, url)
        op = ops[call.removeprefix("v1 ")]
    else:
        ops, close = v2_ops(client, url)
        op = ops[call]
    await worker.batch(op, CONCURRENCY * 2, CONCURRENCY)  # warm: schemas, pools, imports
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await worker.batch(op, requests, CONCURRENCY)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await close()
    return {"client": client, "call": call, "cpu_ms": cpu / requests * 1000, "rps": requests / wall}


def run_one(client: str, call: str, url: str, requests: int) -> dict[str, Any]:
    command = [run.PYTHON, str(Path(__file__)), "--worker", client, call, url, "--requests", str(requests)]
    out = subprocess.run(command, capture_output=True, text=True, check=False, env=run.WORKER_ENV)
    if out.returncode != 0:
        raise SystemExit(f"{client} {call} failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def table(samples: dict[tuple[str, str], list[dict[str, Any]]]) -> str:
    cpu = {key: statistics.median(r["cpu_ms"] for r in rows) for key, rows in samples.items()}
    rps = {key: statistics.median(r["rps"] for r in rows) for key, rows in samples.items()}
    lines = ["| call | client | CPU ms per call | vs aiohttp+json | calls/s |", "|---|---|---:|---:|---:|"]
    for call in CALLS:
        for client in CLIENTS:
            if (client, call) in cpu:
                ratio = cpu[(client, call)] / cpu[(FLOOR, call)]
                row = f"| {call} | {client} | {cpu[(client, call)]:.3f} | {ratio:.2f}x | {rps[(client, call)]:.0f} |"
                lines.append(row)
    lines += ["", "| goal | v1 (this run) | v2 (this run) | within |", "|---|---:|---:|---|"]
    for kind in ("retrieve", "create"):
        v1 = cpu[("atom_stripe", f"v1 {kind}")] / cpu[(FLOOR, f"v1 {kind}")]
        v2 = cpu[("atom_stripe", f"v2 {kind}")] / cpu[(FLOOR, f"v2 {kind}")]
        within = "yes" if v2 <= v1 * 1.05 else "no"
        lines.append(f"| atom_stripe {kind} CPU vs aiohttp+json | {v1:.2f}x | {v2:.2f}x | {within} |")
    for kind in ("retrieve", "create"):
        theirs = cpu[("stripe-python", f"v2 {kind}")] / cpu[("atom_stripe", f"v2 {kind}")]
        lines.append(f"| stripe-python v2 {kind} CPU vs atom_stripe | | {theirs:.1f}x | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds, for a smoke run")
    parser.add_argument("--worker", nargs=3, metavar=("CLIENT", "CALL", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import anyio

        client, call, url = args.worker
        print(json.dumps(anyio.run(measure, client, call, url, args.requests)))
        return
    rounds, requests = (1, 600) if args.quick else (args.rounds, args.requests)
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_nginx(Path(tmp))
        try:
            for round_no in range(rounds):
                order = CLIENTS[round_no % len(CLIENTS) :] + CLIENTS[: round_no % len(CLIENTS)]
                for call in CALLS:
                    for client in order:
                        # stripe-python is ten times slower: a quarter of the calls keeps its runs short.
                        n = requests // 4 if client == "stripe-python" else requests
                        result = run_one(client, call, url, n)
                        samples.setdefault((client, call), []).append(result)
                        print(f"round {round_no + 1} {call} {client}: {result['cpu_ms']:.3f} ms", file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait()
    print(table(samples))


if __name__ == "__main__":
    main()

"""One benchmark run: one client, one operation, in a process of its own. Prints one JSON line.

    python benchmarks/worker.py CLIENT OP URL [--requests N] [--concurrency C]

CLIENT: atom_stripe, atom_stripe-trio, atom_stripe-hooks, httpx, httpx-aiohttp, aiohttp, aiohttp+json,
        aiohttp+pydantic, stripe-python
OP:     retrieve, create, list100, paginate10k, soak (peak RSS by tenths), pagemem (a parsed page's memory)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

KEY = "sk_test_benchmark"
HEADERS = {"Authorization": f"Bearer {KEY}", "Stripe-Version": "2026-10-28.endive"}
METADATA = {"order_id": "6735", "cart": "c_42", "atom_user": "u_1", "channel": "web"}
CREATE = {
    "amount": 2000,
    "currency": "usd",
    "capture_method": "manual",
    "metadata": METADATA,
    "payment_method_options": {"card": {"request_three_d_secure": "any"}},
}
CREATE_FORM = urlencode(
    [("amount", "2000"), ("currency", "usd"), ("capture_method", "manual")]
    + [(f"metadata[{k}]", v) for k, v in METADATA.items()]
    + [("payment_method_options[card][request_three_d_secure]", "any")]
)
FORM_HEADERS = {**HEADERS, "Content-Type": "application/x-www-form-urlencoded"}

Op = Callable[[], Awaitable[int]]  # one unit of work; returns how many objects it produced


def atom_ops(url: str, hooks: bool = False) -> tuple[dict[str, Op], Callable[[], Awaitable[None]]]:
    from atom_stripe import AsyncStripeClient

    s = AsyncStripeClient(KEY, base_url=url, max_retries=0)
    if hooks:  # one hook of each kind, doing what a metrics hook does: count by endpoint
        counts: dict[tuple[str, str], int] = {}

        def count(record: Any) -> None:
            key = (record.method, record.path)
            counts[key] = counts.get(key, 0) + 1

        for name in ("on_request", "on_retry", "on_response", "on_error"):
            s.add_hook(name, count)

    async def retrieve() -> int:
        await s.customers.retrieve("cus_bench")
        return 1

    async def create() -> int:
        await s.payments.create(**CREATE)  # type: ignore[arg-type]
        return 1

    async def list100() -> int:
        page = await s.customers.list(limit=100)
        return len(page.data)

    async def paginate() -> int:
        n = 0
        async for _ in s.customers.list(limit=100):
            n += 1
        return n

    return {"retrieve": retrieve, "create": create, "list100": list100, "paginate10k": paginate}, s.aclose


def httpx_ops(url: str, transport: Any = None) -> tuple[dict[str, Op], Callable[[], Awaitable[None]]]:
    import httpx

    c = httpx.AsyncClient(transport=transport, limits=httpx.Limits(max_connections=100))

    async def retrieve() -> int:
        (await c.get(f"{url}/v1/customers/cus_bench", headers=HEADERS)).json()
        return 1

    async def create() -> int:
        (await c.post(f"{url}/v1/payment_intents", content=CREATE_FORM, headers=FORM_HEADERS)).json()
        return 1

    async def list100() -> int:
        return len((await c.get(f"{url}/v1/customers", params={"limit": 100}, headers=HEADERS)).json()["data"])

    async def paginate() -> int:
        n, params = 0, {"limit": "100"}
        while True:
            page = (await c.get(f"{url}/v1/customers", params=params, headers=HEADERS)).json()
            n += len(page["data"])
            if not page["has_more"]:
                return n
            params = {"limit": "100", "starting_after": page["data"][-1]["id"]}

    return {"retrieve": retrieve, "create": create, "list100": list100, "paginate10k": paginate}, c.aclose


def aiohttp_ops(url: str, parse: str = "aiohttp") -> tuple[dict[str, Op], Callable[[], Awaitable[None]]]:
    """Raw aiohttp: the floor. ``parse``: ``aiohttp`` (``response.json()``), ``json`` (the body's
    bytes into ``json.loads``), or ``pydantic`` (the typed floor: the bytes straight into
    atom_stripe's own models' ``validate_json``, no client around them)."""
    import aiohttp

    decode: dict[str, Callable[[bytes], Any]] = {}
    if parse == "json":
        decode = dict.fromkeys(("customer", "intent", "page"), json.loads)
    elif parse == "pydantic":
        from pydantic import TypeAdapter

        from atom_stripe.models import Customer, Page, PaymentIntent

        decode = {
            "customer": TypeAdapter(Customer).validate_json,
            "intent": TypeAdapter(PaymentIntent).validate_json,
            "page": TypeAdapter(Page[Customer]).validate_json,
        }

    session: aiohttp.ClientSession | None = None

    def get() -> aiohttp.ClientSession:
        nonlocal session
        if session is None:
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        return session

    async def body(r: aiohttp.ClientResponse, kind: str) -> Any:
        if not decode:
            return await r.json()
        return decode[kind](await r.read())

    def items(page: Any) -> list[Any]:
        return page["data"] if isinstance(page, dict) else page.data  # type: ignore[no-any-return]

    def last_id(page: Any) -> str:
        last = items(page)[-1]
        return last["id"] if isinstance(last, dict) else last.id  # type: ignore[no-any-return]

    async def retrieve() -> int:
        async with get().get(f"{url}/v1/customers/cus_bench", headers=HEADERS) as r:
            await body(r, "customer")
        return 1

    async def create() -> int:
        async with get().post(f"{url}/v1/payment_intents", data=CREATE_FORM, headers=FORM_HEADERS) as r:
            await body(r, "intent")
        return 1

    async def list100() -> int:
        async with get().get(f"{url}/v1/customers", params={"limit": "100"}, headers=HEADERS) as r:
            return len(items(await body(r, "page")))

    async def paginate() -> int:
        n, params = 0, {"limit": "100"}
        while True:
            async with get().get(f"{url}/v1/customers", params=params, headers=HEADERS) as r:
                page = await body(r, "page")
            n += len(items(page))
            if not (page["has_more"] if isinstance(page, dict) else page.has_more):
                return n
            params = {"limit": "100", "starting_after": last_id(page)}

    async def close() -> None:
        if session is not None:
            await session.close()

    return {"retrieve": retrieve, "create": create, "list100": list100, "paginate10k": paginate}, close


def stripe_ops(url: str) -> tuple[dict[str, Op], Callable[[], Awaitable[None]]]:
    import stripe

    client = stripe.StripeClient(
        KEY, base_addresses={"api": url}, http_client=stripe.HTTPXClient(), max_network_retries=0
    )
    v1 = client.v1

    async def retrieve() -> int:
        await v1.customers.retrieve_async("cus_bench")
        return 1

    async def create() -> int:
        await v1.payment_intents.create_async(params=CREATE)  # type: ignore[arg-type]
        return 1

    async def list100() -> int:
        page = await v1.customers.list_async(params={"limit": 100})
        return len(list(page.data))

    async def paginate() -> int:
        n = 0
        page = await v1.customers.list_async(params={"limit": 100})
        async for _ in page.auto_paging_iter():
            n += 1
        return n

    async def close() -> None:
        await client._requestor._client.close_async()  # type: ignore[union-attr]

    return {"retrieve": retrieve, "create": create, "list100": list100, "paginate10k": paginate}, close


def make(client: str, url: str) -> tuple[dict[str, Op], Callable[[], Awaitable[None]]]:
    if client in ("atom_stripe", "atom_stripe-trio", "atom_stripe-hooks"):
        return atom_ops(url, hooks=client == "atom_stripe-hooks")
    if client == "httpx":
        return httpx_ops(url)
    if client == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return httpx_ops(url, AiohttpTransport())
    if client == "aiohttp":
        return aiohttp_ops(url)
    if client in ("aiohttp+json", "aiohttp+pydantic"):
        return aiohttp_ops(url, client.partition("+")[2])
    if client == "stripe-python":
        return stripe_ops(url)
    raise SystemExit(f"unknown client {client}")


async def page_memory(client: str, url: str) -> dict[str, Any]:
    """What one parsed 100-item list page keeps in memory (tracemalloc, after a warm-up
    page), against the size of its JSON."""
    import gc
    import tracemalloc
    import urllib.request

    request = urllib.request.Request(f"{url}/v1/customers?limit=100", headers=HEADERS)
    with urllib.request.urlopen(request) as answer:
        json_bytes = len(answer.read())
    fetch, close = _page_getter(client, url)
    pages = [await fetch()]  # warm: schemas, pools, caches
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    pages.append(await fetch())
    gc.collect()
    parsed = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    await close()
    return {
        "client": client,
        "op": "pagemem",
        "json_bytes": json_bytes,
        "parsed_bytes": parsed,
        "ratio": parsed / json_bytes,
    }


def _page_getter(client: str, url: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    if client == "stripe-python":
        import stripe

        sc = stripe.StripeClient(
            KEY, base_addresses={"api": url}, http_client=stripe.HTTPXClient(), max_network_retries=0
        )

        async def fetch_stripe() -> Any:
            return await sc.v1.customers.list_async(params={"limit": 100})

        async def close_stripe() -> None:
            await sc._requestor._client.close_async()  # type: ignore[union-attr]

        return fetch_stripe, close_stripe
    from atom_stripe import AsyncStripeClient

    s = AsyncStripeClient(KEY, base_url=url, max_retries=0)

    async def fetch() -> Any:
        return await s.customers.list(limit=100)

    return fetch, s.aclose


async def soak(client: str, url: str, requests: int, concurrency: int) -> dict[str, Any]:
    """Peak memory after each tenth of ``requests`` retrieves: it should stop growing."""
    ops, close = make(client, url)
    samples = []
    for _ in range(10):
        await batch(ops["retrieve"], requests // 10, concurrency)
        samples.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    await close()
    return {"client": client, "op": "soak", "requests": requests, "rss_mb": samples}


async def batch(op: Op, n: int, concurrency: int) -> int:
    """Run ``op`` ``n`` times, ``concurrency`` at a time: that many workers, each taking the
    next run when its last one is done (as a service with a bounded number of calls in
    flight does; not ``n`` tasks waiting on a semaphore, which would put thousands of idle
    tasks on the heap for the garbage collector to walk)."""
    import anyio

    produced = 0
    left = n

    async def worker() -> None:
        nonlocal produced, left
        while left > 0:
            left -= 1
            produced += await op()

    async with anyio.create_task_group() as tg:
        for _ in range(min(concurrency, n)):
            tg.start_soon(worker)
    return produced


async def run(client: str, op_name: str, url: str, requests: int, concurrency: int) -> dict[str, Any]:
    if op_name == "soak":
        return await soak(client, url, requests, concurrency)
    if op_name == "pagemem":
        return await page_memory(client, url)
    import gc

    ops, close = make(client, url)
    op = ops[op_name]
    warmup = max(concurrency * 2, 20) if op_name != "paginate10k" else 1

    await batch(op, warmup, concurrency)
    in_gc = [0.0, 0.0]  # CPU seconds in the garbage collector; when the current collection started

    def gc_clock(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            in_gc[1] = time.process_time()
        else:
            in_gc[0] += time.process_time() - in_gc[1]

    gc.callbacks.append(gc_clock)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    produced = await batch(op, requests, concurrency)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    gc.callbacks.remove(gc_clock)
    await close()
    return {
        "client": client,
        "op": op_name,
        "requests": requests,
        "objects": produced,
        "cpu_ms_per_request": cpu / requests * 1000,
        "gc_share": in_gc[0] / cpu if cpu else 0.0,
        "requests_per_second": requests / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("client")
    parser.add_argument("op")
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    import anyio

    backend = "trio" if args.client.endswith("-trio") else "asyncio"
    result = anyio.run(run, args.client, args.op, args.url, args.requests, args.concurrency, backend=backend)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()

"""Does auto-pagination overlap the next page's fetch with the caller's work?

A server that takes 50 ms per page, a consumer that spends 50 ms per page, 20 pages:
serially that is 20 x 100 ms; with the next page fetched during the caller's work it
should take about 20 x 50 ms + one fetch. Also counts how far ahead the fetching runs.

    .venv/bin/python benchmarks/overlap.py
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGES, PAGE_SIZE, DELAY = 20, 100, 0.05


class SlowPages:
    def __init__(self) -> None:
        self.served = 0
        self.consumed = 0
        self.max_ahead = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    def start(self) -> SlowPages:
        self.thread.start()
        server = asyncio.run_coroutine_threadsafe(asyncio.start_server(self.serve, "127.0.0.1", 0), self.loop).result()
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return self

    def stop(self) -> None:
        async def cancel_all() -> None:
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                target = head.split(" ", 2)[1]
                after = parse_qs(urlsplit(target).query).get("starting_after", [""])[0]
                page = 0 if not after else int(after.removeprefix("cus_")) // PAGE_SIZE + 1
                await asyncio.sleep(DELAY)
                self.served += 1
                self.max_ahead = max(self.max_ahead, self.served - self.consumed)
                body = json.dumps(
                    {
                        "object": "list",
                        "url": "/v1/customers",
                        "has_more": page < PAGES - 1,
                        "data": [{"id": f"cus_{page * PAGE_SIZE + i}", "object": "customer"} for i in range(PAGE_SIZE)],
                    }
                ).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()


async def consume(url: str, server: SlowPages, *, serial: bool) -> float:
    import anyio

    from atom_stripe import AsyncStripeClient

    async with AsyncStripeClient("sk_test_overlap", base_url=url) as stripe:
        started = time.perf_counter()
        if serial:
            async for page in stripe.customers.list(limit=PAGE_SIZE).pages():
                server.consumed += 1
                await anyio.sleep(DELAY)
                assert page.data
        else:
            count = 0
            async for _ in stripe.customers.list(limit=PAGE_SIZE):
                if count % PAGE_SIZE == 0:
                    server.consumed += 1
                    await anyio.sleep(DELAY)
                count += 1
            assert count == PAGES * PAGE_SIZE
        return time.perf_counter() - started


def measure(backend: str = "asyncio") -> dict[str, Any]:
    import anyio

    results: dict[str, Any] = {}
    for serial in (True, False):
        server = SlowPages().start()
        try:
            elapsed = anyio.run(partial(consume, server.url, server, serial=serial), backend=backend)
        finally:
            server.stop()
        results["serial_s" if serial else "atom_s"] = elapsed
        if not serial:
            results["max_ahead"] = server.max_ahead
    results["ratio"] = results["atom_s"] / results["serial_s"]
    return results


if __name__ == "__main__":
    for backend in ("asyncio", "trio"):
        print(backend, measure(backend))

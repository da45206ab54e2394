"""The loopback Stripe of ``benchmarks/sync_backfill.py``: ``/v1/balance_transactions`` over
``--objects`` realistic objects (Stripe's example from tests/data/stripe-fixtures3.json) spread
evenly over two years, 100 a page at most, newest first, ``created[gte|gt|lt|lte]`` and
``starting_after`` as Stripe reads them. Every answer comes after ``--delay`` seconds; more than
``--rate`` requests started within one second are answered 429 at once, as Stripe's rate limiter
does. ``GET /stats`` counts both.

    python benchmarks/sync_server.py --objects 100000   # prints "port <n>" once listening
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import json
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
START = 1_704_067_200  # 2024-01-01 UTC: two years of history end at 2026-01-01
SPAN = 2 * 365 * 86_400
TYPES = ("charge",) * 8 + ("refund", "payout")


def objects(count: int) -> tuple[list[int], list[dict[str, Any]]]:
    """``count`` balance transactions, oldest first, and their ``created`` times."""
    fixtures = json.loads((ROOT / "tests" / "data" / "stripe-fixtures3.json").read_text())["resources"]
    template = fixtures["balance_transaction"]
    created = [START + index * SPAN // count for index in range(count)]
    found = []
    for index, when in enumerate(created):
        kind = TYPES[index % len(TYPES)]
        amount = 1000 + index % 9000
        amount = -amount if kind in ("refund", "payout") else amount
        fee = 30 + amount * 29 // 1000 if kind == "charge" else 0
        found.append(
            {
                **template,
                "id": f"txn_{index:012d}",
                "created": when,
                "available_on": when + 2 * 86_400,
                "amount": amount,
                "fee": fee,
                "net": amount - fee,
                "currency": "usd" if index % 4 else "eur",
                "type": kind,
                "reporting_category": kind,
            }
        )
    return created, found


class Server:
    def __init__(self, count: int, delay: float, rate: int) -> None:
        self.created, self.objects = objects(count)
        self.delay, self.rate = delay, rate
        self.started: collections.deque[float] = collections.deque()
        self.answered = 0
        self.throttled = 0

    def page(self, query: dict[str, str]) -> dict[str, Any]:
        low, high = 0, len(self.created)
        for key, value in query.items():
            if not key.startswith("created["):
                continue
            when = int(value)
            if key == "created[gte]":
                low = max(low, bisect.bisect_left(self.created, when))
            elif key == "created[gt]":
                low = max(low, bisect.bisect_right(self.created, when))
            elif key == "created[lt]":
                high = min(high, bisect.bisect_left(self.created, when))
            elif key == "created[lte]":
                high = min(high, bisect.bisect_right(self.created, when))
        if "starting_after" in query:
            high = min(high, int(query["starting_after"].removeprefix("txn_")))
        limit = int(query.get("limit", 10))
        chosen = range(high - 1, max(low, high - limit) - 1, -1)
        return {
            "object": "list",
            "url": "/v1/balance_transactions",
            "has_more": high - limit > low,
            "data": [self.objects[index] for index in chosen],
        }

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line = head.split(b"\r\n", 1)[0].decode()
                _, target, _ = request_line.split(" ", 2)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                path, _, raw = target.partition("?")
                status, body = await self.answer(path, dict(parse_qsl(raw)))
                data = json.dumps(body, separators=(",", ":")).encode()
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Too Many Requests'}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                    f"Request-Id: req_bench\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/stats":
            return 200, {"answered": self.answered, "throttled": self.throttled}
        now = time.monotonic()
        while self.started and self.started[0] <= now - 1:
            self.started.popleft()
        if len(self.started) >= self.rate:
            self.throttled += 1
            message = "Too many requests hit the API too quickly."
            return 429, {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": message}}
        self.started.append(now)
        await asyncio.sleep(self.delay)
        self.answered += 1
        if path != "/v1/balance_transactions":
            return 404, {"error": {"type": "invalid_request_error", "message": f"no such path {path}"}}
        return 200, self.page(query)


async def serve(count: int, delay: float, rate: int) -> None:
    server = Server(count, delay, rate)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    listening = await asyncio.start_server(server.handle, sock=sock, backlog=512)
    print(f"port {sock.getsockname()[1]}", flush=True)
    async with listening:
        await listening.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--delay", type=float, default=0.25)
    parser.add_argument("--rate", type=int, default=25)
    args = parser.parse_args()
    asyncio.run(serve(args.objects, args.delay, args.rate))


if __name__ == "__main__":
    main()

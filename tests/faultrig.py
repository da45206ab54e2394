"""A loopback server that speaks Stripe's wire format and misbehaves on command.

It serves ``POST /v1/customers`` (create) and ``GET /v1/customers/{id}``, honours
``Idempotency-Key`` as Stripe does (a key whose call executed replays its stored
answer), and keeps a ledger per key of attempts and of objects really created.
Faults are taken from a script (``rig.script(...)``), or drawn at random for load
runs. It runs on its own asyncio loop in a thread, so asyncio and trio tests alike
talk to it over real sockets.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

#: Faults that happen before Stripe executes anything (nothing is created, nothing stored).
BEFORE = {"500", "500_no_retry", "400_retry", "503_retry", "drop_before", "429", "409_lock", "html_502"}
#: Answers that misbehave at the byte level (before anything is created): a body that drips one
#: byte a second, ``102 Processing`` lines a second forever, a body labelled gzip that is not,
#: 200 MiB of body (with a length, or chunked), and 1 MiB of gzip that inflates to 1 GiB.
BYTES = {"drip", "processing", "bad_gzip", "huge", "huge_chunked", "bomb"}
HUGE = 200 * 1024 * 1024
#: Faults that happen after the object was created (the answer is stored under the key).
AFTER = {"drop_after", "slow", "truncated", "stall"}
TRANSIENT = ["500", "drop_before", "drop_after", "429", "409_lock", "truncated", "503_retry"]


@dataclass
class Entry:
    """What the rig saw for one idempotency key."""

    attempts: int = 0
    created: list[str] = field(default_factory=list)
    stored: bytes | None = None


class FaultRig:
    def __init__(self, *, slow_seconds: float = 2.0, rate_limit: int | None = None) -> None:
        self.slow_seconds = slow_seconds
        # Above ``rate_limit`` requests a second, answer 429: a token bucket of that size that
        # refills at that rate, the kind of limiter Stripe describes running.
        self.rate_limit = rate_limit
        self.tokens = float(rate_limit or 0)
        self.refilled = time.monotonic()
        self.random_rate = 0.0
        self.rng = random.Random(1234)
        self.faults: deque[str] = deque()
        self.ledger: dict[str, Entry] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.rate_limited = 0
        self.objects = 0
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.writers: set[asyncio.StreamWriter] = set()
        self.url = ""

    # -- control ----------------------------------------------------------------------

    def start(self) -> FaultRig:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._serve, "127.0.0.1", 0), self.loop)
        self.server = future.result(10)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self.server is not None
            self.server.close()
            for writer in list(self.writers):
                writer.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def script(self, *faults: str) -> None:
        """The next requests get these faults, in order ("ok" for a normal answer)."""
        with self.lock:
            self.faults.extend(faults)

    def keys(self) -> list[str]:
        """The idempotency key of every request, in arrival order (None for GETs)."""
        return [headers.get("idempotency-key", "") for _, _, headers in self.requests]

    def duplicates(self) -> int:
        """Objects created beyond the first for any key: must always be 0."""
        return sum(max(0, len(e.created) - 1) for e in self.ledger.values())

    # -- serving ----------------------------------------------------------------------

    def _next_fault(self, method: str) -> str:
        with self.lock:
            if self.faults:
                return self.faults.popleft()
            if self.rate_limit is not None:
                now = time.monotonic()
                self.tokens = min(self.rate_limit, self.tokens + (now - self.refilled) * self.rate_limit)
                self.refilled = now
                if self.tokens < 1:
                    self.rate_limited += 1
                    return "429_now"
                self.tokens -= 1
            if self.random_rate and self.rng.random() < self.random_rate:
                kinds = TRANSIENT if method == "POST" else [k for k in TRANSIENT if k in BEFORE]
                return self.rng.choice(kinds)
            return "ok"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                fault = self._next_fault(method)
                with self.lock:
                    self.requests.append((method, path, headers))
                    if "idempotency-key" in headers:
                        self.ledger.setdefault(headers["idempotency-key"], Entry()).attempts += 1
                if fault == "drop_before":
                    break
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                keep = await self._answer(writer, method, path, headers, body, fault)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def _answer(
        self, writer: asyncio.StreamWriter, method: str, path: str, headers: dict[str, str], body: bytes, fault: str
    ) -> bool:
        key = headers.get("idempotency-key")
        entry = self.ledger.get(key) if key is not None else None
        if fault in ("429", "429_now"):
            extra = {"Retry-After": "1"} if fault == "429" else {}
            return self._send(writer, 429, error("rate_limit", "Too many requests"), extra)
        if fault == "409_lock":
            return self._send(writer, 409, error("lock_timeout", "Object locked"))
        if fault == "500":
            return self._send(writer, 500, error("api_error", "Internal error", "api_error"))
        if fault == "500_no_retry":
            return self._send(
                writer, 500, error("api_error", "Do not retry", "api_error"), {"Stripe-Should-Retry": "false"}
            )
        if fault == "503_retry":
            return self._send(writer, 503, error("api_error", "Busy", "api_error"), {"Stripe-Should-Retry": "true"})
        if fault == "400_retry":
            return self._send(writer, 400, error("parameter_invalid", "Try again"), {"Stripe-Should-Retry": "true"})
        if fault in BYTES:
            await self._misbehave(writer, fault)
            return False
        if fault == "html_502":
            html = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            return self._send_raw(writer, 502, html, "text/html")
        if method == "GET":
            cid = path.rsplit("/", 1)[-1].split("?")[0]
            return self._send(writer, 200, customer(cid))
        # A create: replay what is stored under the key, or execute once.
        replayed = False
        with self.lock:
            if entry is not None and entry.stored is not None:
                payload, replayed = entry.stored, True
            else:
                self.objects += 1
                cid = f"cus_rig{self.objects}"
                payload = json.dumps(customer(cid)).encode()
                if entry is not None:
                    entry.created.append(cid)
                    entry.stored = payload
        extra = {"Idempotent-Replayed": "true"} if replayed else {}
        if fault == "drop_after":
            return False
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        if fault == "truncated":
            return self._send_raw(writer, 200, payload[: len(payload) // 2], "application/json", extra)
        if fault == "stall":
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            writer.write(head.encode() + payload[:10])
            await asyncio.sleep(3600)
            return False
        return self._send_raw(writer, 200, payload, "application/json", extra)

    async def _misbehave(self, writer: asyncio.StreamWriter, fault: str) -> None:
        payload = json.dumps(customer("cus_odd")).encode()
        ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if fault == "drip":
            writer.write(f"{ok}Content-Length: {len(payload)}\r\n\r\n".encode())
            for byte in payload:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(1)
        elif fault == "processing":
            while True:
                writer.write(b"HTTP/1.1 102 Processing\r\n\r\n")
                await writer.drain()
                await asyncio.sleep(1)
        elif fault == "bad_gzip":
            self._send_raw(writer, 200, payload, "application/json", {"Content-Encoding": "gzip"})
        elif fault == "bomb":
            body = gzip_bomb()
            writer.write(f"{ok}Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n".encode())
            await self._stream(writer, [body[i : i + 65536] for i in range(0, len(body), 65536)])
        else:
            chunked = fault == "huge_chunked"
            framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
            writer.write(f"{ok}{framing}\r\n\r\n".encode())
            block = b" " * 65536
            if chunked:
                block = b"10000\r\n" + block + b"\r\n"
            await self._stream(writer, (block for _ in range(HUGE // 65536)))
            if chunked:
                writer.write(b"0\r\n\r\n")
        await writer.drain()

    @staticmethod
    async def _stream(writer: asyncio.StreamWriter, blocks: Any) -> None:
        """Write blocks as fast as the client reads them (never buffering ahead of it)."""
        for block in blocks:
            writer.write(block)
            await writer.drain()

    def _send(self, writer: asyncio.StreamWriter, status: int, obj: Any, extra: dict[str, str] | None = None) -> bool:
        return self._send_raw(writer, status, json.dumps(obj).encode(), "application/json", extra)

    def _send_raw(
        self, writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> bool:
        with self.lock:
            rid = f"req_rig{len(self.requests)}"
        lines = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}", f"Content-Length: {len(body)}", f"Request-Id: {rid}"]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return True


_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """1 MiB or so of gzip that inflates to 1 GiB of zeros (made once)."""
    if not _BOMB:
        import zlib

        packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        zeros = bytes(1024 * 1024)
        _BOMB.append(b"".join([*(packer.compress(zeros) for _ in range(1024)), packer.flush()]))
    return _BOMB[0]


def error(code: str, message: str, type_: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"type": type_, "code": code, "message": message}}


def customer(cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "customer",
        "created": 1_800_000_000,
        "livemode": False,
        "email": "rig@example.com",
        "metadata": {},
    }

"""A loopback server that answers like Stripe's meter event endpoints and meter events host.

``POST /v2/billing/meter_event_session`` hands out a token (valid ``token_lifetime`` seconds);
``POST /v2/billing/meter_events`` takes one event (the API host's plain path) and
``POST /v2/billing/meter_event_stream`` takes up to ``batch_limit`` events with a live token,
answers 401 ``billing_meter_event_session_expired`` for an expired one, and deduplicates by
``identifier`` as Stripe does. Faults are scripted (``host.faults.append(...)``): ``"429"``,
``"500"``, ``"drop"`` (the batch is recorded, then the connection is closed unanswered) and
``"expire"`` (every token issued so far expires now). It runs on its own asyncio loop in a
thread, so asyncio and trio clients alike talk to it over real sockets.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter, deque
from datetime import datetime, timezone
from typing import Any

from aiohttp import web


class MeterHost:
    def __init__(self, *, batch_limit: int = 100, delay: float = 0.0, token_lifetime: float = 900.0) -> None:
        self.batch_limit = batch_limit
        self.delay = delay
        self.token_lifetime = token_lifetime
        self.faults: deque[str] = deque()
        #: Every identifier received, with how many times (resends included).
        self.received: Counter[str] = Counter()
        #: The events kept after deduplication by identifier, in arrival order.
        self.events: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}
        self.sessions = 0
        self.batches = 0
        self.largest_batch = 0
        self.session_headers: list[dict[str, str]] = []
        self.loop = asyncio.new_event_loop()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> MeterHost:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v2/billing/meter_event_session", self._session)
        app.router.add_post("/v2/billing/meter_event_stream", self._stream)
        app.router.add_post("/v2/billing/meter_events", self._one)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def _session(self, request: web.Request) -> web.Response:
        self.sessions += 1
        self.session_headers.append(dict(request.headers))
        token = f"mes_tok_{self.sessions}"
        expires = time.time() + self.token_lifetime
        self.tokens[token] = expires
        body = {
            "id": f"mes_{self.sessions}",
            "object": "v2.billing.meter_event_session",
            "authentication_token": token,
            "created": _rfc3339(time.time()),
            "expires_at": _rfc3339(expires),
            "livemode": False,
        }
        return web.json_response(body)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        fault = self.faults.popleft() if self.faults else None
        if fault == "expire":
            self.tokens = dict.fromkeys(self.tokens, 0.0)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, 0.0) <= time.time():
            error = {"type": "invalid_request_error", "code": "billing_meter_event_session_expired"}
            return web.json_response({"error": {**error, "message": "The session expired."}}, status=401)
        if fault in ("429", "500"):
            return web.json_response({"error": {"type": "api_error", "message": fault}}, status=int(fault))
        events = (await request.json())["events"]
        if len(events) > self.batch_limit:
            error = {"type": "invalid_request_error", "message": f"At most {self.batch_limit} events."}
            return web.json_response({"error": error}, status=400)
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(events))
        for event in events:
            self.received[event["identifier"]] += 1
            self.events.setdefault(event["identifier"], event)
        if fault == "drop":
            assert request.transport is not None
            request.transport.close()
        return web.Response(body=b"{}", content_type="application/json")

    async def _one(self, request: web.Request) -> web.Response:
        """``POST /v2/billing/meter_events`` on the API host: one event per request (stripe-python's plain path)."""
        event = await request.json()
        identifier = event.get("identifier") or f"gen_{len(self.received)}"
        self.received[identifier] += 1
        self.events.setdefault(identifier, event)
        return web.json_response(
            {**event, "object": "v2.billing.meter_event", "identifier": identifier, "livemode": False}
        )


def _rfc3339(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

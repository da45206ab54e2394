"""Webhook deliveries: each event POSTed to the endpoints that want it, signed with their secret
(``atom_stripe.webhooks``' signer), retried with a doubling pause: over HTTP from a thread of its
own, or in process to an ASGI app (:meth:`Outbox.pump`, on the test's own event loop)."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from ..webhooks import generate_test_header

logger = logging.getLogger("atom_stripe.testing")


def asgi_url(path: str) -> str:
    """The URL of an endpoint served by an ASGI app in process (:meth:`Outbox.delivering_to`)."""
    return f"http://asgi.fake-stripe{path}"


@dataclass
class Delivery:
    """One webhook delivery: the event, where it went, and how it went."""

    event_id: str
    event_type: str
    url: str
    attempts: int = 0
    status: int | None = None
    ok: bool = False


class Outbox:
    """Delivers in a worker thread, so no event loop (asyncio, trio, or a server's own) waits on it."""

    def __init__(self, retries: int, backoff: float, delivered: Callable[[str], None] = lambda event_id: None) -> None:
        self.retries = retries
        self.backoff = backoff
        #: Told each event id delivered (Stripe then counts one webhook fewer pending on the event).
        self.delivered = delivered
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[tuple[Delivery, bytes, str] | None] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        #: URLs delivered in process (to an ASGI app), each with its own queue.
        self._local: dict[str, queue.Queue[tuple[Delivery, bytes, str]]] = {}

    def send(self, delivery: Delivery, payload: bytes, secret: str) -> None:
        with self._lock:
            self.deliveries.append(delivery)
            self._pending += 1
            local = self._local.get(delivery.url)
            if local is not None:
                local.put((delivery, payload, secret))
                return
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="fake-stripe-webhooks", daemon=True)
                self._worker.start()
        self._queue.put((delivery, payload, secret))

    async def wait(self, timeout: float) -> list[Delivery]:
        with anyio.fail_after(timeout):
            while self._pending:
                await anyio.sleep(0.005)
        return list(self.deliveries)

    def close(self) -> None:
        """Stop the worker once what is queued has been tried (bounded: a few seconds)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as http:
            while (item := self._queue.get()) is not None:
                try:
                    self._deliver(http, *item)
                except Exception:
                    # A transport's own failure (a test's mock refusing the URL): that delivery
                    # failed; the worker goes on with the next, as Stripe does.
                    logger.warning("the fake Stripe could not deliver to %s", item[0].url, exc_info=True)
                finally:
                    with self._lock:
                        self._pending -= 1

    def local(self, url: str) -> queue.Queue[tuple[Delivery, bytes, str]]:
        """From now on, what is sent to ``url`` waits in this queue for :meth:`pump`."""
        box: queue.Queue[tuple[Delivery, bytes, str]] = queue.Queue()
        with self._lock:
            self._local[url] = box
        return box

    async def pump(self, url: str, app: Any, box: queue.Queue[tuple[Delivery, bytes, str]]) -> None:
        """Deliver what waits for ``url`` to an ASGI app, in process, until cancelled; what is
        queued when it is cancelled is delivered first (shielded: a few seconds at most)."""
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=url, timeout=5) as http:
            try:
                while True:
                    await self._drain(http, box)
                    await anyio.sleep(0.005)
            finally:
                with self._lock:
                    self._local.pop(url, None)
                with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                    await self._drain(http, box)

    @contextlib.asynccontextmanager
    async def delivering_to(self, url: str, app: Any) -> AsyncIterator[None]:
        """Inside, what is sent to ``url`` is POSTed to the ASGI app ``app``, in process, on the
        caller's event loop (:meth:`local` and :meth:`pump`); what is queued on leaving is
        delivered first."""
        box = self.local(url)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self.pump, url, app, box)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()

    async def _drain(self, http: httpx.AsyncClient, box: queue.Queue[tuple[Delivery, bytes, str]]) -> None:
        while True:
            try:
                delivery, payload, secret = box.get_nowait()
            except queue.Empty:
                return
            try:
                delay = self.backoff
                for attempt in range(1 + self.retries):
                    if attempt:
                        await anyio.sleep(delay)
                        delay *= 2
                    delivery.attempts += 1
                    response = await http.post(delivery.url, content=payload, headers=_headers(payload, secret))
                    delivery.status = response.status_code
                    if 200 <= response.status_code < 300:
                        delivery.ok = True
                        self.delivered(delivery.event_id)
                        break
            finally:
                with self._lock:
                    self._pending -= 1

    def _deliver(self, http: httpx.Client, delivery: Delivery, payload: bytes, secret: str) -> None:
        delay = self.backoff
        for attempt in range(1 + self.retries):
            if attempt:
                time.sleep(delay)
                delay *= 2
            delivery.attempts += 1
            try:
                response = http.post(delivery.url, content=payload, headers=_headers(payload, secret))
            except httpx.HTTPError:
                delivery.status = None
                continue
            delivery.status = response.status_code
            if 200 <= response.status_code < 300:
                delivery.ok = True
                self.delivered(delivery.event_id)
                return


def _headers(payload: bytes, secret: str) -> dict[str, str]:
    """A delivery's headers, as Stripe sends them: signed with the endpoint's secret."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": generate_test_header(payload, secret),
    }

"""Meter events at full speed: batches on Stripe's high-throughput meter event stream.

::

    async with client.v2.billing.meter_event_stream_writer() as writer:
        await writer.send(event_name="api_call", payload={"stripe_customer_id": "cus_...", "value": "1"})

Stripe's protocol (https://docs.stripe.com/api/v2/billing-meter-stream): create a meter event
session (``POST /v2/billing/meter_event_session`` with the API key) for a token valid 15
minutes, then ``POST /v2/billing/meter_event_stream`` on the meter events host with that token,
up to 100 events per request (same page; its create call says so).
An expired token is answered 401 ``billing_meter_event_session_expired``. Stripe deduplicates
events by ``identifier`` within a rolling 24-hour period
(https://docs.stripe.com/api/v2/billing-meter/object), which makes resending a batch safe.

Guarantees: **at-least-once** delivery with **Stripe-side deduplication by identifier**, so
effectively once. Every event gets an ``identifier`` (a fresh UUID when you give none) and a
``timestamp`` (when :meth:`MeterEventStreamWriter.send` was called) before it is queued, so a
resent batch is the same events. A batch that fails for a reason worth retrying (429, 5xx,
a dropped connection, an expired token) is resent until it is accepted or ``max_attempts``
rounds failed. ``send`` waits while ``max_pending`` events are queued (backpressure: memory
stays bounded however slow Stripe is). Leaving the ``async with`` block flushes every queued
event, also when the block raised; events that could not be sent are raised there as
:class:`MeterEventStreamError`, with their identifiers (``writer.failed`` lists them too).
Cancelling the block drops what was still queued.

Stream events are validated asynchronously by Stripe: a well-formed event for an unknown
customer is accepted here and reported later as a ``v1.billing.meter.error_report_triggered``
thin event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from secrets import token_hex
from types import TracebackType
from typing import Any, TypedDict

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from . import _retry
from ._errors import (
    APIConnectionError,
    APIResponseError,
    AuthenticationError,
    RateLimitError,
    ServerError,
    StripeError,
    StripeUsageError,
    StripeValueError,
)
from ._request import Requester

STREAM_PATH = "/v2/billing/meter_event_stream"
#: Stripe's limit per meter event stream request.
MAX_BATCH = 100
#: A session is renewed this many seconds before it expires (tokens last 15 minutes).
RENEW_MARGIN = 60.0
_SESSION_LIFETIME = 15 * 60.0
#: Stripe's limit on an identifier's length (stripe-python's MeterEventStreamCreateParams).
_MAX_IDENTIFIER = 100

# An event waiting to be sent: its identifier and its JSON.
_Item = tuple[str, bytes]


class MeterEventStreamError(StripeError):
    """Some meter events could not be sent: ``identifiers`` names them (send them again later:
    Stripe deduplicates by identifier); ``__cause__`` is the last error."""

    def __init__(self, message: str, identifiers: list[str] | None = None) -> None:
        super().__init__(message)
        self.identifiers = identifiers or []


class WriterOptions(TypedDict, total=False):
    """What ``meter_event_stream_writer(...)`` takes (the client's and ``client.v2.billing``'s):
    :class:`MeterEventStreamWriter`'s options, its defaults when left out."""

    batch_size: int
    max_pending: int
    concurrency: int
    max_attempts: int


def stream_writer(requester: Requester, options: Mapping[str, Any]) -> MeterEventStreamWriter:
    """A writer with ``options`` (:class:`WriterOptions`): one it does not take is a
    ``StripeValueError`` naming it, not Python's ``TypeError``."""
    for name in options:
        if name not in WriterOptions.__annotations__:
            taken = ", ".join(WriterOptions.__annotations__)
            raise StripeValueError(str(name), f"is not an option of the meter event stream writer (it takes {taken})")
    return MeterEventStreamWriter(requester, **options)


class MeterEventStreamWriter:
    """Sends meter events in batches of up to ``batch_size`` (at most Stripe's 100) on
    ``concurrency`` connections, holding at most ``max_pending`` queued events, to the client's
    meter events host (``base_url`` overrides it)."""

    def __init__(
        self,
        requester: Requester,
        base_url: str | None = None,
        *,
        batch_size: int = MAX_BATCH,
        max_pending: int = 10_000,
        concurrency: int = 4,
        max_attempts: int = 8,
        linger: float = 0.005,
    ) -> None:
        for name, value, top in (
            ("batch_size", batch_size, MAX_BATCH),
            ("max_pending", max_pending, None),
            ("concurrency", concurrency, 64),
            ("max_attempts", max_attempts, None),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (top and value > top):
                limit = f" up to {top}" if top else ""
                raise StripeValueError(name, f"must be a positive whole number{limit}")
        self._requester = requester
        self._base_url = base_url or requester.settings.meter_events_base_url
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        if isinstance(linger, bool) or not isinstance(linger, (int, float)) or not 0 <= linger <= 10:
            raise StripeValueError("linger", "must be a number of seconds from 0 to 10")
        #: How long a worker waits for a batch to fill before sending what it has.
        self.linger = float(linger)
        #: Events accepted by Stripe, batches sent, sessions created, batches resent.
        self.sent = 0
        self.batches = 0
        self.sessions = 0
        self.resent = 0
        self._in_flight = 0
        self._prefix = "ev_" + token_hex(10)
        self._count = 0
        self._stamped = 0.0
        self._stamp = ""
        self._failed: list[str] = []
        self._failure: StripeError | None = None
        self._token: Requester | None = None
        self._expires = 0.0
        self._lock = anyio.Lock()
        self._queue: MemoryObjectSendStream[_Item] | None = None
        self._receive: MemoryObjectReceiveStream[_Item] | None = None
        self._tasks: TaskGroup | None = None

    def __repr__(self) -> str:
        return f"MeterEventStreamWriter(sent={self.sent}, pending={self.pending}, base_url={self._base_url!r})"

    @property
    def pending(self) -> int:
        """Events queued or being sent right now (never more than ``max_pending`` plus a batch per connection)."""
        queued = self._queue.statistics().current_buffer_used if self._queue is not None else 0
        return queued + self._in_flight

    @property
    def failed(self) -> list[str]:
        """The identifiers of the events that could not be sent (also raised on exit)."""
        return list(self._failed)

    async def __aenter__(self) -> MeterEventStreamWriter:
        if self._tasks is not None:
            raise StripeUsageError("This meter event stream writer is already open.")
        self._queue, self._receive = anyio.create_memory_object_stream[_Item](self.max_pending)
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        for _ in range(self.concurrency):
            self._tasks.start_soon(self._worker, self._receive.clone())
        self._receive.close()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._tasks is not None and self._queue is not None
        self._queue.close()  # the workers send what is queued, then stop
        # An error in the block still flushes (the events were accepted); a cancellation does not.
        flush = exc is None or isinstance(exc, Exception)
        try:
            await self._tasks.__aexit__(*((None, None, None) if flush else (exc_type, exc, tb)))
        finally:
            self._tasks = None
        if self._failed and exc is None:
            error = MeterEventStreamError(
                f"{len(self._failed)} meter event(s) were not sent: {self._failure}", list(self._failed)
            )
            raise error from self._failure

    async def send(
        self,
        *,
        event_name: str,
        payload: Mapping[str, str | int],
        identifier: str | None = None,
        timestamp: datetime | None = None,
    ) -> str:
        """Queue one event (waiting while ``max_pending`` are queued); returns its identifier.

        ``payload`` holds the meter's customer key (``stripe_customer_id`` by default) and
        value key (``value``); whole-number values are sent as the strings Stripe expects.
        """
        if self._queue is None or self._tasks is None:
            raise StripeUsageError("Open the writer first: async with client.meter_event_stream_writer() as w: ...")
        if not isinstance(event_name, str) or not event_name:
            raise StripeValueError("event_name", "must be the meter's event name, a non-empty string")
        if not isinstance(payload, Mapping) or not payload:
            raise StripeValueError(
                "payload", "must be a mapping such as {'stripe_customer_id': 'cus_...', 'value': '1'}"
            )
        fields: dict[str, str] = {}
        for key, value in payload.items():
            if not isinstance(key, str) or not key:
                raise StripeValueError("payload", "keys must be non-empty strings")
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise StripeValueError(f"payload[{key}]", "must be a string (or a whole number)")
            fields[key] = value
        if identifier is None:
            # A random prefix per writer and a counter: unique (as Stripe needs, for 24 hours
            # and more) at a fraction of a UUID's cost per event.
            self._count += 1
            identifier = f"{self._prefix}-{self._count}"
        elif not isinstance(identifier, str) or not 0 < len(identifier) <= _MAX_IDENTIFIER:
            raise StripeValueError("identifier", f"must be a string of 1 to {_MAX_IDENTIFIER} characters")
        if timestamp is None:
            stamp = self._now()
        elif isinstance(timestamp, datetime) and timestamp.tzinfo is not None:
            stamp = _rfc3339(timestamp)
        else:
            raise StripeValueError("timestamp", "must be a timezone-aware datetime")
        event = {"event_name": event_name, "payload": fields, "identifier": identifier, "timestamp": stamp}
        item = (identifier, _encode(event).encode())
        try:
            # No await while there is room: a producer in a tight loop is not taxed a scheduler
            # round-trip per event; the workers take full batches when it does yield.
            self._queue.send_nowait(item)
        except anyio.WouldBlock:
            await self._queue.send(item)  # full: wait (backpressure)
        return identifier

    def _now(self) -> str:
        """The current time in RFC 3339 to the millisecond, formatted once per millisecond."""
        now = time.time()
        if now - self._stamped >= 0.001:
            self._stamped = now
            self._stamp = _rfc3339(datetime.fromtimestamp(now, timezone.utc))
        return self._stamp

    # -- sending ----------------------------------------------------------------------------

    async def _worker(self, receive: MemoryObjectReceiveStream[_Item]) -> None:
        async with receive:
            async for first in receive:
                batch = [first]
                self._in_flight += 1
                # Wait up to `linger` seconds for a full batch: sent at once, events one by one
                # would cost a request each while the queue fills.
                with anyio.move_on_after(self.linger):
                    while len(batch) < self.batch_size:
                        try:
                            item = receive.receive_nowait()
                        except anyio.WouldBlock:
                            try:
                                item = await receive.receive()
                            except anyio.EndOfStream:
                                break
                        except anyio.EndOfStream:
                            break
                        batch.append(item)
                        self._in_flight += 1
                try:
                    await self._post(batch)
                finally:
                    self._in_flight -= len(batch)

    async def _post(self, batch: list[_Item]) -> None:
        body = b'{"events":[' + b",".join(item for _, item in batch) + b"]}"
        attempt = 0
        renewed: Requester | None = None
        while True:
            token: Requester | None = None
            try:
                token = await self._session()
                await token.send(
                    "POST", STREAM_PATH, base_url=self._base_url, body=(body, "application/json"), template=STREAM_PATH
                )
            except AuthenticationError as exc:
                # The token expired (or was revoked) before it was renewed: a new session, once
                # per token. A 401 for the session itself (a bad API key) is final.
                if token is None or renewed is token:
                    self._fail(batch, exc)
                    return
                renewed = token
                self._invalidate(token)
                self.resent += 1
            except (RateLimitError, ServerError, APIConnectionError, APIResponseError) as exc:
                # The pipeline's own retries are spent: the same batch (same identifiers) again, later.
                attempt += 1
                if attempt >= self.max_attempts:
                    self._fail(batch, exc)
                    return
                self.resent += 1
                await _retry.sleep(min(0.5 * 2 ** (attempt - 1), 30.0))
            except StripeError as exc:
                self._fail(batch, exc)
                return
            else:
                self.sent += len(batch)
                self.batches += 1
                return

    def _fail(self, batch: list[_Item], exc: StripeError) -> None:
        self._failure = exc
        self._failed.extend(identifier for identifier, _ in batch)

    def _invalidate(self, token: Requester) -> None:
        if self._token is token:
            self._token = None

    async def _session(self) -> Requester:
        """A requester carrying a live session token, renewed ``RENEW_MARGIN`` seconds before it expires."""
        token = self._token
        if token is not None and time.time() < self._expires - RENEW_MARGIN:
            return token
        async with self._lock:
            if self._token is not None and time.time() < self._expires - RENEW_MARGIN:
                return self._token
            from ._generated.services.v2_billing_meter_event_session import V2BillingMeterEventSessionService

            session = await V2BillingMeterEventSessionService(self._requester).create()
            secret = session.authentication_token
            if not isinstance(secret, str) or not secret:
                raise MeterEventStreamError("The meter event session has no authentication_token.")
            expires = session.expires_at
            self._expires = expires.timestamp() if isinstance(expires, datetime) else time.time() + _SESSION_LIFETIME
            self._token = self._requester.evolve(api_key=secret)
            self.sessions += 1
            return self._token


def _rfc3339(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

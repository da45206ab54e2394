"""Webhooks: verify Stripe's signature, parse the event, dispatch it once.

>>> event = construct_event(body, request.headers["Stripe-Signature"], "whsec_...")

A forged, tampered, replayed-too-late or too-early payload raises
:class:`SignatureVerificationError`, whose message never holds the secret or the
expected signature. ``secret`` may be a sequence of secrets while you roll one:
any may match. Only ``v1`` signatures count (``v0`` is a test-mode decoy).

v2 "thin" events (``"object": "v2.core.event"``) are refused by
:func:`construct_event` with a clear message: they carry no snapshot to parse, and
atom_stripe speaks API v1 only. Verify them with :func:`verify_header` and fetch
the event they point to yourself.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, overload

import anyio
from pydantic import ValidationError

from ._errors import SignatureVerificationError
from .models.event import (
    AccountEvent,
    AccountTypes,
    BalanceEvent,
    BalanceTypes,
    BaseEvent,
    ChargeEvent,
    ChargeTypes,
    CustomerEvent,
    CustomerTypes,
    Event,
    PaymentIntentEvent,
    PaymentIntentTypes,
    PriceEvent,
    PriceTypes,
    ProductEvent,
    ProductTypes,
    RefundEvent,
    RefundTypes,
    SubscriptionEvent,
    SubscriptionTypes,
    parse_event,
)

logger = logging.getLogger("atom_stripe")

DEFAULT_TOLERANCE = 300
SIGNATURE_HEADER = "Stripe-Signature"

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "EventStore",
    "InMemoryEventStore",
    "SignatureVerificationError",
    "WebhookResult",
    "WebhookRouter",
    "construct_event",
    "generate_test_header",
    "verify_header",
]


def _as_bytes(payload: bytes | str) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    raise SignatureVerificationError("The payload must be the raw request body, as bytes or str.")


def _secrets(secret: str | Sequence[str]) -> list[str]:
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise SignatureVerificationError("No webhook signing secret was given.")
    return secrets


def _sign(secret: str, timestamp: int, payload: bytes) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def _parse_header(sig_header: str | None) -> tuple[int, list[str]]:
    if not sig_header or not isinstance(sig_header, str):
        raise SignatureVerificationError("The Stripe-Signature header is missing.")
    timestamp: int | None = None
    signatures: list[str] = []
    for element in sig_header.split(","):
        key, sep, value = element.strip().partition("=")
        if not sep:
            raise SignatureVerificationError("The Stripe-Signature header is malformed.")
        if key == "t":
            if timestamp is not None or not value.isdigit():
                raise SignatureVerificationError("The Stripe-Signature header has a malformed timestamp.")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureVerificationError("The Stripe-Signature header has no timestamp.")
    if not signatures:
        raise SignatureVerificationError("The Stripe-Signature header has no v1 signature.")
    return timestamp, signatures


def verify_header(
    payload: bytes | str,
    sig_header: str | None,
    secret: str | Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a ``Stripe-Signature`` header against the raw payload; raise if it does not verify.

    The timestamp must be within ``tolerance`` seconds of ``now`` (default: the clock),
    in the past or in the future.
    """
    body = _as_bytes(payload)
    secrets = _secrets(secret)
    timestamp, signatures = _parse_header(sig_header)
    expected = [_sign(s, timestamp, body) for s in secrets]
    # Compare every pair, so the time taken does not depend on which one matched.
    matched = False
    for candidate in signatures:
        for value in expected:
            matched |= hmac.compare_digest(candidate.encode(), value.encode())
    if not matched:
        raise SignatureVerificationError("No v1 signature matches the payload for the given secret(s).")
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise SignatureVerificationError(f"The signature's timestamp is more than {tolerance} s old.")
    if timestamp > current + tolerance:
        raise SignatureVerificationError(f"The signature's timestamp is more than {tolerance} s in the future.")


def construct_event(
    payload: bytes | str,
    sig_header: str | None,
    secret: str | Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Event:
    """Verify the signature, then parse the payload into a typed :data:`~atom_stripe.models.Event`."""
    verify_header(payload, sig_header, secret, tolerance=tolerance, now=now)
    body = _as_bytes(payload)
    try:
        data = json.loads(body)
    except ValueError:
        raise SignatureVerificationError("The payload verifies but is not JSON.") from None
    if not isinstance(data, dict):
        raise SignatureVerificationError("The payload verifies but is not an event object.")
    if data.get("object") == "v2.core.event":
        raise SignatureVerificationError(
            "This is a v2 thin event (object 'v2.core.event'); construct_event parses v1 snapshot events. "
            "Use verify_header() and fetch the event it names."
        )
    if data.get("object") != "event":
        raise SignatureVerificationError("The payload verifies but is not an event object.")
    try:
        return parse_event(data)
    except ValidationError as exc:
        raise SignatureVerificationError(f"The event does not parse: {exc.error_count()} error(s).") from None


def generate_test_header(payload: bytes | str, secret: str, *, timestamp: int | None = None) -> str:
    """A valid ``Stripe-Signature`` header for ``payload``, to test your own handlers."""
    when = int(time.time()) if timestamp is None else timestamp
    return f"t={when},v1={_sign(secret, when, _as_bytes(payload))}"


# -- receiver ---------------------------------------------------------------------------


class EventStore(Protocol):
    """Remembers which event ids were handled, so a redelivery is not handled twice."""

    async def seen(self, event_id: str) -> bool: ...

    async def add(self, event_id: str) -> None: ...


class InMemoryEventStore:
    """The last ``max_size`` handled event ids, in memory (one process only)."""

    def __init__(self, max_size: int = 10_000) -> None:
        self.max_size = max_size
        self._ids: OrderedDict[str, None] = OrderedDict()

    async def seen(self, event_id: str) -> bool:
        return event_id in self._ids

    async def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self.max_size:
            self._ids.popitem(last=False)


@dataclass(frozen=True)
class WebhookResult:
    """What happened to one delivery, and the HTTP answer to give Stripe."""

    status_code: int
    event: BaseEvent | None = None
    duplicate: bool = False
    handled: int = 0
    error: BaseException | None = None

    @property
    def body(self) -> dict[str, Any]:
        """A JSON body for the answer (no secret, no stack trace)."""
        out: dict[str, Any] = {"received": self.status_code < 300}
        if self.event is not None:
            out["id"] = self.event.id
        if self.duplicate:
            out["duplicate"] = True
        if self.error is not None:
            out["error"] = type(self.error).__name__
        return out


E = TypeVar("E", bound=BaseEvent)
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Handler = Callable[[E], Awaitable[None] | None]
AnyHandler = Callable[[Any], Awaitable[None] | None]


class WebhookRouter:
    """Verify, parse, deduplicate and dispatch webhook deliveries to handlers by event type.

    ::

        router = WebhookRouter("whsec_...")

        @router.on("payment_intent.succeeded")
        async def paid(event: PaymentIntentEvent) -> None: ...

        result = await router.handle(body, headers)   # framework-neutral
        app.mount("/stripe/webhooks", router.asgi_app())  # or mount it as an ASGI app

    Answers: 200 when handled (or a duplicate, or no handler wants it), 400 when the
    signature or payload is bad, 500 when a handler failed (Stripe will retry; the
    event is not marked as handled).
    """

    def __init__(
        self,
        secret: str | Sequence[str],
        *,
        tolerance: int = DEFAULT_TOLERANCE,
        store: EventStore | None = None,
    ) -> None:
        _secrets(secret)
        self._secret = secret
        self.tolerance = tolerance
        self.store: EventStore = store if store is not None else InMemoryEventStore()
        self._handlers: dict[str, list[AnyHandler]] = {}
        self._in_flight: set[str] = set()

    def __repr__(self) -> str:
        return f"WebhookRouter(types={sorted(self._handlers)!r})"

    @overload
    def on(
        self, event_type: PaymentIntentTypes
    ) -> Callable[[Handler[PaymentIntentEvent]], Handler[PaymentIntentEvent]]: ...
    @overload
    def on(self, event_type: ChargeTypes) -> Callable[[Handler[ChargeEvent]], Handler[ChargeEvent]]: ...
    @overload
    def on(self, event_type: CustomerTypes) -> Callable[[Handler[CustomerEvent]], Handler[CustomerEvent]]: ...
    @overload
    def on(
        self, event_type: SubscriptionTypes
    ) -> Callable[[Handler[SubscriptionEvent]], Handler[SubscriptionEvent]]: ...
    @overload
    def on(self, event_type: RefundTypes) -> Callable[[Handler[RefundEvent]], Handler[RefundEvent]]: ...
    @overload
    def on(self, event_type: ProductTypes) -> Callable[[Handler[ProductEvent]], Handler[ProductEvent]]: ...
    @overload
    def on(self, event_type: PriceTypes) -> Callable[[Handler[PriceEvent]], Handler[PriceEvent]]: ...
    @overload
    def on(self, event_type: BalanceTypes) -> Callable[[Handler[BalanceEvent]], Handler[BalanceEvent]]: ...
    @overload
    def on(self, event_type: AccountTypes) -> Callable[[Handler[AccountEvent]], Handler[AccountEvent]]: ...
    @overload
    def on(self, event_type: str) -> Callable[[Handler[Any]], Handler[Any]]: ...

    def on(self, event_type: str) -> Callable[[AnyHandler], AnyHandler]:
        """Register a handler (async or plain) for one event type, ``"charge.*"``, or ``"*"``."""
        if not isinstance(event_type, str) or not event_type:
            raise ValueError("event_type must be a non-empty string such as 'payment_intent.succeeded'")

        def register(handler: AnyHandler) -> AnyHandler:
            self._handlers.setdefault(event_type, []).append(handler)
            return handler

        return register

    def handlers_for(self, event_type: str) -> list[AnyHandler]:
        """The handlers an event of this type goes to: exact, then ``prefix.*``, then ``*``."""
        found = list(self._handlers.get(event_type, ()))
        parts = event_type.split(".")
        for i in range(len(parts) - 1, 0, -1):
            found += self._handlers.get(".".join(parts[:i]) + ".*", ())
        found += self._handlers.get("*", ())
        return found

    async def handle(self, body: bytes | str, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> WebhookResult:
        """Verify, parse, deduplicate and dispatch one delivery."""
        signature = _header(headers, SIGNATURE_HEADER)
        try:
            event = construct_event(body, signature, self._secret, tolerance=self.tolerance)
        except SignatureVerificationError as exc:
            logger.warning("webhook refused: %s", exc)
            return WebhookResult(400, error=exc)
        if event.id in self._in_flight or await self.store.seen(event.id):
            return WebhookResult(200, event=event, duplicate=True)
        self._in_flight.add(event.id)
        try:
            handlers = self.handlers_for(event.type)
            for handler in handlers:
                outcome = handler(event)
                if inspect.isawaitable(outcome):
                    await outcome
            await self.store.add(event.id)
            return WebhookResult(200, event=event, handled=len(handlers))
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:
            logger.exception("webhook handler failed for event %s (%s)", event.id, event.type)
            return WebhookResult(500, event=event, error=exc)
        finally:
            self._in_flight.discard(event.id)

    def asgi_app(self) -> ASGIApp:
        """An ASGI application that answers Stripe's POSTs: mount it in any ASGI framework."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            if scope["method"] != "POST":
                await _respond(send, 405, {"error": "method not allowed"})
                return
            chunks = []
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
            result = await self.handle(b"".join(chunks), headers)
            await _respond(send, result.status_code, result.body)

        return app


async def _respond(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    for key, value in items:
        if key.lower() == wanted:
            return value
    return None

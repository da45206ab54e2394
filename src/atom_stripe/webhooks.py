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
from secrets import token_hex
from typing import Any, Literal, Protocol, TypeVar, overload

import anyio
from pydantic import ValidationError

from ._errors import SignatureVerificationError, StripeError, StripeValueError
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
#: Longer ``Stripe-Signature`` headers are refused unread (Stripe's hold a few signatures).
MAX_HEADER_LENGTH = 8192
#: The default cap on a webhook body read by :meth:`WebhookRouter.asgi_app` (413 beyond it).
DEFAULT_MAX_BODY = 4 * 1024 * 1024

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "Claim",
    "EventStore",
    "EventStoreError",
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
        try:
            return payload.encode("utf-8")
        except UnicodeEncodeError:
            raise SignatureVerificationError("The payload is not valid UTF-8 text: pass the raw body bytes.") from None
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
    if not sig_header.isascii() or len(sig_header) > MAX_HEADER_LENGTH:
        raise SignatureVerificationError("The Stripe-Signature header is malformed.")
    timestamp: int | None = None
    signatures: list[str] = []
    for element in sig_header.split(","):
        key, sep, value = element.strip().partition("=")
        if not sep:
            raise SignatureVerificationError("The Stripe-Signature header is malformed.")
        if key == "t":
            # The header is ASCII (str.isdigit() alone accepts '²'); a Unix time has few digits.
            if timestamp is not None or not value.isdigit() or len(value) > 12:
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
    except RecursionError:
        raise SignatureVerificationError("The payload verifies but is nested too deeply to parse.") from None
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
    except RecursionError:
        raise SignatureVerificationError("The event is nested too deeply to parse.") from None


def generate_test_header(payload: bytes | str, secret: str, *, timestamp: int | None = None) -> str:
    """A valid ``Stripe-Signature`` header for ``payload``, to test your own handlers."""
    when = int(time.time()) if timestamp is None else timestamp
    return f"t={when},v1={_sign(secret, when, _as_bytes(payload))}"


# -- receiver ---------------------------------------------------------------------------


ClaimStatus = Literal["claimed", "busy", "done"]


@dataclass(frozen=True)
class Claim:
    """The answer to :meth:`EventStore.claim`.

    ``"claimed"``: this delivery holds the event and must handle it, then call
    :meth:`~EventStore.complete` (or :meth:`~EventStore.release` if handling failed), passing ``token``.
    ``"busy"``: another delivery holds it right now. ``"done"``: it was handled before.
    """

    status: ClaimStatus
    token: str = ""


class EventStore(Protocol):
    """Which events were handled, with an atomic claim so one delivery handles each event.

    The router calls ``claim`` before handling, ``complete`` after the handlers succeeded
    and ``release`` when one failed (so Stripe's retry is handled). ``claim`` must be atomic
    across everything that shares the store: of two concurrent claims, one gets ``"claimed"``.
    """

    async def claim(self, event_id: str) -> Claim: ...

    async def complete(self, event_id: str, token: str) -> None: ...

    async def release(self, event_id: str, token: str) -> None: ...


class EventStoreError(StripeError):
    """The event store cannot be reached: no event is handled (the answer makes Stripe retry)."""


class InMemoryEventStore:
    """Claims and the last ``max_size`` handled event ids, in memory (one process only)."""

    def __init__(self, max_size: int = 10_000) -> None:
        self.max_size = max_size
        self._done: OrderedDict[str, None] = OrderedDict()
        self._claims: dict[str, str] = {}

    async def claim(self, event_id: str) -> Claim:
        # No await between the check and the claim: atomic for every task on this loop.
        if event_id in self._done:
            return Claim("done")
        if event_id in self._claims:
            return Claim("busy")
        token = self._claims[event_id] = token_hex(8)
        return Claim("claimed", token)

    async def complete(self, event_id: str, token: str) -> None:
        if self._claims.get(event_id) == token:
            del self._claims[event_id]
        self._done[event_id] = None
        self._done.move_to_end(event_id)
        while len(self._done) > self.max_size:
            self._done.popitem(last=False)

    async def release(self, event_id: str, token: str) -> None:
        if self._claims.get(event_id) == token:
            del self._claims[event_id]

    def __repr__(self) -> str:
        return f"InMemoryEventStore({len(self._done)} handled, {len(self._claims)} in flight)"


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
        if self.status_code == 409:
            out["retry"] = "another delivery of this event is being handled; retry later"
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

    Answers: 200 when handled (or handled before, or no handler wants it), 400 when the
    signature or payload is bad, 409 while another delivery of the same event is being
    handled, 500 when a handler failed (the claim is released), 503 when the event store
    cannot be reached. Stripe retries every non-2xx answer later.
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
        if store is not None and not all(callable(getattr(store, m, None)) for m in ("claim", "complete", "release")):
            raise StripeValueError(
                "store", "must have async claim(), complete() and release() (the EventStore protocol)"
            )
        self.store: EventStore = store if store is not None else InMemoryEventStore()
        self._handlers: dict[str, list[AnyHandler]] = {}

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
            raise StripeValueError("event_type", "must be a non-empty string such as 'payment_intent.succeeded'")

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
        try:
            claim = await self.store.claim(event.id)
        except EventStoreError as exc:
            logger.warning("webhook event %s not handled: %s", event.id, exc)
            return WebhookResult(503, event=event, error=exc)
        if claim.status != "claimed":
            # Handled before: 200. Being handled right now: 409, so Stripe asks again later
            # (the first delivery may still fail, and then this retry must run the handlers).
            return WebhookResult(200 if claim.status == "done" else 409, event=event, duplicate=True)
        try:
            handlers = self.handlers_for(event.type)
            for handler in handlers:
                outcome = handler(event)
                if inspect.isawaitable(outcome):
                    await outcome
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await self._release(event.id, claim.token)
            if not isinstance(exc, Exception):
                raise
            logger.exception("webhook handler failed for event %s (%s)", event.id, event.type)
            return WebhookResult(500, event=event, error=exc)
        try:
            await self.store.complete(event.id, claim.token)
        except EventStoreError as exc:
            # Handled, but not remembered: a redelivery may run the handlers again.
            logger.warning("webhook event %s handled but not recorded: %s", event.id, exc)
        return WebhookResult(200, event=event, handled=len(handlers))

    async def _release(self, event_id: str, token: str) -> None:
        try:
            await self.store.release(event_id, token)
        except EventStoreError as exc:  # the claim expires by itself
            logger.warning("webhook event %s: claim not released: %s", event_id, exc)

    def asgi_app(self, *, max_body: int = DEFAULT_MAX_BODY) -> ASGIApp:
        """An ASGI application that answers Stripe's POSTs: mount it in any ASGI framework.

        A body over ``max_body`` bytes is answered 413 without being read further.
        """
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
            raise StripeValueError("max_body", "must be a positive number of bytes")

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            if scope["method"] != "POST":
                await _respond(send, 405, {"error": "method not allowed"})
                return
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
            body = await _read_body(receive, _header(headers, "content-length"), max_body)
            if body is None:
                await _respond(send, 413, {"received": False, "error": f"body over {max_body} bytes"})
                return
            result = await self.handle(body, headers)
            await _respond(send, result.status_code, result.body)

        return app


async def _read_body(receive: Receive, length: str | None, limit: int) -> bytes | None:
    """The request body, or None when it is (or says it is) longer than ``limit`` bytes."""
    if length is not None and length.strip().isdigit() and len(length) < 20 and int(length) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


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

"""Webhooks: verify Stripe's signature, parse the event, dispatch it once.

>>> event = construct_event(body, request.headers["Stripe-Signature"], "whsec_...")

A forged, tampered, replayed-too-late or too-early payload raises
:class:`SignatureVerificationError`, whose message never holds the secret or the
expected signature. ``secret`` may be a sequence of secrets while you roll one:
any may match. Only ``v1`` signatures count (``v0`` is a test-mode decoy). When none
matches, the message says what usually went wrong (a secret that is not a ``whsec_``, a
body that was parsed and re-serialized, a clock that is off), never the secret itself.

v2 "thin" events (``"object": "v2.core.event"``, from event destinations) are refused by
:func:`construct_event` with a clear message: they carry no snapshot to parse. Parse them
with ``client.parse_event_notification()`` (the same signature check), or route them with
:class:`NotificationRouter`.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from secrets import token_hex
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

import anyio
from pydantic import ValidationError

from ._errors import SignatureVerificationError, StripeError, StripeUsageError, StripeValueError

if TYPE_CHECKING:
    from ._client import AsyncStripeClient
    from ._generated.notifications import *  # noqa: F403
    from ._thin_events import EventNotification as EventNotification
    from ._thin_events import RelatedObject as RelatedObject
    from ._thin_events import RelatedSingletonObject as RelatedSingletonObject
    from ._thin_events import UnknownEventNotification as UnknownEventNotification
    from ._thin_events import V2Event as V2Event
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
    )

#: Thin event names, loaded on first use (they bring the HTTP machinery; webhooks alone does not).
_THIN = {"EventNotification", "RelatedObject", "RelatedSingletonObject", "UnknownEventNotification", "V2Event"}


def __getattr__(name: str) -> Any:
    """The event models (``Event``, ``CustomerEvent``...), ``EventNotification``, ``V2Event``...
    and every generated ``*EventNotification`` class, each loaded on first use, then kept here."""
    if name in _THIN:
        where = "._thin_events"
    elif name.endswith("EventNotification") and name[:1] == "V":
        where = "._generated.notifications"
    elif name == "parse_event" or name.endswith("Event"):
        where = ".models.event"  # the snapshot event models
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(where, __package__), name, None)
    if value is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


logger = logging.getLogger("atom_stripe")

DEFAULT_TOLERANCE = 300
SIGNATURE_HEADER = "Stripe-Signature"
#: Longer ``Stripe-Signature`` headers are refused unread (Stripe's hold a few signatures).
MAX_HEADER_LENGTH = 8192
#: The default cap on a webhook body, for :meth:`WebhookRouter.asgi_app` and the FastAPI route (413 beyond it).
DEFAULT_MAX_BODY = 4 * 1024 * 1024
#: A re-encoded body is looked for only in refused bodies up to this size (it costs a parse).
_HINT_MAX_BODY = 256 * 1024

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "Claim",
    "EventStore",
    "EventStoreError",
    "ExtendableEventStore",
    "InMemoryEventStore",
    "NotificationRouter",
    "SignatureVerificationError",
    "WebhookBodyError",
    "WebhookResult",
    "WebhookRouter",
    "construct_event",
    "generate_test_header",
    "verify_event_json",
    "verify_header",
]


Secrets = str | Sequence[str]
#: A secret, several (during a rotation), or a callable that returns them when first needed.
SecretSource = Secrets | Callable[[], Secrets | Awaitable[Secrets]]

# Stripe's own page on failed verifications names the three usual causes these hints cover:
# the wrong secret (it starts with whsec_), a body that is not the raw request body, and the
# timestamp. https://docs.stripe.com/webhooks/signature
_NOT_RAW = "the body must be the raw bytes Stripe sent (e.g. await request.body()), not parsed and re-serialized JSON"


def _as_bytes(payload: bytes | str) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        try:
            return payload.encode("utf-8")
        except UnicodeEncodeError:
            raise SignatureVerificationError("The payload is not valid UTF-8 text: pass the raw body bytes.") from None
    if isinstance(payload, (dict, list)):
        raise SignatureVerificationError(f"The payload is already parsed: {_NOT_RAW}.")
    raise SignatureVerificationError("The payload must be the raw request body, as bytes or str.")


def _secrets(secret: object) -> list[str]:
    """The secrets as a non-empty list of non-empty strings, or a StripeValueError."""
    secrets = [secret] if isinstance(secret, str) else secret
    if (
        not isinstance(secrets, Sequence)
        or isinstance(secrets, bytes)
        or not secrets
        or not all(isinstance(s, str) and s for s in secrets)
    ):
        raise StripeValueError("secret", "must be the endpoint's signing secret ('whsec_...') or a list of them")
    return list(secrets)


def _check_tolerance(tolerance: object) -> float | None:
    if tolerance is None:
        return None
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < math.inf:
        # stripe-python reads 0 (and None) as "no age check"; here 0 is refused rather than
        # guessed at, and None says it.
        raise StripeValueError(
            "tolerance",
            "must be a positive number of seconds (300 by default); pass None to skip the age check "
            "(stripe-python's tolerance=0 means that too)",
        )
    return tolerance


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


def _looks_reencoded(body: bytes) -> bool:
    """Whether ``body`` is JSON exactly as ``json.dumps`` writes it on one line (Stripe's bodies
    are pretty-printed over many lines): a framework parsed it and dumped it again."""
    if len(body) > _HINT_MAX_BODY or b"\n" in body.strip():
        return False
    try:
        data = json.loads(body)
        text = body.decode("utf-8").strip()
        return isinstance(data, dict) and any(
            json.dumps(data, separators=separators, ensure_ascii=ascii_only) == text
            for separators in ((", ", ": "), (",", ":"))
            for ascii_only in (True, False)
        )
    except (ValueError, RecursionError):
        return False


def _mismatch(body: bytes, secrets: list[str]) -> str:
    message = "No v1 signature matches the payload for the given secret(s)."
    odd = sum(not s.startswith("whsec_") for s in secrets)
    if odd:
        who = "The secret does" if len(secrets) == 1 else f"{odd} of the {len(secrets)} secrets do"
        message += (
            f" {who} not start with 'whsec_', as a webhook endpoint's signing secret does: use the "
            "endpoint's secret (Dashboard > Webhooks > Reveal secret, or what `stripe listen` prints), not an API key."
        )
    if _looks_reencoded(body):
        message += f" The body is one line of JSON as json.dumps() writes it: {_NOT_RAW}."
    return message


def verify_header(
    payload: bytes | str,
    sig_header: str | None,
    secret: str | Sequence[str],
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a ``Stripe-Signature`` header against the raw payload; raise if it does not verify.

    The timestamp must be within ``tolerance`` seconds of ``now`` (default: the clock),
    in the past or in the future; ``tolerance=None`` skips that check (as stripe-python's
    ``None`` or ``0``). A tolerance of 0 or less is refused (:class:`StripeValueError`).
    """
    limit = _check_tolerance(tolerance)
    body = _as_bytes(payload)
    try:
        secrets = _secrets(secret)
    except StripeValueError:
        raise SignatureVerificationError("No webhook signing secret was given.") from None
    timestamp, signatures = _parse_header(sig_header)
    expected = [_sign(s, timestamp, body) for s in secrets]
    # Compare every pair, so the time taken does not depend on which one matched.
    matched = False
    for candidate in signatures:
        for value in expected:
            matched |= hmac.compare_digest(candidate.encode(), value.encode())
    if not matched:
        raise SignatureVerificationError(_mismatch(body, secrets))
    if limit is None:
        return
    age = (time.time() if now is None else now) - timestamp
    if age > limit:
        raise SignatureVerificationError(
            f"The signature's timestamp is {age:.0f} s old, more than the tolerance of {limit:g} s: "
            "a delivery replayed late, or this server's clock is ahead."
        )
    if -age > limit:
        raise SignatureVerificationError(
            f"The signature's timestamp is {-age:.0f} s in the future, more than the tolerance of {limit:g} s: "
            "this server's clock is probably behind."
        )


def construct_event(
    payload: bytes | str,
    sig_header: str | None,
    secret: str | Sequence[str],
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Event:
    """Verify the signature, then parse the payload into a typed :data:`~atom_stripe.models.Event`.

    An event without a string ``id`` is refused (:class:`SignatureVerificationError`): it
    could not be told apart from any other delivery.
    """
    data = verify_event_json(payload, sig_header, secret, tolerance=tolerance, now=now)
    try:
        from .models.event import parse_event  # the event models load on the first parse

        return parse_event(data)
    except ValidationError as exc:
        raise SignatureVerificationError(f"The event does not parse: {exc.error_count()} error(s).") from None
    except RecursionError:
        raise SignatureVerificationError("The event is nested too deeply to parse.") from None


def verify_event_json(
    payload: bytes | str,
    sig_header: str | None,
    secret: str | Sequence[str],
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """What :func:`construct_event` checks (the signature; a v1 ``event`` object with a usable
    ``id``), the event left as its JSON: for a receiver that keeps the JSON rather than the model
    (the local mirror's). Refusals are :class:`SignatureVerificationError`."""
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
            "Parse it with client.parse_event_notification() or route it with a NotificationRouter."
        )
    if data.get("object") != "event":
        raise SignatureVerificationError("The payload verifies but is not an event object.")
    event_id = data.get("id")
    if not isinstance(event_id, str) or not _is_name(event_id):
        raise SignatureVerificationError("The event verifies but has no usable id (a string such as 'evt_...').")
    return data


def _is_name(value: str) -> bool:
    """An id or name fit for a store key: 1-255 printable ASCII characters, no space or colon."""
    return 0 < len(value) <= 255 and value.isascii() and value.isprintable() and " " not in value and ":" not in value


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
    ``ttl``: how many seconds a claim lasts unless extended (``None``: until completed or released).
    """

    status: ClaimStatus
    token: str = ""
    ttl: float | None = None


class EventStore(Protocol):
    """Which events were handled, with an atomic claim so one delivery handles each event.

    The router calls ``claim`` before handling, ``complete`` after the handlers succeeded
    and ``release`` when one failed (so Stripe's retry is handled). ``claim`` must be atomic
    across everything that shares the store: of two concurrent claims, one gets ``"claimed"``.

    The key the router passes is scoped: ``<endpoint>:<account or ->:<event id>`` (see
    :meth:`WebhookRouter.claim_key`), so endpoints sharing a store do not dedupe each other.
    A store whose claims expire (``Claim.ttl``) should also have ``extend`` (see
    :class:`ExtendableEventStore`); without it the claim is not extended while handlers run.
    """

    async def claim(self, event_id: str) -> Claim: ...

    async def complete(self, event_id: str, token: str) -> None: ...

    async def release(self, event_id: str, token: str) -> None: ...


class ExtendableEventStore(EventStore, Protocol):
    """An :class:`EventStore` whose expiring claims can be renewed while the handlers run.

    The router calls ``extend`` every third of ``Claim.ttl``; it returns False when the claim
    is no longer this token's (it expired and another delivery may hold it).
    """

    async def extend(self, event_id: str, token: str) -> bool: ...


class EventStoreError(StripeError):
    """The event store cannot be used (unreachable, out of memory, or unsafe): no event is
    handled, and the answer (503) makes Stripe retry."""


class WebhookBodyError(StripeError):
    """A request body refused before it was read: over the size limit (413), or with a
    malformed ``Content-Length`` (400)."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


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

    async def extend(self, event_id: str, token: str) -> bool:
        # Claims here never expire: this only says whether it is still held.
        return self._claims.get(event_id) == token

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


E = TypeVar("E", bound="BaseEvent")
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
    handled, 413 when the body is over ``max_body`` bytes, 500 when a handler failed (the
    claim is released) or the secret could not be loaded, 503 when the event store cannot
    be used. Stripe retries every non-2xx answer later.

    ``secret`` is the endpoint's signing secret, a list of them while you roll it (a
    signature by any of them passes), or a callable (plain or async) that returns either,
    called at the first delivery: for settings loaded at start-up. Until it returns a
    secret, deliveries are answered 500 (Stripe retries them).

    Events are deduplicated per ``endpoint`` and per connected account. ``endpoint`` names
    this receiver in the event store's keys; by default it is a hash of the (first) secret,
    never the secret itself. Name it when you roll secrets, so the key space stays the same.
    """

    def __init__(
        self,
        secret: SecretSource,
        *,
        tolerance: float | None = DEFAULT_TOLERANCE,
        store: EventStore | None = None,
        endpoint: str | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self._source: Callable[[], Secrets | Awaitable[Secrets]] | None = None
        self._secret: list[str] | None = None
        if callable(secret):
            self._source = secret
        else:
            self._secret = _secrets(secret)
        self.tolerance = tolerance
        if endpoint is not None and (not isinstance(endpoint, str) or not _is_name(endpoint)):
            raise StripeValueError("endpoint", "must be a name of printable ASCII characters, without ':' or spaces")
        self.endpoint = endpoint
        self.max_body = _check_max_body(max_body)
        if store is not None and not all(callable(getattr(store, m, None)) for m in ("claim", "complete", "release")):
            raise StripeValueError(
                "store", "must have async claim(), complete() and release() (the EventStore protocol)"
            )
        self.store: EventStore = store if store is not None else InMemoryEventStore()
        #: How many claims were lost while their handlers ran (another delivery may have run them too).
        self.lost_claims = 0
        self._handlers: dict[str, list[AnyHandler]] = {}

    @property
    def tolerance(self) -> float | None:
        """Seconds a signature's timestamp may be off (``None``: no age check)."""
        return self._tolerance

    @tolerance.setter
    def tolerance(self, value: float | None) -> None:
        self._tolerance = _check_tolerance(value)

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

    def claim_key(self, event_id: str, account: str | None = None) -> str:
        """The key this router claims an event under in its store: ``<endpoint>:<account or ->:<event id>``."""
        endpoint = self.endpoint
        if endpoint is None:
            if self._secret is None:
                raise StripeUsageError(
                    "The endpoint's key is derived from its secret, which is loaded at the first delivery."
                )
            digest = hashlib.sha256(b"atom_stripe webhook endpoint\x00" + self._secret[0].encode("utf-8"))
            endpoint = "whsec-" + digest.hexdigest()[:16]
        return f"{endpoint}:{account or '-'}:{event_id}"

    async def _load_secret(self) -> list[str]:
        if self._secret is None:
            assert self._source is not None
            loaded = self._source()
            if inspect.isawaitable(loaded):
                loaded = await loaded
            self._secret = _secrets(loaded)
        return self._secret

    async def handle(self, body: bytes | str, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> WebhookResult:
        """Verify, parse, deduplicate and dispatch one delivery."""
        try:
            secret = await self._load_secret()
        except Exception as exc:
            # The host's settings are not there yet (or are wrong): a 5xx, so Stripe delivers again later.
            why = exc if isinstance(exc, StripeError) else type(exc).__name__
            logger.error("webhook not verified: the signing secret could not be loaded: %s", why)
            return WebhookResult(500, error=exc if isinstance(exc, StripeError) else StripeError(str(why)))
        signature = _header(headers, SIGNATURE_HEADER)
        try:
            event, account = self._verify(body, signature, secret)
        except SignatureVerificationError as exc:
            logger.warning("webhook refused: %s", exc)
            return WebhookResult(400, error=exc)
        key = self.claim_key(event.id, account)
        try:
            claim = await self.store.claim(key)
        except EventStoreError as exc:
            logger.warning("webhook event %s not handled: %s", event.id, exc)
            return WebhookResult(503, event=event, error=exc)
        if claim.status != "claimed":
            # Handled before: 200. Being handled right now: 409, so Stripe asks again later
            # (the first delivery may still fail, and then this retry must run the handlers).
            return WebhookResult(200 if claim.status == "done" else 409, event=event, duplicate=True)
        handlers = self.handlers_for(event.type)
        try:
            await self._run(event, handlers, key, claim)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await self._release(key, claim.token)
            if not isinstance(exc, Exception):
                raise
            logger.exception("webhook handler failed for event %s (%s)", event.id, event.type)
            return WebhookResult(500, event=event, error=exc)
        try:
            await self.store.complete(key, claim.token)
        except EventStoreError as exc:
            # Handled, but not remembered: a redelivery may run the handlers again.
            logger.warning("webhook event %s handled but not recorded: %s", event.id, exc)
        return WebhookResult(200, event=event, handled=len(handlers))

    def _verify(self, body: bytes | str, signature: str | None, secret: list[str]) -> tuple[Any, str | None]:
        """The verified event and the account it happened on (part of its dedup key)."""
        event = construct_event(body, signature, secret, tolerance=self.tolerance)
        return event, event.account if isinstance(event.account, str) else None

    async def _run(self, event: BaseEvent, handlers: list[AnyHandler], key: str, claim: Claim) -> None:
        """Run the handlers, renewing an expiring claim meanwhile so no other delivery takes it."""
        extend = getattr(self.store, "extend", None)
        if claim.ttl is None or not callable(extend):
            await _dispatch(event, handlers)
            return
        failure: Exception | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._heartbeat, extend, key, claim, event)
            try:
                await _dispatch(event, handlers)
            except Exception as exc:  # raised below, outside the task group (not as a group)
                failure = exc
            finally:
                tg.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _heartbeat(
        self, extend: Callable[[str, str], Awaitable[bool]], key: str, claim: Claim, event: BaseEvent
    ) -> None:
        assert claim.ttl is not None
        while True:
            await anyio.sleep(max(claim.ttl / 3, 0.01))
            try:
                held = await extend(key, claim.token)
            except Exception as exc:  # tried again next beat (the claim lasts a while yet); never the handler's problem
                why = exc if isinstance(exc, StripeError) else type(exc).__name__
                logger.warning("webhook event %s: claim not extended: %s", event.id, why)
                continue
            if not held:
                self.lost_claims += 1
                logger.error(
                    "webhook event %s (%s): its claim was lost while the handlers ran (it expired before it "
                    "could be extended): another delivery may be running them at the same time",
                    event.id,
                    event.type,
                )
                return

    async def _release(self, key: str, token: str) -> None:
        try:
            await self.store.release(key, token)
        except EventStoreError as exc:  # the claim expires by itself
            logger.warning("webhook claim %s not released: %s", key, exc)

    async def handle_request(
        self, receive: Receive, headers: Iterable[tuple[str, str]], *, max_body: int | None = None
    ) -> WebhookResult:
        """Read an ASGI request's body (at most ``max_body`` bytes, the router's by default), then :meth:`handle` it.

        The one path for :meth:`asgi_app` and the FastAPI route: a body over the limit is
        answered 413 without being read further, a malformed ``Content-Length`` 400.
        """
        headers = list(headers)
        limit = self.max_body if max_body is None else max_body
        try:
            body = await _read_body(receive, _header(headers, "content-length"), limit)
        except WebhookBodyError as exc:
            logger.warning("webhook refused: %s", exc)
            return WebhookResult(exc.status_code, error=exc)
        return await self.handle(body, headers)

    def asgi_app(self, *, max_body: int | None = None) -> ASGIApp:
        """An ASGI application that answers Stripe's POSTs: mount it in any ASGI framework.

        A body over ``max_body`` bytes (the router's ``max_body`` by default) is answered 413
        without being read further.
        """
        limit = self.max_body if max_body is None else _check_max_body(max_body)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            if scope["method"] != "POST":
                await _respond(send, 405, {"error": "method not allowed"})
                return
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
            result = await self.handle_request(receive, headers, max_body=limit)
            await _respond(send, result.status_code, result.body)

        return app


class NotificationRouter(WebhookRouter):
    """A :class:`WebhookRouter` for an event destination's thin events (``v2.core.event``).

    ::

        router = NotificationRouter("whsec_...", client=stripe, store=RedisEventStore(...))

        @router.on("v1.billing.meter.error_report_triggered")
        async def meter_errors(notification: V1BillingMeterErrorReportTriggeredEventNotification) -> None:
            event = await notification.fetch_event()

    The same answers, signature check, event stores (deduplication per endpoint and per
    ``context``, the account the event happened on) and ASGI app as :class:`WebhookRouter`;
    handlers get the notification class of the type (see ``client.parse_event_notification``),
    whose ``fetch_event()`` and ``fetch_related_object()`` use ``client``. A v1 snapshot event
    sent here is refused (400): snapshot and thin payloads go to separate endpoints.
    """

    def __init__(
        self,
        secret: SecretSource,
        *,
        client: AsyncStripeClient | None = None,
        tolerance: float | None = DEFAULT_TOLERANCE,
        store: EventStore | None = None,
        endpoint: str | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        super().__init__(secret, tolerance=tolerance, store=store, endpoint=endpoint, max_body=max_body)
        from ._client import AsyncStripeClient

        if client is not None and not isinstance(client, AsyncStripeClient):
            raise StripeValueError("client", "must be an AsyncStripeClient (its notifications fetch through it)")
        self.client = client

    def __repr__(self) -> str:
        return f"NotificationRouter(types={sorted(self._handlers)!r})"

    def _verify(self, body: bytes | str, signature: str | None, secret: list[str]) -> tuple[Any, str | None]:
        from ._thin_events import verify_and_parse

        requester = self.client._requester if self.client is not None else None
        notification = verify_and_parse(body, signature, secret, requester, tolerance=self.tolerance)
        if not _is_name(notification.id):
            raise SignatureVerificationError("The event verifies but has no usable id (a string such as 'evt_...').")
        context = notification.context
        if context is not None and not _is_name(context):
            raise SignatureVerificationError("The event's context is not an account id or path.")
        return notification, context


async def _dispatch(event: BaseEvent, handlers: list[AnyHandler]) -> None:
    for handler in handlers:
        outcome = handler(event)
        if inspect.isawaitable(outcome):
            await outcome


def _check_max_body(max_body: object) -> int:
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
        raise StripeValueError("max_body", "must be a positive number of bytes")
    return max_body


async def _read_body(receive: Receive, length: str | None, limit: int) -> bytes:
    """The request body; :class:`WebhookBodyError` when it is (or says it is) over ``limit`` bytes."""
    too_large = WebhookBodyError(f"The body is over {limit} bytes.", 413)
    if length is not None:
        declared = length.strip(" \t")
        # ASCII digits only: str.isdigit() also accepts '²', which int() then refuses.
        if not declared or not declared.isascii() or not declared.isdigit():
            raise WebhookBodyError("The Content-Length header is not a number of bytes.", 400)
        if len(declared) > 18 or int(declared) > limit:
            raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large
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

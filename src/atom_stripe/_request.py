"""One logical call: settings and parameters -> request -> attempts (retried) -> parsed model.

The send path, from the top: :meth:`Requester.request` prepares a :class:`Call`;
:meth:`Requester._with_retries` owns the budget (retries, ``total_timeout``), the hooks, the
stats and the waits; :meth:`Requester._attempt` sends once through the transport (see
:mod:`._transports`) and says what came of it (an :class:`Outcome`)."""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx
from pydantic import ValidationError  # loaded with atom_stripe (see __init__)

from . import _retry
from ._constants import (
    DEADLINE,
    DEFAULT_FILES_BASE_URL,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_METER_EVENTS_BASE_URL,
    IDEMPOTENCY_KEY_HEADER,
    MAX_RESPONSE_SIZE,
    OAUTH_PATHS,
    REQUEST_ID_HEADER,
    STRIPE_ACCOUNT_HEADER,
    STRIPE_CONTEXT_HEADER,
    STRIPE_VERSION_HEADER,
)
from ._encoding import urlencode
from ._errors import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    ClientClosedError,
    StripeError,
    StripeValueError,
    make_status_error,
)
from ._hooks import CallRecord, HookSet, Stats
from ._throttle import Throttle
from ._transports import Transport
from ._transports.auto import AutoTransport
from ._transports.body import BodyError
from ._transports.httpx import ClientTransport, env_proxies
from ._validation import check_idempotency_key
from ._version import __version__

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter

logger = logging.getLogger("atom_stripe")

M = TypeVar("M")


def _parse(parse: Callable[[bytes], Any], body: bytes) -> Any:
    """``parse(body)`` with Python's cyclic garbage collector paused.

    Parsing allocates thousands of objects (a 100-item page: ~2,000 models) that all stay
    alive, and the collector, counting allocations, would walk them again and again while they
    are made, for nothing (parsing makes no cycles; the cost: docs/performance.md). The
    pause ends with the parse, so the collector runs at the next allocation instead; a caller
    who disabled it keeps it disabled."""
    if not gc.isenabled():
        return parse(body)
    gc.disable()
    try:
        return parse(body)
    finally:
        gc.enable()


USER_AGENT = f"atom_stripe/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]} httpx/{httpx.__version__}"


@dataclass(frozen=True)
class Settings:
    """Everything a call needs to know about its client. Immutable: ``replace`` to change."""

    api_key: str = field(repr=False)
    base_url: str
    api_version: str
    stripe_account: str | None
    max_retries: int
    timeout: httpx.Timeout
    files_base_url: str = DEFAULT_FILES_BASE_URL
    #: The most one call may take, every attempt and wait included (None: no cap but the attempts').
    total_timeout: float | None = None
    #: The largest decoded response body accepted, in bytes.
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE
    meter_events_base_url: str = DEFAULT_METER_EVENTS_BASE_URL
    #: ``Stripe-Context`` on every call (v2's successor of ``Stripe-Account``; see ``_v2``).
    stripe_context: str | None = None
    headers: Mapping[str, str] = field(init=False, repr=False, compare=False)
    extensions: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            STRIPE_VERSION_HEADER: self.api_version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
        }
        object.__setattr__(self, "extensions", {"timeout": self.timeout.as_dict(), **self.attempt_bounds})
        if self.stripe_account:
            headers[STRIPE_ACCOUNT_HEADER] = self.stripe_account
        if self.stripe_context:
            headers[STRIPE_CONTEXT_HEADER] = self.stripe_context
        object.__setattr__(self, "headers", headers)

    @property
    def attempt_bounds(self) -> dict[str, Any]:
        """The request extensions that bound one attempt: its deadline (``timeout``, the
        number given, or an ``httpx.Timeout``'s ``read``) and the largest body."""
        return {DEADLINE: self.timeout.read, MAX_RESPONSE_SIZE: self.max_response_size}

    def evolve(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def new_idempotency_key() -> str:
    """A random (version 4) UUID as text, the key of a POST that was not given one: the
    standard library's ``str(uuid.uuid4())`` without its object (cheaper: docs/performance.md)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class Call:
    """One logical call, as the retry loop and the hooks see it, and as a transport sends it
    (a :class:`~._transports.Outgoing`)."""

    method: str
    path: str
    template: str
    idempotency_key: str | None
    stripe_account: str | None
    url: str = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    content: bytes | None = field(repr=False)
    #: The attempt's deadline, size limit and timeouts (see :class:`Settings`).
    extensions: Mapping[str, Any] = field(repr=False)
    #: The ``httpx.Request``, made only when something needs one (see :attr:`request`).
    built: httpx.Request | None = field(default=None, repr=False)
    attempt: int = 0
    status: int | None = None
    request_id: str | None = None
    finished: bool = False

    @property
    def request(self) -> httpx.Request:
        """The call as an ``httpx.Request``: made on first use (an error, a transport other than
        aiohttp, a caller's ``http_client``); a plain 2xx over aiohttp never needs one."""
        if self.built is None:
            self.built = httpx.Request(
                self.method, self.url, headers=self.headers, content=self.content, extensions=self.extensions
            )
        return self.built


@dataclass(slots=True)
class Outcome:
    """What one attempt came to: a ``result``, or a ``failure`` and whether another attempt
    could fare better (``retry``; ``retry_after``: the headers that may say when)."""

    result: Any = None
    failure: StripeError | None = None
    retry: bool = False
    retry_after: Mapping[str, str] | None = None


class Requester:
    """Sends calls over a shared ``httpx.AsyncClient`` with one client's settings.

    Copies made by ``with_options`` get their own ``Requester`` on the same pool and throttle.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        throttle: Throttle | None = None,
        *,
        transport: Transport | None = None,
        hooks: HookSet | None = None,
        stats: Stats | None = None,
        owner: bool = False,
    ) -> None:
        self.http = http
        #: Whether this requester made the pool and so closes it (copies share it, never close it).
        self.owner = owner
        self.settings = settings
        self.throttle = throttle if throttle is not None else Throttle()
        self.hooks = hooks if hooks is not None else HookSet()
        self.stats = stats if stats is not None else Stats()
        # With an http client of our own making (no hooks, auth or cookies to honour), requests
        # go straight to its transport: httpx's client layer (cookie jar, hooks, redirects)
        # costs more CPU than the aiohttp transport itself. A caller's client is sent through.
        self.transport: Transport = transport if transport is not None else ClientTransport(http)
        #: Whether requests are built by the caller's client (its own headers, cookies and auth).
        self.client_builds = transport is None

    @classmethod
    def open(
        cls,
        settings: Settings,
        http_client: httpx.AsyncClient | None,
        *,
        throttle: Throttle | None = None,
        hooks: HookSet | None = None,
        trust_env: bool = True,
    ) -> Requester:
        """A requester on the caller's ``http_client``, or on a pool of its own (then closed by
        :meth:`aclose`) that honours the environment's proxies unless ``trust_env`` is false."""
        if http_client is not None:
            if not isinstance(http_client, httpx.AsyncClient):
                blocking = (
                    " (a sync httpx.Client would block the event loop)" if isinstance(http_client, httpx.Client) else ""
                )
                raise StripeValueError(
                    "http_client", f"must be an httpx.AsyncClient{blocking}, not {type(http_client).__name__}"
                )
            return cls(http_client, settings, throttle, hooks=hooks)
        if not isinstance(trust_env, bool):
            raise StripeValueError("trust_env", "must be True or False")
        hosts = (settings.base_url, settings.files_base_url, settings.meter_events_base_url)
        proxies = env_proxies(*hosts) if trust_env else None
        transport = AutoTransport(proxies=proxies)
        return cls(transport.open_client(), settings, throttle, transport=transport, hooks=hooks, owner=True)

    async def aclose(self) -> None:
        """Close the pool if this requester made it (a caller's ``http_client`` is theirs to
        close, and a copy's pool its original's)."""
        if self.owner:
            await self.http.aclose()

    def evolve(self, **changes: Any) -> Requester:
        """A requester with some settings changed, on the same pool and throttle (not its owner)."""
        return Requester(
            self.http,
            self.settings.evolve(**changes),
            self.throttle,
            transport=None if self.client_builds else self.transport,
            hooks=self.hooks,
            stats=self.stats,
        )

    def request(
        self,
        method: str,
        path: str,
        cast_to: type[M] | TypeAdapter[M],
        *,
        pairs: Sequence[tuple[str, str]] = (),
        template: str | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        base_url: str | None = None,
        body: tuple[bytes, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Awaitable[M]:
        """Send one call, retrying what is safe to retry, and parse the response into ``cast_to``
        (``base_url``, ``body`` and ``headers`` as for :meth:`send`).

        Not a coroutine of its own (one layer less per call): what it returns is awaited."""
        # A model class, or a TypeAdapter (asking a model class for a missing attribute goes
        # through pydantic's metaclass and an exception: a microsecond per call).
        parse: Callable[[bytes], Any] = (
            cast("type[BaseModel]", cast_to).model_validate_json
            if isinstance(cast_to, type)
            else cast("TypeAdapter[Any]", cast_to).validate_json
        )
        call = self._prepare(method, path, pairs, template, idempotency_key, stripe_account, base_url, body, headers)
        return self._with_retries(call, parse, _name(cast_to))

    async def send(
        self,
        method: str,
        path: str,
        *,
        pairs: Sequence[tuple[str, str]] = (),
        template: str | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        base_url: str | None = None,
        body: tuple[bytes, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one call and return its successful response, body read; raise for the rest.

        ``base_url`` overrides the client's (the files host); ``body`` is a ready-made request
        body and its content type (multipart uploads, JSON for ``/v2``); ``headers`` go on this
        call only, after the client's own (a thin event's ``Stripe-Request-Trigger``).
        """
        call = self._prepare(method, path, pairs, template, idempotency_key, stripe_account, base_url, body, headers)
        response: httpx.Response = await self._with_retries(call, None, "")
        return response

    def _prepare(
        self,
        method: str,
        path: str,
        pairs: Sequence[tuple[str, str]],
        template: str | None,
        idempotency_key: str | None,
        stripe_account: str | None,
        base_url: str | None = None,
        body: tuple[bytes, str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Call:
        if self.http.is_closed:
            raise ClientClosedError()
        settings = self.settings
        headers = dict(settings.headers)
        if extra_headers:
            headers.update(extra_headers)
        if method == "POST":
            key = check_idempotency_key(idempotency_key) if idempotency_key is not None else new_idempotency_key()
            headers[IDEMPOTENCY_KEY_HEADER] = idempotency_key = key
        elif idempotency_key is not None:
            headers[IDEMPOTENCY_KEY_HEADER] = check_idempotency_key(idempotency_key)
        if stripe_account is not None:
            headers[STRIPE_ACCOUNT_HEADER] = stripe_account
        url = (base_url or settings.base_url) + path
        content: bytes | None = None
        if body is not None:
            content, headers["Content-Type"] = body
            if pairs:
                url = f"{url}?{urlencode(pairs)}"
        elif method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            content = urlencode(pairs).encode() if pairs else None
        elif pairs:
            url = f"{url}?{urlencode(pairs)}"
        call = Call(
            method=method,
            path=path,
            template=template or path,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account or settings.stripe_account,
            url=url,
            headers=headers,
            content=content,
            extensions=settings.extensions,
        )
        if self.client_builds:
            # A caller's http_client: its own headers, cookies and auth go in now.
            request = self.http.build_request(method, url, headers=headers, content=content, timeout=settings.timeout)
            request.extensions.update(settings.attempt_bounds)
            call.built, call.extensions = request, request.extensions
        return call

    async def _with_retries(self, call: Call, parse: Callable[[bytes], Any] | None, expected: str) -> Any:
        """The call: attempts until one succeeds, one fails for good, or the budget (retries,
        ``total_timeout``) runs out. Owns the hooks, the stats and the waits between attempts,
        and closes the books of a call cancelled half-way."""
        debug = logger.isEnabledFor(logging.DEBUG)
        throttle = self.throttle if self.throttle.active else None
        hooks = self.hooks if self.hooks else None
        call_started = time.perf_counter()
        total = self.settings.total_timeout
        ends = None if total is None else call_started + total
        try:
            while True:
                call.attempt += 1
                if ends is not None:
                    self._cap_attempt(call, ends - time.perf_counter())
                if hooks is not None and hooks.on_request:
                    await hooks.fire(hooks.on_request, self._record(call))
                started = time.perf_counter()
                outcome = await self._attempt(call, parse, expected, throttle, debug)
                failure = outcome.failure
                if failure is None:
                    await self._finish(call, call_started, None, hooks)
                    return outcome.result
                delay = self._next_delay(call, outcome, ends)
                if delay is None:
                    await self._finish(call, call_started, failure, hooks)
                    raise failure
                self.stats.retried(call.method, call.template)
                if hooks is not None and hooks.on_retry:
                    elapsed = (time.perf_counter() - started) * 1000
                    record = self._record(call, duration_ms=elapsed, error=type(failure).__name__, retry_delay=delay)
                    await hooks.fire(hooks.on_retry, record)
                await _retry.sleep(delay)
        except BaseException as exc:
            if not isinstance(exc, Exception) and not call.finished:
                # Cancelled (or interrupted): count it and close the hooks' books, without awaiting.
                call.finished = True
                self.stats.record(call.method, call.template, call.status, "Cancelled", None)
                if self.hooks.on_error:
                    self.hooks.fire_now(self.hooks.on_error, self._record(call, error="Cancelled"))
            raise

    def _next_delay(self, call: Call, outcome: Outcome, ends: float | None) -> float | None:
        """How long to wait before the next attempt; None when there is none: the failure is
        final, the retries are spent, or ``total_timeout`` would pass first."""
        if not outcome.retry or call.attempt > self.settings.max_retries:
            return None
        delay = _retry.retry_delay(call.attempt, outcome.retry_after)
        if ends is not None and time.perf_counter() + delay >= ends:
            return None
        return delay

    async def _attempt(
        self,
        call: Call,
        parse: Callable[[bytes], Any] | None,
        expected: str,
        throttle: Throttle | None,
        debug: bool,
    ) -> Outcome:
        """One attempt: send, read, parse; what came of it. Every failure becomes a
        :class:`StripeError` in the outcome (cancellation aside)."""
        started = time.perf_counter()
        try:
            if throttle is None:
                response = await self.transport.send(call)
            else:
                async with throttle.slot():
                    response = await self.transport.send(call)
        except httpx.TransportError as exc:
            # No response: a timeout, or a connection that failed or dropped.
            return self._failed(call, started, debug, _transport_error(call, exc), exc)
        except BodyError as exc:
            # A response came, but its body cannot be used: mis-encoded or cut short (asking
            # again is safe, as for a body that is not JSON), or too large (it would be again).
            assert exc.response is not None
            call.status = exc.response.status_code
            call.request_id = exc.response.headers.get(REQUEST_ID_HEADER)
            failure: StripeError = APIResponseError(f"{call.method} {call.template}: {exc}", response=exc.response)
            failure.__cause__ = exc
            return self._failed(call, started, debug, failure, retry=exc.retry)
        except StripeError as exc:
            # Refused before sending (the rate limiter's max_wait): final, and raised as it is.
            return self._failed(call, started, debug, exc, retry=False)
        except Exception as exc:
            # Anything else a transport raised (a custom http_client's, an exception class
            # nobody mapped): still a StripeError, counted, hooked and retried like a drop.
            where = f"{call.method} {call.template} failed after {call.attempt} attempt(s)"
            failure = APIConnectionError(f"{where}: {type(exc).__name__}", request=call.request)
            return self._failed(call, started, debug, failure, exc)
        call.status = status = response.status_code
        call.request_id = response.headers.get(REQUEST_ID_HEADER)
        self._log_attempt(call, started, str(status), debug)
        if status >= 300:
            error = response.httpx_response(call.request)
            failure = make_status_error(error, oauth=call.path.startswith(OAUTH_PATHS))
            return Outcome(None, failure, _retry.should_retry(status, error.headers), error.headers)
        try:
            return Outcome(response.httpx_response(call.request) if parse is None else _parse(parse, response.content))
        except ValidationError as exc:
            # A body that is not JSON at all was damaged on the way; asking again is safe
            # (GETs are idempotent, POSTs replay under their idempotency key).
            failure = _response_error(call, response.httpx_response(call.request), exc, expected)
            return Outcome(None, failure, _not_json(exc))

    def _failed(
        self,
        call: Call,
        started: float,
        debug: bool,
        failure: StripeError,
        cause: BaseException | None = None,
        *,
        retry: bool = True,
    ) -> Outcome:
        """An attempt that failed without a usable response: logged, its cause chained (unless
        the chain quotes the API key)."""
        if cause is not None:
            _chain(failure, cause, self.settings.api_key)
        self._log_attempt(call, started, type(failure).__name__, debug)
        return Outcome(None, failure, retry)

    def _cap_attempt(self, call: Call, left: float) -> None:
        """Cut this attempt's deadline to what is left of the call's ``total_timeout``."""
        deadline = self.settings.timeout.read
        if deadline is None or left < deadline:
            call.extensions = {**call.extensions, DEADLINE: max(left, 0.001)}
            if call.built is not None:
                call.built.extensions = dict(call.extensions)

    async def _finish(self, call: Call, started: float, failure: StripeError | None, hooks: HookSet | None) -> None:
        """Count the call, and tell the hooks how it ended."""
        call.finished = True
        duration = (time.perf_counter() - started) * 1000
        error = type(failure).__name__ if failure is not None else None
        self.stats.record(call.method, call.template, call.status, error, duration)
        if hooks is not None:
            which = hooks.on_error if failure is not None else hooks.on_response
            if which:
                await hooks.fire(which, self._record(call, duration_ms=duration, error=error))

    def _record(self, call: Call, **fields: Any) -> CallRecord:
        return CallRecord(
            call_id=id(call),
            method=call.method,
            path=call.template,
            attempt=call.attempt,
            idempotency_key=call.idempotency_key,
            stripe_account=call.stripe_account,
            status=call.status,
            request_id=call.request_id,
            base_url=self.settings.base_url,
            **fields,
        )

    @staticmethod
    def _log_attempt(call: Call, started: float, outcome: str, debug: bool) -> None:
        if not debug:
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "%s %s -> %s request_id=%s attempt=%d %.1fms",
            call.method,
            call.template,
            outcome,
            call.request_id,
            call.attempt,
            elapsed_ms,
            extra={
                "stripe_method": call.method,
                "stripe_path": call.template,
                "stripe_outcome": outcome,
                "stripe_status": call.status,
                "stripe_request_id": call.request_id,
                "stripe_idempotency_key": call.idempotency_key,
                "stripe_account": call.stripe_account,
                "stripe_attempt": call.attempt,
                "stripe_duration_ms": round(elapsed_ms, 3),
            },
        )


def _transport_error(call: Call, exc: httpx.TransportError) -> StripeError:
    """No response: a timeout, or a connection that failed or dropped."""
    where = f"{call.method} {call.template}"
    failure: StripeError
    if _is_timeout(exc):
        failure = APITimeoutError(f"{where} timed out after {call.attempt} attempt(s).", request=call.request)
    else:
        failure = APIConnectionError(
            f"{where} failed after {call.attempt} attempt(s): {type(exc).__name__}", request=call.request
        )
    return failure


def _chain(failure: StripeError, cause: BaseException, secret: str) -> None:
    """Chain ``cause`` to ``failure``, unless some exception in its chain quotes ``secret``
    (the API key: an HTTP library refusing a header value quotes the header). Only failed
    attempts pay for the look."""
    seen: set[int] = set()
    links: list[BaseException | None] = [cause]
    while links:
        link = links.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        try:
            text = f"{link!s} {link!r} {link.args!r}"
        except Exception:
            text = ""  # cannot print: cannot leak through print either
        if secret in text:
            failure.__cause__ = None
            failure.__suppress_context__ = True
            return
        links += (link.__cause__, link.__context__)
    failure.__cause__ = cause


def _is_timeout(exc: httpx.TransportError) -> bool:
    """Whether a transport error is a timeout. httpx_aiohttp reports a dropped connection
    (aiohttp's ``ServerDisconnectedError``) as ``ConnectTimeout``; the cause tells the truth."""
    if not isinstance(exc, httpx.TimeoutException):
        return False
    cause = exc.__cause__
    if cause is None or not type(cause).__module__.startswith("aiohttp"):
        return True
    import asyncio  # already loaded: aiohttp runs on it (before 3.11 its TimeoutError is its own)

    return isinstance(cause, (TimeoutError, asyncio.TimeoutError))


def _not_json(exc: ValidationError) -> bool:
    return any(e["type"] == "json_invalid" for e in exc.errors(include_url=False, include_input=False))


def _response_error(call: Call, response: httpx.Response, exc: ValidationError, expected: str) -> APIResponseError:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)[:3]
    )
    return APIResponseError(
        f"The response to {call.method} {call.template} does not fit {expected}: {problems}", response=response
    )


def _name(cast_to: Any) -> str:
    return str(getattr(cast_to, "__name__", "the expected type"))

"""One logical call: settings and parameters -> httpx request -> retry loop -> parsed model."""

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
from ._transport import (
    DEADLINE,
    DEFAULT_MAX_RESPONSE_SIZE,
    MAX_RESPONSE_SIZE,
    AutoTransport,
    BodyError,
    env_proxies,
    read_answer,
)
from ._version import __version__

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter

    from ._aiohttp import Answer

logger = logging.getLogger("atom_stripe")

M = TypeVar("M")

MAX_IDEMPOTENCY_KEY = 255
#: Connect OAuth's endpoints, whose error answers have a shape of their own.
OAUTH_PATHS = "/oauth/"


def _parse(parse: Callable[[bytes], Any], body: bytes) -> Any:
    """``parse(body)`` with Python's cyclic garbage collector paused.

    Parsing allocates thousands of objects (a 100-item page: ~2,000 models) that all stay
    alive, and the collector, counting allocations, would walk them again and again while they
    are made: about a tenth of a list page's CPU, for nothing (parsing makes no cycles). The
    pause ends with the parse, so the collector runs at the next allocation instead; a caller
    who disabled it keeps it disabled."""
    if not gc.isenabled():
        return parse(body)
    gc.disable()
    try:
        return parse(body)
    finally:
        gc.enable()


def _httpx_lookup() -> Any:
    """httpx's own transport lookup, or None if something (respx) had patched it when this was imported."""
    found = httpx.AsyncClient.__dict__.get("_transport_for_url")
    return found if getattr(found, "__module__", None) == "httpx._client" else None


#: Anything else in its place (respx's "httpx" mode) means: do not bypass httpx.
_HTTPX_TRANSPORT_FOR_URL = _httpx_lookup()
USER_AGENT = f"atom_stripe/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]} httpx/{httpx.__version__}"


#: Where file uploads (``files.create``) and downloads (``quotes.pdf``) go.
DEFAULT_FILES_BASE_URL = "https://files.stripe.com"
#: Where v2's high-throughput meter event stream goes (stripe-python's ``meter_events`` base address).
DEFAULT_METER_EVENTS_BASE_URL = "https://meter-events.stripe.com"


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
    #: The largest decoded answer body accepted, in bytes.
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE
    meter_events_base_url: str = DEFAULT_METER_EVENTS_BASE_URL
    #: ``Stripe-Context`` on every call (v2's successor of ``Stripe-Account``; see ``_v2``).
    stripe_context: str | None = None
    headers: Mapping[str, str] = field(init=False, repr=False, compare=False)
    extensions: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Stripe-Version": self.api_version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
        }
        object.__setattr__(self, "extensions", {"timeout": self.timeout.as_dict(), **self.limits})
        if self.stripe_account:
            headers["Stripe-Account"] = self.stripe_account
        if self.stripe_context:
            headers["Stripe-Context"] = self.stripe_context
        object.__setattr__(self, "headers", headers)

    @property
    def limits(self) -> dict[str, Any]:
        """The request extensions that bound one attempt: its deadline (``timeout``, the
        number given, or an ``httpx.Timeout``'s ``read``) and the largest body."""
        return {DEADLINE: self.timeout.read, MAX_RESPONSE_SIZE: self.max_response_size}

    def evolve(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def new_idempotency_key() -> str:
    """A random (version 4) UUID as text, the key of a POST that was not given one: the
    standard library's ``str(uuid.uuid4())`` without its object (a third of the cost)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise StripeValueError("idempotency_key", f"must be a string of 1 to {MAX_IDEMPOTENCY_KEY} characters")
    if not key.isprintable() or not key.isascii():
        raise StripeValueError("idempotency_key", "must be printable ASCII")
    return key


@dataclass
class Call:
    """One logical call, as the retry loop and the hooks see it."""

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
        transport: AutoTransport | None = None,
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
        # costs more CPU than the aiohttp transport itself.
        self.transport = transport

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
        return cls(
            httpx.AsyncClient(transport=transport), settings, throttle, transport=transport, hooks=hooks, owner=True
        )

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
            transport=self.transport,
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
    ) -> Awaitable[M]:
        """Send one call, retrying what is safe to retry, and parse the answer into ``cast_to``
        (``base_url`` and ``body`` as for :meth:`send`).

        Not a coroutine of its own (one layer less per call): what it returns is awaited."""
        # A model class, or a TypeAdapter (asking a model class for a missing attribute goes
        # through pydantic's metaclass and an exception: a microsecond per call).
        parse: Callable[[bytes], Any] = (
            cast("type[BaseModel]", cast_to).model_validate_json
            if isinstance(cast_to, type)
            else cast("TypeAdapter[Any]", cast_to).validate_json
        )
        call = self._prepare(method, path, pairs, template, idempotency_key, stripe_account, base_url, body)
        return self._attempts(call, parse, _name(cast_to))

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
    ) -> httpx.Response:
        """Send one call and return its successful answer, body read; raise for the rest.

        ``base_url`` overrides the client's (the files host); ``body`` is a ready-made request
        body and its content type (multipart uploads, JSON for ``/v2``).
        """
        call = self._prepare(method, path, pairs, template, idempotency_key, stripe_account, base_url, body)
        response: httpx.Response = await self._attempts(call, None, "")
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
    ) -> Call:
        if self.http.is_closed:
            raise ClientClosedError()
        settings = self.settings
        headers = dict(settings.headers)
        if method == "POST":
            key = check_idempotency_key(idempotency_key) if idempotency_key is not None else new_idempotency_key()
            headers["Idempotency-Key"] = idempotency_key = key
        elif idempotency_key is not None:
            headers["Idempotency-Key"] = check_idempotency_key(idempotency_key)
        if stripe_account is not None:
            headers["Stripe-Account"] = stripe_account
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
        if self.transport is None:
            # A caller's http_client: its own headers, cookies and auth go in now.
            request = self.http.build_request(method, url, headers=headers, content=content, timeout=settings.timeout)
            request.extensions.update(settings.limits)
            call.built, call.extensions = request, request.extensions
        return call

    async def _attempts(self, call: Call, parse: Callable[[bytes], Any] | None, expected: str) -> Any:
        """The retry loop, plus the bookkeeping for a call that is cancelled half-way."""
        try:
            return await self._retry_loop(call, parse, expected)
        except BaseException as exc:
            if not isinstance(exc, Exception) and not call.finished:
                # Cancelled (or interrupted): count it and close the hooks' books, without awaiting.
                call.finished = True
                self.stats.record(call.method, call.template, call.status, "Cancelled", None)
                if self.hooks.on_error:
                    self.hooks.fire_now(self.hooks.on_error, self._record(call, error="Cancelled"))
            raise

    async def _retry_loop(self, call: Call, parse: Callable[[bytes], Any] | None, expected: str) -> Any:
        """Attempt the call until it succeeds, fails for good, or the retries run out."""
        max_retries = self.settings.max_retries
        debug = logger.isEnabledFor(logging.DEBUG)
        throttle = self.throttle if self.throttle.active else None
        hooks = self.hooks if self.hooks else None
        call_started = time.perf_counter()
        total = self.settings.total_timeout
        ends = None if total is None else call_started + total
        while True:
            call.attempt += 1
            retries_left = call.attempt <= max_retries
            if ends is not None:
                self._cap_attempt(call, ends - time.perf_counter())
            retry_after: httpx.Headers | None = None
            if hooks is not None and hooks.on_request:
                await hooks.fire(hooks.on_request, self._record(call))
            started = time.perf_counter()
            try:
                if throttle is None:
                    response = await self._send(call)
                else:
                    async with throttle.slot():
                        response = await self._send(call)
            except httpx.TransportError as exc:
                failure: StripeError = _transport_error(call, exc)
                _chain(failure, exc, self.settings.api_key)
                self._log_attempt(call, started, type(failure).__name__, debug)
                retry = retries_left
            except BodyError as exc:
                # An answer came, but its body cannot be used: mis-encoded or cut short (asking
                # again is safe, as for a body that is not JSON), or too large (it would be again).
                assert exc.response is not None
                call.status = exc.response.status_code
                call.request_id = exc.response.headers.get("request-id")
                failure = APIResponseError(f"{call.method} {call.template}: {exc}", response=exc.response)
                failure.__cause__ = exc
                self._log_attempt(call, started, type(failure).__name__, debug)
                retry = retries_left and exc.retry
            except StripeError as exc:
                # Refused before sending (the rate limiter's max_wait): final, and told as itself.
                failure = exc
                self._log_attempt(call, started, type(failure).__name__, debug)
                retry = False
            except Exception as exc:
                # Anything else a transport raised (a custom http_client's, an exception class
                # nobody mapped): still a StripeError, counted, hooked and retried like a drop.
                failure = APIConnectionError(
                    f"{call.method} {call.template} failed after {call.attempt} attempt(s): {type(exc).__name__}",
                    request=call.request,
                )
                _chain(failure, exc, self.settings.api_key)
                self._log_attempt(call, started, type(failure).__name__, debug)
                retry = retries_left
            else:
                call.status = response.status_code
                call.request_id = response.headers.get("request-id")
                self._log_attempt(call, started, str(call.status), debug)
                if call.status < 300:
                    try:
                        result = _as_httpx(call, response) if parse is None else _parse(parse, response.content)
                    except ValidationError as exc:
                        failure = _response_error(call, _as_httpx(call, response), exc, expected)
                        # A body that is not JSON at all was damaged on the way; asking again is
                        # safe (GETs are idempotent, POSTs replay under their idempotency key).
                        retry = retries_left and _not_json(exc)
                    else:
                        await self._finish(call, call_started, None, hooks)
                        return result
                else:
                    response = _as_httpx(call, response)
                    failure = make_status_error(response, oauth=call.path.startswith(OAUTH_PATHS))
                    retry = retries_left and _retry.should_retry(call.status, response.headers)
                    retry_after = response.headers
            if not retry:
                await self._finish(call, call_started, failure, hooks)
                raise failure
            delay = _retry.retry_delay(call.attempt, retry_after)
            if ends is not None and time.perf_counter() + delay >= ends:
                # No time left for another attempt within total_timeout: this failure is the answer.
                await self._finish(call, call_started, failure, hooks)
                raise failure
            self.stats.retried(call.method, call.template)
            if hooks is not None and hooks.on_retry:
                elapsed = (time.perf_counter() - started) * 1000
                record = self._record(call, duration_ms=elapsed, error=type(failure).__name__, retry_delay=delay)
                await hooks.fire(hooks.on_retry, record)
            await _retry.sleep(delay)

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

    def _send(self, call: Call) -> Awaitable[httpx.Response | Answer]:
        """One attempt: the answer, body read (decoded, within the size limit) and connection
        released, all within the attempt's deadline. (A plain function returning what to
        await: one coroutine layer less.)"""
        if self.transport is None:
            return read_answer(self._send_streaming, call.request)
        lookup = type(self.http)._transport_for_url
        if lookup is _HTTPX_TRANSPORT_FOR_URL and lookup is not None:
            # Our own pool, and nothing patched httpx's lookup: the fast path. Over aiohttp, no
            # httpx object is made for an answer that needs none (see Call.request, _as_httpx).
            fast = self.transport.aiohttp()
            if fast is not None:
                send = fast.fetch
                return send(call.method, call.url, call.headers, call.content, call.extensions, lambda: call.request)
            return self.transport.handle_async_request(call.request)
        # httpx's own lookup, patched (respx's "httpx" mode does that to mock a client).
        transport = self.http._transport_for_url(call.request.url)
        if transport is self.transport:
            return transport.handle_async_request(call.request)  # reads and bounds the answer itself
        return read_answer(transport.handle_async_request, call.request)

    async def _send_streaming(self, request: httpx.Request) -> httpx.Response:
        return await self.http.send(request, stream=True)

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


def _as_httpx(call: Call, response: httpx.Response | Answer) -> httpx.Response:
    """The answer as an ``httpx.Response`` (errors and ``send`` hand one out)."""
    return response if isinstance(response, httpx.Response) else response.response(call.request)


def _transport_error(call: Call, exc: httpx.TransportError) -> StripeError:
    """No answer: a timeout, or a connection that failed or dropped."""
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
        f"The answer to {call.method} {call.template} does not fit {expected}: {problems}", response=response
    )


def _name(cast_to: Any) -> str:
    return str(getattr(cast_to, "__name__", "the expected type"))

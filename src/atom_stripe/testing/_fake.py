"""``FakeStripe``: the engine behind an httpx transport (no sockets) and a loopback HTTP server,
with idempotency, a record of requests, events and signed webhook deliveries."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import ipaddress
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import anyio
import anyio.lowlevel
import httpx

from .._client import DEFAULT_API_VERSION, AsyncStripeClient
from .._endpoint import Endpoint, find_endpoint
from .._errors import StripeValueError
from .._generated.endpoints import ENDPOINTS
from . import _billing, _customers, _events, _payments, _setup_intents, _statuses, _v2  # noqa: F401 - they register their behaviours
from ._engine import Ctx, answer
from ._store import Store, load_fixtures, new_id
from ._webhooks import Delivery, Outbox
from ._wire import FakeError, read_form, read_multipart, typed_params

FAKE_KEY = "sk_test_atom_stripe_fake"
logger = logging.getLogger("atom_stripe.testing")


class FakeStripe:
    """An in-process, stateful Stripe, built from the table of endpoints and Stripe's examples.

    ::

        async with FakeStripe() as fake:
            stripe = fake.client()
            await stripe.customers.create(email="a@example.com")
            assert fake.requests[-1]["path"] == "/v1/customers"

    ``webhook_retries`` failed deliveries are retried after ``webhook_backoff`` seconds (doubling).
    """

    def __init__(
        self,
        *,
        webhook_retries: int = 3,
        webhook_backoff: float = 0.05,
        max_requests_kept: int = 10_000,
        max_idempotency_keys: int = 10_000,
        max_body_size: int = 16 * 1024 * 1024,
    ) -> None:
        for name, value in (
            ("max_requests_kept", max_requests_kept),
            ("max_idempotency_keys", max_idempotency_keys),
            ("max_body_size", max_body_size),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise StripeValueError(name, f"must be a positive whole number, not {value!r}")
        self.store = Store(load_fixtures())
        self.singletons: dict[str, dict[str, Any]] = {}
        #: The last ``max_requests_kept`` requests received (older ones dropped): ``method``,
        #: ``path``, ``params`` (decoded) and ``headers`` (lower-case names; the API key
        #: shortened to ``Bearer sk_test_...abcd``).
        self.requests: list[dict[str, Any]] = []
        self.max_requests_kept = max_requests_kept
        #: A body larger than this (bytes) is refused with a 413 when served over HTTP.
        self.max_body_size = max_body_size
        self.webhook_retries = webhook_retries
        self._outbox = Outbox(webhook_retries, webhook_backoff, self._delivered)
        #: The answers replayed for idempotency keys: the last ``max_idempotency_keys`` kept
        #: (Stripe keeps keys 24 hours; a test run is shorter, a long-lived fake is bounded).
        self._idempotency: OrderedDict[tuple[str, str], tuple[str, int, dict[str, str], bytes]] = OrderedDict()
        self._max_idempotency_keys = max_idempotency_keys
        self._lock = threading.RLock()
        self._clients: list[httpx.AsyncClient] = []
        self._failures: list[FakeError] = []
        #: What the fake keeps of v2 calls: ``meter_events`` received, meter event session tokens.
        self.v2 = _v2.V2State()

    def __repr__(self) -> str:
        return f"<FakeStripe requests={len(self.requests)}>"

    # -- clients ----------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that answers from this fake, without sockets."""
        return FakeTransport(self)

    def client(self, **options: Any) -> AsyncStripeClient:
        """An ``AsyncStripeClient`` wired to this fake (any option of the client, e.g. ``max_retries``)."""
        options.setdefault("api_key", FAKE_KEY)
        if "http_client" in options:
            return AsyncStripeClient(**options)
        http = httpx.AsyncClient(transport=self.transport())
        self._clients.append(http)
        client = AsyncStripeClient(**options, http_client=http)
        # Its pool is the client's own, as over HTTP: closing the client closes it, and a call
        # on a closed client is refused as it would be against Stripe.
        client._requester.owner = True
        return client

    @contextlib.asynccontextmanager
    async def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, allow_external: bool = False
    ) -> AsyncIterator[str]:
        """Serve this fake over HTTP on a loopback port; yields its base URL. Another host (such
        as ``0.0.0.0``: every interface) only with ``allow_external=True``: the fake takes any
        test key and holds what it is sent."""
        if not allow_external and not _loopback(host):
            raise StripeValueError(
                "host", f"{host!r} is not a loopback address: pass allow_external=True to serve the fake on it"
            )
        server = _server(self, host, port)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield f"http://{host}:{server.server_address[1]}"
        finally:
            await anyio.to_thread.run_sync(server.shutdown)
            server.server_close()

    @contextlib.asynccontextmanager
    async def deliver_webhooks(
        self,
        app: Any,
        path: str = "/webhooks/stripe",
        *,
        enabled_events: Sequence[str] = ("*",),
        secret: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Deliver this fake's webhooks to an ASGI app (your FastAPI or Starlette service), in
        process, on the test's own event loop: no server, no port. Inside, a webhook endpoint
        for ``path`` exists (yielded: its ``secret`` is what your receiver verifies with) and
        every event it wants is POSTed to the app, signed with ``secret`` (default: a fresh
        ``whsec_...``), retried as over HTTP; :meth:`webhooks_delivered` waits for them. ::

            async with stripe_fake.deliver_webhooks(app) as endpoint:
                settings.webhook_secret = endpoint["secret"]
                ...  # calls that make events
                await stripe_fake.webhooks_delivered()
        """
        if not path.startswith("/"):
            raise StripeValueError("path", f"must start with '/', not {path!r}")
        if secret is not None and not secret.startswith("whsec_"):
            raise StripeValueError("secret", "must be a webhook signing secret ('whsec_...')")
        url = f"http://asgi.fake-stripe{path}"
        with self._lock:
            endpoint = self.store.template("webhook_endpoint", self.now())
            endpoint.update(
                url=url,
                enabled_events=list(enabled_events),
                status="enabled",
                secret=secret or new_id("whsec"),
                api_version=None,
                description=f"in process: {path}",
            )
            self.store.put(endpoint)
            box = self._outbox.local(url)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._outbox.pump, url, app, box)
            try:
                yield copy.deepcopy(endpoint)
            finally:
                with self._lock:
                    endpoint["status"] = "disabled"
                tasks.cancel_scope.cancel()

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> FakeStripe:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Finish the webhook deliveries under way (a few seconds at most), then :meth:`close`."""
        with contextlib.suppress(TimeoutError):
            await self.webhooks_delivered(timeout=5)
        for http in self._clients:
            await http.aclose()
        self.close()

    def close(self) -> None:
        """Stop delivering webhooks once what is queued has been tried."""
        self._outbox.close()
        self._clients.clear()

    # -- time ---------------------------------------------------------------------------------

    def now(self, customer: str | None = None) -> int:
        """The time for a customer: its test clock's frozen time, if it has one."""
        if customer is not None:
            found = self.store.find(customer, "customer")
            clock_id = found.get("test_clock") if found else None
            clock = self.store.find(clock_id, "test_helpers.test_clock") if isinstance(clock_id, str) else None
            if clock is not None:
                return int(clock["frozen_time"])
        return int(time.time())

    def time_of(self, obj: Mapping[str, Any]) -> int:
        """The time for an object: the frozen time of its test clock (its own, or its customer's),
        so everything of a clock customer (charges, refunds, balance transactions, events) carries
        the clock's time, as on Stripe; the wall clock's otherwise."""
        clock_id = obj.get("test_clock")
        if not isinstance(clock_id, str):
            customer = self.store.find(self.customer_of(obj) or "", "customer")
            clock_id = customer.get("test_clock") if customer else None
        clock = self.store.find(clock_id, "test_helpers.test_clock") if isinstance(clock_id, str) else None
        return int(clock["frozen_time"]) if clock is not None else int(time.time())

    def customer_of(self, obj: Mapping[str, Any], depth: int = 0) -> str | None:
        """The id of the customer an object belongs to: its own (a customer), its ``customer``,
        or that of the object it was made from (a refund's charge, a balance transaction's source)."""
        if obj.get("object") == "customer":
            return str(obj["id"])
        found = _id_of(obj.get("customer"))
        if found is not None or depth > 2:
            return found
        for key in _LINKS:
            linked = self.store.find(_id_of(obj.get(key)) or "")
            if linked is not None and linked is not obj and (found := self.customer_of(linked, depth + 1)):
                return found
        return None

    # -- objects, for tests to set the scene ------------------------------------------------------

    def add(self, object_name: str, **fields: Any) -> dict[str, Any]:
        """Store an object of any type (Stripe's example with ``fields`` set), e.g. a dispute to work on."""
        with self._lock:
            obj = self.store.template(object_name, self.now(), fields.pop("id", None))
            obj.update(fields)
            return copy.deepcopy(self.store.put(obj))

    def fail_next(self, status: int = 500, *, times: int = 1, type: str = "api_error", message: str = "") -> None:
        """Answer the next ``times`` requests with this error (an outage, a 429...) before doing anything."""
        text = message or f"The fake Stripe was told to fail with {status}."
        with self._lock:
            self._failures += [FakeError(status, text, type=type) for _ in range(times)]

    def authenticate(self, payment_intent: str, *, succeed: bool = True) -> dict[str, Any]:
        """Play the customer on a PaymentIntent or a SetupIntent (``seti_...``) in
        ``requires_action`` (3-D Secure): authenticate (it is charged, or set up and attached)
        or fail (``requires_payment_method``). Returns the intent."""

        setup = payment_intent.startswith("seti_")
        kind = "setup_intent" if setup else "payment_intent"
        name = "setup_intents.confirm" if setup else "payment_intents.confirm"
        with self._lock:
            # The customer's answer is no API request of the service's: its events are automatic.
            ctx = Ctx(self, name, ENDPOINTS[name], {"intent": payment_intent}, {}, None, None)
            play = _setup_intents.authenticate if setup else _payments.authenticate
            try:
                with ctx.automatic():
                    intent = play(ctx, ctx.get(kind, payment_intent, "intent"), succeed)
            except FakeError as exc:
                if exc.status != 402:
                    raise
                intent = ctx.get(kind, payment_intent, "intent")
            return copy.deepcopy(intent)

    def snapshot(self) -> bytes:
        """Everything this fake holds, to :meth:`restore` later (a seeded scene shared by many tests)."""
        with self._lock:
            store = self.store
            state = [store.objects, store.types, store.parents, store.cards, self.singletons, store.deleted]
            return json.dumps(state).encode()

    def restore(self, snapshot: bytes) -> None:
        """Hold exactly what :meth:`snapshot` saw (requests, deliveries and idempotency keys are kept)."""
        with self._lock:
            store = self.store
            (store.objects, store.types, store.parents, store.cards, self.singletons, store.deleted) = json.loads(
                snapshot
            )

    def get(self, object_id: str) -> dict[str, Any] | None:
        """A copy of the object held under this id (any type), or None."""
        with self._lock:
            found = self.store.find(object_id)
            return copy.deepcopy(found) if found is not None else None

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The events so far, oldest first (of one type if given)."""
        with self._lock:
            found = [e for e in reversed(self.store.all("event")) if event_type in (None, e["type"])]
            return copy.deepcopy(found)

    # -- handling one request ---------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request: (status, headers, body)."""
        request_id = new_id("req")
        out_headers = {"Request-Id": request_id, "Stripe-Version": headers.get("stripe-version", DEFAULT_API_VERSION)}
        idempotency_key = headers.get("idempotency-key") if method == "POST" else None
        with self._lock:
            record: dict[str, Any] = {"method": method, "path": path, "params": {}, "headers": _redacted(headers)}
            self.requests.append(record)
            if len(self.requests) > self.max_requests_kept:
                del self.requests[: len(self.requests) - self.max_requests_kept]
            try:
                if self._failures:
                    raise self._failures.pop(0)
                name, endpoint, ids = _route(method, path)
                if path.startswith("/v2/billing/meter_event_stream"):  # authenticated by a session's token
                    return _v2.handle(self, name, endpoint, ids, query, body, headers, out_headers)
                _authenticate(headers)
                if path.startswith("/v2/"):
                    return _v2.handle(self, name, endpoint, ids, query, body, headers, out_headers)
                raw = _read(method, query, body, headers.get("content-type", ""))
                record["params"] = raw
                if idempotency_key is not None:
                    replay = self._replay(headers, idempotency_key, path, query, body)
                    if replay is not None:
                        return replay
                expand = _expand_list(raw.pop("expand", None))
                params = typed_params(endpoint.params_type, raw)
                record["params"] = {**params, "expand": expand} if expand else params
                ctx = Ctx(self, name, endpoint, ids, params, request_id, idempotency_key)
                result = answer(ctx)
                if isinstance(result, bytes):
                    return 200, {**out_headers, "Content-Type": "application/pdf"}, result
                payload = self._expanded(result, expand)
                status = 200
            except FakeError as exc:
                status, payload = exc.status, {"error": {**exc.body, "request_log_url": None}}
            except Exception as exc:  # a bug of the fake's: Stripe's 500, and the traceback in the log
                logger.exception("the fake Stripe failed on %s %s", method, path)
                status = 500
                payload = {"error": {"type": "api_error", "message": f"The fake Stripe failed: {exc!r}"}}
            content = json.dumps(payload).encode()
            out_headers["Content-Type"] = "application/json"
            if idempotency_key is not None and status < 500 and status not in (409, 429):
                out_headers["Idempotency-Key"] = idempotency_key
                fingerprint = _fingerprint(method, path, query, body)
                self._idempotency[(headers.get("stripe-account", ""), idempotency_key)] = (
                    fingerprint,
                    status,
                    out_headers,
                    content,
                )
                while len(self._idempotency) > self._max_idempotency_keys:
                    self._idempotency.popitem(last=False)
            return status, out_headers, content

    def _replay(
        self, headers: Mapping[str, str], key: str, path: str, query: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        cached = self._idempotency.get((headers.get("stripe-account", ""), key))
        if cached is None:
            return None
        fingerprint, status, first_headers, content = cached
        if fingerprint != _fingerprint("POST", path, query, body):
            raise FakeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used "
                f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        return status, {**first_headers, "Idempotent-Replayed": "true"}, content

    def _expanded(self, result: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        if not expand:
            out = copy.deepcopy(result)
        elif result.get("object") in ("list", "search_result"):
            inner = [p.removeprefix("data.") for p in expand if p.startswith("data.")]
            out = {**result, "data": [self.store.expand(item, inner) for item in result["data"]]}
        else:
            out = self.store.expand(result, expand)
        _leave_out_includable(out, "", frozenset(expand))
        return out

    # -- events and webhooks ----------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        obj: Mapping[str, Any],
        previous: Mapping[str, Any] | None,
        request_id: str | None,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        event = self.store.template("event", self.time_of(obj))
        data: dict[str, Any] = {"object": copy.deepcopy(dict(obj))}
        if previous:
            data["previous_attributes"] = copy.deepcopy(dict(previous))
        endpoints = [
            we
            for we in self.store.all("webhook_endpoint")
            if we.get("status") == "enabled"
            and we.get("secret")
            and ("*" in we.get("enabled_events", ()) or event_type in we.get("enabled_events", ()))
        ]
        event.update(
            type=event_type,
            data=data,
            api_version=DEFAULT_API_VERSION,
            pending_webhooks=len(endpoints),
            request={"id": request_id, "idempotency_key": idempotency_key},
        )
        self.store.put(event)
        if endpoints:
            payload = json.dumps(event).encode()
            for endpoint in endpoints:
                self._outbox.send(Delivery(event["id"], event_type, endpoint["url"]), payload, endpoint["secret"])
        return event

    def _delivered(self, event_id: str) -> None:
        """``pending_webhooks``: "webhooks that haven't been successfully delivered" (Stripe's
        event object), one fewer for each delivery that succeeded."""
        with self._lock:
            event = self.store.find(event_id, "event")
            if event is not None and event.get("pending_webhooks", 0) > 0:
                event["pending_webhooks"] -= 1

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery so far, in order (attempts, last status, ok)."""
        return list(self._outbox.deliveries)

    async def webhooks_delivered(self, timeout: float = 10) -> list[Delivery]:
        """Wait until every webhook delivery so far has succeeded or run out of retries."""
        return await self._outbox.wait(timeout)


#: Fields Stripe sends only when asked for by ``expand`` (the API reference: "This field is not
#: included by default"): an invoice's ``confirmation_secret`` and its ``payments``
#: (https://docs.stripe.com/changelog/basil/2025-03-31/add-support-for-multiple-partial-payments-on-invoices).
INCLUDABLE = {"invoice": ("confirmation_secret", "payments")}


def _leave_out_includable(node: Any, path: str, expand: frozenset[str]) -> None:
    """Drop the includable fields of every object in an answer that ``expand`` did not name at
    their path (``confirmation_secret``, ``data.payments``, ``latest_invoice.confirmation_secret``).
    Events keep their objects as they were sent."""
    if isinstance(node, list):
        for item in node:
            _leave_out_includable(item, path, expand)
        return
    if not isinstance(node, dict) or node.get("object") == "event":
        return
    for name in INCLUDABLE.get(str(node.get("object")), ()):
        if path + name not in expand:
            node.pop(name, None)
    for key, value in node.items():
        if isinstance(value, (dict, list)):
            _leave_out_includable(value, f"{path}{key}.", expand)


class FakeTransport(httpx.AsyncBaseTransport):
    """Answers httpx requests from a :class:`FakeStripe`, in process (any host)."""

    def __init__(self, fake: FakeStripe) -> None:
        self.fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        await anyio.lowlevel.checkpoint()
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, out, content = self.fake.handle(
            request.method, request.url.path, request.url.query.decode(), body, headers
        )
        return httpx.Response(status, headers=out, content=content, request=request)


#: The fields through which an object without a ``customer`` belongs to one.
_LINKS = ("charge", "payment_intent", "source", "invoice", "subscription", "setup_intent")


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _route(method: str, path: str) -> tuple[str, Endpoint, dict[str, str]]:
    found = find_endpoint(method, path)
    if found is None:
        raise FakeError(404, f"Unrecognized request URL ({method}: {path}).")
    return found


def _redacted(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as recorded: the API key shortened to its mode and last four characters."""
    out = dict(headers)
    key = out.get("authorization", "").removeprefix("Bearer ")
    if key:
        out["authorization"] = f"Bearer {'_'.join(key.split('_')[:2])}_...{key[-4:]}"
    return out


def _authenticate(headers: Mapping[str, str]) -> None:
    """Only test mode keys (``sk_test_``, ``rk_test_``) are taken, as on Stripe's test mode; any
    other is refused with Stripe's 401, the key masked as Stripe masks it."""
    auth = headers.get("authorization", "")
    key = auth.removeprefix("Bearer ").strip()
    if not key:
        raise FakeError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    if key.startswith(("sk_test_", "rk_test_")):
        return
    masked = f"{'_'.join(key.split('_')[:2])}_****{key[-4:]}" if key.count("_") >= 2 else f"****{key[-4:]}"
    if key.startswith(("sk_live_", "rk_live_")):
        raise FakeError(
            401,
            f"Invalid API Key provided: {masked}. The fake Stripe plays Stripe's test mode: "
            "a live mode key was used to make this request; use a test mode key (sk_test_...).",
        )
    raise FakeError(401, f"Invalid API Key provided: {masked}")


def _read(method: str, query: str, body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("multipart/form-data"):
        return {**read_form(query), **read_multipart(body, content_type)}
    if method == "POST" and body:
        if content_type.startswith("application/json"):
            raise FakeError(400, "Invalid request: v1 takes form-encoded parameters, not JSON")
        return {**read_form(query), **read_form(body.decode())}
    return read_form(query)


def _expand_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [v for _, v in sorted(value.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)]
    raise FakeError(400, "Invalid expand: must be a list of field paths", param="expand")


def _fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), query.encode(), body])).hexdigest()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _body_length(value: str | None, limit: int) -> int | tuple[int, str]:
    """The body's length from ``Content-Length`` (ASCII digits only), or the error to answer."""
    if value is None or value == "":
        return 0
    if not (value.isascii() and value.isdigit()):
        return 400, f"Invalid Content-Length header: {value[:20]!r}"
    if int(value) > limit:
        return 413, f"Request body too large: {value} bytes (the fake takes at most {limit})"
    return int(value)


def _server(fake: FakeStripe, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = _body_length(self.headers.get("Content-Length"), fake.max_body_size)
            if isinstance(length, tuple):
                # The body is not read: the connection cannot be reused after it.
                error = {"error": {"type": "invalid_request_error", "message": length[1]}}
                self._send(length[0], {"Content-Type": "application/json", "Connection": "close"}, error)
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out, content = fake.handle(self.command, path, query, body, headers)
            self._send(status, out, content)

        def _send(self, status: int, out: Mapping[str, str], content: bytes | dict[str, Any]) -> None:
            if isinstance(content, dict):
                content = json.dumps(content).encode()
            self.send_response(status)
            for key, value in out.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server

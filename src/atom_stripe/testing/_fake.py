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
from . import _accounts, _billing, _connect_pages, _customers, _events, _payments, _setup_intents, _statuses, _v2  # noqa: F401 - they register their behaviours
from ._accounts import PLATFORM_ACCOUNT, PLATFORM_CLIENT_ID, OAuthGrants, acting_account, key_of, mask_key
from ._engine import Ctx, answer
from ._store import Store, load_fixtures, new_id
from ._webhooks import Delivery, Outbox, asgi_url
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
        #: The platform's own account id: the account a request without ``Stripe-Account`` acts on.
        self.platform_account = PLATFORM_ACCOUNT
        #: The platform's Connect client id (``ca_...``): the one ``StripeOAuth`` must use.
        self.client_id = PLATFORM_CLIENT_ID
        #: Every account's objects, by account id: the platform's and each connected account's.
        self.stores: dict[str, Store] = {PLATFORM_ACCOUNT: Store(load_fixtures())}
        #: OAuth codes, access and refresh tokens handed out (``/oauth/token``).
        self.oauth = OAuthGrants()
        #: The base URL of the fake while served (:meth:`serve`): links it hands out point there.
        self.base_url: str | None = None
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
        #: What the fake keeps of v2 calls: meter event session tokens, event destinations' state;
        #: ``meter_events`` (the platform's; ``meter_events_of(account)``) read each account's events.
        self.v2 = _v2.V2State(fake=self)

    def __repr__(self) -> str:
        return f"<FakeStripe requests={len(self.requests)}>"

    # -- accounts ---------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The platform's own objects."""
        return self.stores[self.platform_account]

    def store_of(self, account: str | None) -> Store:
        """The objects of one account (``None``: the platform's); a ``StripeValueError`` for an
        account this platform does not have (never another account's objects)."""
        found = self.stores.get(account or self.platform_account)
        if found is None:
            raise StripeValueError("stripe_account", f"no such connected account on this fake: {account!r}")
        return found

    def complete_onboarding(self, account: str) -> dict[str, Any]:
        """Play a connected account's user finishing onboarding: capabilities active, nothing due,
        charges and payouts enabled, an ``account.updated`` event (to Connect webhooks). Returns
        the account."""
        with self._lock:
            if not _accounts.connected(self, account):
                raise StripeValueError("account", f"no such connected account on this fake: {account!r}")
            ctx = Ctx(self, "accounts.update", ENDPOINTS["accounts.update"], {"account": account}, {}, None, None)
            with ctx.automatic():
                return copy.deepcopy(_accounts.complete_onboarding(ctx, account))

    def oauth_code(self, account: str | None = None, scope: str = "read_write") -> str:
        """A Connect OAuth code (``ac_...``), as ``/oauth/authorize`` redirects with, for
        ``StripeOAuth.exchange_code`` (served: ``base_url=`` the served URL): for an existing
        account (``account``: one made or connected before, connected again), or for a new,
        onboarded Standard account made when the code is exchanged."""
        if scope not in ("read_only", "read_write"):
            raise StripeValueError("scope", f"must be 'read_only' or 'read_write', not {scope!r}")
        with self._lock:
            if account is not None and (account not in self.stores or account == self.platform_account):
                raise StripeValueError("account", f"no such connected account on this fake: {account!r}")
            return _accounts.oauth_code(self, account, scope)

    def connected_accounts(self) -> list[str]:
        """The ids of the connected accounts, oldest first."""
        return [a for a in self.stores if _accounts.connected(self, a)]

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
        base = self.base_url = f"http://{host}:{server.server_address[1]}"
        try:
            yield base
        finally:
            self.base_url = None
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
        connect: bool = False,
    ) -> AsyncIterator[dict[str, Any]]:
        """Deliver this fake's webhooks to an ASGI app (your FastAPI or Starlette service), in
        process, on the test's own event loop: no server, no port. Inside, a webhook endpoint
        for ``path`` exists (yielded: its ``secret`` is what your receiver verifies with) and
        every event it wants is POSTed to the app, signed with ``secret`` (default: a fresh
        ``whsec_...``), retried as over HTTP; :meth:`webhooks_delivered` waits for them.
        ``connect=True``: a Connect endpoint of the platform, which gets the events of its
        connected accounts (``account`` set) instead of the platform's own. ::

            async with stripe_fake.deliver_webhooks(app) as endpoint:
                settings.webhook_secret = endpoint["secret"]
                ...  # calls that make events
                await stripe_fake.webhooks_delivered()
        """
        if not path.startswith("/"):
            raise StripeValueError("path", f"must start with '/', not {path!r}")
        if secret is not None and not secret.startswith("whsec_"):
            raise StripeValueError("secret", "must be a webhook signing secret ('whsec_...')")
        url = asgi_url(path)
        # The app's box is there before the endpoint: no event finds the endpoint without it.
        async with self._outbox.delivering_to(url, app):
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
                if connect:
                    self.store.connect_endpoints.add(endpoint["id"])
            try:
                yield copy.deepcopy(endpoint)
            finally:
                with self._lock:
                    endpoint["status"] = "disabled"

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

    def now(self, customer: str | None = None, store: Store | None = None) -> int:
        """The time for a customer (of ``store``'s account; the platform's by default): its test
        clock's frozen time, if it has one."""
        store = store or self.store
        if customer is not None:
            found = store.find(customer, "customer")
            clock_id = found.get("test_clock") if found else None
            clock = store.find(clock_id, "test_helpers.test_clock") if isinstance(clock_id, str) else None
            if clock is not None:
                return int(clock["frozen_time"])
        return int(time.time())

    def time_of(self, obj: Mapping[str, Any], store: Store | None = None) -> int:
        """The time for an object: the frozen time of its test clock (its own, or its customer's),
        so everything of a clock customer (charges, refunds, balance transactions, events) carries
        the clock's time, as on Stripe; the wall clock's otherwise. ``store``: the object's
        account's (the platform's by default)."""
        store = store or self.store
        clock_id = obj.get("test_clock")
        if not isinstance(clock_id, str):
            customer = store.find(self.customer_of(obj, store=store) or "", "customer")
            clock_id = customer.get("test_clock") if customer else None
        clock = store.find(clock_id, "test_helpers.test_clock") if isinstance(clock_id, str) else None
        return int(clock["frozen_time"]) if clock is not None else int(time.time())

    def customer_of(self, obj: Mapping[str, Any], depth: int = 0, store: Store | None = None) -> str | None:
        """The id of the customer an object belongs to: its own (a customer), its ``customer``,
        or that of the object it was made from (a refund's charge, a balance transaction's source)."""
        if obj.get("object") == "customer":
            return str(obj["id"])
        found = _id_of(obj.get("customer"))
        if found is not None or depth > 2:
            return found
        store = store or self.store
        for key in _LINKS:
            linked = store.find(_id_of(obj.get(key)) or "")
            if linked is not None and linked is not obj and (found := self.customer_of(linked, depth + 1, store)):
                return found
        return None

    # -- objects, for tests to set the scene ------------------------------------------------------

    def add(self, object_name: str, *, stripe_account: str | None = None, **fields: Any) -> dict[str, Any]:
        """Store an object of any type (Stripe's example with ``fields`` set), e.g. a dispute to
        work on; on a connected account with ``stripe_account``. An ``account`` added is a
        connected account of the platform."""
        with self._lock:
            store = self.store_of(stripe_account)
            obj = store.template(object_name, self.now(), fields.pop("id", None))
            obj.update(fields)
            if object_name == "account" and store is self.store:
                _accounts.open_account(self, obj["id"])  # an account added is a connected account
            return copy.deepcopy(store.put(obj))

    def fail_next(self, status: int = 500, *, times: int = 1, type: str = "api_error", message: str = "") -> None:
        """Answer the next ``times`` requests with this error (an outage, a 429...) before doing anything."""
        text = message or f"The fake Stripe was told to fail with {status}."
        with self._lock:
            self._failures += [FakeError(status, text, type=type) for _ in range(times)]

    def authenticate(
        self, payment_intent: str, *, succeed: bool = True, stripe_account: str | None = None
    ) -> dict[str, Any]:
        """Play the customer on a PaymentIntent or a SetupIntent (``seti_...``) in
        ``requires_action`` (3-D Secure): authenticate (it is charged, or set up and attached)
        or fail (``requires_payment_method``); of a connected account with ``stripe_account``.
        Returns the intent."""

        setup = payment_intent.startswith("seti_")
        kind = "setup_intent" if setup else "payment_intent"
        name = "setup_intents.confirm" if setup else "payment_intents.confirm"
        with self._lock:
            # The customer's answer is no API request of the service's: its events are automatic.
            self.store_of(stripe_account)
            ctx = Ctx(self, name, ENDPOINTS[name], {"intent": payment_intent}, {}, None, None, stripe_account)
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
            stores = {account: store.state() for account, store in self.stores.items()}
            return json.dumps({"stores": stores, "oauth": self.oauth.state()}).encode()

    def restore(self, snapshot: bytes) -> None:
        """Hold exactly what :meth:`snapshot` saw (requests, deliveries and idempotency keys are kept)."""
        with self._lock:
            state = json.loads(snapshot)
            self.stores = {}
            for account, held in state["stores"].items():
                self.stores[account] = Store(load_fixtures())
                self.stores[account].set_state(held)
            self.oauth.set_state(state["oauth"])

    def get(self, object_id: str, *, stripe_account: str | None = None) -> dict[str, Any] | None:
        """A copy of the object held under this id (any type) by the platform (or by the
        connected account ``stripe_account``), or None."""
        with self._lock:
            found = self.store_of(stripe_account).find(object_id)
            return copy.deepcopy(found) if found is not None else None

    def events(self, event_type: str | None = None, *, stripe_account: str | None = None) -> list[dict[str, Any]]:
        """The platform's events so far (or the connected account ``stripe_account``'s), oldest
        first (of one type if given)."""
        with self._lock:
            held = self.store_of(stripe_account).all("event")
            return copy.deepcopy([e for e in reversed(held) if event_type in (None, e["type"])])

    # -- handling one request ---------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request: (status, headers, body)."""
        # Surrounding whitespace is no part of a field's value (RFC 9110, section 5.5): in
        # process as over HTTP, ``Stripe-Account: acct_1 `` names ``acct_1``.
        headers = {name: value.strip(" \t") for name, value in headers.items()}
        request_id = new_id("req")
        out_headers = {"Request-Id": request_id, "Stripe-Version": headers.get("stripe-version", DEFAULT_API_VERSION)}
        idempotency_key = headers.get("idempotency-key") if method == "POST" else None
        # Where an idempotency key refused before the acting account is known is kept (below).
        account = _v2.header_account(headers) or self.platform_account
        with self._lock:
            record: dict[str, Any] = {"method": method, "path": path, "params": {}, "headers": _redacted(headers)}
            self.requests.append(record)
            if len(self.requests) > self.max_requests_kept:
                del self.requests[: len(self.requests) - self.max_requests_kept]
            try:
                if self._failures:
                    raise self._failures.pop(0)
                connect_page = _connect_pages.page(self, method, path, query, body, headers)
                if connect_page is not None:
                    return connect_page
                name, endpoint, ids = _route(method, path)
                if path.startswith("/v2/billing/meter_event_stream"):  # authenticated by a session's token
                    return _v2.handle(self, name, endpoint, ids, query, body, headers, out_headers)
                key = _authenticate(headers)
                account = acting_account(self, key, _v2.context_account(name, headers), method)
                if path.startswith("/v2/"):
                    return _v2.handle(self, name, endpoint, ids, query, body, headers, out_headers, account)
                raw = _read(method, query, body, headers.get("content-type", ""))
                record["params"] = raw
                if idempotency_key is not None:
                    replay = self._replay(account, idempotency_key, path, query, body)
                    if replay is not None:
                        return replay
                expand = _expand_list(raw.pop("expand", None))
                params = typed_params(endpoint.params_type, raw)
                record["params"] = {**params, "expand": expand} if expand else params
                ctx = Ctx(self, name, endpoint, ids, params, request_id, idempotency_key, account)
                result = answer(ctx)
                if isinstance(result, bytes):
                    return 200, {**out_headers, "Content-Type": "application/pdf"}, result
                payload = self._expanded(result, expand, ctx.store)
                status = 200
            except FakeError as exc:
                status, payload = exc.status, {"error": {**exc.body, "request_log_url": None}}
            except Exception as exc:  # a bug of the fake's: Stripe's 500, and the traceback in the log
                logger.exception("the fake Stripe failed on %s %s", method, path)
                status = 500
                payload = {"error": {"type": "api_error", "message": f"The fake Stripe failed: {exc!r}"}}
            content = json.dumps(payload).encode()
            out_headers["Content-Type"] = "application/json"
            # Keys are per account (https://docs.stripe.com/api/idempotent_requests): one refused
            # before its account was known is kept under the header's value, as it was sent.
            if idempotency_key is not None and status < 500 and status not in (409, 429, 401, 403):
                out_headers["Idempotency-Key"] = idempotency_key
                fingerprint = _fingerprint(method, path, query, body)
                self._idempotency[(account, idempotency_key)] = (
                    fingerprint,
                    status,
                    out_headers,
                    content,
                )
                while len(self._idempotency) > self._max_idempotency_keys:
                    self._idempotency.popitem(last=False)
            return status, out_headers, content

    def _replay(
        self, account: str, key: str, path: str, query: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        cached = self._idempotency.get((account, key))
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

    def _expanded(self, result: dict[str, Any], expand: list[str], store: Store) -> dict[str, Any]:
        if not expand:
            out = copy.deepcopy(result)
        elif result.get("object") in ("list", "search_result"):
            inner = [p.removeprefix("data.") for p in expand if p.startswith("data.")]
            out = {**result, "data": [store.expand(item, inner) for item in result["data"]]}
        else:
            out = store.expand(result, expand)
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
        *,
        account: str | None = None,
        at: int | None = None,
    ) -> dict[str, Any]:
        """Record an event on an account (``None``: the platform) and send it to the endpoints
        that get it. A connected account's event names it in ``account``
        (https://docs.stripe.com/api/events/object#event_object-account). Its ``created`` is
        ``at``, else the object's time (:meth:`time_of`)."""
        account = account or self.platform_account
        store = self.store_of(account)
        event = store.template("event", self.time_of(obj, store) if at is None else at)
        data: dict[str, Any] = {"object": copy.deepcopy(dict(obj))}
        if previous:
            data["previous_attributes"] = copy.deepcopy(dict(previous))
        endpoints = [
            we
            for we in self._endpoints_of(account)
            if we.get("status") == "enabled"
            and we.get("secret")
            and ("*" in we.get("enabled_events", ()) or event_type in we.get("enabled_events", ()))
        ]
        if account != self.platform_account:
            event["account"] = account
        event.update(
            type=event_type,
            data=data,
            api_version=DEFAULT_API_VERSION,
            pending_webhooks=len(endpoints),
            request={"id": request_id, "idempotency_key": idempotency_key},
        )
        store.put(event)
        if endpoints:
            payload = json.dumps(event).encode()
            for endpoint in endpoints:
                self._outbox.send(Delivery(event["id"], event_type, endpoint["url"]), payload, endpoint["secret"])
        return event

    def _endpoints_of(self, account: str) -> list[dict[str, Any]]:
        """The webhook endpoints an account's events go to: the account's own endpoints (not
        Connect ones); for a connected account, also its platform's Connect endpoints
        (``connect=true``), which get only connected accounts' events
        (https://docs.stripe.com/connect/webhooks)."""
        own = self.store_of(account)
        found = [we for we in own.all("webhook_endpoint") if we["id"] not in own.connect_endpoints]
        if account != self.platform_account:
            platform = self.store
            found += [we for we in platform.all("webhook_endpoint") if we["id"] in platform.connect_endpoints]
        return found

    def _delivered(self, event_id: str) -> None:
        """``pending_webhooks``: "webhooks that haven't been successfully delivered" (Stripe's
        event object), one fewer for each delivery that succeeded."""
        with self._lock:
            event = next((e for s in self.stores.values() if (e := s.find(event_id, "event"))), None)
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
    """The headers as recorded: the API key (Bearer, or Basic as Connect's OAuth takes it)
    shortened to its mode and last four characters; any other credentials left out."""
    out = dict(headers)
    auth = out.get("authorization", "")
    if auth:
        scheme = auth.strip().partition(" ")[0]
        key = key_of(auth)
        shown = f"{'_'.join(key.split('_')[:2])}_...{key[-4:]}" if key.count("_") >= 2 and len(key) > 12 else "..."
        out["authorization"] = f"{scheme} {shown}"
    return out


def _authenticate(headers: Mapping[str, str]) -> str:
    """Only test mode keys (``sk_test_``, ``rk_test_``) are taken, as on Stripe's test mode; any
    other is refused with Stripe's 401, the key masked as Stripe masks it."""
    key = key_of(headers.get("authorization", ""))
    if not key:
        raise FakeError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    if key.startswith(("sk_test_", "rk_test_")):
        return key
    masked = mask_key(key)
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

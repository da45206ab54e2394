"""The fake's v2 side: every v2 operation of the table answered generically (v2 objects have no
side effects the fake simulates), with v2's wire rules checked as Stripe applies them: JSON
bodies, ``Idempotency-Key`` replay on POST and DELETE, meter event sessions whose token
authenticates the meter event stream. Meter events, their adjustments and what they add up to
are the account's (``_meters``); ``fake.v2.meter_events`` shows the platform's."""

from __future__ import annotations

import copy
import hashlib
import json
import operator
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .._errors import StripeValueError
from .._generated.models import OBJECTS
from ..models._references import model_class
from ..types import check_params
from . import _meters, _v2_destinations
from ._simulated import not_simulated
from ._store import Store, new_id
from ._v2_events import OPERATION_EVENTS, emit, instant, now, related, stamp
from ._wire import FakeError, typed_params

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from contextlib import AbstractAsyncContextManager

    from .._endpoint import Endpoint
    from ._fake import FakeStripe

#: Model name -> v2 object type (``V2CoreAccount`` -> ``v2.core.account``).
_OBJECT_OF = {model: obj for obj, model in OBJECTS.items()}
#: How long a meter event session's token is valid (Stripe: "only valid for 15 minutes",
#: docs.stripe.com/api/v2/billing-meter-stream/create).
SESSION_LIFETIME = timedelta(minutes=15)
#: What a few v2 actions set on their object (the rest answer the object as it is).
_STATUSES = {"disable": "disabled", "enable": "enabled", "cancel": "canceled", "close": "closed"}
_MAX_KEYS = 10_000
#: Id prefixes of the v2 objects whose ids Stripe documents (``acct_``, ``ed_test_``); others
#: are made from their type's name.
_PREFIXES = {"v2.core.account": "acct", _v2_destinations.OBJECT: _v2_destinations.ID_PREFIX}


@dataclass
class V2State:
    """What the fake keeps of v2 calls, and its event destinations delivering in process."""

    fake: FakeStripe = field(repr=False, compare=False)
    #: Meter event session tokens -> when each expires.
    tokens: dict[str, datetime] = field(default_factory=dict)
    #: Meter event session tokens -> the account whose session it is (``None``: the platform).
    token_accounts: dict[str, str | None] = field(default_factory=dict)
    #: (account, Idempotency-Key) -> the first answer: keys are per account, as on v1.
    _replays: OrderedDict[tuple[str | None, str], tuple[str, int, bytes]] = field(default_factory=OrderedDict)

    def deliver_notifications(
        self,
        app: Any,
        path: str = "/stripe/thin-events",
        *,
        enabled_events: Sequence[str] = _v2_destinations.EMITTED,
        events_from: Sequence[str] = ("self",),
        stripe_context: str | None = None,
    ) -> AbstractAsyncContextManager[dict[str, Any]]:
        """Deliver this fake's thin event notifications to an ASGI app (your service's
        ``NotificationRouter.asgi_app()`` or FastAPI app), in process, on the test's own event
        loop, as :meth:`FakeStripe.deliver_webhooks` does snapshot events. Inside, a thin event
        destination for ``path`` exists (yielded as the API answers it, its
        ``webhook_endpoint.signing_secret`` included: what your receiver verifies with), taking
        ``enabled_events`` (by default every type the fake emits) ``events_from`` its account
        (``stripe_context``: a connected account's destination; ``"other_accounts"``: a
        platform's, for its connected accounts' events). ``fake.webhooks_delivered()`` waits
        for the deliveries. ::

            async with stripe_fake.v2.deliver_notifications(app) as destination:
                settings.thin_secret = destination["webhook_endpoint"]["signing_secret"]
                ...  # calls that make events
                await stripe_fake.webhooks_delivered()
        """
        return _v2_destinations.deliver(self.fake, app, path, enabled_events, events_from, stripe_context)

    @property
    def meter_events(self) -> list[dict[str, Any]]:
        """The platform's meter events (v1's create, v2's and the stream), oldest first, one per
        identifier, as v1 answers them (``timestamp`` in seconds);
        :meth:`meter_events_of` for a connected account's."""
        return self.meter_events_of(None)

    def meter_events_of(self, stripe_account: str | None) -> list[dict[str, Any]]:
        """The meter events a connected account received (``None``: the platform), as
        :attr:`meter_events`."""
        return _meters.received(self.fake, stripe_account)


def handle(
    fake: FakeStripe,
    name: str,
    endpoint: Endpoint,
    ids: Mapping[str, str],
    query: str,
    body: bytes,
    headers: Mapping[str, str],
    out_headers: dict[str, str],
    account: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Answer one v2 request: (status, headers, body), errors in v2's shape. ``account`` is the
    account the request acts in (its ``Stripe-Context``; ``None``: the platform's): v2 objects
    live in that account's store, as v1 objects do."""
    state = fake.v2
    key = headers.get("idempotency-key") if endpoint.method in ("POST", "DELETE") else None
    held = (account, key or "")  # the account the request names: the stream's session is read below
    fingerprint = hashlib.sha256(f"{endpoint.method} {name} {sorted(ids.items())} {query}".encode() + body).hexdigest()
    if key is not None and held in state._replays:
        first, status, content = state._replays[held]
        if first != fingerprint:
            content = _error(400, "idempotency_error", "This idempotency key was used with other parameters.")
            return 400, {**out_headers, "Content-Type": "application/json"}, content
        return status, {**out_headers, "Content-Type": "application/json", "Idempotent-Replayed": "true"}, content
    try:
        token = _authenticate(state, endpoint, headers)
        if token is not None:
            account = state.token_accounts.get(token)  # the stream acts in its session's account
        params = _params(endpoint, query, body, headers.get("content-type", ""))
        request = {"id": out_headers.get("Request-Id"), "idempotency_key": key}
        call = _Call(fake, name, endpoint, list(ids.values()), params, account, request)
        result = _answer(call)
        status, content = (202, b"") if result is None else (200, json.dumps(result).encode())
    except FakeError as exc:
        status, content = exc.status, json.dumps({"error": exc.body}).encode()
    if key is not None and status < 500:
        state._replays[held] = (fingerprint, status, content)
        while len(state._replays) > _MAX_KEYS:
            state._replays.popitem(last=False)
    return status, {**out_headers, "Content-Type": "application/json"}, content


def context_account(name: str, headers: Mapping[str, str]) -> str | None:
    """The account a request acts in (v1 or v2). ``Stripe-Context`` is a path of accounts relative to the
    key's, segments joined by ``/`` (https://docs.stripe.com/context; stripe-node's
    ``StripeContext.parse``); the fake's platform has one level of connected accounts, so a
    context is one account id (checked like ``Stripe-Account``) and a deeper one is refused.
    Without it, ``Stripe-Account``. On v1 paths as on v2: "The Stripe-Context header supersedes
    the Stripe-Account header" (https://docs.stripe.com/context)."""
    context = headers.get("stripe-context")
    if context and "/" in context:
        raise not_simulated(name, detail="a Stripe-Context deeper than one connected account")
    return header_account(headers)


def header_account(headers: Mapping[str, str]) -> str | None:
    """The account the headers name, unchecked: ``Stripe-Context``, else ``Stripe-Account``."""
    return headers.get("stripe-context") or headers.get("stripe-account") or None


def _error(status: int, type_: str, message: str) -> bytes:
    return json.dumps({"error": {"type": type_, "code": type_, "message": message}}).encode()


def _authenticate(state: V2State, endpoint: Endpoint, headers: Mapping[str, str]) -> str | None:
    """The meter event stream takes a session's token instead of an API key (the fake's v1
    check has already taken the API key of every other call): the token, on the stream."""
    if endpoint.host != "meter_events":
        return None
    token = headers.get("authorization", "").removeprefix("Bearer ").strip()
    expires = state.tokens.get(token)
    if expires is None:
        raise FakeError(401, "Invalid meter event session token.", type="invalid_request_error")
    if expires <= datetime.now(timezone.utc):
        raise FakeError(401, "The meter event session expired.", type="temporary_session_expired")
    return token


def _params(endpoint: Endpoint, query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """The request's parameters, checked against the operation's params as Stripe would."""
    from ._wire import read_form

    if endpoint.method != "POST":
        raw = read_form(query)
        page = raw.pop("page", None) if endpoint.kind == "v2list" else None  # the token in next_page_url
        params = typed_params(endpoint.params_type, raw)
        return params if page is None else {**params, "page": page}
    if not content_type.startswith("application/json"):
        raise FakeError(400, "Invalid request: v2 takes a JSON body (Content-Type: application/json)")
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        raise FakeError(400, "Invalid request: the body is not JSON") from None
    if not isinstance(params, dict):
        raise FakeError(400, "Invalid request: the body must be a JSON object")
    schema = endpoint.params_type
    if schema is None:
        if params:
            raise FakeError(400, f"Received unknown parameter: {next(iter(params))}", param=next(iter(params)))
        return {}
    try:
        check_params(schema, params)
    except StripeValueError as exc:
        raise FakeError(400, str(exc), code="invalid_fields", param=exc.param) from None
    return params


@dataclass
class _Call:
    """One v2 request, once authenticated and its parameters checked."""

    fake: FakeStripe
    name: str
    endpoint: Endpoint
    ids: list[str]
    params: dict[str, Any]
    #: The account it acts in (``None``: the platform's).
    account: str | None
    #: Its request id and idempotency key (an event's ``reason``).
    request: dict[str, str | None]

    @property
    def store(self) -> Store:
        return self.fake.store_of(self.account)


def _new(call: _Call, params: Mapping[str, Any], parent: str | None) -> dict[str, Any]:
    """A new object of the operation's result type, holding the parameters it was made with."""
    object_name = _OBJECT_OF.get(call.endpoint.result, call.endpoint.result)
    obj: dict[str, Any] = {
        "id": new_id(_PREFIXES.get(object_name) or object_name.rsplit(".", 1)[-1].split("_")[0][:6]),
        "object": object_name,
        "created": stamp(now(call.fake)),
        "livemode": False,
        **{k: copy.deepcopy(v) for k, v in params.items() if k != "include"},
    }
    if object_name == _v2_destinations.OBJECT:
        _v2_destinations.created(obj)
    return call.store.put(_fitting(call.endpoint.result, obj), parent)


def _fitting(model_name: str, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without the top-level parameters its model types otherwise (a parameter named
    like a field of another shape)."""
    model = model_class(model_name)
    for _ in range(len(obj)):
        try:
            model.model_validate(obj)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors(include_url=False) if e["loc"]}
            obj = {k: v for k, v in obj.items() if k not in bad or k in ("id", "object")}
            continue
        return obj
    return obj


def _answer(call: _Call) -> Any:
    """The answer, as the client sees it (an event destination's endpoint URL and secret only
    when included), once the events it makes are sent."""
    found = call.store.find(call.ids[-1]) if call.ids and call.name in OPERATION_EVENTS else None
    before = copy.deepcopy(found)
    result = _act(call)
    if call.name in OPERATION_EVENTS and isinstance(result, dict):
        target = related(result["id"], result["object"], f"/v2/core/accounts/{result['id']}")
        changes = _changes(before, result)
        emit(call.fake, call.account, OPERATION_EVENTS[call.name], target, changes=changes, request=call.request)
    if call.name.startswith("v2.core.event_destinations.") and isinstance(result, dict):
        include = call.params.get("include")
        if result.get("object") == _v2_destinations.OBJECT:
            return _v2_destinations.view(result, include)
        if "next_page_url" in result:
            return {**result, "data": [_v2_destinations.view(d, include) for d in result["data"]]}
    return result


def _changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """An event's ``changes``: the properties it changed, before and after; ``before`` is null
    for a creation (https://docs.stripe.com/api/v2/core/accounts/event-types, fetched attributes)."""
    if before is None:
        return {"before": None, "after": copy.deepcopy(dict(after))}
    keys = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
    return {"before": {k: before.get(k) for k in keys}, "after": {k: copy.deepcopy(after.get(k)) for k in keys}}


def _act(call: _Call) -> Any:
    fake, name, endpoint, ids, params, store = call.fake, call.name, call.endpoint, call.ids, call.params, call.store
    method = name.rsplit(".", 1)[-1]
    object_name = _OBJECT_OF.get(endpoint.result, endpoint.result)
    moment = now(fake)
    if name == "v2.billing.meter_event_stream.create":
        _meters.stream(fake, call.account, params.get("events", []))
        return None
    if name == "v2.billing.meter_event_session.create":
        token = new_id("mets")
        fake.v2.tokens[token] = moment + SESSION_LIFETIME
        fake.v2.token_accounts[token] = call.account
        return {
            "id": new_id("mes"),
            "object": object_name,
            "authentication_token": token,
            "created": stamp(moment),
            "expires_at": stamp(moment + SESSION_LIFETIME),
            "livemode": False,
        }
    if name == "v2.billing.meter_events.create":
        return _meters.create_v2(fake, call.account, params)
    if name == "v2.billing.meter_event_adjustments.create":
        return _meters.adjust_v2(fake, call.account, params)
    if name == "v2.core.events.list":
        return _page(_events(store, params), params, endpoint.path)
    if endpoint.kind == "v2list":
        parent = ids[-1] if ids else None
        items = [o for o in store.all(object_name) if parent is None or store.parents.get(o["id"]) == parent]
        return _page(items, params, endpoint.path.format(**dict(zip(endpoint.ids, ids, strict=True))))
    if method == "create" or not ids:
        return _new(call, params, ids[-1] if ids else None)
    target = store.find(ids[-1])
    if target is None:
        raise FakeError(404, f"No such object: '{ids[-1]}'", type="not_found")
    if method == "delete":
        store.remove(target["object"], target["id"])
        return {"id": target["id"], "object": target["object"]}
    if name == "v2.core.event_destinations.ping" and target["object"] == _v2_destinations.OBJECT:
        return _v2_destinations.ping(fake, call.account, target, call.request)
    if target["object"] != object_name:
        return _new(call, params, target["id"])  # an action answering another type (a ping's event)
    if endpoint.method == "POST":
        if target["object"] == _v2_destinations.OBJECT:
            params = _v2_destinations.updating(target, params)
            _v2_destinations.changed(target, method, stamp(moment))
        target.update({k: copy.deepcopy(v) for k, v in params.items() if k != "include"})
        if method in _STATUSES:
            target["status"] = _STATUSES[method]
        fitted = _fitting(endpoint.result, dict(target))
        target.clear()
        target.update(fitted)
    return target


def _events(store: Store, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The account's v2 events, newest first, of ``object_id`` (their related object's),
    ``types`` and ``created`` range (https://docs.stripe.com/api/v2/core/events/list)."""
    object_id = params.get("object_id")
    types = params.get("types")
    bounds = {op: _instant(v) for op, v in (params.get("created") or {}).items()}
    checks = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
    return [
        e
        for e in store.all("v2.core.event")
        if (object_id is None or (e.get("related_object") or {}).get("id") == object_id)
        and (not types or e["type"] in types)
        and all(_compare(checks[op], e["created"], bound) for op, bound in bounds.items())
    ]


def _compare(check: Callable[[Any, Any], bool], created: str, bound: datetime | str) -> bool:
    moment = _instant(created)
    return check(moment, bound) if type(moment) is type(bound) else check(created, str(bound))


def _instant(value: Any) -> datetime | str:
    """A timestamp as an instant, to compare; one that does not parse is kept as written (v2
    timestamps written alike sort as they are)."""
    try:
        return instant(value, "created")
    except FakeError:
        return str(value)


def _page(items: list[dict[str, Any]], params: Mapping[str, Any], path: str) -> dict[str, Any]:
    """A v2 page: ``limit`` items from the ``page`` token on, and the next page's URL."""
    limit = int(params.get("limit", 10))
    start = int(params["page"]) if str(params.get("page", "")).isdigit() else 0
    data = items[start : start + limit]
    more = start + limit < len(items)
    return {
        "data": data,
        "next_page_url": f"{path}?limit={limit}&page={start + limit}" if more else None,
        "previous_page_url": None,
    }

"""The fake's v2 side: every v2 operation of the table answered generically (v2 objects have no
side effects the fake simulates), with v2's wire rules checked as Stripe applies them: JSON
bodies, ``Idempotency-Key`` replay on POST and DELETE, meter event sessions whose token
authenticates the meter event stream, and the meter events received kept in
``fake.v2.meter_events`` (one per ``identifier``, as Stripe deduplicates them)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .._errors import StripeValueError
from .._generated.models import OBJECTS
from ..models._references import model_class
from ..types import check_params
from ._simulated import not_simulated
from ._store import Store, new_id
from ._wire import FakeError, typed_params

if TYPE_CHECKING:
    from collections.abc import Mapping

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


@dataclass
class V2State:
    """What the fake keeps of v2 calls."""

    #: Meter events received (``meter_events.create`` and the stream), in order, one per identifier.
    meter_events: list[dict[str, Any]] = field(default_factory=list)
    #: Meter event session tokens -> when each expires.
    tokens: dict[str, datetime] = field(default_factory=dict)
    _identifiers: set[str] = field(default_factory=set)
    _replays: OrderedDict[str, tuple[str, int, bytes]] = field(default_factory=OrderedDict)

    def record(self, event: Mapping[str, Any]) -> None:
        identifier = event.get("identifier") or new_id("mev")
        if identifier not in self._identifiers:
            self._identifiers.add(identifier)
            self.meter_events.append({**event, "identifier": identifier})


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
    fingerprint = hashlib.sha256(f"{endpoint.method} {name} {sorted(ids.items())} {query}".encode() + body).hexdigest()
    if key is not None and key in state._replays:
        first, status, content = state._replays[key]
        if first != fingerprint:
            content = _error(400, "idempotency_error", "This idempotency key was used with other parameters.")
            return 400, {**out_headers, "Content-Type": "application/json"}, content
        return status, {**out_headers, "Content-Type": "application/json", "Idempotent-Replayed": "true"}, content
    try:
        _authenticate(state, endpoint, headers)
        params = _params(endpoint, query, body, headers.get("content-type", ""))
        result = _answer(fake, name, endpoint, list(ids.values()), params, fake.store_of(account))
        status, content = (202, b"") if result is None else (200, json.dumps(result).encode())
    except FakeError as exc:
        status, content = exc.status, json.dumps({"error": exc.body}).encode()
    if key is not None and status < 500:
        state._replays[key] = (fingerprint, status, content)
        while len(state._replays) > _MAX_KEYS:
            state._replays.popitem(last=False)
    return status, {**out_headers, "Content-Type": "application/json"}, content


def context_account(name: str, headers: Mapping[str, str]) -> str | None:
    """The account a v2 request acts in. ``Stripe-Context`` is a path of accounts relative to the
    key's, segments joined by ``/`` (https://docs.stripe.com/context; stripe-node's
    ``StripeContext.parse``); the fake's platform has one level of connected accounts, so a
    context is one account id (checked like ``Stripe-Account``) and a deeper one is refused."""
    context = headers.get("stripe-context") or headers.get("stripe-account")
    if context and "/" in context:
        raise not_simulated(name, detail="a Stripe-Context deeper than one connected account")
    return context or None


def _error(status: int, type_: str, message: str) -> bytes:
    return json.dumps({"error": {"type": type_, "code": type_, "message": message}}).encode()


def _authenticate(state: V2State, endpoint: Endpoint, headers: Mapping[str, str]) -> None:
    """The meter event stream takes a session's token instead of an API key (the fake's v1
    check has already taken the API key of every other call)."""
    if endpoint.host != "meter_events":
        return
    token = headers.get("authorization", "").removeprefix("Bearer ").strip()
    expires = state.tokens.get(token)
    if expires is None:
        raise FakeError(401, "Invalid meter event session token.", type="invalid_request_error")
    if expires <= datetime.now(timezone.utc):
        raise FakeError(401, "The meter event session expired.", type="temporary_session_expired")


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


def _now(fake: FakeStripe) -> datetime:
    return datetime.fromtimestamp(fake.now(), timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _new(
    fake: FakeStripe, endpoint: Endpoint, params: Mapping[str, Any], parent: str | None, store: Store
) -> dict[str, Any]:
    """A new object of the operation's result type, holding the parameters it was made with."""
    object_name = _OBJECT_OF.get(endpoint.result, endpoint.result)
    prefix = object_name.rsplit(".", 1)[-1].split("_")[0][:6]
    obj: dict[str, Any] = {
        "id": new_id(prefix),
        "object": object_name,
        "created": _stamp(_now(fake)),
        "livemode": False,
        **{k: copy.deepcopy(v) for k, v in params.items() if k != "include"},
    }
    return store.put(_fitting(endpoint.result, obj), parent)


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


def _answer(
    fake: FakeStripe, name: str, endpoint: Endpoint, ids: list[str], params: dict[str, Any], store: Store
) -> Any:
    method = name.rsplit(".", 1)[-1]
    object_name = _OBJECT_OF.get(endpoint.result, endpoint.result)
    now = _now(fake)
    if name == "v2.billing.meter_event_stream.create":
        for event in params.get("events", []):
            fake.v2.record({"timestamp": _stamp(now), **event})
        return None
    if name == "v2.billing.meter_event_session.create":
        token = new_id("mets")
        fake.v2.tokens[token] = now + SESSION_LIFETIME
        return {
            "id": new_id("mes"),
            "object": object_name,
            "authentication_token": token,
            "created": _stamp(now),
            "expires_at": _stamp(now + SESSION_LIFETIME),
            "livemode": False,
        }
    if name == "v2.billing.meter_events.create":
        event = {"timestamp": _stamp(now), **params}
        fake.v2.record(event)
        return {"object": object_name, "created": _stamp(now), "livemode": False, **fake.v2.meter_events[-1]}
    if endpoint.kind == "v2list":
        parent = ids[-1] if ids else None
        items = [o for o in store.all(object_name) if parent is None or store.parents.get(o["id"]) == parent]
        return _page(items, params, endpoint.path.format(**dict(zip(endpoint.ids, ids, strict=True))))
    if method == "create" or not ids:
        return _new(fake, endpoint, params, ids[-1] if ids else None, store)
    target = store.find(ids[-1])
    if target is None:
        raise FakeError(404, f"No such object: '{ids[-1]}'", type="not_found")
    if method == "delete":
        store.remove(target["object"], target["id"])
        return {"id": target["id"], "object": target["object"]}
    if target["object"] != object_name:
        return _new(fake, endpoint, params, target["id"], store)  # an action answering another type (a ping's event)
    if endpoint.method == "POST":
        target.update({k: copy.deepcopy(v) for k, v in params.items() if k != "include"})
        if method in _STATUSES:
            target["status"] = _STATUSES[method]
        fitted = _fitting(endpoint.result, dict(target))
        target.clear()
        target.update(fitted)
    return target


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

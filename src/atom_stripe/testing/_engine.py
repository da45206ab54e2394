"""The generic engine: every operation of the table of endpoints answered by its shape (create,
retrieve, update, delete, action, list, search, singleton), with the request's parameters applied
to Stripe's example object, and an event for every change. Behaviour modules override single
operations by name (``@behaviour("payment_intents.create")``)."""

from __future__ import annotations

import contextlib
import copy
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._endpoint import Endpoint
from .._generated.endpoints import ENDPOINTS
from .._generated.models import OBJECTS
from ..types import fields_of as _fields
from . import _simulated
from ._store import SAMPLE_ID, Store, annotation_text, new_id
from ._wire import invalid, missing, required

if TYPE_CHECKING:
    from ._fake import FakeStripe

Handler = Callable[["Ctx"], Any]
BEHAVIOURS: dict[str, Handler] = {}
MODEL_OBJECTS = {model: obj for obj, model in OBJECTS.items()}
#: Stripe-owned catalogues: any id answers (as on Stripe, where they exist without being created).
CATALOGUES = frozenset(
    {"country_spec", "exchange_rate", "reporting.report_type", "climate.product", "climate.supplier", "tax_code"}
)
#: Event names that differ from the object's name.
EVENT_PREFIX = {"subscription": "customer.subscription", "tax_id": "customer.tax_id", "discount": "customer.discount"}
#: The status an action leaves an object in, where the example object has one.
ACTION_STATUS = {"cancel": "canceled", "void": "void", "finalize": "open", "expire": "expired"}
_UNION_PREFERENCE = ("Card", "BankAccount", "Source")


def behaviour(
    *names: str, not_simulated_params: Iterable[str] | dict[str, str] = (), filters: Iterable[str] = ()
) -> Callable[[Handler], Handler]:
    """Register the handler of some operations (by their name in the table): they count as
    simulated. ``not_simulated_params`` names parameters of theirs the handler does not play
    (a mapping may say what each would do): a request that sets one is refused with
    ``fake_not_simulated`` before the handler runs. ``filters`` names the list filters the
    handler plays itself, beyond those on the listed object's own fields."""
    for name in names:
        if name not in ENDPOINTS:
            raise KeyError(name)

    def register(handler: Handler) -> Handler:
        for name in names:
            BEHAVIOURS[name] = handler
            _simulated.mark_params(name, not_simulated_params)
            if filters:
                _simulated.FILTERS_PLAYED[name] = _simulated.FILTERS_PLAYED.get(name, frozenset()) | set(filters)
                _simulated.unplayed_filters.cache_clear()
        return handler

    return register


def object_of(result: str) -> str:
    """The object name an operation answers with (``Customer`` -> ``customer``; of a union, the
    likeliest: a card)."""
    names = result.split(" | ")
    return objects_of(next((n for n in _UNION_PREFERENCE if n in names), names[0]))[0]


def objects_of(result: str) -> list[str]:
    """Every object name an answer may have (``A | B``)."""
    out = []
    for name in result.split(" | "):
        if name not in MODEL_OBJECTS and name.startswith("Deleted"):
            name = name.removeprefix("Deleted")
        out.append(MODEL_OBJECTS.get(name, name.lower()))
    return out


def shape(path: str) -> str:
    """A path with its ids' names left out: ``/v1/customers/{}``."""
    return re.sub(r"\{\w+\}", "{}", path)


def _prefix_types() -> dict[str, list[str]]:
    """Path ending in an id -> the types of object it may name (``/v1/customers/{}`` -> ``[customer]``)."""
    out: dict[str, list[str]] = {}
    for endpoint in sorted(ENDPOINTS.values(), key=lambda e: e.method != "GET"):
        if endpoint.path.endswith("}") and endpoint.kind == "object":
            first = object_of(endpoint.result)
            others = [n for n in objects_of(endpoint.result) if n != first]
            out.setdefault(shape(endpoint.path), [first, *others])
    return out


PREFIX_TYPES = _prefix_types()
#: The paths below a connected account: ``/v1/accounts/{account}/persons`` and the like.
BELOW_ACCOUNT = "/v1/accounts/{account}/"
SINGLETON_PATHS = frozenset(
    e.path for e in ENDPOINTS.values() if e.method == "GET" and e.kind == "object" and not e.path.endswith("}")
)


@dataclass
class Ctx:
    """One request as a handler sees it."""

    fake: FakeStripe
    name: str
    endpoint: Endpoint
    ids: dict[str, str]
    params: dict[str, Any]
    request_id: str | None
    idempotency_key: str | None
    #: The acting account: the platform's (``fake.platform_account``) or a connected account's
    #: (``Stripe-Account``, or an OAuth access token's). ``None``: the platform's.
    account: str | None = None
    object_name: str = field(init=False)
    #: Whether events emitted now are automatic (``request.id`` null): Stripe's own work, such as
    #: what a test clock's advance sets off, rather than the direct effect of this request.
    automatic_events: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.object_name = object_of(self.endpoint.result)
        if self.account is None:
            self.account = self.fake.platform_account

    @property
    def store(self) -> Store:
        """The objects this request may read and write: the acting account's, or the platform's
        for what is below a connected account (:func:`account_below`)."""
        return self.fake.store_of(self.fake.platform_account if account_below(self) else self.account)

    @property
    def platform(self) -> bool:
        """Whether the platform acts (no ``Stripe-Account``), not a connected account."""
        return self.account == self.fake.platform_account

    def on(self, account: str | None) -> Ctx:
        """This request acting on another account (``None``: the platform): its objects, its
        events (same request id), e.g. a destination charge's payment on the connected account."""
        other = Ctx(
            self.fake, self.name, self.endpoint, self.ids, self.params, self.request_id, self.idempotency_key, account
        )
        other.automatic_events = self.automatic_events
        return other

    @property
    def last_id(self) -> str:
        return self.ids[self.endpoint.ids[-1]]

    def now(self, customer: str | None = None) -> int:
        """The time for a customer (its test clock's, if it has one), or the wall clock's."""
        return self.fake.now(customer, self.store)

    def clock_time(self, obj: Mapping[str, Any]) -> int:
        """The time for an object: its customer's test clock's, if it belongs to a clock customer."""
        return self.fake.time_of(obj, self.store)

    def emit(
        self,
        event_type: str,
        obj: Mapping[str, Any],
        previous: Mapping[str, Any] | None = None,
        *,
        automatic: bool | None = None,
        at: int | None = None,
    ) -> None:
        """Record an event (and deliver it). ``automatic`` (default: :meth:`automatic` is in force)
        gives it a null ``request`` as Stripe does for events no API request caused directly
        (https://docs.stripe.com/api/events/object#event_object-request); ``at`` its ``created``
        (default: the object's time)."""
        if automatic if automatic is not None else self.automatic_events:
            self.fake.emit(event_type, obj, previous, None, None, account=self.account, at=at)
        else:
            request = (self.request_id, self.idempotency_key)
            self.fake.emit(event_type, obj, previous, *request, account=self.account, at=at)

    @contextlib.contextmanager
    def automatic(self) -> Iterator[None]:
        """Every event emitted inside is automatic (``request: {"id": null, "idempotency_key": null}``),
        e.g. the renewals a test clock's advance runs."""
        before, self.automatic_events = self.automatic_events, True
        try:
            yield
        finally:
            self.automatic_events = before

    # -- the generic operations, for handlers to build on -----------------------------------

    def create(
        self,
        object_name: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        under: str | None = None,
        event: str | None = "",
        **fields: Any,
    ) -> dict[str, Any]:
        """A new object of ``object_name`` (the operation's by default) with ``params`` applied and
        ``fields`` set, below the object ``under`` names if any; ``event`` names its event (``None``:
        none; default ``<object>.created``)."""
        kind = object_name or self.object_name
        params = self.params if params is None else params
        custom = params.get("id") if isinstance(params.get("id"), str) else None
        if custom is not None and self.store.find(custom, kind) is not None:
            raise invalid("id", f"Object already exists: {custom}", "resource_already_exists")
        obj = self.store.template(kind, self.now(), custom)
        self.check_references(obj, params)
        before = copy.deepcopy(obj)
        apply(obj, params)
        obj.update(fields)
        fit(obj, before, self.store, fields)
        self._no_sample_ids(kind, obj, fields)
        if isinstance(obj.get("price"), dict) and "plan" in obj and not obj.get("plan"):
            obj["plan"] = plan_of(obj["price"])
        if "created" in obj and "created" not in fields:
            obj["created"] = self.clock_time(obj)
        self.store.put(obj, under)
        if event is not None:
            self.emit(event or event_name(kind, "created"), obj)
        return obj

    def _no_sample_ids(self, kind: str, obj: dict[str, Any], fields: Mapping[str, Any]) -> None:
        """A field a new object must have that still holds the example's id: a parameter the
        request had to give (Stripe's ``Missing required param``), or an id Stripe makes (a
        secret, a token): a fresh one."""
        example = self.store.fixtures.get(kind) or {}
        names = _fields(self.endpoint.params_type)[0] if self.endpoint.params_type and kind == self.object_name else {}
        for key, value in obj.items():
            if key in fields or key in ("id", "object") or value != example.get(key):
                continue
            held = value.get("id") if isinstance(value, dict) and "object" in value else value
            if not isinstance(held, str) or not SAMPLE_ID.fullmatch(held):
                continue
            if key in names:
                required(self.params, key)
            elif held is value:
                obj[key] = new_id(value.rsplit("_", 1)[0])

    def update(
        self, obj: dict[str, Any], params: Mapping[str, Any] | None = None, *, event: str | None = "", **fields: Any
    ) -> dict[str, Any]:
        """``obj`` with ``params`` applied and ``fields`` set; ``event`` as for :meth:`create`,
        sent only when something changed (``<object>.updated`` by default)."""
        params = self.params if params is None else params
        self.check_references(obj, params)
        before = copy.deepcopy(obj)
        apply(obj, params, update=True)
        obj.update(fields)
        fit(obj, before, self.store, fields)
        previous = {k: v for k, v in before.items() if obj.get(k) != v}
        if previous and event is not None:
            self.emit(event or event_name(obj["object"], "updated"), obj, previous)
        return obj

    def get(self, object_name: str, object_id: str, param: str = "id") -> dict[str, Any]:
        """The object held under this id, or Stripe's ``resource_missing``: a 404 for an id of the
        path (``param`` one of the path's ids, or ``id``), a 400 naming the parameter otherwise."""
        status = 404 if param == "id" or param in self.endpoint.ids else 400
        return self.store.get(object_name, object_id, param, status)

    def check_references(self, obj: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        """Every parameter that names another object (``customer="cus_..."``) names one held:
        otherwise Stripe's 400 ``resource_missing`` naming the parameter."""
        for key, value in params.items():
            if not isinstance(value, str) or not value or key not in obj:
                continue
            kinds = reference_kinds(obj["object"], key)
            held = any(self.store.find(value, kind) or kind in CATALOGUES for kind in kinds)
            if kinds and not held:
                self.get(kinds[0], value, key)

    def parent(self) -> dict[str, Any] | None:
        """The object the path's last id names, when the operation acts below it."""
        path = self.endpoint.path
        cut = path.rfind("}")
        kinds = PREFIX_TYPES.get(shape(path[: cut + 1]))
        if kinds is None:
            return None
        if self.endpoint.ids[-1] == "account" and account_below(self) is not None:
            return seen_account(self, self.last_id)
        found = next((obj for kind in kinds if (obj := self.store.find(self.last_id, kind))), None)
        return found if found is not None else self.get(kinds[0], self.last_id, self.endpoint.ids[-1])


@functools.cache
def reference_kinds(object_name: str, key: str) -> tuple[str, ...]:
    """The object types a field of this object may name by id (``str | Customer | None`` ->
    ``customer``): none for a field that holds no other object."""
    from ..models import model_for

    try:
        model: Any = model_for(object_name)
    except (KeyError, LookupError, AttributeError):
        return ()
    field = getattr(model, "model_fields", {}).get(key)
    if field is None:
        return ()
    parts = [p.strip() for p in annotation_text(field.annotation).split(" | ")]
    if "str" not in parts:
        return ()
    return tuple(MODEL_OBJECTS[p] for p in parts if p in MODEL_OBJECTS)


def plan_of(price: Mapping[str, Any]) -> dict[str, Any] | None:
    """The plan Stripe shows next to a recurring price (``subscription_item.plan``): the same
    price in the older Plans API's shape, same id (https://docs.stripe.com/billing/migration/migrating-prices)."""
    recurring = price.get("recurring")
    if not isinstance(recurring, Mapping):
        return None
    return {
        "id": price["id"],
        "object": "plan",
        "active": price.get("active", True),
        "amount": price.get("unit_amount"),
        "amount_decimal": price.get("unit_amount_decimal"),
        "billing_scheme": price.get("billing_scheme") or "per_unit",
        "created": price.get("created"),
        "currency": price.get("currency"),
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count") or 1,
        "livemode": False,
        "metadata": copy.deepcopy(price.get("metadata") or {}),
        "meter": recurring.get("meter"),
        "nickname": price.get("nickname"),
        "product": price.get("product"),
        "tiers_mode": price.get("tiers_mode"),
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type") or "licensed",
    }


def event_name(object_name: str, change: str) -> str:
    return f"{EVENT_PREFIX.get(object_name, object_name)}.{change}"


# -- applying parameters to an object ----------------------------------------------------------

_KEEP: Any = object()


def apply(obj: dict[str, Any], params: Mapping[str, Any], *, update: bool = False) -> None:
    """Set the parameters that name fields of ``obj`` (scalars, nested hashes, lists of scalars,
    ids of referenced objects); ``metadata`` merges on update, ``""`` unsets."""
    for key, value in params.items():
        if key in ("expand", "id", "object") or key not in obj:
            continue
        new = _merged(obj[key], value, key, update)
        if new is not _KEEP:
            obj[key] = new


def _merged(old: Any, value: Any, key: str, update: bool) -> Any:
    if key == "metadata":
        merged = dict(old or {}) if update and isinstance(value, Mapping) else {}
        merged.update(value if isinstance(value, Mapping) else {})
        return {k: v for k, v in merged.items() if v != ""}
    if value == "":
        return [] if isinstance(old, list) else None
    if isinstance(value, Decimal):
        value = str(value) if isinstance(old, str) else float(value)
    if isinstance(value, (str, int, float, bool)):
        if old is None or (isinstance(old, dict) and "id" in old and isinstance(value, str)):
            return value
        if isinstance(old, bool) != isinstance(value, bool):
            return _KEEP
        if isinstance(old, str) == isinstance(value, str):
            return value
        return _KEEP
    if isinstance(value, Mapping):
        if old is None:
            return {k: str(v) if isinstance(v, Decimal) else v for k, v in value.items()}
        if isinstance(old, dict) and old.get("object") != "list":
            out = dict(old)
            for sub, item in value.items():
                new = _merged(out.get(sub), item, sub, update) if sub in out else item
                if new is not _KEEP:
                    out[sub] = new
            return out
        return _KEEP
    if isinstance(value, list) and isinstance(old, list) and all(isinstance(v, (str, int)) for v in value):
        return list(value)
    return _KEEP


def fit(obj: dict[str, Any], before: Mapping[str, Any], store: Store | None = None, keep: Iterable[str] = ()) -> None:
    """Put back the fields whose new value (from the request's parameters) no longer parses as
    the object's model; an id given for a field that holds the object itself
    (``entitlement_feature``) gets the object held. Fields in ``keep`` (a behaviour's) stay."""
    from pydantic import BaseModel, ValidationError

    from ..models import model_for

    try:
        model: Any = model_for(obj["object"])
    except (KeyError, LookupError, AttributeError):
        return
    if not isinstance(model, type) or not issubclass(model, BaseModel):
        return
    for _ in range(3):
        try:
            # pydantic's own (strict) validation: the models' lenient one would log and accept.
            BaseModel.model_validate.__func__(model, obj)  # type: ignore[attr-defined]
            return
        except ValidationError as exc:
            for key in {e["loc"][0] for e in exc.errors() if e["loc"]}:
                if not isinstance(key, str) or key in keep:
                    continue
                kind = before[key].get("object") if isinstance(before.get(key), dict) else None
                held = store.find(obj[key], kind) if store and kind and isinstance(obj.get(key), str) else None
                if held is not None:
                    obj[key] = copy.deepcopy(held)
                elif key in before:
                    obj[key] = copy.deepcopy(before[key])
                else:
                    obj.pop(key, None)


# -- the generic operations by shape ---------------------------------------------------------


def answer(ctx: Ctx) -> Any:
    """A behaviour's answer, the generic engine's where it simulates the operation, or the
    ``fake_not_simulated`` refusal."""
    handler = BEHAVIOURS.get(ctx.name)
    if handler is None and (reason := _simulated.refusal(ctx.name)) is not None:
        raise _simulated.not_simulated(ctx.name, detail=reason)
    _simulated.check_params(ctx.name, ctx.params)
    return generic(ctx) if handler is None else handler(ctx)


def simulation(name: str) -> str:
    """How the fake answers an operation: ``behaviour``, ``generic`` or ``refused``."""
    if name in BEHAVIOURS:
        return "behaviour"
    return "refused" if _simulated.refusal(name) is not None else "generic"


def generic(ctx: Ctx) -> Any:
    ctx = owner_of(ctx)
    endpoint = ctx.endpoint
    if endpoint.kind == "bytes":
        ctx.parent()
        return b"%PDF-1.4\n% atom_stripe fake\n"
    if endpoint.kind == "list":
        return list_objects(ctx)
    if endpoint.kind == "search":
        return ctx.store.search(ctx.object_name, ctx.params, endpoint.path)
    ends_with_id = endpoint.path.endswith("}")
    if endpoint.method == "DELETE":
        return delete(ctx) if ends_with_id else singleton(ctx, delete=True)
    if endpoint.method == "GET":
        return retrieve(ctx) if ends_with_id else singleton(ctx)
    if ends_with_id:
        return ctx.update(retrieve(ctx))
    if endpoint.path in SINGLETON_PATHS:
        return singleton(ctx, update=True)
    parent = ctx.parent()
    if parent is None:
        return ctx.create()
    if parent["object"] == ctx.object_name:
        verb = endpoint.path.rsplit("/", 1)[-1]
        status = ACTION_STATUS.get(verb)
        fields: dict[str, Any] = {"status": status} if status and "status" in parent else {}
        return ctx.update(parent, **fields)
    return ctx.create(under=parent["id"], **link(ctx, parent))


def account_below(ctx: Ctx) -> str | None:
    """The connected account a request's path is below (``/v1/accounts/{account}/persons``, its
    external accounts, capabilities...), which owns what the path names: its events are that
    account's (Connect events: a person's ``person.created``), and it is kept next to the account
    objects, in the platform's store, whoever acts. None for any other path: what it names is the
    acting account's own."""
    return ctx.ids.get("account") if ctx.endpoint.path.startswith(BELOW_ACCOUNT) else None


def seen_account(ctx: Ctx, account_id: str) -> dict[str, Any]:
    """An account as the acting account may see it: the platform its connected accounts, a
    connected account itself only (Stripe's 404 ``resource_missing`` otherwise)."""
    from ._accounts import account_object

    return account_object(ctx, account_id)


def owner_of(ctx: Ctx) -> Ctx:
    """The request acting for the account that owns what its path names (:func:`account_below`),
    once the acting account may see that account; the request itself for any other path."""
    account = account_below(ctx)
    return ctx if account is None else ctx.on(str(seen_account(ctx, account)["id"]))


def link(ctx: Ctx, parent: Mapping[str, Any]) -> dict[str, Any]:
    """The field of a new nested object that points at its parent, where its example has one."""
    example = ctx.store.fixtures.get(ctx.object_name, {})
    for key in (ctx.endpoint.ids[-1], parent["object"].rsplit(".", 1)[-1]):
        if key in example:
            return {key: parent["id"]}
    return {}


def retrieve(ctx: Ctx) -> dict[str, Any]:
    object_id = ctx.last_id
    kind = ctx.object_name
    found = next(
        (obj for name in (kind, *objects_of(ctx.endpoint.result)) if (obj := ctx.store.find(object_id, name))), None
    )
    if found is None and kind in CATALOGUES:
        found = ctx.store.put(ctx.store.template(kind, ctx.now(), object_id))
    if found is not None and _below_parent(ctx, found):
        return found
    # Stripe names the path's id ``id`` whatever the path calls it.
    raise missing(kind.rsplit(".", 1)[-1].replace("_", " "), object_id, "id", 404)


def _below_parent(ctx: Ctx, obj: Mapping[str, Any]) -> bool:
    """Whether an object a nested path names (``/v1/customers/{customer}/tax_ids/{id}``) is below
    the path's parent: one made below another parent is Stripe's 404, as if it did not exist
    (a person of one connected account named on another's path)."""
    if len(ctx.endpoint.ids) < 2:
        return True
    held = ctx.store.parents.get(obj["id"])
    return held is None or held == ctx.ids[ctx.endpoint.ids[-2]]


def delete(ctx: Ctx) -> dict[str, Any]:
    obj = retrieve(ctx)
    ctx.store.remove(obj["object"], obj["id"])
    ctx.emit(event_name(obj["object"], "deleted"), obj)
    if not ctx.endpoint.result.startswith("Deleted"):
        return obj
    example = ctx.store.fixtures.get(f"deleted_{obj['object']}")
    out = copy.deepcopy(example) if example else {}
    out.update(id=obj["id"], object=obj["object"], deleted=True)
    return out


def singleton(ctx: Ctx, *, update: bool = False, delete: bool = False) -> dict[str, Any]:
    """An object that exists once (``/v1/balance``), or once per parent (a customer's cash balance)."""
    parent = ctx.parent() if ctx.endpoint.ids else None
    key = f"{ctx.object_name}:{parent['id'] if parent else ''}"
    obj = ctx.store.singletons.get(key)
    if obj is None:
        obj = ctx.store.template(ctx.object_name, ctx.now())
        if parent is not None:
            obj.update(link(ctx, parent))
        ctx.store.singletons[key] = obj
    if delete:
        del ctx.store.singletons[key]
        return obj
    return ctx.update(obj) if update else obj


def list_objects(ctx: Ctx) -> dict[str, Any]:
    path = ctx.endpoint.path
    url = re.sub(r"\{(\w+)\}", lambda m: ctx.ids[m.group(1)], path)
    if not ctx.endpoint.ids:
        return ctx.store.page(ctx.store.all(ctx.object_name), ctx.params, url)
    parent = ctx.parent()
    assert parent is not None
    segment = path.rsplit("/", 1)[-1]
    for value in parent.values():
        if isinstance(value, dict) and value.get("object") == "list" and str(value.get("url", "")).endswith(segment):
            return ctx.store.page(list(value["data"]), ctx.params, url)
    fields = (ctx.endpoint.ids[-1], parent["object"].rsplit(".", 1)[-1])
    items = [
        obj
        for obj in ctx.store.all(ctx.object_name)
        if ctx.store.parents.get(obj["id"]) == parent["id"]
        or any(obj.get(f) == parent["id"] or (obj.get(f) or {}) == {"id": parent["id"]} for f in fields)
    ]
    return ctx.store.page(items, ctx.params, url)

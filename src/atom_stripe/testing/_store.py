"""The fake's memory: objects by type and id, fresh ids, Stripe's example objects as templates,
lists (newest first, cursors, equality filters), search, and expand."""

from __future__ import annotations

import copy
import functools
import json
import re
import secrets
import string
import sys
import types
import typing
from collections.abc import Collection, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ._wire import FakeError, invalid, missing

_ALPHABET = string.ascii_letters + string.digits
#: Prefixes Stripe uses where its example object's id does not show one.
PREFIXES = {"event": "evt", "balance_transaction": "txn", "invoiceitem": "ii", "line_item": "il"}
#: Fields of a new object that the rules of :func:`fresh` leave as the example has them but that
#: Stripe sets otherwise for a new object (an empty address is null; nothing is processing yet...).
FRESH: dict[str, dict[str, Any]] = {
    "payment_intent": {"last_payment_error": None, "next_action": None, "processing": None},
    "customer": {
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        }
    },
    "charge": {"refunds": None, "amount_refunded": 0, "refunded": False},
    "subscription": {"cancel_at_period_end": False, "pause_collection": None},
    "invoice": {"from_invoice": None, "last_finalization_error": None},
}
#: An id in an example object (``cus_QXg1o8vcGmoR32``, ``pst_test_iPPfmBn7kZ0gIJ4xpehqTnC``).
SAMPLE_ID = re.compile(r"[a-z]+(?:_[a-z]+)*_(?=[a-z]*[A-Z0-9])[A-Za-z0-9]{3,}")
#: An identifier or a sample text (``obj_123``, ``7FE1103``), as opposed to an enum value (``none``).
_SAMPLE_TEXT = re.compile(r"[^a-z_.]")


def fresh(object_name: str, example: Mapping[str, Any]) -> dict[str, Any]:
    """A new object of this type as Stripe makes it, from its example and its model: what every
    such object has (its required fields, lists emptied, nested objects made fresh the same way)
    and, of the fields the model declares optional, only Stripe's defaults for a new object:
    ``null``, never the example's sample values (a timestamp, an id, a count, a nested object
    holding one); zeros, ``false``, empty lists and enum values (``tax_exempt: "none"``) stay."""
    from ..models import model_for

    try:
        model: Any = model_for(object_name)
    except (KeyError, LookupError, AttributeError):
        model = None
    if not isinstance(getattr(model, "model_fields", None), dict):
        return copy.deepcopy(dict(example))  # an event (a union of typed events): emit builds it whole
    out = _fresh_fields(model, example)
    out.update(copy.deepcopy(FRESH.get(object_name, {})))
    return out


def _fresh_fields(model: Any, example: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = model.model_fields if model is not None else {}
    out: dict[str, Any] = {}
    for key, value in example.items():
        field = fields.get(key)
        if field is None:
            out[key] = _fresh_optional(value, "guess", None)
            continue
        nested = _nested_model(model, field.annotation)
        if _nullable(field.annotation):
            out[key] = _fresh_optional(value, "keep" if _is_enum(field.annotation) else "drop", nested)
        else:
            out[key] = _fresh_required(value, nested)
    return out


def _fresh_required(value: Any, nested: Any) -> Any:
    """A value every new object has: kept, its lists emptied, its nested objects made fresh."""
    if isinstance(value, dict):
        if value.get("object") == "list":
            return {**value, "data": [], "has_more": False, **({"total_count": 0} if "total_count" in value else {})}
        if value.get("object") is not None:
            return copy.deepcopy(value)  # another object, always embedded: its behaviour sets it
        return _fresh_fields(nested, value)
    if isinstance(value, list):
        return [] if any(isinstance(v, dict) for v in value) else list(value)
    return value


def _fresh_optional(value: Any, text: str, nested: Any) -> Any:
    """An optional field's value on a new object. ``text``: what to do with a string: ``keep``
    (an enum), ``drop`` (free text or an id) or ``guess`` (keep a word that looks like an enum)."""
    if value is None or isinstance(value, bool) or (value == 0 and not isinstance(value, str)):
        return value
    if isinstance(value, list):
        return []
    if isinstance(value, str):
        return value if text == "keep" or (text == "guess" and not sample(value)) else None
    if isinstance(value, dict):
        if value.get("object") == "list":
            return _fresh_required(value, nested)
        if not value or sample(value):
            return None  # a nested object holding sample values (or nothing): Stripe's is null
        kept = _fresh_fields(nested, value)
        # Nothing set in it (an address of nulls), or only a kind (an error or a next action of
        # some ``type``, a liability of an automatic tax that is off): Stripe sends null.
        return None if all(v is None or isinstance(v, str) for v in kept.values()) else kept
    return None  # a non-zero number: a sample value


def sample(value: Any) -> bool:
    """Whether a value holds something only an older object has: a non-zero number, an id or a
    sample text (``7FE1103``, ``obj_123``), another object."""
    if isinstance(value, dict):
        return value.get("object") is not None or "id" in value or any(sample(v) for v in value.values())
    if isinstance(value, list):
        return any(sample(v) for v in value)
    if isinstance(value, str):
        return bool(_SAMPLE_TEXT.search(value)) or len(value) >= 40
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0


def _nested_model(model: Any, annotation: Any) -> Any:
    """The nested model class (defined next to ``model``) a field's annotation names, if any."""
    if model is None:
        return None
    module = sys.modules.get(model.__module__)
    text = annotation_text(annotation).replace("list[", "").replace("]", "")
    for part in text.split(" | "):
        found = getattr(module, part.strip(), None)
        if isinstance(found, type) and hasattr(found, "model_fields") and found.__module__ == model.__module__:
            return found
    return None


def _timestamps(object_name: str, obj: Mapping[str, Any]) -> list[str]:
    """The required fields of a new object holding a time (the example's sample time): a new
    object's are its creation time until a behaviour sets them."""
    return [k for k, v in obj.items() if isinstance(v, int) and not isinstance(v, bool) and 10**8 <= v < 10**10]


def annotation_text(annotation: Any) -> str:
    """A field's annotation as the generated code spells it (``Customer | str | None``), whether
    pydantic has resolved it yet or not."""
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(annotation_text(a) for a in args)
    if origin is list:
        return f"list[{annotation_text(args[0])}]"
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    return annotation.__name__ if isinstance(annotation, type) else repr(annotation)


def _nullable(annotation: Any) -> bool:
    return "None" in (p.strip() for p in annotation_text(annotation).split(" | "))


def _is_enum(annotation: Any) -> bool:
    return "Literal[" in annotation_text(annotation)


@functools.lru_cache(maxsize=1)
def load_fixtures() -> dict[str, Any]:
    """Stripe's example object of every type (``fixtures3.json``, shipped with the package).
    Read once; never changed (new objects are deep copies)."""
    path = Path(str(resources.files("atom_stripe.testing").joinpath("fixtures3.json")))
    data: dict[str, Any] = json.loads(path.read_text())["resources"]
    return data


def new_id(prefix: str) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


class Store:
    """Objects by type (Stripe's ``object`` name) and id, in creation order."""

    def __init__(self, fixtures: Mapping[str, Any]) -> None:
        self.fixtures = fixtures
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.types: dict[str, str] = {}  # id -> type, for expand and parents
        self.parents: dict[str, str] = {}  # nested object id -> its parent's id
        self.cards: dict[str, str] = {}  # payment method or card id -> the test card it was made from
        self._fresh_cache: dict[str, dict[str, Any]] = {}
        self.deleted: dict[str, str] = {}  # id of a deleted object Stripe still answers for -> its type
        #: Objects that exist once (``/v1/balance``), or once per parent, by ``type:parent``.
        self.singletons: dict[str, dict[str, Any]] = {}
        #: Ids of this account's webhook endpoints made with ``connect=true``: they get the events
        #: of its connected accounts, not its own (https://docs.stripe.com/connect/webhooks).
        self.connect_endpoints: set[str] = set()

    def state(self) -> list[Any]:
        """Everything held, JSON-ready (for :meth:`FakeStripe.snapshot`)."""
        held = [self.objects, self.types, self.parents, self.cards, self.singletons, self.deleted]
        return [*held, sorted(self.connect_endpoints)]

    def set_state(self, state: list[Any]) -> None:
        """Hold exactly what :meth:`state` returned."""
        (self.objects, self.types, self.parents, self.cards, self.singletons, self.deleted, connect) = state
        self.connect_endpoints = set(connect)

    # -- templates and ids ---------------------------------------------------------------

    def prefix(self, object_name: str) -> str:
        if object_name in PREFIXES:
            return PREFIXES[object_name]
        example = self.fixtures.get(object_name, {}).get("id")
        if isinstance(example, str) and "_" in example:
            return example.split("_")[0]
        return object_name.rsplit(".", 1)[-1][:4]

    def _fresh(self, object_name: str) -> dict[str, Any]:
        found = self._fresh_cache.get(object_name)
        if found is None:
            found = self._fresh_cache[object_name] = fresh(object_name, self.fixtures[object_name])
        return found

    def template(self, object_name: str, now: int, object_id: str | None = None) -> dict[str, Any]:
        """A new object of this type: what Stripe sets on a new one (:func:`fresh`), a fresh id."""
        example = self.fixtures.get(object_name)
        obj: dict[str, Any] = copy.deepcopy(self._fresh(object_name)) if example else {"object": object_name}
        obj["id"] = object_id or new_id(self.prefix(object_name))
        for key in _timestamps(object_name, obj):
            obj[key] = now
        for key in ("created", "livemode", "metadata"):
            if key in obj or example is None:
                obj[key] = {"created": now, "livemode": False, "metadata": {}}[key]
        if example is not None and isinstance(example.get("client_secret"), str):
            obj["client_secret"] = f"{obj['id']}_secret_{new_id('x')[2:]}"
        return obj

    # -- objects ---------------------------------------------------------------------------

    def put(self, obj: dict[str, Any], parent: str | None = None) -> dict[str, Any]:
        kind = obj["object"]
        self.objects.setdefault(kind, {})[obj["id"]] = obj
        self.types[obj["id"]] = kind
        if parent is not None:
            self.parents[obj["id"]] = parent
        return obj

    def find(self, object_id: str, object_name: str | None = None) -> dict[str, Any] | None:
        kind = object_name or self.types.get(object_id)
        if kind is None:
            return None
        return self.objects.get(kind, {}).get(object_id)

    def get(self, object_name: str, object_id: str, param: str = "id", status: int = 404) -> dict[str, Any]:
        found = self.find(object_id, object_name)
        if found is None:
            raise missing(object_name.rsplit(".", 1)[-1].replace("_", " "), object_id, param, status)
        return found

    def remove(self, object_name: str, object_id: str) -> dict[str, Any]:
        found = self.get(object_name, object_id)
        del self.objects[object_name][object_id]
        self.types.pop(object_id, None)
        return found

    def all(self, object_name: str) -> list[dict[str, Any]]:
        """Newest first."""
        return list(reversed(self.objects.get(object_name, {}).values()))

    def included(self, obj: Mapping[str, Any], field: str) -> dict[str, Any] | None:
        """One of a customer's lists Stripe sends only when expanded (``expand=["subscriptions"]``;
        https://docs.stripe.com/api/customers/object#customer_object-subscriptions), or None."""
        if obj.get("object") != "customer" or field not in INCLUDABLE:
            return None
        items = [o for o in self.all(INCLUDABLE[field]) if _plain(o.get("customer")) == obj["id"]]
        if field == "subscriptions":
            items = [o for o in items if o.get("status") not in ("canceled", "incomplete_expired")]
        url = f"/v1/customers/{obj['id']}/{field}"
        return {"object": "list", "data": items, "has_more": False, "total_count": len(items), "url": url}

    # -- lists ----------------------------------------------------------------------------------

    def page(self, items: list[dict[str, Any]], params: Mapping[str, Any], url: str) -> dict[str, Any]:
        """One page of ``items`` (newest first) after the cursors, limit and equality filters."""
        items = [obj for obj in items if matches(obj, params)]
        limit = params.get("limit", 10)
        ids = [obj["id"] for obj in items]
        if params.get("starting_after") is not None:
            cursor = params["starting_after"]
            items = items[ids.index(cursor) + 1 :] if cursor in ids else []
            has_more = len(items) > limit
            items = items[:limit]
        elif params.get("ending_before") is not None:
            cursor = params["ending_before"]
            items = items[: ids.index(cursor)] if cursor in ids else []
            has_more = len(items) > limit
            items = items[-limit:]
        else:
            has_more = len(items) > limit
            items = items[:limit]
        return {"object": "list", "data": items, "has_more": has_more, "url": url}

    def search(self, object_name: str, params: Mapping[str, Any], url: str) -> dict[str, Any]:
        clauses = parse_query(params.get("query", ""))
        found = [obj for obj in self.all(object_name) if all(c(obj) for c in clauses)]
        start = int(params["page"]) if str(params.get("page", "")).isdigit() else 0
        limit = params.get("limit", 10)
        data = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "object": "search_result",
            "data": data,
            "has_more": more,
            "url": url,
            "next_page": str(start + limit) if more else None,
            "total_count": len(found),
        }

    # -- expand ---------------------------------------------------------------------------

    def expand(self, obj: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
        """A copy of ``obj`` with the ids at these dotted paths replaced by the objects held."""
        out = copy.deepcopy(obj)
        for path in paths:
            self._expand(out, path.split("."))
        return out

    def _expand(self, node: Any, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head == "data" and isinstance(node.get("data"), list):
            for item in node["data"]:
                self._expand(item, rest)
            return
        if head not in node and (included := self.included(node, head)) is not None:
            node[head] = included
        value = node.get(head)
        if isinstance(value, str) and (held := self.find(value)) is not None:
            value = node[head] = copy.deepcopy(held)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str) and (held := self.find(item)) is not None:
                    value[index] = copy.deepcopy(held)
                self._expand(value[index], rest)
            return
        self._expand(value, rest)


#: A customer's lists that Stripe includes only on expand: field -> the type of their items.
INCLUDABLE = {"subscriptions": "subscription", "tax_ids": "tax_id"}
_CURSORS = frozenset({"limit", "starting_after", "ending_before", "expand", "page", "query"})


def _plain(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) and "id" in value else value


def plural_of(key: str, fields: Collection[str]) -> str | None:
    """The field a list filter names in the plural (``ids`` -> ``id``, ``lookup_keys`` ->
    ``lookup_key``) when ``fields`` have no field of its own name, else None."""
    return key[:-1] if key not in fields and key.endswith("s") and key[:-1] in fields else None


def matches(obj: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    """Whether ``obj`` passes a list call's filters: equal to its field of that name, in a
    ``created``-style range, field by field for an object (``recurring={"interval": "month"}``),
    or, for a plural with no field of its own (``ids``, ``lookup_keys``), the singular field's
    value among those given. A field the object leaves out counts as null. (Filters no field
    answers are refused before: ``_simulated.unplayed_filters``.)"""
    for key, wanted in params.items():
        if key in _CURSORS or wanted is None:
            continue
        if isinstance(wanted, list) and (singular := plural_of(key, obj)) is not None:
            if _plain(obj[singular]) not in wanted:
                return False
            continue
        have = _plain(obj.get(key))
        if isinstance(wanted, Mapping):
            if isinstance(have, Mapping):
                if not matches(have, wanted):
                    return False
            elif not (isinstance(have, (int, float)) and not isinstance(have, bool) and _in_range(have, wanted)):
                return False
            continue
        if isinstance(wanted, list):
            if have not in wanted:
                return False
            continue
        if have != wanted and not (wanted is False and have is None):  # false matches a flag left unset
            return False
    return True


def _in_range(value: float, bounds: Mapping[str, Any]) -> bool:
    checks = {"gt": value.__gt__, "gte": value.__ge__, "lt": value.__lt__, "lte": value.__le__}
    return all(checks[k](v) for k, v in bounds.items() if k in checks)


# -- search grammar: field:'value', field~'part', field>number, metadata['key']:'value', AND --------

_CLAUSE = re.compile(
    r"""\s*(-?)(?P<field>[a-z_.]+(?:\[['"][^'"]+['"]\])?)\s*(?P<op>:|~|>=|<=|>|<)\s*"""
    r"""(?P<value>'[^']*'|"[^"]*"|-?\d+(?:\.\d+)?|null)\s*"""
)


def parse_query(query: str) -> list[Any]:
    if not query.strip():
        raise invalid("query", "Invalid search query: it is empty", "parameter_missing")
    clauses = []
    for part in re.split(r"\s+AND\s+", query.strip()):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise FakeError(400, f"Invalid search query: could not parse {part!r}", param="query")
        clauses.append(_clause(match))
    return clauses


def _clause(match: re.Match[str]) -> Any:
    negate = match.group(1) == "-"
    field, op, raw = match.group("field"), match.group("op"), match.group("value")
    wanted: Any = None if raw == "null" else raw[1:-1] if raw[0] in "'\"" else float(raw)
    key = re.fullmatch(r"metadata\[['\"]([^'\"]+)['\"]\]", field)

    def test(obj: Mapping[str, Any]) -> bool:
        if key is not None:
            have: Any = (obj.get("metadata") or {}).get(key.group(1))
        else:
            have = obj
            for part in field.split("."):
                have = have.get(part) if isinstance(have, Mapping) else None
            have = _plain(have)
        if op == ":":
            result = (have is None) if wanted is None else str(have).lower() == str(wanted).lower()
            if isinstance(wanted, float) and isinstance(have, (int, float)):
                result = have == wanted
        elif op == "~":
            result = isinstance(have, str) and str(wanted).lower() in have.lower()
        else:
            if not isinstance(have, (int, float)) or not isinstance(wanted, float):
                return False
            result = {">": have > wanted, "<": have < wanted, ">=": have >= wanted, "<=": have <= wanted}[op]
        return result != negate

    return test

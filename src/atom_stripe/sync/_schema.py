"""What the mirror holds: the object types it copies (and how each is listed), the columns of
their tables (derived from the client's models) and the versioned migrations that create them."""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any, ForwardRef

from .._errors import StripeValueError
from .._version import __version__

SCHEMA = "stripe"


@dataclass(frozen=True)
class Child:
    """A list embedded in the parent (``subscription.items``) and where to page the rest of it."""

    attribute: str
    object: str
    path: str  # "{id}" is the parent's id
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    """One mirrored object type: its list endpoint (None: only reached through a parent's list)."""

    object: str
    path: str | None
    params: Mapping[str, str] = field(default_factory=dict)
    children: tuple[Child, ...] = ()
    parent: str | None = None

    @property
    def table(self) -> str:
        return self.object.replace(".", "_")


#: The issue's default types, in the order a backfill starts them.
KINDS: dict[str, Kind] = {
    kind.object: kind
    for kind in (
        Kind("customer", "/v1/customers"),
        Kind("product", "/v1/products"),
        Kind("price", "/v1/prices"),
        # Without status=all the list leaves canceled subscriptions out
        # (https://docs.stripe.com/api/subscriptions/list#list_subscriptions-status).
        Kind(
            "subscription",
            "/v1/subscriptions",
            {"status": "all"},
            (Child("items", "subscription_item", "/v1/subscription_items", {"subscription": "{id}"}),),
        ),
        Kind("subscription_item", None, parent="subscription"),
        Kind("invoice", "/v1/invoices", children=(Child("lines", "line_item", "/v1/invoices/{id}/lines"),)),
        Kind("line_item", None, parent="invoice"),
        Kind("payment_intent", "/v1/payment_intents"),
        Kind("charge", "/v1/charges"),
        Kind("refund", "/v1/refunds"),
        Kind("balance_transaction", "/v1/balance_transactions"),
        Kind("dispute", "/v1/disputes"),
        Kind("payout", "/v1/payouts"),
        Kind("coupon", "/v1/coupons"),
        Kind("promotion_code", "/v1/promotion_codes"),
        Kind("checkout.session", "/v1/checkout/sessions"),
        Kind("credit_note", "/v1/credit_notes"),
        Kind("event", "/v1/events"),
    )
}
DEFAULT_TYPES: tuple[str, ...] = tuple(KINDS)


def kinds_for(types: Sequence[str] | None) -> list[Kind]:
    """The kinds a backfill lists: ``types`` (object names, e.g. ``"checkout.session"``) or all;
    a child type (``subscription_item``) comes with its parent."""
    if types is None:
        return [kind for kind in KINDS.values() if kind.path is not None]
    if isinstance(types, str) or not isinstance(types, Sequence):
        raise StripeValueError("types", "must be a list of object names, e.g. ['customer', 'invoice']")
    unknown = [name for name in types if name not in KINDS]
    if unknown:
        raise StripeValueError("types", f"not mirrored: {', '.join(map(repr, unknown))}; one of {', '.join(KINDS)}")
    wanted = {KINDS[name].parent or name for name in types}
    return [kind for kind in KINDS.values() if kind.object in wanted]


# -- columns ------------------------------------------------------------------------------------

#: Integer fields that hold unix times (the models type them as plain int): ``created``,
#: ``*_at``, ``*_date``, period bounds and the few others Stripe documents as timestamps.
_TIME = re.compile(
    r"created|.*_at|.*_date|(.*_)?period_(start|end)|trial_(start|end)|billing_cycle_anchor"
    r"|available_on|arrival_date|next_payment_attempt|next_pending_invoice_item_invoice|expires_at|redeem_by"
    r"|updated|billed_until"
)
#: Columns every table has, whatever the model says.
_FIXED = ("id", "metadata", "deleted", "data", "object")


@dataclass(frozen=True)
class Column:
    name: str
    sql: str  # TEXT, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP
    foreign: bool = False

    def value(self, obj: Mapping[str, Any]) -> Any:
        value = obj.get(self.name)
        if isinstance(value, Mapping):  # an expanded foreign object: keep its id
            value = value.get("id")
        if value is None:
            return None
        if self.sql == "TIMESTAMP":
            return timestamp(value) if isinstance(value, int) and not isinstance(value, bool) else None
        if self.sql == "BIGINT":
            return value if isinstance(value, int) and not isinstance(value, bool) else None
        if self.sql == "DOUBLE":
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if self.sql == "BOOLEAN":
            return value if isinstance(value, bool) else None
        return value if isinstance(value, str) else None


def timestamp(seconds: int) -> datetime:
    """A unix time as a naive UTC datetime (the tables' TIMESTAMP columns hold UTC)."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)


def _parts(annotation: Any) -> list[str]:
    """A field's type as the names of its union members: ``str | Customer | None`` ->
    ``["str", "Customer", "None"]`` (the generated models keep most annotations as strings)."""
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        parts, depth, start = [], 0, 0
        for index, char in enumerate(annotation):
            depth += char == "["
            depth -= char == "]"
            if char == "|" and depth == 0:
                parts.append(annotation[start:index].strip())
                start = index + 1
        parts.append(annotation[start:].strip())
        return [re.sub(r"\[.*", "", part) if part.startswith("Literal") else part for part in parts]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [name for arg in typing.get_args(annotation) for name in _parts(arg)]
    if origin is typing.Literal:
        return ["Literal"]
    if annotation is type(None):
        return ["None"]
    if isinstance(annotation, type) and origin is None:
        return [annotation.__name__]
    return [repr(annotation)]


_SCALARS = {"str": "TEXT", "Literal": "TEXT", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN"}


def _column(name: str, annotation: Any) -> Column | None:
    parts = [part for part in _parts(annotation) if part != "None"]
    sql = {_SCALARS.get(part, "") for part in parts}
    if sql == {"TEXT"}:
        return Column(name, "TEXT", foreign=name in KINDS)
    if sql in ({"BIGINT"}, {"DOUBLE"}, {"BOOLEAN"}, {"BIGINT", "DOUBLE"}):
        kind = "DOUBLE" if "DOUBLE" in sql else sql.pop()
        return Column(name, "TIMESTAMP" if kind == "BIGINT" and _TIME.fullmatch(name) else kind)
    # An expandable reference: "str | Customer" (a model name, no container), stored as the id.
    if "str" in parts and all(part == "str" or re.fullmatch(r"[A-Z]\w*", part) for part in parts):
        return Column(name, "TEXT", foreign=True)
    return None  # nested objects and lists: in ``data``


#: Objects Stripe always embeds whole (never an id to expand, so typed as a nested model) whose id
#: is worth a column: a subscription item's price (revenue by plan joins on it; the price's id).
_EMBEDDED_IDS: dict[str, tuple[str, ...]] = {"subscription_item": ("price",)}


@cache
def columns(object_name: str) -> tuple[Column, ...]:
    """The typed columns of a table (besides id, metadata, deleted, data), from the model's fields."""
    from ..models import model_for

    if object_name == "event":  # model_for gives the typed union's adapter: the envelope's fields
        return (
            Column("api_version", "TEXT"),
            Column("created", "TIMESTAMP"),
            Column("livemode", "BOOLEAN"),
            Column("type", "TEXT"),
        )
    model = model_for(object_name)
    fields = getattr(model, "model_fields", {}) if isinstance(model, type) else {}
    found = [_column(name, info.annotation) for name, info in fields.items() if name not in _FIXED]
    found += [Column(name, "TEXT", foreign=True) for name in _EMBEDDED_IDS.get(object_name, ())]
    return tuple(sorted((col for col in found if col is not None), key=lambda col: col.name))


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_name(kind: Kind) -> str:
    return f"{SCHEMA}.{quote(kind.table)}"


def row(kind: Kind, obj: Mapping[str, Any], *, as_of: int, deleted: bool, parent: str | None) -> tuple[Any, ...]:
    """The values of one row, in :func:`row_columns` order."""
    typed = [col.value(obj) for col in columns(kind.object)]
    metadata = obj.get("metadata")
    return (
        obj["id"],
        *typed,
        json.dumps(metadata) if isinstance(metadata, Mapping) else None,
        deleted,
        json.dumps(obj, separators=(",", ":")),
        parent,
        as_of,
        now(),
    )


def now() -> datetime:
    """The wall time as a naive UTC datetime (for ``_synced_at``)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


#: The column types each engine spells differently (DuckDB's spelling is the key).
_DIALECTS = {"duckdb": {}, "postgres": {"JSON": "JSONB", "DOUBLE": "DOUBLE PRECISION"}}
#: The columns every table has after ``id`` and the model's: (name, type, constraint).
_BOOKKEEPING = (
    ("metadata", "JSON", ""),
    ("deleted", "BOOLEAN", "NOT NULL DEFAULT false"),
    ("data", "JSON", "NOT NULL"),
    # The parent's id, for rows reached through a parent's list (subscription items, invoice lines).
    ("_parent", "TEXT", ""),
    # The Stripe time (unix seconds) of the state held: the event's created, or when the
    # backfill's list call was sent. An older state never replaces a newer one.
    ("_as_of", "BIGINT", "NOT NULL"),
    ("_synced_at", "TIMESTAMP", "NOT NULL"),
)


def _spell(sql: str, dialect: str) -> str:
    return _DIALECTS[dialect].get(sql, sql)


def row_columns(kind: Kind) -> list[str]:
    return ["id", *(col.name for col in columns(kind.object)), *(name for name, _, _ in _BOOKKEEPING)]


def row_types(kind: Kind, dialect: str) -> list[str]:
    """The SQL types of :func:`row_columns`, in order."""
    names = ["TEXT", *(col.sql for col in columns(kind.object)), *(sql for _, sql, _ in _BOOKKEEPING)]
    return [_spell(name, dialect) for name in names]


def _index(kind: Kind, name: str, *, if_missing: bool = False) -> str:
    create = "CREATE INDEX IF NOT EXISTS" if if_missing else "CREATE INDEX"
    return f"{create} {quote(f'{kind.table}_{name}')} ON {table_name(kind)} ({quote(name)})"


def create_table(kind: Kind, dialect: str = "duckdb") -> list[str]:
    """The DDL of one table as migration 1 made it (without the columns later migrations add)
    and the indexes on its foreign ids."""
    first = [col for col in columns(kind.object) if (kind.object, col.name) not in _LATER]
    body = ", ".join(
        [
            "id TEXT PRIMARY KEY",
            *(f"{quote(col.name)} {_spell(col.sql, dialect)}" for col in first),
            *(f"{name} {_spell(sql, dialect)} {rule}".rstrip() for name, sql, rule in _BOOKKEEPING),
        ]
    )
    statements = [f"CREATE TABLE {table_name(kind)} ({body})"]
    foreign = [col.name for col in first if col.foreign]
    if kind.parent is not None:
        foreign.append("_parent")
    return statements + [_index(kind, name) for name in foreign]


def migration_1(dialect: str) -> list[str]:
    statements = [
        # One row per created-range of a backfill: done, or where its pagination stands.
        f"CREATE TABLE {SCHEMA}._sync_ranges (object TEXT NOT NULL, gte BIGINT NOT NULL, lt BIGINT NOT NULL,"
        " cursor TEXT, done BOOLEAN NOT NULL DEFAULT false, PRIMARY KEY (object, gte))",
        f"CREATE TABLE {SCHEMA}._sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]
    for kind in KINDS.values():
        statements += create_table(kind, dialect)
    return statements


def migration_2(dialect: str) -> list[str]:
    """The id of an embedded object as a column (:data:`_EMBEDDED_IDS`), filled from the rows'
    JSON and indexed."""
    statements = []
    for object_name, name in _ADDED[2]:
        statements += add_column(KINDS[object_name], Column(name, "TEXT", foreign=True), dialect)
    return statements


def add_column(kind: Kind, col: Column, dialect: str) -> list[str]:
    """Add ``col`` to a table that may hold rows: the column, its index if it holds a foreign id
    (before the UPDATE: DuckDB builds no index over updates not yet committed), and its values
    read from each row's JSON as :meth:`Column.value` reads them from an object (rows without the
    field are left alone)."""
    name, field = quote(col.name), col.name.replace("'", "''")
    statements = [f"ALTER TABLE {table_name(kind)} ADD COLUMN IF NOT EXISTS {name} {_spell(col.sql, dialect)}"]
    if col.foreign:
        statements.append(_index(kind, col.name, if_missing=True))
    fill = _from_json(col, dialect)
    statements.append(f"UPDATE {table_name(kind)} SET {name} = {fill} WHERE (data->'{field}') IS NOT NULL")
    return statements


def _from_json(col: Column, dialect: str) -> str:
    """The SQL that reads ``col``'s value from a row's ``data`` as :meth:`Column.value` reads it
    from the object (``->`` and ``->>`` read the same on DuckDB's JSON and PostgreSQL's JSONB): a
    string for text; for a foreign id, the id of an embedded object or the bare id; a whole number
    in BIGINT's range for integers and timestamps; a value of another JSON type is null."""
    field = col.name.replace("'", "''")
    value, text = f"(data->'{field}')", f"(data->>'{field}')"  # bracketed: DuckDB binds -> loosely
    kind = _json_type(dialect)
    if col.sql == "TEXT":
        plain = f"CASE WHEN {kind(value)} = {_JSON_NAMES[dialect]['string']} THEN {text} END"
        if not col.foreign:
            return plain
        inner = kind(f"{value}->'id'")
        embedded = f"CASE WHEN {inner} = {_JSON_NAMES[dialect]['string']} THEN {value}->>'id' END"
        return f"coalesce({embedded}, {plain})"
    if col.sql == "BOOLEAN":
        return f"CASE WHEN {kind(value)} = {_JSON_NAMES[dialect]['boolean']} THEN ({text})::BOOLEAN END"
    if col.sql == "DOUBLE":
        number = _JSON_NAMES[dialect]["number"]
        return f"CASE WHEN {kind(value)} IN {number} THEN ({text})::{_spell('DOUBLE', dialect)} END"
    # BIGINT and TIMESTAMP: a whole number of at most 18 digits (in BIGINT's range, and a time
    # Python's datetime holds), not a float such as 1.5 (Column.value takes ints only).
    whole = f"{kind(value)} IN {_JSON_NAMES[dialect]['integer']} AND ({text}) {_MATCHES[dialect]} '^-?[0-9]{{1,18}}$'"
    number = f"({text})::BIGINT"
    if col.sql == "TIMESTAMP":
        number = (
            f"to_timestamp({number}) AT TIME ZONE 'UTC'"
            if dialect == "postgres"
            else f"make_timestamp({number} * 1000000)"
        )
    return f"CASE WHEN {whole} THEN {number} END"


def _json_type(dialect: str) -> Any:
    return (lambda v: f"jsonb_typeof({v})") if dialect == "postgres" else (lambda v: f"json_type({v})")


#: The JSON type names each engine gives: ``jsonb_typeof`` (PostgreSQL), ``json_type`` (DuckDB).
_JSON_NAMES = {
    "postgres": {"string": "'string'", "boolean": "'boolean'", "number": "('number')", "integer": "('number')"},
    "duckdb": {
        "string": "'VARCHAR'",
        "boolean": "'BOOLEAN'",
        "number": "('UBIGINT', 'BIGINT', 'DOUBLE')",
        "integer": "('UBIGINT', 'BIGINT')",
    },
}
_MATCHES = {"postgres": "~", "duckdb": "SIMILAR TO"}

#: ``_sync_state``'s record of the release whose models the tables last took their columns
#: from: an open that finds its own skips :func:`new_columns` (reading every model's fields
#: costs some 0.3 s, on every read-only open too).
COLUMNS_OF = ("columns_of", json.dumps(__version__))

#: The tables and columns a database holds (both engines answer it).
EXISTING_COLUMNS = f"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = '{SCHEMA}'"


def new_columns(existing: Sequence[tuple[str, str]], dialect: str) -> list[list[str]]:
    """What gives the database the tables and columns the models have now: a database made when
    they had fewer (an older atom_stripe, an older API version) keeps its rows and gets each new
    column, filled from the rows' JSON, before anything writes a row that has it. One list of
    statements per table or column, each to run in a transaction of its own (DuckDB fails to
    commit two indexed columns added to one table with rows in one transaction).
    ``existing``: (table, column) pairs, :data:`EXISTING_COLUMNS`'s answer."""
    held: dict[str, set[str]] = {}
    for table, column in existing:
        held.setdefault(table, set()).add(column)
    steps = []
    for kind in KINDS.values():
        have = held.get(kind.table)
        if have is None:  # a type the mirror took up after this database was made
            steps.append(create_table(kind, dialect))
            have = {name for name in row_columns(kind) if (kind.object, name) not in _LATER}
        steps += [add_column(kind, col, dialect) for col in columns(kind.object) if col.name not in have]
    return steps


#: The columns each migration after the first adds, (object, column): not in migration 1's tables.
_ADDED: dict[int, tuple[tuple[str, str], ...]] = {2: (("subscription_item", "price"),)}
_LATER = {column for added in _ADDED.values() for column in added}

#: (version, statements(dialect)), applied in order on open; each applied version is recorded once.
MIGRATIONS: tuple[tuple[int, Any], ...] = ((1, migration_1), (2, migration_2))

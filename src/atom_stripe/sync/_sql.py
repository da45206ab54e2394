"""The statements the stores run, written once with ``?`` placeholders (PostgreSQL numbers them)."""

from __future__ import annotations

import re
from functools import cache

from ._schema import KINDS, SCHEMA, Kind, quote, row_columns, row_types, table_name

MIGRATIONS_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}._migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP"
    " NOT NULL DEFAULT current_timestamp)"
)
MIGRATIONS_DONE = f"SELECT version FROM {SCHEMA}._migrations"
MIGRATION_RECORD = f"INSERT INTO {SCHEMA}._migrations (version) VALUES (?)"
RANGE_SAVE = (
    f"INSERT INTO {SCHEMA}._sync_ranges (object, gte, lt, cursor, done) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (object, gte) DO UPDATE SET lt = excluded.lt, cursor = excluded.cursor, done = excluded.done"
)
RANGES = f"SELECT object, gte, lt, cursor, done FROM {SCHEMA}._sync_ranges WHERE object = ? ORDER BY gte"
RANGES_FORGET = f"DELETE FROM {SCHEMA}._sync_ranges"
STATE = f"SELECT value FROM {SCHEMA}._sync_state WHERE key = ?"
STATE_SAVE = (
    f"INSERT INTO {SCHEMA}._sync_state (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def _newer(new: str, old: str) -> str:
    """When the state ``new`` replaces the stored ``old`` (two table aliases)."""
    return (
        f"{new}._as_of > {old}._as_of"
        # The same second: Stripe's times go no finer, so the state written last wins, except
        # that a deleted row stays deleted (its created event may come after its deleted one,
        # and Stripe never brings a deleted object back); the same state again (an event
        # applied twice) writes nothing.
        f" OR ({new}._as_of = {old}._as_of AND NOT {old}.deleted"
        f" AND ({new}.data::TEXT <> {old}.data::TEXT OR {new}.deleted <> {old}.deleted))"
    )


def _on_conflict(kind: Kind) -> str:
    updates = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in row_columns(kind) if name != "id")
    return f" ON CONFLICT (id) DO UPDATE SET {updates} WHERE {_newer('excluded', 't')}"


@cache
def upsert(object_name: str, rows: int = 1) -> str:
    """Insert ``rows`` rows, or replace each stored one unless it holds a newer state."""
    kind = KINDS[object_name]
    names = row_columns(kind)
    values = ", ".join([f"({', '.join('?' for _ in names)})"] * rows)
    return f"INSERT INTO {table_name(kind)} AS t ({', '.join(map(quote, names))}) VALUES {values}{_on_conflict(kind)}"


@cache
def upsert_arrays(object_name: str) -> str:
    """:func:`upsert` of any number of rows given as one PostgreSQL array per column ($1, $2...,
    in :func:`row_columns` order; no id twice): one statement for a page."""
    kind = KINDS[object_name]
    arrays = ", ".join(f"${index}::{name}[]" for index, name in enumerate(row_types(kind, "postgres"), 1))
    columns = ", ".join(map(quote, row_columns(kind)))
    return f"INSERT INTO {table_name(kind)} AS t ({columns}) SELECT * FROM unnest({arrays}){_on_conflict(kind)}"


@cache
def update_from(object_name: str, source: str) -> str:
    """Replace the stored rows by those of the table ``source`` (same columns) that hold a newer
    state, by :func:`upsert`'s rules; ids not stored are left out."""
    kind = KINDS[object_name]
    updates = ", ".join(f"{quote(name)} = s.{quote(name)}" for name in row_columns(kind) if name != "id")
    return f"UPDATE {table_name(kind)} AS t SET {updates} FROM {source} AS s WHERE t.id = s.id AND ({_newer('s', 't')})"


@cache
def insert_from(object_name: str, source: str) -> str:
    """Insert every row of the table ``source`` (same columns; ids not stored)."""
    kind = KINDS[object_name]
    columns = ", ".join(map(quote, row_columns(kind)))
    return f"INSERT INTO {table_name(kind)} ({columns}) SELECT {columns} FROM {source}"


@cache
def exists(object_name: str) -> str:
    return f"SELECT 1 FROM {table_name(KINDS[object_name])} WHERE id = ?"


@cache
def mark_deleted(object_name: str) -> str:
    """Mark a row deleted (keeping its last state) unless it holds a newer state:
    (as_of, synced_at, id, as_of, as_of)."""
    return (
        f"UPDATE {table_name(KINDS[object_name])} SET deleted = true, _as_of = ?, _synced_at = ? WHERE id = ?"
        " AND (_as_of < ? OR (_as_of = ? AND NOT deleted))"
    )


@cache
def prune(object_name: str) -> str:
    """Mark a parent's children deleted but those listed: (as_of, synced_at, parent, as_of, ids)."""
    return (
        f"UPDATE {table_name(KINDS[object_name])} SET deleted = true, _as_of = ?, _synced_at = ?"
        " WHERE _parent = ? AND NOT deleted AND _as_of <= ? AND id <> ALL(?::TEXT[])"
    )


def numbered(statement: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2...`` (the statements hold no literal ``?``)."""
    counter = iter(range(1, statement.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(counter)}", statement)

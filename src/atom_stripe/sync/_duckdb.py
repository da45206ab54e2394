"""The DuckDB store: one connection, used from a worker thread under a lock so that the event
loop never waits on the database; every statement's failure becomes a :class:`SyncDatabaseError`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from .._errors import MissingExtraError
from ._errors import SyncDatabaseError
from ._schema import KINDS, MIGRATIONS, SCHEMA, Kind, now, quote, row, row_columns, table_name

T = TypeVar("T")


@dataclass(frozen=True)
class Write:
    """One object to upsert: its kind, the object, whether it is deleted and its parent's id."""

    kind: Kind
    obj: Mapping[str, Any]
    deleted: bool = False
    parent: str | None = None


@dataclass
class Range:
    """A ``created`` range of one type's list, [gte, lt), and where its pagination stands."""

    object: str
    gte: int
    lt: int
    cursor: str | None = None
    done: bool = False


@cache
def _upsert_sql(object_name: str) -> str:
    kind = KINDS[object_name]
    table = quote(kind.table)
    names = row_columns(kind)
    updates = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in names if name != "id")
    return (
        f"INSERT INTO {table_name(kind)} ({', '.join(map(quote, names))}) VALUES ({', '.join('?' for _ in names)})"
        f" ON CONFLICT (id) DO UPDATE SET {updates} WHERE excluded._as_of > {table}._as_of"
        # The same second: Stripe's times go no finer, so the state written last wins; the
        # same state again (an event applied twice) writes nothing.
        f" OR (excluded._as_of = {table}._as_of AND (excluded.data::TEXT <> {table}.data::TEXT"
        f" OR excluded.deleted <> {table}.deleted))"
    )


class DuckStore:
    """The tables of one DuckDB file (or ``":memory:"``)."""

    def __init__(self, connection: Any) -> None:
        self._db = connection
        self._lock = anyio.Lock()

    @classmethod
    async def open(cls, path: str) -> DuckStore:
        try:
            import duckdb
        except ImportError as exc:
            raise MissingExtraError("sync", "duckdb") from exc

        def connect() -> Any:
            try:
                if path == ":memory:":
                    return duckdb.connect(path)
                # Attached under a fixed name: connected directly, a file called stripe.duckdb would
                # be a catalog "stripe", and "stripe.customer" ambiguous between it and the schema.
                db = duckdb.connect(":memory:")
                try:
                    db.execute(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS mirror")
                    db.execute("USE mirror")
                except BaseException:
                    db.close()
                    raise
                return db
            except duckdb.Error as exc:
                raise SyncDatabaseError(f"cannot open the DuckDB database: {exc}") from exc

        store = cls(await anyio.to_thread.run_sync(connect))
        try:
            await store.run(store._migrate)
        except BaseException:
            await store.close()
            raise
        return store

    async def run(self, work: Callable[[], T]) -> T:
        """``work`` in a worker thread, alone on the connection; driver errors as SyncDatabaseError."""
        import duckdb

        def guarded() -> T:
            try:
                return work()
            except duckdb.Error as exc:
                raise SyncDatabaseError(f"DuckDB: {exc}") from exc

        async with self._lock:
            # Not abandon_on_cancel: a cancelled caller waits for the statement (and its rollback)
            # so that the connection is never used by two threads at once.
            return await anyio.to_thread.run_sync(guarded)

    async def close(self) -> None:
        # Shielded: closing on the way out of a cancelled scope must still release the file.
        with anyio.CancelScope(shield=True):
            async with self._lock:
                await anyio.to_thread.run_sync(self._db.close)

    # -- the interface the mirror uses (the same on every engine) ------------------------------

    async def write(
        self,
        writes: Sequence[Write],
        as_of: int,
        ranges: Sequence[Range] = (),
        *,
        deleted: Sequence[Write] = (),
        prune: Sequence[tuple[Kind, str, list[str]]] = (),
        state: Mapping[str, Any] | None = None,
    ) -> None:
        """Upsert objects, mark deletions and save range positions and state in one transaction:
        a range (or the event cursor) moves on only with its rows."""
        await self.run(partial(self._write, writes, as_of, ranges, deleted=deleted, prune=prune, state=state))

    async def ranges(self, object_name: str) -> list[Range]:
        return await self.run(partial(self._ranges, object_name))

    async def forget_ranges(self) -> None:
        await self.run(self._forget_ranges)

    async def state(self, key: str) -> Any:
        return await self.run(partial(self._state, key))

    async def set_state(self, key: str, value: Any) -> None:
        await self.run(partial(self._set_state, key, value))

    async def frame(self, query: str, params: Sequence[Any] | None) -> Any:
        """A query's answer as a pandas DataFrame (``?`` placeholders)."""
        return await self.run(partial(self._frame, query, params))

    # -- the statements (run in the worker thread) -------------------------------------------

    def _transaction(self, work: Callable[[], T]) -> T:
        self._db.execute("BEGIN TRANSACTION")
        try:
            result = work()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def _migrate(self) -> list[int]:
        """Apply the migrations not yet recorded; the versions applied now."""
        self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}._migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP"
            " NOT NULL DEFAULT current_timestamp)"
        )
        done = {version for (version,) in self._db.execute(f"SELECT version FROM {SCHEMA}._migrations").fetchall()}
        applied = []
        for version, statements in MIGRATIONS:
            if version in done:
                continue

            def apply(version: int = version, statements: Callable[[], list[str]] = statements) -> None:
                for statement in statements():
                    self._db.execute(statement)
                self._db.execute(f"INSERT INTO {SCHEMA}._migrations (version) VALUES (?)", [version])

            self._transaction(apply)
            applied.append(version)
        return applied

    def _upsert(self, writes: Iterable[Write], as_of: int) -> None:
        by_kind: dict[str, list[tuple[Any, ...]]] = {}
        for write in writes:
            by_kind.setdefault(write.kind.object, []).append(
                row(write.kind, write.obj, as_of=as_of, deleted=write.deleted, parent=write.parent)
            )
        for name, rows in by_kind.items():
            self._db.executemany(_upsert_sql(name), rows)

    def _write(
        self,
        writes: Sequence[Write],
        as_of: int,
        ranges: Sequence[Range] = (),
        *,
        deleted: Sequence[Write] = (),
        prune: Sequence[tuple[Kind, str, list[str]]] = (),
        state: Mapping[str, Any] | None = None,
    ) -> None:
        def work() -> None:
            self._upsert(writes, as_of)
            for write in deleted:
                self._delete(write, as_of)
            for kind, parent, keep in prune:
                # A parent's complete embedded list: its children no longer in it are gone.
                self._db.execute(
                    f"UPDATE {table_name(kind)} SET deleted = true, _as_of = ?, _synced_at = ?"
                    " WHERE _parent = ? AND NOT deleted AND _as_of <= ? AND NOT list_contains(?::VARCHAR[], id)",
                    [as_of, now(), parent, as_of, keep],
                )
            for key, value in (state or {}).items():
                self._set_state(key, value)
            for item in ranges:
                self._db.execute(
                    f"INSERT INTO {SCHEMA}._sync_ranges (object, gte, lt, cursor, done) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (object, gte) DO UPDATE SET lt = excluded.lt, cursor = excluded.cursor,"
                    " done = excluded.done",
                    [item.object, item.gte, item.lt, item.cursor, item.done],
                )

        self._transaction(work)

    def _delete(self, write: Write, as_of: int) -> None:
        """Mark a row deleted, keeping its last state (a deletion's payload may be a stub), unless
        the row holds a newer state; a row never seen is stored from the payload, deleted."""
        table = table_name(write.kind)
        if self._db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [write.obj["id"]]).fetchone() is None:
            self._upsert([write], as_of)
            return
        self._db.execute(
            f"UPDATE {table} SET deleted = true, _as_of = ?, _synced_at = ? WHERE id = ?"
            " AND (_as_of < ? OR (_as_of = ? AND NOT deleted))",
            [as_of, now(), write.obj["id"], as_of, as_of],
        )

    def _ranges(self, object_name: str) -> list[Range]:
        found = self._db.execute(
            f"SELECT object, gte, lt, cursor, done FROM {SCHEMA}._sync_ranges WHERE object = ? ORDER BY gte",
            [object_name],
        ).fetchall()
        return [Range(*values) for values in found]

    def _forget_ranges(self) -> None:
        self._db.execute(f"DELETE FROM {SCHEMA}._sync_ranges")

    def _state(self, key: str) -> Any:
        found = self._db.execute(f"SELECT value FROM {SCHEMA}._sync_state WHERE key = ?", [key]).fetchone()
        return None if found is None else json.loads(found[0])

    def _set_state(self, key: str, value: Any) -> None:
        self._db.execute(
            f"INSERT INTO {SCHEMA}._sync_state VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )

    def _frame(self, query: str, params: Sequence[Any] | None) -> Any:
        return self._db.execute(query, params).df() if params else self._db.execute(query).df()


def known_kind(object_name: Any) -> Kind | None:
    return KINDS.get(object_name) if isinstance(object_name, str) else None

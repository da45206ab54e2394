"""The DuckDB store: one connection, used from a worker thread under a lock so that the event
loop never waits on the database; every statement's failure becomes a :class:`SyncDatabaseError`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from .._extras import needs_extra
from . import _sql as sql
from ._errors import SyncDatabaseError
from ._schema import (
    COLUMNS_OF,
    EXISTING_COLUMNS,
    KINDS,
    MIGRATIONS,
    SCHEMA,
    Kind,
    new_columns,
    now,
    row,
    row_columns,
    table_name,
)

T = TypeVar("T")
_ROWS_PER_STATEMENT = 100
_PAGE_VIEW = "_atom_stripe_page"


def _pyarrow() -> Any:
    """pyarrow when installed (the analytics extra); the sync extra alone writes without it."""
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow


@dataclass(frozen=True)
class Write:
    """One object to upsert: its kind, the object, whether it is deleted and its parent's id."""

    kind: Kind
    obj: Mapping[str, Any]
    deleted: bool = False
    parent: str | None = None


@dataclass(frozen=True)
class Batch:
    """What one :meth:`DuckStore.write` call commits: objects upserted, deletions, a parent's
    embedded lists pruned, state and range positions saved, all as of ``as_of``."""

    writes: Sequence[Write]
    as_of: int
    ranges: Sequence[Range] = ()
    deleted: Sequence[Write] = ()
    prune: Sequence[tuple[Kind, str, list[str]]] = ()
    state: Mapping[str, Any] | None = None


@dataclass
class Range:
    """A ``created`` range of one type's list, [gte, lt), and where its pagination stands."""

    object: str
    gte: int
    lt: int
    cursor: str | None = None
    done: bool = False


def latest_rows(writes: Iterable[tuple[Write, int]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of (write, as_of) pairs by table, each id once (ON CONFLICT updates a row once per
    statement), chosen by sql.upsert's rules: the newer state; the same second, the later write,
    unless the one held is deleted."""
    by_kind: dict[str, dict[str, tuple[Any, ...]]] = {}
    for write, as_of in writes:
        found = row(write.kind, write.obj, as_of=as_of, deleted=write.deleted, parent=write.parent)
        latest = by_kind.setdefault(write.kind.object, {})
        held = latest.get(found[0])
        if held is None or found[-2] > held[-2] or (found[-2] == held[-2] and not held[-5]):
            latest[found[0]] = found
    return {name: list(rows.values()) for name, rows in by_kind.items()}


class DuckStore:
    """The tables of one DuckDB file (or ``":memory:"``)."""

    def __init__(self, connection: Any) -> None:
        self._db = connection
        self._lock = anyio.Lock()

    @classmethod
    async def open(cls, path: str) -> DuckStore:
        with needs_extra("sync"):
            import duckdb

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
            await store.run(store._warm_up)
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
        await self.write_batches([Batch(writes, as_of, ranges, deleted, prune, state)])

    async def write_batches(self, batches: Sequence[Batch]) -> None:
        """Several writes in one transaction (one commit), each applied as :meth:`write` would in turn."""
        await self.run(partial(self._write, batches))

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

    async def fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A query's rows as tuples (``?`` placeholders), without pandas."""
        return await self.run(lambda: [tuple(found) for found in self._db.execute(query, list(params)).fetchall()])

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

    def _warm_up(self) -> None:
        """Scan a one-row Arrow table once: DuckDB's first Arrow scan loads its Arrow support (most
        of a second), paid here rather than by the first page or webhook written."""
        arrow = _pyarrow()
        if arrow is not None:
            self._db.register(_PAGE_VIEW, arrow.table({"n": [1]}))
            try:
                self._db.execute(f"SELECT n FROM {_PAGE_VIEW}").fetchall()
            finally:
                self._db.unregister(_PAGE_VIEW)

    def _migrate(self) -> list[int]:
        """Apply the migrations not yet recorded; the versions applied now."""
        self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        self._db.execute(sql.MIGRATIONS_TABLE)
        done = {version for (version,) in self._db.execute(sql.MIGRATIONS_DONE).fetchall()}
        applied = []
        for version, statements in MIGRATIONS:
            if version in done:
                continue

            def apply(version: int = version, statements: Callable[[str], list[str]] = statements) -> None:
                for statement in statements("duckdb"):
                    self._db.execute(statement)
                self._db.execute(sql.MIGRATION_RECORD, [version])

            self._transaction(apply)
            applied.append(version)
        if self._db.execute(sql.STATE, [COLUMNS_OF[0]]).fetchall() != [(COLUMNS_OF[1],)]:
            for step in new_columns(self._db.execute(EXISTING_COLUMNS).fetchall(), "duckdb"):

                def add(step: list[str] = step) -> None:
                    for statement in step:
                        self._db.execute(statement)

                self._transaction(add)
            self._db.execute(sql.STATE_SAVE, list(COLUMNS_OF))
        return applied

    def _upsert(self, writes: Iterable[tuple[Write, int]]) -> None:
        """Upsert (write, as_of) pairs: one statement per table for the lot."""
        for name, rows in latest_rows(writes).items():
            self._upsert_rows(name, rows)

    def _upsert_rows(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        arrow = _pyarrow()
        if arrow is not None:
            # The page as one Arrow table, some 7 times faster than the ON CONFLICT statement
            # below (docs/performance.md, "Local mirror"): the ids not stored yet (all of them, in
            # a backfill) by one plain INSERT, the ids stored (events updating rows) by one
            # UPDATE ... FROM with the same rules.
            table = table_name(KINDS[name])
            ids = [found[0] for found in rows]
            stored = {
                found for (found,) in self._db.execute(f"SELECT id FROM {table} WHERE id = ANY(?)", [ids]).fetchall()
            }
            fresh = [found for found in rows if found[0] not in stored]
            known = [found for found in rows if found[0] in stored]
            rows = []
            for part, statement in ((fresh, sql.insert_from), (known, sql.update_from)):
                if part and not self._from_arrow(arrow, name, part, statement(name, _PAGE_VIEW)):
                    rows += part
        # Many rows per statement: DuckDB's executemany runs one statement per row, some 30
        # times slower (docs/performance.md, "Local mirror").
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            self._db.execute(sql.upsert(name, len(chunk)), [value for found in chunk for value in found])

    def _from_arrow(self, arrow: Any, name: str, rows: list[tuple[Any, ...]], statement: str) -> bool:
        """Run ``statement`` over the rows as one Arrow table; False if Arrow cannot type a column
        (mixed or too large values: the statement with parameters then types them, or fails as
        DuckDB does)."""
        try:
            page = arrow.Table.from_arrays(
                [arrow.array(list(values)) for values in zip(*rows, strict=True)], names=row_columns(KINDS[name])
            )
        except (arrow.ArrowInvalid, arrow.ArrowTypeError, OverflowError):
            return False
        self._db.register(_PAGE_VIEW, page)
        try:
            self._db.execute(statement)
        finally:
            self._db.unregister(_PAGE_VIEW)
        return True

    def _write(self, batches: Sequence[Batch]) -> None:
        def work() -> None:
            # The rows of consecutive writes go in together (one statement per table), up to a
            # write with deletions or pruning, whose rules read the rows written before them.
            rows: list[tuple[Write, int]] = []
            for batch in batches:
                rows += [(write, batch.as_of) for write in batch.writes]
                if batch.deleted or batch.prune:
                    self._upsert(rows)
                    rows = []
                for write in batch.deleted:
                    self._delete(write, batch.as_of)
                for kind, parent, keep in batch.prune:
                    # A parent's complete embedded list: its children no longer in it are gone.
                    self._db.execute(sql.prune(kind.object), [batch.as_of, now(), parent, batch.as_of, keep])
                for key, value in (batch.state or {}).items():
                    self._set_state(key, value)
                for item in batch.ranges:
                    self._db.execute(sql.RANGE_SAVE, [item.object, item.gte, item.lt, item.cursor, item.done])
            self._upsert(rows)

        self._transaction(work)

    def _delete(self, write: Write, as_of: int) -> None:
        """Mark a row deleted, keeping its last state (a deletion's payload may be a stub), unless
        the row holds a newer state; a row never seen is stored from the payload, deleted."""
        if self._db.execute(sql.exists(write.kind.object), [write.obj["id"]]).fetchone() is None:
            self._upsert([(write, as_of)])
            return
        self._db.execute(sql.mark_deleted(write.kind.object), [as_of, now(), write.obj["id"], as_of, as_of])

    def _ranges(self, object_name: str) -> list[Range]:
        return [Range(*values) for values in self._db.execute(sql.RANGES, [object_name]).fetchall()]

    def _forget_ranges(self) -> None:
        self._db.execute(sql.RANGES_FORGET)

    def _state(self, key: str) -> Any:
        found = self._db.execute(sql.STATE, [key]).fetchone()
        return None if found is None else json.loads(found[0])

    def _set_state(self, key: str, value: Any) -> None:
        self._db.execute(sql.STATE_SAVE, [key, json.dumps(value)])

    def _frame(self, query: str, params: Sequence[Any] | None) -> Any:
        return self._db.execute(query, params).df() if params else self._db.execute(query).df()


def known_kind(object_name: Any) -> Kind | None:
    return KINDS.get(object_name) if isinstance(object_name, str) else None

"""The PostgreSQL store (asyncpg, asyncio only): the same tables, statements and guarantees as
DuckDB's, on one connection used by one call at a time."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import sniffio

from .._extras import needs_extra
from . import _sql as sql
from ._duckdb import Batch, Range, Write, latest_rows
from ._errors import SyncDatabaseError, SyncError
from ._schema import COLUMNS_OF, EXISTING_COLUMNS, MIGRATIONS, SCHEMA, Kind, new_columns, now

T = TypeVar("T")
#: Serializes migrations between processes opening the same database at once.
_MIGRATION_LOCK = 0x5354524950455359  # "STRIPESY"


class PgStore:
    """The ``stripe`` schema of one PostgreSQL database."""

    def __init__(self, connection: Any) -> None:
        self._db = connection
        self._lock = anyio.Lock()

    @classmethod
    async def connect(cls, dsn: str) -> PgStore:
        if sniffio.current_async_library() != "asyncio":
            raise SyncError("the PostgreSQL mirror uses asyncpg, which runs on asyncio: not on trio")
        with needs_extra("postgres"):
            import asyncpg
        try:
            connection = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The message never holds the DSN (it may carry a password).
            raise SyncDatabaseError(f"cannot connect to PostgreSQL: {type(exc).__name__}") from exc
        store = cls(connection)
        try:
            await store._call(store._migrate)
        except BaseException:
            await store.close()
            raise
        return store

    async def _call(self, work: Callable[[Any], Awaitable[T]]) -> T:
        import asyncpg

        async with self._lock:
            try:
                return await work(self._db)
            except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                raise SyncDatabaseError(f"PostgreSQL: {exc}") from exc

    async def close(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._db.close()

    async def _migrate(self, db: Any) -> None:
        async with db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await db.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            await db.execute(sql.MIGRATIONS_TABLE)
            done = {record[0] for record in await db.fetch(sql.MIGRATIONS_DONE)}
            for version, statements in MIGRATIONS:
                if version not in done:
                    for statement in statements("postgres"):
                        await db.execute(statement)
                    await db.execute(sql.numbered(sql.MIGRATION_RECORD), version)
            if await db.fetchval(sql.numbered(sql.STATE), COLUMNS_OF[0]) != COLUMNS_OF[1]:
                existing = [(record[0], record[1]) for record in await db.fetch(EXISTING_COLUMNS)]
                for step in new_columns(existing, "postgres"):
                    for statement in step:
                        await db.execute(statement)
                await db.execute(sql.numbered(sql.STATE_SAVE), *COLUMNS_OF)

    # -- the interface the mirror uses ----------------------------------------------------------

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
        """Upsert objects, mark deletions and save range positions and state in one transaction."""
        await self.write_batches([Batch(writes, as_of, ranges, deleted, prune, state)])

    async def write_batches(self, batches: Sequence[Batch]) -> None:
        """Several writes in one transaction (one commit), each applied as :meth:`write` would in turn."""

        async def work(db: Any) -> None:
            async with db.transaction():
                await self._write(db, batches)

        await self._call(work)

    async def _write(self, db: Any, batches: Sequence[Batch]) -> None:
        # As DuckDB's: the rows of consecutive writes go in together (one statement per table), up
        # to a write with deletions or pruning, whose rules read the rows written before them.
        rows: list[tuple[Write, int]] = []
        for batch in batches:
            as_of = batch.as_of
            rows += [(write, as_of) for write in batch.writes]
            if batch.deleted or batch.prune:
                await self._upsert(db, rows)
                rows = []
            for write in batch.deleted:
                if await db.fetchrow(sql.numbered(sql.exists(write.kind.object)), write.obj["id"]) is None:
                    await self._upsert(db, [(write, as_of)])
                else:
                    await db.execute(
                        sql.numbered(sql.mark_deleted(write.kind.object)),
                        as_of, now(), write.obj["id"], as_of, as_of,
                    )  # fmt: skip
            for kind, parent, keep in batch.prune:
                await db.execute(sql.numbered(sql.prune(kind.object)), as_of, now(), parent, as_of, keep)
            for key, value in (batch.state or {}).items():
                await db.execute(sql.numbered(sql.STATE_SAVE), key, json.dumps(value))
            if batch.ranges:
                await db.executemany(
                    sql.numbered(sql.RANGE_SAVE), [(r.object, r.gte, r.lt, r.cursor, r.done) for r in batch.ranges]
                )
        await self._upsert(db, rows)

    @staticmethod
    async def _upsert(db: Any, writes: Iterable[tuple[Write, int]]) -> None:
        # One statement per table: the rows as one array per column (executemany ran one
        # statement per row; docs/performance.md, "Local mirror").
        for name, rows in latest_rows(writes).items():
            await db.execute(sql.upsert_arrays(name), *(list(values) for values in zip(*rows, strict=True)))

    async def ranges(self, object_name: str) -> list[Range]:
        found = await self._call(lambda db: db.fetch(sql.numbered(sql.RANGES), object_name))
        return [Range(*record) for record in found]

    async def forget_ranges(self) -> None:
        await self._call(lambda db: db.execute(sql.RANGES_FORGET))

    async def state(self, key: str) -> Any:
        found = await self._call(lambda db: db.fetchval(sql.numbered(sql.STATE), key))
        return None if found is None else json.loads(found)

    async def set_state(self, key: str, value: Any) -> None:
        await self._call(lambda db: db.execute(sql.numbered(sql.STATE_SAVE), key, json.dumps(value)))

    async def fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A query's rows as tuples (``?`` placeholders, numbered here), without pandas."""
        found = await self._call(lambda db: db.fetch(sql.numbered(query), *params))
        return [tuple(record) for record in found]

    async def frame(self, query: str, params: Sequence[Any] | None) -> Any:
        """A query's answer as a pandas DataFrame (``$1, $2...`` placeholders)."""
        import pandas

        async def work(db: Any) -> Any:
            statement = await db.prepare(query)
            records = await statement.fetch(*(params or ()))
            names = [attribute.name for attribute in statement.get_attributes()]
            return pandas.DataFrame([tuple(record) for record in records], columns=names)

        return await self._call(work)

"""PostgresTokenStore: connected accounts' tokens in PostgreSQL, shared by every replica."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ._store import Sealer, TokenStoreError
from ._token import OAuthToken

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")
TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,50}")


class TokenStoreUnavailableError(TokenStoreError):
    """The token store's database cannot be reached; nothing was read or written."""


def _asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise TokenStoreError("PostgresTokenStore needs asyncpg: pip install 'atom_stripe[postgres]'") from exc
    return asyncpg


def _check(key: bytes | str | None, table: str) -> Sealer:
    if key is None:
        raise TokenStoreError("PostgresTokenStore keeps tokens encrypted: give it a Fernet key.")
    if not isinstance(table, str) or not TABLE_NAME.fullmatch(table):
        raise TokenStoreError("table must be a plain lower-case SQL name such as 'atom_stripe_oauth_tokens'.")
    return Sealer(key)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresTokenStore:
    """Tokens in a PostgreSQL table, encrypted with a Fernet key and bound to their row.

    ::

        store = await PostgresTokenStore.connect("postgresql://app@db/app", key=fernet_key)
        await oauth.refresh_stored(store, "acct_...")   # once across all replicas
        await store.close()

    The table (``table``, default ``atom_stripe_oauth_tokens``) and its key check
    (``<table>_meta``) are created if missing. The access and refresh tokens are sealed
    with the key together with their account id and column, so no token is stored in
    plain text and a ciphertext copied onto another row does not open. A store refuses a
    database whose tokens were sealed with another key. :meth:`refresh_lock` (a
    transaction-scoped advisory lock) makes ``StripeOAuth.refresh_stored`` run one refresh
    per account across every replica. The database being unreachable raises
    :class:`TokenStoreUnavailableError`; the store works again once it is back (asyncpg
    reconnects). Runs on asyncio (asyncpg).
    """

    def __init__(self, pool: asyncpg.Pool, *, key: bytes | str, table: str, owns_pool: bool) -> None:
        self._sealer = _check(key, table)
        self._pool = pool
        self._owns_pool = owns_pool
        self.table = table
        self.lock_timeout = 30.0

    @classmethod
    async def connect(
        cls, dsn: str, *, key: bytes | str, table: str = "atom_stripe_oauth_tokens", **pool_options: Any
    ) -> PostgresTokenStore:
        """Open a pool of its own on ``dsn`` (closed by :meth:`close`) and set the table up."""
        asyncpg = _asyncpg()
        _check(key, table)
        pool_options.setdefault("min_size", 1)
        pool_options.setdefault("max_size", 5)
        pool_options.setdefault("command_timeout", 30)
        try:
            pool = await asyncpg.create_pool(dsn, **pool_options)
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise TokenStoreUnavailableError(f"Cannot connect to the token store's database: {exc}") from None
        store = cls(pool, key=key, table=table, owns_pool=True)
        try:
            await store._setup()
        except BaseException:
            await pool.close()
            raise
        return store

    @classmethod
    async def from_pool(
        cls, pool: asyncpg.Pool, *, key: bytes | str, table: str = "atom_stripe_oauth_tokens"
    ) -> PostgresTokenStore:
        """Use the caller's asyncpg pool (left open by :meth:`close`) and set the table up."""
        store = cls(pool, key=key, table=table, owns_pool=False)
        await store._setup()
        return store

    def __repr__(self) -> str:
        return f"PostgresTokenStore(table={self.table!r})"

    async def close(self) -> None:
        """Close the pool, if the store opened it."""
        if self._owns_pool:
            await self._pool.close()

    async def _run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``work`` on a pooled connection, in a transaction; once more if the connection was lost."""
        asyncpg = _asyncpg()
        lost = (OSError, asyncio.TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError)
        for attempt in (1, 2):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    return await work(conn)
            except lost as exc:
                # A connection the server dropped (it restarted) is replaced on the next acquire.
                if attempt == 2:
                    raise TokenStoreUnavailableError(f"The token store's database cannot be reached: {exc}") from None
            except asyncpg.PostgresError as exc:
                raise TokenStoreError(f"The token store's database refused: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _setup(self) -> None:
        table = self.table

        async def setup(conn: asyncpg.Connection) -> bytes:
            # Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL: one replica at a time.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(f"atom_stripe:setup:{table}"))
            await conn.execute(f"CREATE TABLE IF NOT EXISTS {table}_meta (name text PRIMARY KEY, value bytea NOT NULL)")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (stripe_user_id text PRIMARY KEY, access_token bytea,"
                " refresh_token bytea, other text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
            )
            await conn.execute(
                f"INSERT INTO {table}_meta VALUES ('key_check', $1) ON CONFLICT DO NOTHING", self._sealer.key_check()
            )
            stored: bytes = await conn.fetchval(f"SELECT value FROM {table}_meta WHERE name = 'key_check'")
            return stored

        stored = await self._run(setup)
        if self._sealer.check(stored, f"table {table}"):
            raise TokenStoreError(f"table {table} was sealed by an older format; re-create it.")  # pragma: no cover

    async def get(self, stripe_user_id: str) -> OAuthToken | None:
        async def get(conn: asyncpg.Connection) -> Any:
            return await conn.fetchrow(
                f"SELECT access_token, refresh_token, other FROM {self.table} WHERE stripe_user_id = $1",
                stripe_user_id,
            )

        row = await self._run(get)
        return None if row is None else self._sealer.open_token(stripe_user_id, *row)

    async def put(self, token: OAuthToken) -> None:
        row = self._sealer.seal_token(token)

        async def put(conn: asyncpg.Connection) -> None:
            await conn.execute(
                f"INSERT INTO {self.table} VALUES ($1, $2, $3, $4, now()) ON CONFLICT (stripe_user_id) DO UPDATE"
                " SET access_token = $2, refresh_token = $3, other = $4, updated_at = now()",
                *row,
            )

        await self._run(put)

    async def delete(self, stripe_user_id: str) -> None:
        async def delete(conn: asyncpg.Connection) -> None:
            await conn.execute(f"DELETE FROM {self.table} WHERE stripe_user_id = $1", stripe_user_id)

        await self._run(delete)

    @asynccontextmanager
    async def refresh_lock(self, stripe_user_id: str) -> AsyncIterator[None]:
        """Hold one account's refresh lock across every replica (a transaction-scoped advisory lock).

        Waits at most ``lock_timeout`` seconds (then :class:`TokenStoreError`). The lock goes
        with its transaction: a replica that dies or is cancelled while holding it frees it.
        """
        asyncpg = _asyncpg()
        key = _lock_key(f"atom_stripe:refresh:{self.table}:{stripe_user_id}")
        in_body = False
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = {int(self.lock_timeout * 1000)}")
                await conn.execute("SELECT pg_advisory_xact_lock($1)", key)
                in_body = True
                yield
                in_body = False
        except (OSError, asyncio.TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError) as exc:
            if in_body:  # the caller's own failure
                raise
            raise TokenStoreUnavailableError(f"The token store's database cannot be reached: {exc}") from None
        except asyncpg.LockNotAvailableError:
            raise TokenStoreError(f"Another replica held the refresh lock for {self.lock_timeout} s.") from None

"""PostgresTokenStore: connected accounts' tokens in PostgreSQL, shared by every replica."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .._extras import needs_extra
from .._validation import check_rate
from ._store import KeyInput, Sealer, TokenStoreError
from ._token import OAuthToken

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")
TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,50}")
#: How long a call waits for a free connection of the pool (then TokenStoreUnavailableError).
ACQUIRE_TIMEOUT = 30.0

#: The refresh lock this task holds, and its connection: get and put inside the lock use it,
#: since waiting for a second pooled connection while holding one deadlocks a busy pool.
_held: ContextVar[tuple[PostgresTokenStore, asyncpg.Connection, object] | None] = ContextVar(
    "atom_stripe_postgres_refresh_lock", default=None
)


class TokenStoreUnavailableError(TokenStoreError):
    """The token store's database cannot be reached, is restarting, or has no free connection:
    nothing was read or written, and trying again later may work."""


def _asyncpg() -> Any:
    with needs_extra("postgres"):
        import asyncpg
    return asyncpg


def _unavailable(asyncpg: Any) -> tuple[type[BaseException], ...]:
    """Failures that a later try may not meet: the connection or the server, not the request.

    A server shutting down, starting up or in recovery (SQLSTATE class 57, e.g. 57P03
    "the database system is starting up"), out of connections or memory (class 53), and a
    driver whose connection broke mid-way (asyncpg's InternalClientError) all pass.
    """
    return (
        OSError,
        asyncio.TimeoutError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        asyncpg.PostgresConnectionError,
        asyncpg.OperatorInterventionError,
        asyncpg.InsufficientResourcesError,
    )


def _check(key: KeyInput, table: str) -> Sealer:
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
    database whose tokens were sealed with another key. :meth:`refresh_lock` (an advisory
    lock) makes ``StripeOAuth.refresh_stored`` run one refresh per account across every
    replica. Every call waits at most ``acquire_timeout`` seconds for a free connection of
    the pool. The database being unreachable, restarting or out of connections raises
    :class:`TokenStoreUnavailableError`; the store works again once it is back (asyncpg
    reconnects). Runs on asyncio (asyncpg).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        key: KeyInput,
        table: str,
        owns_pool: bool,
        acquire_timeout: float = ACQUIRE_TIMEOUT,
    ) -> None:
        self._sealer = _check(key, table)
        self._pool = pool
        self._owns_pool = owns_pool
        self.table = table
        self.lock_timeout = 30.0
        self.acquire_timeout = check_rate("acquire_timeout", acquire_timeout)
        # Quoted: a name that is an SQL keyword (user, order) is still a plain table name.
        self._table = f'"{table}"'
        self._meta = f'"{table}_meta"'

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        key: KeyInput,
        table: str = "atom_stripe_oauth_tokens",
        acquire_timeout: float = ACQUIRE_TIMEOUT,
        **pool_options: Any,
    ) -> PostgresTokenStore:
        """Open a pool of its own on ``dsn`` (closed by :meth:`close`) and set the table up."""
        asyncpg = _asyncpg()
        _check(key, table)
        check_rate("acquire_timeout", acquire_timeout)
        pool_options.setdefault("min_size", 1)
        pool_options.setdefault("max_size", 5)
        pool_options.setdefault("command_timeout", 30)
        try:
            pool = await asyncpg.create_pool(dsn, **pool_options)
        except (*_unavailable(asyncpg), asyncpg.PostgresError) as exc:
            raise TokenStoreUnavailableError(f"Cannot connect to the token store's database: {exc}") from None
        store = cls(pool, key=key, table=table, owns_pool=True, acquire_timeout=acquire_timeout)
        try:
            await store._setup()
        except BaseException:
            await pool.close()
            raise
        return store

    @classmethod
    async def from_pool(
        cls,
        pool: asyncpg.Pool,
        *,
        key: KeyInput,
        table: str = "atom_stripe_oauth_tokens",
        acquire_timeout: float = ACQUIRE_TIMEOUT,
    ) -> PostgresTokenStore:
        """Use the caller's asyncpg pool (left open by :meth:`close`) and set the table up."""
        store = cls(pool, key=key, table=table, owns_pool=False, acquire_timeout=acquire_timeout)
        await store._setup()
        return store

    def __repr__(self) -> str:
        return f"PostgresTokenStore(table={self.table!r})"

    async def close(self) -> None:
        """Close the pool, if the store opened it."""
        if self._owns_pool:
            await self._pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, waited for at most ``acquire_timeout`` seconds."""
        try:
            conn = await self._pool.acquire(timeout=self.acquire_timeout)
        except asyncio.TimeoutError:
            raise TokenStoreUnavailableError(
                f"No connection of the token store's pool was free within {self.acquire_timeout:g} s."
            ) from None
        try:
            yield conn
        finally:
            with anyio.CancelScope(shield=True):
                await self._pool.release(conn)

    def _held_connection(self) -> asyncpg.Connection | None:
        held = _held.get()
        if held is not None and held[0] is self and held[2] is asyncio.current_task():
            return held[1]
        return None

    async def _run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``work`` in a transaction, on the refresh lock's connection when this task holds
        one, else on a pooled connection (once more if that connection was lost)."""
        asyncpg = _asyncpg()
        held = self._held_connection()
        for attempt in (1, 2):
            try:
                if held is not None:
                    async with held.transaction():
                        return await work(held)
                async with self._connection() as conn, conn.transaction():
                    return await work(conn)
            except _unavailable(asyncpg) as exc:
                # A connection the server dropped (it restarted) is replaced on the next acquire.
                if attempt == 2 or held is not None:
                    raise TokenStoreUnavailableError(f"The token store's database cannot be reached: {exc}") from None
            except asyncpg.PostgresError as exc:
                raise TokenStoreError(f"The token store's database refused: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _setup(self) -> None:
        table, meta = self._table, self._meta

        async def setup(conn: asyncpg.Connection) -> bytes:
            # Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL: one replica at a time.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(f"atom_stripe:setup:{self.table}"))
            await conn.execute(f"CREATE TABLE IF NOT EXISTS {meta} (name text PRIMARY KEY, value bytea NOT NULL)")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (stripe_user_id text PRIMARY KEY, access_token bytea,"
                " refresh_token bytea, other text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
            )
            await conn.execute(
                f"INSERT INTO {meta} VALUES ('key_check', $1) ON CONFLICT DO NOTHING", self._sealer.key_check()
            )
            stored: bytes = await conn.fetchval(f"SELECT value FROM {meta} WHERE name = 'key_check'")
            return stored

        stored = await self._run(setup)
        if self._sealer.check(stored, f"table {self.table}"):
            raise TokenStoreError(
                f"table {self.table} was sealed by an older format; re-create it."
            )  # pragma: no cover

    async def get(self, stripe_user_id: str) -> OAuthToken | None:
        async def get(conn: asyncpg.Connection) -> Any:
            return await conn.fetchrow(
                f"SELECT access_token, refresh_token, other FROM {self._table} WHERE stripe_user_id = $1",
                stripe_user_id,
            )

        row = await self._run(get)
        return None if row is None else self._sealer.open_token(stripe_user_id, *row)

    async def put(self, token: OAuthToken) -> None:
        row = self._sealer.seal_token(token)

        async def put(conn: asyncpg.Connection) -> None:
            await conn.execute(
                f"INSERT INTO {self._table} VALUES ($1, $2, $3, $4, now()) ON CONFLICT (stripe_user_id) DO UPDATE"
                " SET access_token = $2, refresh_token = $3, other = $4, updated_at = now()",
                *row,
            )

        await self._run(put)

    async def delete(self, stripe_user_id: str) -> None:
        async def delete(conn: asyncpg.Connection) -> None:
            await conn.execute(f"DELETE FROM {self._table} WHERE stripe_user_id = $1", stripe_user_id)

        await self._run(delete)

    async def accounts(self) -> list[str]:
        """Every account with a stored token, sorted."""

        async def accounts(conn: asyncpg.Connection) -> list[str]:
            return [row[0] for row in await conn.fetch(f"SELECT stripe_user_id FROM {self._table} ORDER BY 1")]

        return await self._run(accounts)

    async def rotate(self) -> int:
        """Seal every stored token again with the first key; return how many accounts.

        Give every replica the new key first and the old ones after it (``key=[new, old]``),
        call this once from one of them, then the old keys can go. One transaction: a token
        that opens with none of the keys stops it with :class:`TokenStoreError` and nothing
        changes.
        """
        reseal = self._sealer.reseal

        async def rotate(conn: asyncpg.Connection) -> int:
            rows = await conn.fetch(f"SELECT stripe_user_id, access_token, refresh_token FROM {self._table} FOR UPDATE")
            for account, access, refresh in rows:
                await conn.execute(
                    f"UPDATE {self._table} SET access_token = $2, refresh_token = $3 WHERE stripe_user_id = $1",
                    account,
                    reseal(account, "access_token", access),
                    reseal(account, "refresh_token", refresh),
                )
            await conn.execute(f"UPDATE {self._meta} SET value = $1 WHERE name = 'key_check'", self._sealer.key_check())
            return len(rows)

        return await self._run(rotate)

    @asynccontextmanager
    async def refresh_lock(self, stripe_user_id: str) -> AsyncIterator[None]:
        """Hold one account's refresh lock across every replica (a PostgreSQL advisory lock).

        Waits at most ``lock_timeout`` seconds for it (then :class:`TokenStoreError`). Inside,
        this task's :meth:`get`, :meth:`put` and :meth:`delete` run on the lock's own
        connection, each committed at once: a pool as small as one connection serves as
        many concurrent refreshes as it has connections, the others wait their turn. The lock
        goes with its connection: a replica that dies while holding it frees it.
        """
        asyncpg = _asyncpg()
        key = _lock_key(f"atom_stripe:refresh:{self.table}:{stripe_user_id}")
        in_body = False
        if self._held_connection() is not None:
            raise TokenStoreError("refresh_lock is not reentrant: this task holds one of this store's locks already.")
        try:
            async with self._connection() as conn:
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL lock_timeout = {int(self.lock_timeout * 1000)}")
                    # Session-level: it outlives this transaction, so the body's writes commit at once.
                    await conn.execute("SELECT pg_advisory_lock($1)", key)
                held = _held.set((self, conn, asyncio.current_task()))
                try:
                    in_body = True
                    yield
                    in_body = False
                finally:
                    _held.reset(held)
                    # Shielded: a cancelled holder still unlocks. Should the unlock fail, the
                    # pool's reset on release (pg_advisory_unlock_all) or the lost session frees it.
                    with anyio.CancelScope(shield=True), contextlib.suppress(*_unavailable(asyncpg)):
                        await conn.execute("SELECT pg_advisory_unlock($1)", key)
        except asyncpg.LockNotAvailableError:
            raise TokenStoreError(f"Another replica held the refresh lock for {self.lock_timeout} s.") from None
        except (*_unavailable(asyncpg), asyncpg.PostgresError) as exc:
            if in_body:  # the caller's own failure
                raise
            if isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, _unavailable(asyncpg)):
                raise TokenStoreError(f"The token store's database refused: {exc}") from None
            raise TokenStoreUnavailableError(f"The token store's database cannot be reached: {exc}") from None

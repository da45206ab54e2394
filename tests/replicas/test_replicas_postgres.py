"""PostgresTokenStore on a real PostgreSQL: shared by replicas, sealed, one refresh across them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import asyncpg
import pytest
from cryptography.fernet import Fernet

from atom_stripe.oauth import (
    OAuthToken,
    PostgresTokenStore,
    StripeOAuth,
    TokenStoreError,
    TokenStoreUnavailableError,
)

from ..servers import PostgresServer
from ..unit.test_oauth import ACCOUNT, CLIENT_ID, PLATFORM_KEY, FakeConnect, connect  # noqa: F401 (a fixture)

KEY = Fernet.generate_key()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # asyncpg is asyncio only


@pytest.fixture
async def two_stores(postgres_server: PostgresServer, table: str) -> AsyncIterator[list[PostgresTokenStore]]:
    """Two replicas' stores: separate pools on one database."""
    stores = [await PostgresTokenStore.connect(postgres_server.dsn, key=KEY, table=table) for _ in range(2)]
    yield stores
    for store in stores:
        await store.close()


def token(n: int, account: str = ACCOUNT) -> OAuthToken:
    return OAuthToken(
        access_token=f"sk_test_PLAINTEXT_access_{n}",
        refresh_token=f"rt_PLAINTEXT_refresh_{n}",
        stripe_user_id=account,
        scope="read_write",
        livemode=False,
    )


async def every_value_in_the_database(dsn: str, table: str) -> list[Any]:
    """Every value of the store's tables (other tests' tables hold other stores' ciphertexts)."""
    conn = await asyncpg.connect(dsn)
    try:
        values: list[Any] = []
        for name in (table, f"{table}_meta"):
            for record in await conn.fetch(f'SELECT * FROM "{name}"'):
                values.extend(record.values())
        return values
    finally:
        await conn.close()


async def test_one_replica_writes_the_other_reads_and_nothing_is_plain(
    two_stores: list[PostgresTokenStore], postgres_server: PostgresServer, table: str
) -> None:
    writer, reader = two_stores
    await writer.put(token(1))
    assert await reader.get(ACCOUNT) == token(1)
    await reader.put(token(2))
    assert await writer.get(ACCOUNT) == token(2)
    assert await reader.get("acct_missing") is None
    values = await every_value_in_the_database(postgres_server.dsn, table)
    assert values
    for value in values:
        # Not "rt_": three characters of the base64 alphabet turn up in ciphertexts by chance.
        raw = value if isinstance(value, bytes) else str(value).encode()
        assert b"PLAINTEXT" not in raw and b"sk_test_" not in raw
    await writer.delete(ACCOUNT)
    assert await reader.get(ACCOUNT) is None


async def test_a_ciphertext_moved_to_another_row_is_refused(
    two_stores: list[PostgresTokenStore], postgres_server: PostgresServer, table: str
) -> None:
    store = two_stores[0]
    await store.put(token(1, "acct_1Alice"))
    await store.put(token(2, "acct_1Bob"))
    conn = await asyncpg.connect(postgres_server.dsn)
    await conn.execute(
        f"UPDATE {table} SET access_token = b.access_token FROM {table} b"
        f" WHERE {table}.stripe_user_id = 'acct_1Alice' AND b.stripe_user_id = 'acct_1Bob'"
    )
    await conn.close()
    with pytest.raises(TokenStoreError, match="does not belong"):
        await store.get("acct_1Alice")
    assert await store.get("acct_1Bob") == token(2, "acct_1Bob")


async def test_another_key_is_refused(two_stores: list[PostgresTokenStore], postgres_server: PostgresServer) -> None:
    with pytest.raises(TokenStoreError, match="Wrong key"):
        await PostgresTokenStore.connect(postgres_server.dsn, key=Fernet.generate_key(), table=two_stores[0].table)
    with pytest.raises(TokenStoreError, match="table"):
        await PostgresTokenStore.connect(postgres_server.dsn, key=KEY, table="x; DROP TABLE y")


async def test_ten_concurrent_refreshes_across_two_replicas_make_one_token_call(
    two_stores: list[PostgresTokenStore],
    connect: tuple[FakeConnect, str],  # noqa: F811
) -> None:
    fake, url = connect
    fake.refresh_delay = 0.2
    await two_stores[0].put(OAuthToken(access_token="sk_test_old", refresh_token="rt_initial", stripe_user_id=ACCOUNT))
    async with (
        StripeOAuth(CLIENT_ID, PLATFORM_KEY, base_url=url) as one,
        StripeOAuth(CLIENT_ID, PLATFORM_KEY, base_url=url) as two,
    ):
        replicas = [(one, two_stores[0]), (two, two_stores[1])]
        results: list[OAuthToken] = []

        async def refresh(i: int) -> None:
            oauth, store = replicas[i % 2]
            results.append(await oauth.refresh_stored(store, ACCOUNT))

        async with anyio.create_task_group() as tg:
            for i in range(10):
                tg.start_soon(refresh, i)
    assert len([c for c in fake.calls if c[0] == "/oauth/token"]) == 1
    assert len(results) == 10 and all(r == results[0] for r in results)
    assert await two_stores[1].get(ACCOUNT) == results[0]
    assert results[0].refresh_token is not None and results[0].refresh_token.get_secret_value() == "rt_issued1"


async def test_concurrent_first_connects_set_up_one_table(postgres_server: PostgresServer, table: str) -> None:
    stores: list[PostgresTokenStore] = []

    async def open_one() -> None:
        stores.append(await PostgresTokenStore.connect(postgres_server.dsn, key=KEY, table=table, min_size=1))

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(open_one)
    assert len(stores) == 8
    for store in stores:
        await store.close()


async def test_postgres_down_is_a_typed_error_then_recovers(
    two_stores: list[PostgresTokenStore], postgres_server: PostgresServer
) -> None:
    store = two_stores[0]
    await store.put(token(1))
    postgres_server.stop()
    try:
        with pytest.raises(TokenStoreUnavailableError):
            await store.get(ACCOUNT)
        with pytest.raises(TokenStoreUnavailableError):
            await store.put(token(2))
        with pytest.raises(TokenStoreUnavailableError):
            async with store.refresh_lock(ACCOUNT):
                pass
        with pytest.raises(TokenStoreUnavailableError):
            await PostgresTokenStore.connect(postgres_server.dsn, key=KEY)
    finally:
        postgres_server.start()
    assert await store.get(ACCOUNT) == token(1)  # nothing lost, and the pool reconnects
    await store.put(token(3))
    assert await two_stores[1].get(ACCOUNT) == token(3)

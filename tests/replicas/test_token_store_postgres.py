"""PostgresTokenStore under pressure on a real PostgreSQL: a small pool, restarts, odd table names."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import asyncpg
import pytest

from atom_stripe.oauth import OAuthToken, PostgresTokenStore, StripeOAuth, TokenStoreUnavailableError

from ..servers import PostgresServer
from ..unit.test_oauth import CLIENT_ID, PLATFORM_KEY, FakeConnect, connect  # noqa: F401 (a fixture)
from .test_replicas_postgres import KEY, anyio_backend  # noqa: F401 (a fixture: asyncio only)


@pytest.fixture
async def small_store(postgres_server: PostgresServer, table: str) -> AsyncIterator[PostgresTokenStore]:
    store = await PostgresTokenStore.connect(postgres_server.dsn, key=KEY, table=table, min_size=1, max_size=2)
    yield store
    await store.close()


async def test_fifty_accounts_refresh_at_once_on_a_pool_of_two(
    small_store: PostgresTokenStore,
    connect: tuple[FakeConnect, str],  # noqa: F811
) -> None:
    fake, url = connect
    accounts = [f"acct_1Many{i:02d}" for i in range(50)]
    for account in accounts:
        fake.refresh_tokens[f"rt_{account}"] = account
        await small_store.put(
            OAuthToken(access_token="sk_test_old", refresh_token=f"rt_{account}", stripe_user_id=account)
        )
    fresh: dict[str, OAuthToken] = {}

    async def refresh(oauth: StripeOAuth, account: str) -> None:
        fresh[account] = await oauth.refresh_stored(small_store, account)

    with anyio.fail_after(60):  # before the fix, two refreshes held both connections and waited for a third
        async with StripeOAuth(CLIENT_ID, PLATFORM_KEY, base_url=url) as oauth, anyio.create_task_group() as tg:
            for account in accounts:
                tg.start_soon(refresh, oauth, account)
    assert len([c for c in fake.calls if c[0] == "/oauth/token"]) == 50
    for account in accounts:  # every token Stripe issued was saved
        stored = await small_store.get(account)
        assert stored == fresh[account] and stored.refresh_token is not None
        assert stored.refresh_token.get_secret_value().startswith("rt_issued")


async def test_a_busy_pool_is_a_typed_error_after_acquire_timeout(postgres_server: PostgresServer, table: str) -> None:
    store = await PostgresTokenStore.connect(
        postgres_server.dsn, key=KEY, table=table, min_size=1, max_size=1, acquire_timeout=0.3
    )
    try:
        with anyio.fail_after(10):
            async with store.refresh_lock("acct_1Holder"):  # holds the pool's only connection
                started = time.monotonic()
                async with anyio.create_task_group() as tg:  # other tasks than the lock's holder

                    async def other() -> None:
                        with pytest.raises(TokenStoreUnavailableError, match=r"within 0\.3 s"):
                            await store.get("acct_1Other")

                    tg.start_soon(other)
                assert 0.25 < time.monotonic() - started < 2
            assert await store.get("acct_1Other") is None  # free again
    finally:
        await store.close()


def a_token(account: str = "acct_1Restart") -> OAuthToken:
    return OAuthToken(access_token="sk_test_a", refresh_token="rt_a", stripe_user_id=account)


async def test_a_restarting_server_is_unavailable_not_a_permanent_error(
    postgres_server: PostgresServer, table: str
) -> None:
    # No idle connections kept: every call opens a new one, and meets the server as it is.
    store = await PostgresTokenStore.connect(
        postgres_server.dsn, key=KEY, table=table, min_size=0, max_inactive_connection_lifetime=0.05
    )
    await store.put(a_token())
    client = await asyncpg.connect(postgres_server.dsn)  # keeps a smart shutdown going
    phase = "shutting down"
    try:
        postgres_server.begin_smart_shutdown()
        await anyio.sleep(0.3)
        with pytest.raises(TokenStoreUnavailableError, match="shutting down"):
            await store.get("acct_1Restart")
        await client.close()
        postgres_server.wait_stopped()
        postgres_server.start_in_recovery()
        phase = "in recovery"
        with pytest.raises(TokenStoreUnavailableError, match=r"not accepting connections|starting up"):
            await store.put(a_token())
        with pytest.raises(TokenStoreUnavailableError):
            async with store.refresh_lock("acct_1Restart"):
                pass
    finally:  # the server back as it was, whatever failed
        if phase == "in recovery":
            postgres_server.promote()
        else:
            await client.close()
            postgres_server.wait_stopped()
            postgres_server.start()
    assert await store.get("acct_1Restart") == a_token()
    await store.close()


async def test_a_shutdown_inside_the_refresh_lock_is_unavailable(postgres_server: PostgresServer, table: str) -> None:
    store = await PostgresTokenStore.connect(postgres_server.dsn, key=KEY, table=table)
    await store.put(a_token())
    try:
        async with store.refresh_lock("acct_1Restart"):
            postgres_server.stop()  # a fast shutdown ends the lock's session
            with pytest.raises(TokenStoreUnavailableError):
                await store.get("acct_1Restart")
    finally:
        postgres_server.start()
    assert await store.get("acct_1Restart") == a_token()  # the pool reconnects
    await store.close()


@pytest.mark.parametrize("name", ["user", "order", "select"])
async def test_a_table_named_like_an_sql_keyword_works(postgres_server: PostgresServer, name: str) -> None:
    store = await PostgresTokenStore.connect(postgres_server.dsn, key=KEY, table=name)
    try:
        await store.put(a_token())
        assert await store.get("acct_1Restart") == a_token()
        async with store.refresh_lock("acct_1Restart"):
            await store.put(a_token("acct_1Second"))
        await store.delete("acct_1Restart")
        assert await store.get("acct_1Restart") is None
        again = await PostgresTokenStore.connect(postgres_server.dsn, key=KEY, table=name)  # finds it set up
        assert await again.get("acct_1Second") == a_token("acct_1Second")
        await again.close()
    finally:
        await store.close()


async def test_restart_cycles_under_load_raise_only_unavailable(postgres_server: PostgresServer, table: str) -> None:
    store = await PostgresTokenStore.connect(postgres_server.dsn, key=KEY, table=table, max_size=4)
    failures: list[BaseException] = []
    calls = 0

    async def busy(i: int) -> None:
        nonlocal calls
        account = f"acct_1Busy{i}"
        while True:
            try:
                if i % 3 == 0:
                    async with store.refresh_lock(account):
                        await store.put(a_token(account))
                else:
                    await store.put(a_token(account))
                    assert await store.get(account) == a_token(account)
                calls += 1
            except Exception as exc:  # every failure is collected and checked below
                failures.append(exc)
            await anyio.sleep(0.005)

    async with anyio.create_task_group() as tg:
        for i in range(9):
            tg.start_soon(busy, i)
        for _ in range(3):
            await anyio.sleep(0.4)
            postgres_server.stop()
            await anyio.sleep(0.2)
            postgres_server.start()
        await anyio.sleep(0.5)
        tg.cancel_scope.cancel()
    assert failures and calls
    assert {type(f) for f in failures} == {TokenStoreUnavailableError}, {repr(f) for f in failures}
    assert await store.get("acct_1Busy1") == a_token("acct_1Busy1")
    await store.close()

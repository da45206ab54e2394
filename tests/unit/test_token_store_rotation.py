"""Key rotation for the token stores: several keys, the newest first; rotate(); accounts()."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet

from atom_stripe.oauth import InMemoryTokenStore, OAuthToken, PostgresTokenStore, SQLiteTokenStore, TokenStoreError

from ..servers import PostgresServer

A, B, C = "acct_1Alice", "acct_1Bob", "acct_1Carol"


def token_for(account: str) -> OAuthToken:
    return OAuthToken(access_token=f"sk_test_{account}", refresh_token=f"rt_{account}", stripe_user_id=account)


async def test_sqlite_store_rotates_to_a_new_key(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    path = tmp_path / "tokens.db"
    store = SQLiteTokenStore(path, key=old)
    await store.put(token_for(A))
    await store.put(token_for(B))
    store.close()
    with pytest.raises(TokenStoreError, match=r"Wrong key.*rotate"):
        SQLiteTokenStore(path, key=new)

    both = SQLiteTokenStore(path, key=[new, old])  # the new key seals, both open
    assert await both.get(A) == token_for(A)
    await both.put(token_for(C))
    assert await both.accounts() == [A, B, C]
    assert await both.rotate() == 3
    both.close()

    only_new = SQLiteTokenStore(path, key=new)
    assert [await only_new.get(x) for x in (A, B, C)] == [token_for(A), token_for(B), token_for(C)]
    only_new.close()
    with pytest.raises(TokenStoreError, match="Wrong key"):
        SQLiteTokenStore(path, key=old)
    as_multi = SQLiteTokenStore(path, key=MultiFernet([Fernet(new), Fernet(old)]))
    assert await as_multi.get(B) == token_for(B)
    as_multi.close()


async def test_bad_key_lists_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TokenStoreError, match="empty"):
        SQLiteTokenStore(tmp_path / "a.db", key=[])
    with pytest.raises(TokenStoreError, match="not a valid Fernet key"):
        SQLiteTokenStore(tmp_path / "b.db", key=[Fernet.generate_key(), b"short"])
    plain = SQLiteTokenStore(tmp_path / "c.db")
    await plain.put(token_for(A))
    with pytest.raises(TokenStoreError, match="no key"):
        await plain.rotate()
    plain.close()


async def test_the_memory_store_lists_its_accounts() -> None:
    store = InMemoryTokenStore()
    await store.put(token_for(B))
    await store.put(token_for(A))
    assert await store.accounts() == [A, B]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # asyncpg is asyncio only
async def test_postgres_store_rotates_to_a_new_key(postgres_server: PostgresServer) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    table = f"tokens_{uuid.uuid4().hex[:8]}"
    store = await PostgresTokenStore.connect(postgres_server.dsn, key=old, table=table)
    await store.put(token_for(A))
    await store.put(token_for(B))
    await store.close()

    both = await PostgresTokenStore.connect(postgres_server.dsn, key=[new, old], table=table)
    await both.put(token_for(C))
    assert await both.accounts() == [A, B, C]
    assert await both.rotate() == 3
    await both.close()

    only_new = await PostgresTokenStore.connect(postgres_server.dsn, key=MultiFernet([Fernet(new)]), table=table)
    assert [await only_new.get(x) for x in (A, B, C)] == [token_for(A), token_for(B), token_for(C)]
    await only_new.close()
    with pytest.raises(TokenStoreError, match="Wrong key"):
        await PostgresTokenStore.connect(postgres_server.dsn, key=old, table=table)

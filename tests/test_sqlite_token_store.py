"""SQLiteTokenStore hardening (issue 14 item 15): row-bound ciphertext, a private file, safe concurrent opens."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from atom_stripe.oauth import OAuthToken, SQLiteTokenStore, TokenStoreError

A, B = "acct_1Alice", "acct_1Bob"


def token_for(account: str) -> OAuthToken:
    return OAuthToken(access_token=f"sk_test_{account}", refresh_token=f"rt_{account}", stripe_user_id=account)


async def test_a_ciphertext_copied_onto_another_row_does_not_open(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    store = SQLiteTokenStore(path, key=Fernet.generate_key())
    await store.put(token_for(A))
    await store.put(token_for(B))
    with sqlite3.connect(path) as db:  # an attacker with write access to the file swaps B's tokens in
        db.execute(
            "UPDATE tokens SET access_token = (SELECT access_token FROM tokens WHERE stripe_user_id = ?),"
            " refresh_token = (SELECT refresh_token FROM tokens WHERE stripe_user_id = ?) WHERE stripe_user_id = ?",
            (B, B, A),
        )
    with pytest.raises(TokenStoreError, match="does not belong"):
        await store.get(A)
    assert await store.get(B) == token_for(B)
    store.close()


async def test_access_and_refresh_tokens_cannot_be_swapped(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    store = SQLiteTokenStore(path, key=Fernet.generate_key())
    await store.put(token_for(A))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE tokens SET access_token = refresh_token")
    with pytest.raises(TokenStoreError, match="does not belong"):
        await store.get(A)
    store.close()


def test_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    SQLiteTokenStore(path, key=Fernet.generate_key()).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("round_", range(3))
def test_thirty_concurrent_first_opens(tmp_path: Path, round_: int) -> None:
    path = tmp_path / f"race{round_}.db"
    key = Fernet.generate_key()
    barrier = threading.Barrier(30)
    errors: list[BaseException] = []
    stores: list[SQLiteTokenStore] = []
    lock = threading.Lock()

    def open_it() -> None:
        barrier.wait()
        try:
            store = SQLiteTokenStore(path, key=key)
        except BaseException as exc:
            errors.append(exc)
        else:
            with lock:
                stores.append(store)

    threads = [threading.Thread(target=open_it) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(stores) == 30
    for store in stores:
        store.close()


def test_sqlite_trouble_is_a_token_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(TokenStoreError):
        SQLiteTokenStore(path, key=Fernet.generate_key())


async def test_a_store_from_before_row_binding_is_resealed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    key = Fernet.generate_key()
    fernet = Fernet(key)
    with sqlite3.connect(path) as db:  # the layout and sealing of the previous version
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
        db.execute(
            "CREATE TABLE tokens (stripe_user_id TEXT PRIMARY KEY, access_token BLOB, refresh_token BLOB,"
            " other TEXT NOT NULL)"
        )
        db.execute("INSERT INTO meta VALUES ('key_check', ?)", (fernet.encrypt(b"atom_stripe token store v1"),))
        db.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?)",
            (A, fernet.encrypt(b"sk_test_old"), fernet.encrypt(b"rt_old"), f'{{"stripe_user_id": "{A}"}}'),
        )
    store = SQLiteTokenStore(path, key=key)
    got = await store.get(A)
    assert got is not None and got.access_token is not None and got.refresh_token is not None
    assert (got.access_token.get_secret_value(), got.refresh_token.get_secret_value()) == ("sk_test_old", "rt_old")
    store.close()
    with sqlite3.connect(path) as db:
        sealed = db.execute("SELECT access_token FROM tokens").fetchone()[0]
    assert A.encode() in fernet.decrypt(sealed)  # now bound to its row

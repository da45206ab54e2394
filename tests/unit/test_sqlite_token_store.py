"""SQLiteTokenStore under misuse: row-bound ciphertext, a private file, safe concurrent opens."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import pytest
from cryptography.fernet import Fernet

import atom_stripe
from atom_stripe.oauth import OAuthToken, SQLiteTokenStore, TokenStoreError

from ..helpers import ROOT
from .test_oauth import ACCOUNT, FakeConnect, connect  # noqa: F401 (a fixture)

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


# -- one refresh across processes, and a file made private when opened ------------------------


def test_two_processes_refresh_once_and_end_with_the_same_token(
    tmp_path: Path,
    connect: tuple[FakeConnect, str],  # noqa: F811
) -> None:
    fake, url = connect
    fake.refresh_delay = 0.5  # both processes ask while the first refresh is in flight
    path, key = tmp_path / "tokens.db", Fernet.generate_key()
    store = SQLiteTokenStore(path, key=key)
    anyio.run(store.put, OAuthToken(access_token="sk_test_old", refresh_token="rt_initial", stripe_user_id=ACCOUNT))
    store.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(atom_stripe.__file__).parent.parent), str(ROOT)])}
    start_at = time.time() + 2.0  # both are up by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.token_store_worker", str(path), key.decode(), url, ACCOUNT, str(start_at)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1] == ["token", "rt_issued1"]  # the second waited and found the new token
    assert len([c for c in fake.calls if c[0] == "/oauth/token"]) == 1
    store = SQLiteTokenStore(path, key=key)
    stored = anyio.run(store.get, ACCOUNT)
    assert stored is not None and stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == "rt_issued1"
    store.close()


def test_an_existing_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    sqlite3.connect(path).close()  # made by something else, with the umask's 0644
    path.chmod(0o644)
    SQLiteTokenStore(path, key=Fernet.generate_key()).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_the_refresh_lock_is_one_holder_at_a_time(tmp_path: Path) -> None:
    one, two = SQLiteTokenStore(tmp_path / "t.db"), SQLiteTokenStore(tmp_path / "t.db")
    two.lock_timeout = 0.2
    async with one.refresh_lock(A):
        with pytest.raises(TokenStoreError, match="held the refresh lock"):
            async with two.refresh_lock(A):
                pass
        async with two.refresh_lock(B):  # another account's lock is free
            pass
    async with two.refresh_lock(A):  # let go
        pass
    assert stat.S_IMODE((tmp_path / "t.db.locks").stat().st_mode) == 0o700
    one.close()
    two.close()

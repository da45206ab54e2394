"""Where connected accounts' tokens live: in memory, or SQLite with encryption at rest."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

import anyio

from .._errors import StripeError
from .._extras import needs_extra
from ._token import OAuthToken

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet

T = TypeVar("T")
#: A store's key: one Fernet key, several (the newest first: it seals, all of them open), a
#: ``Fernet`` or ``MultiFernet``, or None (no encryption; SQLite only).
KeyInput: TypeAlias = "bytes | str | Sequence[bytes | str] | Fernet | MultiFernet | None"
SECRET_COLUMNS = ("access_token", "refresh_token")
#: A known value, encrypted with the store's key when the store is created, to recognise the key later.
KEY_CHECK = b"atom_stripe token store v2"
#: The same, in stores whose tokens were not yet bound to their row (re-sealed when opened).
LEGACY_KEY_CHECK = b"atom_stripe token store v1"


class TokenStoreError(StripeError):
    """The token store cannot be used: a wrong or missing key, or a damaged file."""


class TokenStore(Protocol):
    """Keeps one token per connected account, by ``stripe_user_id``."""

    async def get(self, stripe_user_id: str) -> OAuthToken | None: ...

    async def put(self, token: OAuthToken) -> None: ...

    async def delete(self, stripe_user_id: str) -> None: ...


def _account(token: OAuthToken) -> str:
    if not token.stripe_user_id:
        raise TokenStoreError("A token can only be stored under its stripe_user_id, and this one has none.")
    return token.stripe_user_id


class InMemoryTokenStore:
    """Tokens in a dict: for tests and single-process tools."""

    def __init__(self) -> None:
        self._tokens: dict[str, OAuthToken] = {}

    async def get(self, stripe_user_id: str) -> OAuthToken | None:
        return self._tokens.get(stripe_user_id)

    async def put(self, token: OAuthToken) -> None:
        self._tokens[_account(token)] = token

    async def delete(self, stripe_user_id: str) -> None:
        self._tokens.pop(stripe_user_id, None)

    async def accounts(self) -> list[str]:
        """Every account with a stored token, sorted."""
        return sorted(self._tokens)

    def __repr__(self) -> str:
        return f"InMemoryTokenStore({len(self._tokens)} account(s))"


class Sealer:
    """Fernet encryption of one token field, bound to its account and field.

    The sealed value holds the account id and the field's name next to the token, so a
    ciphertext copied onto another row (or into the other column) does not open. Without
    a key values are stored as they are. Shared by every store that keeps tokens at rest.
    """

    def __init__(self, key: KeyInput) -> None:
        self.fernet: Any = None
        if key is None:
            return
        with needs_extra("oauth"):
            from cryptography.fernet import Fernet, MultiFernet
        if isinstance(key, (Fernet, MultiFernet)):
            self.fernet = key
            return
        keys = [key] if isinstance(key, (bytes, str)) else key
        try:
            fernets = [Fernet(k) for k in keys]
        except (ValueError, TypeError):
            raise TokenStoreError(
                "The key is not a valid Fernet key (32 url-safe base64-encoded bytes), nor a list of them."
            ) from None
        if not fernets:
            raise TokenStoreError("The list of keys is empty: give at least one Fernet key.")
        # MultiFernet seals with the first key and opens with any of them: key rotation.
        self.fernet = fernets[0] if len(fernets) == 1 else MultiFernet(fernets)

    @property
    def encrypted(self) -> bool:
        return self.fernet is not None

    def key_check(self) -> bytes:
        """What a new store records, to recognise its key later."""
        return self.fernet.encrypt(KEY_CHECK) if self.fernet is not None else b"plain"

    def check(self, stored: bytes, where: str) -> bool:
        """Refuse a store made with another key, or with none (or one made without a key, given one).

        True when the store's tokens are not bound to their rows yet (see :meth:`reseal_legacy`).
        """
        if self.fernet is None:
            if stored != b"plain":
                raise TokenStoreError(f"{where} holds encrypted tokens: open it with its key.")
            return False
        if stored == b"plain":
            raise TokenStoreError(f"{where} holds unencrypted tokens: it cannot be opened with a key.")
        plain = self._decrypt(stored)
        if plain not in (KEY_CHECK, LEGACY_KEY_CHECK):
            raise TokenStoreError(
                f"Wrong key for {where}: refusing to open it. To change keys, open it with the new key"
                " first and the old one after it, and call rotate()."
            )
        return plain == LEGACY_KEY_CHECK

    def reseal_legacy(self, account: str, name: str, value: bytes | None) -> bytes | None:
        """A token sealed by an older version (not bound to its row), sealed again bound to it."""
        plain = None if value is None else self._decrypt(value)
        return None if plain is None else self.seal(account, name, plain.decode())

    def _decrypt(self, value: bytes) -> bytes | None:
        from cryptography.fernet import InvalidToken

        try:
            return bytes(self.fernet.decrypt(value))
        except InvalidToken:
            return None

    def seal(self, account: str, name: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        if self.fernet is None:
            return value.encode()
        return bytes(self.fernet.encrypt(json.dumps([account, name, value]).encode()))

    def open(self, account: str, name: str, value: bytes | None) -> str | None:
        if value is None:
            return None
        if self.fernet is None:
            return value.decode()
        plain = self._decrypt(value)
        if plain is None:
            raise TokenStoreError("A stored token does not decrypt with this key.")
        try:
            bound_account, bound_name, token = json.loads(plain)
        except ValueError:
            bound_account = bound_name = token = None
        if bound_account != account or bound_name != name or not isinstance(token, str):
            raise TokenStoreError(f"The stored {name} of {account} does not belong to that row: refusing it.")
        return token

    def reseal(self, account: str, name: str, value: bytes | None) -> bytes | None:
        """A stored token (sealed with any of the keys) sealed again with the first key."""
        if self.fernet is None:
            raise TokenStoreError("This store has no key: there is nothing to rotate.")
        return self.seal(account, name, self.open(account, name, value))

    def seal_token(self, token: OAuthToken) -> tuple[str, bytes | None, bytes | None, str]:
        """A token as a row: account, sealed access token, sealed refresh token, the rest as JSON."""
        account = _account(token)
        other = token.model_dump(mode="json", exclude=set(SECRET_COLUMNS))
        access = token.access_token.get_secret_value() if token.access_token else None
        refresh = token.refresh_token.get_secret_value() if token.refresh_token else None
        return (
            account,
            self.seal(account, "access_token", access),
            self.seal(account, "refresh_token", refresh),
            json.dumps(other),
        )

    def open_token(self, account: str, access: bytes | None, refresh: bytes | None, other: str) -> OAuthToken:
        fields = json.loads(other)
        fields.update(
            access_token=self.open(account, "access_token", access),
            refresh_token=self.open(account, "refresh_token", refresh),
        )
        return OAuthToken.model_validate(fields)


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on an open file without waiting; False if another holder has it.

    ``flock`` locks belong to the open file, not the process: two opens conflict even in one
    process, and the lock goes when the file is closed or its process dies."""
    try:
        if sys.platform == "win32":  # pragma: no cover - tested on Linux
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class SQLiteTokenStore:
    """Tokens in a SQLite file; access and refresh tokens encrypted with Fernet when given a key.

    ``key`` is a Fernet key (``cryptography.fernet.Fernet.generate_key()``), or several for
    key rotation (the newest first; see :meth:`rotate`). A store created with a key refuses
    to open with another key or none, and one created without a key refuses to open with
    one: it never hands back garbage. Each encrypted token is bound to its account and
    column (a ciphertext copied elsewhere is refused). The file is readable by its owner
    only: created 0600, and an existing file that others can read is made 0600 when opened
    (:class:`TokenStoreError` when that is not allowed). :meth:`refresh_lock` (a lock file
    per account in ``<path>.locks/``) makes ``StripeOAuth.refresh_stored`` one refresh per
    account across every process that opens the file. The file survives restarts; blocking
    SQLite work runs in a worker thread, so it suits asyncio and trio alike. Any SQLite
    failure is a :class:`TokenStoreError`.
    """

    def __init__(self, path: str | Path, *, key: KeyInput = None) -> None:
        self.path = Path(path)
        self._sealer = Sealer(key)
        self._lock = threading.Lock()
        self.lock_timeout = 30.0
        try:
            # Created private before SQLite opens it (SQLite gives its journals the file's mode).
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_mode & 0o077:  # made by something else, readable by others
                    os.fchmod(fd, 0o600)
            finally:
                os.close(fd)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise TokenStoreError(
                f"Cannot open {self.path} readable by its owner only (it holds tokens): {exc}"
            ) from None
        try:
            self._run(self._open)
        except BaseException:
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteTokenStore({str(self.path)!r}, encrypted={self._sealer.encrypted})"

    def _run(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work`` holding the connection, with SQLite's errors as :class:`TokenStoreError`."""
        try:
            with self._lock:
                return work(*args)
        except sqlite3.Error as exc:
            raise TokenStoreError(f"The token store {self.path} failed: {exc}") from None

    def _open(self) -> None:
        db = self._db
        with db:
            # One opener at a time sets the file up: concurrent first opens wait, then find it ready.
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (stripe_user_id TEXT PRIMARY KEY, access_token BLOB,"
                " refresh_token BLOB, other TEXT NOT NULL)"
            )
            db.execute("INSERT OR IGNORE INTO meta VALUES ('key_check', ?)", (self._sealer.key_check(),))
            row = db.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
            if self._sealer.check(row[0], str(self.path)):
                reseal = self._sealer.reseal_legacy
                for account, access, refresh in db.execute(
                    "SELECT stripe_user_id, access_token, refresh_token FROM tokens"
                ).fetchall():
                    db.execute(
                        "UPDATE tokens SET access_token = ?, refresh_token = ? WHERE stripe_user_id = ?",
                        (reseal(account, "access_token", access), reseal(account, "refresh_token", refresh), account),
                    )
                db.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", (self._sealer.key_check(),))

    def _get(self, stripe_user_id: str) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._db.execute(
            "SELECT access_token, refresh_token, other FROM tokens WHERE stripe_user_id = ?", (stripe_user_id,)
        ).fetchone()
        return row

    def _put(self, row: tuple[Any, ...]) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)", row)

    def _delete(self, stripe_user_id: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM tokens WHERE stripe_user_id = ?", (stripe_user_id,))

    def _rotate(self) -> int:
        db, reseal = self._db, self._sealer.reseal
        with db:
            db.execute("BEGIN IMMEDIATE")  # no other process writes meanwhile
            rows = db.execute("SELECT stripe_user_id, access_token, refresh_token FROM tokens").fetchall()
            for account, access, refresh in rows:
                db.execute(
                    "UPDATE tokens SET access_token = ?, refresh_token = ? WHERE stripe_user_id = ?",
                    (reseal(account, "access_token", access), reseal(account, "refresh_token", refresh), account),
                )
            db.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", (self._sealer.key_check(),))
        return len(rows)

    async def rotate(self) -> int:
        """Seal every stored token again with the first key; return how many accounts.

        Open the store with the new key first and the old ones after it (``key=[new, old]``),
        call this once, then the old keys can go. All or nothing: a token that opens with
        none of the keys stops it with :class:`TokenStoreError` and nothing changes.
        """
        return await anyio.to_thread.run_sync(self._run, self._rotate)

    def _accounts(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT stripe_user_id FROM tokens ORDER BY 1").fetchall()]

    async def accounts(self) -> list[str]:
        """Every account with a stored token, sorted."""
        return await anyio.to_thread.run_sync(self._run, self._accounts)

    async def get(self, stripe_user_id: str) -> OAuthToken | None:
        row = await anyio.to_thread.run_sync(self._run, self._get, stripe_user_id)
        return None if row is None else self._sealer.open_token(stripe_user_id, *row)

    async def put(self, token: OAuthToken) -> None:
        await anyio.to_thread.run_sync(self._run, self._put, self._sealer.seal_token(token))

    async def delete(self, stripe_user_id: str) -> None:
        await anyio.to_thread.run_sync(self._run, self._delete, stripe_user_id)

    @asynccontextmanager
    async def refresh_lock(self, stripe_user_id: str) -> AsyncIterator[None]:
        """Hold one account's refresh lock across every process that uses this file.

        Waits at most ``lock_timeout`` seconds for it (then :class:`TokenStoreError`). The lock
        is an exclusive ``flock`` on a file of ``<path>.locks/``, so a process that dies while
        holding it frees it.
        """
        folder = Path(f"{self.path}.locks")
        name = hashlib.sha256(stripe_user_id.encode()).hexdigest()[:32]
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise TokenStoreError(f"Cannot open the refresh lock in {folder}: {exc}") from None
        try:
            deadline = anyio.current_time() + self.lock_timeout
            while not _try_lock(fd):
                if anyio.current_time() >= deadline:
                    raise TokenStoreError(f"Another process held the refresh lock for {self.lock_timeout} s.")
                await anyio.sleep(0.02)
            yield
        finally:
            os.close(fd)  # lets the lock go

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

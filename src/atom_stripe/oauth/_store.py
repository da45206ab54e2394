"""Where connected accounts' tokens live: in memory, or SQLite with encryption at rest."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol

import anyio

from .._errors import StripeError
from ._token import OAuthToken

SECRET_COLUMNS = ("access_token", "refresh_token")
#: A known value, encrypted with the store's key when the store is created, to recognise the key later.
KEY_CHECK = b"atom_stripe token store v1"


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

    def __repr__(self) -> str:
        return f"InMemoryTokenStore({len(self._tokens)} account(s))"


class SQLiteTokenStore:
    """Tokens in a SQLite file; access and refresh tokens encrypted with Fernet when given a key.

    ``key`` is a Fernet key (``cryptography.fernet.Fernet.generate_key()``). A store created
    with a key refuses to open with another key or none, and one created without a key
    refuses to open with one: it never hands back garbage. The file survives restarts.
    Blocking SQLite work runs in a worker thread, so it suits asyncio and trio alike.
    """

    def __init__(self, path: str | Path, *, key: bytes | str | None = None) -> None:
        self.path = Path(path)
        self._fernet: Any = None
        if key is not None:
            try:
                from cryptography.fernet import Fernet
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise TokenStoreError(
                    "Encryption needs the 'cryptography' package: pip install atom_stripe[oauth]"
                ) from exc
            try:
                self._fernet = Fernet(key)
            except (ValueError, TypeError):
                raise TokenStoreError("The key is not a valid Fernet key (32 url-safe base64-encoded bytes).") from None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._open()

    def __repr__(self) -> str:
        return f"SQLiteTokenStore({str(self.path)!r}, encrypted={self._fernet is not None})"

    def _open(self) -> None:
        with self._lock, self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (stripe_user_id TEXT PRIMARY KEY, access_token BLOB,"
                " refresh_token BLOB, other TEXT NOT NULL)"
            )
            row = self._db.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
            if row is None:
                check = self._fernet.encrypt(KEY_CHECK) if self._fernet is not None else b"plain"
                self._db.execute("INSERT INTO meta VALUES ('key_check', ?)", (check,))
                return
        stored: bytes = row[0]
        if self._fernet is None:
            if stored != b"plain":
                raise TokenStoreError(f"{self.path} holds encrypted tokens: open it with its key.")
            return
        if stored == b"plain":
            raise TokenStoreError(f"{self.path} holds unencrypted tokens: it cannot be opened with a key.")
        from cryptography.fernet import InvalidToken

        try:
            ok = self._fernet.decrypt(stored) == KEY_CHECK
        except InvalidToken:
            ok = False
        if not ok:
            raise TokenStoreError(f"Wrong key for {self.path}: refusing to open it.")

    def _seal(self, value: str | None) -> bytes | None:
        if value is None:
            return None
        data = value.encode()
        return self._fernet.encrypt(data) if self._fernet is not None else data

    def _open_value(self, value: bytes | None) -> str | None:
        if value is None:
            return None
        if self._fernet is None:
            return value.decode()
        from cryptography.fernet import InvalidToken

        try:
            return str(self._fernet.decrypt(value).decode())
        except InvalidToken:
            raise TokenStoreError("A stored token does not decrypt with this key.") from None

    def _get(self, stripe_user_id: str) -> OAuthToken | None:
        with self._lock:
            row = self._db.execute(
                "SELECT access_token, refresh_token, other FROM tokens WHERE stripe_user_id = ?", (stripe_user_id,)
            ).fetchone()
        if row is None:
            return None
        fields = json.loads(row[2])
        fields.update(access_token=self._open_value(row[0]), refresh_token=self._open_value(row[1]))
        return OAuthToken.model_validate(fields)

    def _put(self, token: OAuthToken) -> None:
        account = _account(token)
        other = token.model_dump(mode="json", exclude=set(SECRET_COLUMNS))
        access = token.access_token.get_secret_value() if token.access_token else None
        refresh = token.refresh_token.get_secret_value() if token.refresh_token else None
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)",
                (account, self._seal(access), self._seal(refresh), json.dumps(other)),
            )

    def _delete(self, stripe_user_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM tokens WHERE stripe_user_id = ?", (stripe_user_id,))

    async def get(self, stripe_user_id: str) -> OAuthToken | None:
        return await anyio.to_thread.run_sync(self._get, stripe_user_id)

    async def put(self, token: OAuthToken) -> None:
        await anyio.to_thread.run_sync(self._put, token)

    async def delete(self, stripe_user_id: str) -> None:
        await anyio.to_thread.run_sync(self._delete, stripe_user_id)

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

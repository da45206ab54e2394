"""Connect OAuth against a loopback fake of Stripe's Connect endpoints (served by uvicorn)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
import respx
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import atom_stripe
from atom_stripe import AsyncStripeClient, OAuthError, OAuthStateError
from atom_stripe.oauth import (
    AccessDeniedError,
    InMemoryTokenStore,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestOAuthError,
    InvalidScopeError,
    OAuthToken,
    SQLiteTokenStore,
    StripeOAuth,
    TokenStoreError,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)

from ..helpers import serve_asgi

CLIENT_ID = "ca_test_platform"
PLATFORM_KEY = "sk_test_platform_secret_51Hx"
ACCOUNT = "acct_1Connected"


@dataclass
class FakeConnect:
    """Stripe's /oauth/token and /oauth/deauthorize, stateful, with faults on demand."""

    codes: dict[str, str] = field(default_factory=lambda: {"ac_good": ACCOUNT, "ac_second": ACCOUNT})
    used: set[str] = field(default_factory=set)
    refresh_tokens: dict[str, str] = field(default_factory=lambda: {"rt_initial": ACCOUNT})
    issued: int = 0
    fail_next: int = 0
    refresh_delay: float = 0.0
    calls: list[tuple[str, dict[str, str], dict[str, list[str]]]] = field(default_factory=list)

    def token_body(self, account: str, scope: str = "read_write") -> dict[str, Any]:
        self.issued += 1
        refresh = f"rt_issued{self.issued}"
        self.refresh_tokens[refresh] = account
        return {
            "access_token": f"sk_test_connected{self.issued}",
            "refresh_token": refresh,
            "token_type": "bearer",
            "scope": scope,
            "livemode": False,
            "stripe_user_id": account,
            "stripe_publishable_key": "pk_test_connected",
        }

    async def token(self, request: Request) -> JSONResponse:
        form = parse_qs((await request.body()).decode(), keep_blank_values=True)
        self.calls.append((request.url.path, dict(request.headers), form))
        if self.fail_next:
            self.fail_next -= 1
            return JSONResponse({"error": {"type": "api_error", "message": "try again"}}, status_code=500)
        if request.headers.get("authorization") != f"Bearer {PLATFORM_KEY}":
            return error(401, "invalid_client", "No such API key: sk_test_***")
        grant = form.get("grant_type", [""])[0]
        if grant == "authorization_code":
            code = form.get("code", [""])[0]
            if not code:
                return error(400, "invalid_request", "You must provide a code.")
            if code in self.used:
                return error(400, "invalid_grant", "This authorization code has already been used.")
            if code not in self.codes:
                return error(400, "invalid_grant", f"Authorization code does not exist: {code}")
            self.used.add(code)
            return JSONResponse(self.token_body(self.codes[code]))
        if grant == "refresh_token":
            token = form.get("refresh_token", [""])[0]
            scope = form.get("scope", ["read_write"])[0]
            if self.refresh_delay:
                await anyio.sleep(self.refresh_delay)
            if scope not in ("read_only", "read_write"):
                return error(400, "invalid_scope", f"Invalid scope: {scope}")
            if token not in self.refresh_tokens:
                return error(400, "invalid_grant", f"Refresh token does not exist: {token}")
            return JSONResponse(self.token_body(self.refresh_tokens[token], scope))
        return error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")

    async def deauthorize(self, request: Request) -> JSONResponse:
        form = parse_qs((await request.body()).decode())
        self.calls.append((request.url.path, dict(request.headers), form))
        if form.get("client_id") != [CLIENT_ID]:
            return error(401, "invalid_client", "No such application")
        return JSONResponse({"stripe_user_id": form["stripe_user_id"][0]})


def error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


@pytest.fixture
def connect() -> Iterator[tuple[FakeConnect, str]]:
    fake = FakeConnect()
    app = Starlette(
        routes=[
            Route("/oauth/token", fake.token, methods=["POST"]),
            Route("/oauth/deauthorize", fake.deauthorize, methods=["POST"]),
        ]
    )
    with serve_asgi(app) as url:
        yield fake, url


@pytest.fixture
async def oauth(connect: tuple[FakeConnect, str]) -> AsyncIterator[StripeOAuth]:
    async with StripeOAuth(CLIENT_ID, PLATFORM_KEY, base_url=connect[1], redirect_uri="https://atom.example/cb") as o:
        yield o


def callback_for(authorize_url: str, code: str) -> dict[str, str]:
    """What Stripe's redirect back carries: the code and the state it was given."""
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    return {"code": code, "scope": "read_write", "state": state}


async def test_full_flow(oauth: StripeOAuth, connect: tuple[FakeConnect, str]) -> None:
    fake, base = connect
    session = "session-123"
    url = oauth.authorize_url(
        state=oauth.new_state(bind=session),
        stripe_user={"email": "owner@shop.example", "country": "FR"},
        always_prompt=True,
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{base}/oauth/authorize"
    query = parse_qs(parts.query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["scope"] == ["read_write"] and query["redirect_uri"] == ["https://atom.example/cb"]
    assert query["stripe_user[email]"] == ["owner@shop.example"] and query["always_prompt"] == ["true"]
    assert "/express/oauth/authorize" in oauth.authorize_url(state="s", express=True)

    token = await oauth.handle_callback(callback_for(url, "ac_good"), bind=session)
    assert token.stripe_user_id == ACCOUNT and token.scope == "read_write"
    assert token.access_token is not None and token.access_token.get_secret_value() == "sk_test_connected1"
    path, headers, form = fake.calls[-1]
    assert path == "/oauth/token" and headers["authorization"] == f"Bearer {PLATFORM_KEY}"
    assert form == {"grant_type": ["authorization_code"], "code": ["ac_good"]}
    assert headers["idempotency-key"]

    store = InMemoryTokenStore()
    await store.put(token)
    fresh = await oauth.refresh_stored(store, ACCOUNT)
    assert fresh.access_token is not None and fresh.access_token.get_secret_value() == "sk_test_connected2"
    assert await store.get(ACCOUNT) == fresh

    narrowed = await oauth.refresh(fresh.refresh_token.get_secret_value(), scope="read_only")  # type: ignore[union-attr]
    assert narrowed.scope == "read_only"

    assert await oauth.deauthorize(ACCOUNT) == ACCOUNT
    assert fake.calls[-1][2] == {"client_id": [CLIENT_ID], "stripe_user_id": [ACCOUNT]}


async def test_state_is_checked(oauth: StripeOAuth) -> None:
    state = oauth.new_state(bind="alice")
    oauth.verify_state(state, bind="alice")
    for bad, bind in [(None, "alice"), ("", "alice"), ("a.b", "alice"), (state + "x", "alice"), (state, "mallory")]:
        with pytest.raises(OAuthStateError):
            oauth.verify_state(bad, bind=bind)
    with pytest.raises(OAuthStateError, match="expired"):
        oauth.verify_state(state, bind="alice", now=time.time() + 601)
    other = StripeOAuth(CLIENT_ID, "sk_test_other_platform")
    with pytest.raises(OAuthStateError):
        other.verify_state(state, bind="alice")
    with pytest.raises(OAuthStateError):
        await oauth.handle_callback({"code": "ac_good", "state": state}, bind="mallory")


@pytest.mark.parametrize(
    ("call", "cls"),
    [
        (lambda o: o.exchange_code("ac_unknown"), InvalidGrantError),
        (lambda o: o.refresh("rt_unknown"), InvalidGrantError),
        (lambda o: o.refresh("rt_initial", scope="admin"), InvalidScopeError),
        (lambda o: o._token({"grant_type": "password"}), UnsupportedGrantTypeError),
        (lambda o: o._token({"grant_type": "authorization_code"}), InvalidRequestOAuthError),
    ],
)
async def test_error_classes(oauth: StripeOAuth, call: Any, cls: type[OAuthError]) -> None:
    with pytest.raises(cls) as info:
        await call(oauth)
    err = info.value
    assert isinstance(err, OAuthError) and isinstance(err, atom_stripe.StripeError)
    assert err.error == err.code and err.error in (
        "invalid_grant",
        "invalid_scope",
        "unsupported_grant_type",
        "invalid_request",
    )
    assert err.description
    assert "rt_unknown" not in str(err)  # token-like words are scrubbed from Stripe's description


async def test_used_code_and_wrong_secret(connect: tuple[FakeConnect, str]) -> None:
    async with StripeOAuth(CLIENT_ID, PLATFORM_KEY, base_url=connect[1]) as oauth:
        await oauth.exchange_code("ac_second")
        with pytest.raises(InvalidGrantError, match="already been used"):
            await oauth.exchange_code("ac_second")
    async with StripeOAuth(CLIENT_ID, "sk_test_wrong_key", base_url=connect[1]) as wrong:
        with pytest.raises(InvalidClientError) as info:
            await wrong.exchange_code("ac_good")
    assert "sk_test_wrong_key" not in str(info.value)
    assert info.value.status_code == 401


async def test_callback_errors(oauth: StripeOAuth) -> None:
    state = oauth.new_state()
    with pytest.raises(AccessDeniedError, match="declined"):
        await oauth.handle_callback(
            {"error": "access_denied", "error_description": "The user declined", "state": state}
        )
    with pytest.raises(UnsupportedResponseTypeError):
        await oauth.handle_callback({"error": "unsupported_response_type", "state": state})


async def test_retries_5xx_with_the_same_idempotency_key(
    oauth: StripeOAuth, connect: tuple[FakeConnect, str], sleeps: list[float]
) -> None:
    fake, _ = connect
    fake.fail_next = 2
    token = await oauth.exchange_code("ac_good")
    assert token.stripe_user_id == ACCOUNT
    keys = [headers["idempotency-key"] for path, headers, _ in fake.calls]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert len(sleeps) == 2


async def test_secrets_never_show(
    oauth: StripeOAuth, connect: tuple[FakeConnect, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, _ = connect
    caplog.set_level(logging.DEBUG)
    fake.fail_next = 1
    token = await oauth.exchange_code("ac_good")
    with pytest.raises(InvalidGrantError) as info:
        await oauth.refresh("rt_unknown_secret_value")
    texts = [
        repr(oauth),
        str(oauth),
        repr(token),
        str(token),
        str(token.model_dump()),
        str(token.model_dump(mode="json")),
        token.model_dump_json(),
        str(info.value),
        repr(info.value),
    ]
    texts += [r.getMessage() for r in caplog.records] + [str(r.__dict__) for r in caplog.records]
    assert token.access_token and token.refresh_token
    secrets = [
        PLATFORM_KEY,
        token.access_token.get_secret_value(),
        token.refresh_token.get_secret_value(),
        "rt_unknown_secret_value",
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
    assert any("/oauth/token" in r.getMessage() for r in caplog.records)


# -- token storage ---------------------------------------------------------------------------


def a_token(n: int = 1) -> OAuthToken:
    return OAuthToken.model_validate(
        {
            "access_token": f"sk_test_access_PLAINTEXT_{n}",
            "refresh_token": f"rt_refresh_PLAINTEXT_{n}",
            "token_type": "bearer",
            "scope": "read_write",
            "livemode": False,
            "stripe_user_id": ACCOUNT,
            "stripe_publishable_key": "pk_test_x",
        }
    )


async def test_sqlite_store_survives_a_restart_and_encrypts(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    key = Fernet.generate_key()
    store = SQLiteTokenStore(path, key=key)
    await store.put(a_token())
    store.close()
    reopened = SQLiteTokenStore(path, key=key)
    assert await reopened.get(ACCOUNT) == a_token()
    assert await reopened.get("acct_missing") is None
    reopened.close()
    raw = path.read_bytes()
    assert b"PLAINTEXT" not in raw
    assert b"pk_test_x" in raw  # the rest is stored as it is
    with pytest.raises(TokenStoreError, match="Wrong key"):
        SQLiteTokenStore(path, key=Fernet.generate_key())
    with pytest.raises(TokenStoreError, match="encrypted"):
        SQLiteTokenStore(path)
    with pytest.raises(TokenStoreError):
        SQLiteTokenStore(tmp_path / "x.db", key=b"not a fernet key")
    again = SQLiteTokenStore(path, key=key)
    await again.delete(ACCOUNT)
    assert await again.get(ACCOUNT) is None
    again.close()


async def test_unencrypted_sqlite_store_refuses_a_key(tmp_path: Path) -> None:
    store = SQLiteTokenStore(tmp_path / "plain.db")
    await store.put(a_token())
    assert await store.get(ACCOUNT) == a_token()
    store.close()
    with pytest.raises(TokenStoreError, match="unencrypted"):
        SQLiteTokenStore(tmp_path / "plain.db", key=Fernet.generate_key())


async def test_concurrent_refreshes_make_one_call(
    oauth: StripeOAuth, connect: tuple[FakeConnect, str], tmp_path: Path
) -> None:
    fake, _ = connect
    fake.refresh_delay = 0.2
    store = SQLiteTokenStore(tmp_path / "t.db", key=Fernet.generate_key())
    await store.put(OAuthToken(refresh_token="rt_initial", stripe_user_id=ACCOUNT))
    results: list[OAuthToken] = []

    async def refresh() -> None:
        results.append(await oauth.refresh_stored(store, ACCOUNT))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(refresh)
    assert len([c for c in fake.calls if c[0] == "/oauth/token"]) == 1
    assert len(results) == 10 and all(r == results[0] for r in results)
    assert await store.get(ACCOUNT) == results[0]
    store.close()


async def test_a_failed_refresh_leaves_the_stored_token(oauth: StripeOAuth, connect: tuple[FakeConnect, str]) -> None:
    store = InMemoryTokenStore()
    stale = OAuthToken(refresh_token="rt_revoked", stripe_user_id=ACCOUNT)
    await store.put(stale)
    with pytest.raises(InvalidGrantError):
        await oauth.refresh_stored(store, ACCOUNT)
    assert await store.get(ACCOUNT) == stale


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("STRIPE_CLIENT_SECRET", PLATFORM_KEY)
    monkeypatch.setenv("STRIPE_REDIRECT_URI", "https://atom.example/cb")
    oauth = StripeOAuth.from_env()
    assert oauth.client_id == CLIENT_ID and oauth.redirect_uri == "https://atom.example/cb"
    assert oauth.base_url == "https://connect.stripe.com"
    monkeypatch.delenv("STRIPE_CLIENT_SECRET")
    with pytest.raises(atom_stripe.StripeValueError):
        StripeOAuth.from_env()


async def test_acting_for_a_connected_account(api: respx.MockRouter) -> None:
    route = api.get("/v1/balance").mock(
        return_value=httpx.Response(200, json={"object": "balance", "livemode": False, "available": [], "pending": []})
    )
    token = a_token()
    async with AsyncStripeClient(PLATFORM_KEY) as platform:
        await platform.for_account(ACCOUNT).balance.retrieve()
    request = route.calls.last.request
    assert request.headers["Stripe-Account"] == ACCOUNT
    assert request.headers["Authorization"] == f"Bearer {PLATFORM_KEY}"
    assert token.access_token is not None
    async with AsyncStripeClient(token.access_token.get_secret_value()) as connected:
        await connected.balance.retrieve()
    assert route.calls.last.request.headers["Authorization"] == "Bearer sk_test_access_PLAINTEXT_1"
    assert "Stripe-Account" not in route.calls.last.request.headers

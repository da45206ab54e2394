"""StripeOAuth: Connect OAuth on the same request core as the API client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlencode

import anyio
import httpx

from .._client import DEFAULT_API_VERSION, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from .._encoding import flatten
from .._errors import OAuthStateError, StripeError, StripeValueError, make_status_error
from .._hooks import Hook, HookName, Hooks, HookSet
from .._request import Requester, Settings
from .._validation import check_key, check_retries, check_timeout
from ._store import TokenStore
from ._token import OAuthToken

DEFAULT_CONNECT_BASE = "https://connect.stripe.com"
#: How long a state from :meth:`StripeOAuth.new_state` stays valid, in seconds.
DEFAULT_STATE_MAX_AGE = 600

Scope = Literal["read_only", "read_write"]


@dataclass
class _Flight:
    """One refresh in progress, which other callers for the same account wait on."""

    done: anyio.Event = field(default_factory=anyio.Event)
    token: OAuthToken | None = None
    error: BaseException | None = None


class StripeOAuth:
    """Stripe Connect OAuth for Standard accounts: authorize URL, code exchange, refresh, deauthorize.

    ``client_secret`` is the platform's secret key; it authenticates every call and never
    appears in logs, reprs or error messages. Calls are retried like API calls (same
    ``Idempotency-Key`` on every attempt) and fail with :class:`~atom_stripe.OAuthError`
    subclasses.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        redirect_uri: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        state_secret: str | bytes | None = None,
        on_request: Hooks = None,
        on_retry: Hooks = None,
        on_response: Hooks = None,
        on_error: Hooks = None,
    ) -> None:
        if not isinstance(client_id, str) or not client_id.startswith("ca_"):
            raise StripeValueError("client_id", "must be the platform's Connect client id, 'ca_...'")
        base = (base_url or DEFAULT_CONNECT_BASE).rstrip("/")
        check_key(client_secret, base)
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.base_url = base
        settings = Settings(
            api_key=client_secret,
            base_url=base,
            api_version=DEFAULT_API_VERSION,
            stripe_account=None,
            max_retries=check_retries(max_retries),
            timeout=check_timeout(timeout),
        )
        self._requester = Requester.open(
            settings, http_client, hooks=HookSet.of(on_request, on_retry, on_response, on_error)
        )
        key = state_secret if state_secret is not None else client_secret
        key_bytes = key.encode() if isinstance(key, str) else key
        # A key for signing states, derived so the secret key itself is never used as one.
        self._state_key = hmac.new(key_bytes, b"atom_stripe oauth state v1", hashlib.sha256).digest()
        self._flights: dict[str, _Flight] = {}

    @classmethod
    def from_env(cls, **kwargs: Any) -> StripeOAuth:
        """Read ``STRIPE_CLIENT_ID``, ``STRIPE_CLIENT_SECRET`` and ``STRIPE_REDIRECT_URI``."""
        client_id = os.environ.get("STRIPE_CLIENT_ID")
        client_secret = os.environ.get("STRIPE_CLIENT_SECRET")
        if not client_id or not client_secret:
            raise StripeValueError("STRIPE_CLIENT_ID", "set STRIPE_CLIENT_ID and STRIPE_CLIENT_SECRET")
        kwargs.setdefault("redirect_uri", os.environ.get("STRIPE_REDIRECT_URI"))
        return cls(client_id, client_secret, **kwargs)

    def __repr__(self) -> str:
        return f"StripeOAuth(client_id={self.client_id!r}, base_url={self.base_url!r})"

    def add_hook(self, name: HookName, hook: Hook) -> None:
        """Add an ``on_request``, ``on_retry``, ``on_response`` or ``on_error`` hook, as on the client."""
        self._requester.hooks.add(name, hook)

    # -- lifecycle --------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool, unless it is a caller's ``http_client``."""
        await self._requester.aclose()

    async def __aenter__(self) -> StripeOAuth:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- CSRF state -------------------------------------------------------------------

    def new_state(self, *, bind: str | None = None, max_age: int = DEFAULT_STATE_MAX_AGE) -> str:
        """A signed, expiring ``state`` for :meth:`authorize_url`; no server-side storage needed.

        ``bind`` ties it to the user's session (pass the same value to :meth:`verify_state`),
        so a state minted for one browser is refused in another.
        """
        nonce = base64.urlsafe_b64encode(secrets.token_bytes(12)).decode().rstrip("=")
        expires = int(time.time()) + max_age
        body = f"{nonce}.{expires}"
        return f"{body}.{self._state_mac(body, bind)}"

    def verify_state(self, state: str | None, *, bind: str | None = None, now: float | None = None) -> None:
        """Refuse (with :class:`~atom_stripe.OAuthStateError`) a state that is missing, forged,
        bound to another session or expired."""
        if not state or not isinstance(state, str) or state.count(".") != 2:
            raise OAuthStateError("The OAuth state is missing or malformed.")
        body, _, mac = state.rpartition(".")
        if not hmac.compare_digest(mac.encode(), self._state_mac(body, bind).encode()):
            raise OAuthStateError("The OAuth state does not verify (forged, or for another session).")
        expires = body.rpartition(".")[2]
        if not expires.isdigit() or int(expires) < (time.time() if now is None else now):
            raise OAuthStateError("The OAuth state has expired.")

    def _state_mac(self, body: str, bind: str | None) -> str:
        message = f"{body}|{bind or ''}".encode()
        return (
            base64.urlsafe_b64encode(hmac.new(self._state_key, message, hashlib.sha256).digest()).decode().rstrip("=")
        )

    # -- the flow ---------------------------------------------------------------------

    def authorize_url(
        self,
        *,
        state: str,
        scope: Scope = "read_write",
        redirect_uri: str | None = None,
        express: bool = False,
        stripe_user: Mapping[str, Any] | None = None,
        stripe_landing: Literal["login", "register"] | None = None,
        always_prompt: bool | None = None,
    ) -> str:
        """The URL to send the user to, to connect their Stripe account to the platform."""
        if not state:
            raise StripeValueError("state", "is required: use new_state()")
        if scope not in ("read_only", "read_write"):
            raise StripeValueError("scope", "must be 'read_only' or 'read_write'")
        params: dict[str, Any] = {
            "response_type": "code",
            "client_id": self.client_id,
            "scope": scope,
            "redirect_uri": redirect_uri or self.redirect_uri,
            "state": state,
            "stripe_user": stripe_user,
            "stripe_landing": stripe_landing,
            "always_prompt": always_prompt,
        }
        path = "/express/oauth/authorize" if express else "/oauth/authorize"
        return f"{self.base_url}{path}?{urlencode(flatten(params))}"

    async def handle_callback(self, query: Mapping[str, str], *, bind: str | None = None) -> OAuthToken:
        """Check a redirect back from Stripe (its query parameters) and exchange its code.

        Raises :class:`~atom_stripe.OAuthStateError` for a bad state, and
        :class:`~atom_stripe.AccessDeniedError` (or another ``OAuthError``) when Stripe
        reports an error instead of a code.
        """
        self.verify_state(query.get("state"), bind=bind)
        error = query.get("error")
        if error:
            description = query.get("error_description") or error
            raise make_status_error(httpx.Response(400, json={"error": error, "error_description": description}))
        code = query.get("code")
        if not code:
            raise StripeValueError("code", "the callback carries neither a code nor an error")
        return await self.exchange_code(code)

    async def exchange_code(self, code: str) -> OAuthToken:
        """Trade the callback's ``code`` (``ac_...``, single use) for the connected account's tokens."""
        if not isinstance(code, str) or not code:
            raise StripeValueError("code", "must be the authorization code from the callback")
        return await self._token({"grant_type": "authorization_code", "code": code})

    async def refresh(self, refresh_token: str, *, scope: Scope | None = None) -> OAuthToken:
        """New tokens from a refresh token (``rt_...``), optionally with a narrower scope."""
        if not isinstance(refresh_token, str) or not refresh_token:
            raise StripeValueError("refresh_token", "must be a refresh token, 'rt_...'")
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": scope})

    async def deauthorize(self, stripe_user_id: str) -> str:
        """Disconnect an account from the platform; returns the account id Stripe confirms."""
        if not isinstance(stripe_user_id, str) or not stripe_user_id.startswith("acct_"):
            raise StripeValueError("stripe_user_id", "must be a connected account id, 'acct_...'")
        response = await self._requester.send(
            "POST",
            "/oauth/deauthorize",
            pairs=flatten({"client_id": self.client_id, "stripe_user_id": stripe_user_id}),
        )
        confirmed = OAuthToken.model_validate_json(response.content).stripe_user_id
        if not confirmed:
            raise StripeError("Stripe's answer to deauthorize names no account.")
        return confirmed

    async def _token(self, params: Mapping[str, Any]) -> OAuthToken:
        return await self._requester.request("POST", "/oauth/token", OAuthToken, pairs=flatten(params))

    # -- stored tokens ----------------------------------------------------------------

    async def refresh_stored(self, store: TokenStore, stripe_user_id: str, *, scope: Scope | None = None) -> OAuthToken:
        """Refresh the stored token of one account, once however many tasks ask at the same time.

        The callers that arrive while a refresh is in flight wait for it and get the same
        new token. A failed refresh raises and leaves the stored token as it was. A store
        with a ``refresh_lock(stripe_user_id)`` (``PostgresTokenStore``, ``SQLiteTokenStore``) makes it one
        refresh across every replica: a replica that waited for the lock and finds the token
        changed returns the new one instead of refreshing again.
        """
        while True:
            flight = self._flights.get(stripe_user_id)
            if flight is None:
                break
            await flight.done.wait()
            if flight.token is not None:
                return flight.token
            if flight.error is not None and not isinstance(flight.error, anyio.get_cancelled_exc_class()):
                raise flight.error
            # The leader was cancelled: try again, maybe as the leader this time.
        flight = self._flights[stripe_user_id] = _Flight()
        try:
            flight.token = await self._refresh_across_replicas(store, stripe_user_id, scope)
            return flight.token
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            flight.done.set()
            del self._flights[stripe_user_id]

    async def _refresh_across_replicas(self, store: TokenStore, stripe_user_id: str, scope: Scope | None) -> OAuthToken:
        """Refresh under the store's ``refresh_lock`` when it has one (one refresh across replicas)."""
        lock = getattr(store, "refresh_lock", None)
        if lock is None:
            return await self._refresh_once(store, stripe_user_id, scope, None)
        before = await store.get(stripe_user_id)
        async with lock(stripe_user_id):
            return await self._refresh_once(store, stripe_user_id, scope, before)

    async def _refresh_once(
        self, store: TokenStore, stripe_user_id: str, scope: Scope | None, before: OAuthToken | None
    ) -> OAuthToken:
        current = await store.get(stripe_user_id)
        if before is not None and current is not None and current != before:
            return current  # another replica refreshed it while this one waited for the lock
        if current is None or current.refresh_token is None:
            raise StripeValueError("stripe_user_id", "no stored token with a refresh token for this account")
        fresh = await self.refresh(current.refresh_token.get_secret_value(), scope=scope)
        if fresh.refresh_token is None:
            fresh = fresh.model_copy(update={"refresh_token": current.refresh_token})
        if fresh.stripe_user_id is None:
            fresh = fresh.model_copy(update={"stripe_user_id": stripe_user_id})
        await store.put(fresh)
        return fresh

"""Connect OAuth on the fake, end to end with ``StripeOAuth`` against the served fake: the
authorize redirect, the code exchange, API calls with the access token (its account's objects
only), refresh, deauthorize, a reused code refused, and the Connect events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from atom_stripe import AsyncStripeClient, AuthenticationError, NotFoundError, PermissionDeniedError, StripeValueError
from atom_stripe.oauth import (
    AccessDeniedError,
    InvalidClientError,
    InvalidGrantError,
    InvalidScopeError,
    OAuthToken,
    StripeOAuth,
)
from atom_stripe.testing import FakeStripe

PLATFORM_KEY = "sk_test_platform_key_1234"
CALLBACK = "https://atom.example/stripe/callback"


@pytest.fixture
async def served(stripe_fake: FakeStripe) -> AsyncIterator[str]:
    async with stripe_fake.serve() as base:
        yield base


@pytest.fixture
async def oauth(stripe_fake: FakeStripe, served: str) -> AsyncIterator[StripeOAuth]:
    async with StripeOAuth(stripe_fake.client_id, PLATFORM_KEY, base_url=served, redirect_uri=CALLBACK) as made:
        yield made


async def authorize(oauth: StripeOAuth, **options: str) -> dict[str, str]:
    """Follow the authorize URL as the user's browser would: the query of the redirect back."""
    state = oauth.new_state()
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(oauth.authorize_url(state=state, **options))  # type: ignore[arg-type]
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["state"] == state
    return query


async def connect(oauth: StripeOAuth) -> OAuthToken:
    return await oauth.handle_callback(await authorize(oauth, scope="read_write"))


def secret(token: OAuthToken) -> str:
    assert token.access_token is not None
    return token.access_token.get_secret_value()


async def test_the_flow_end_to_end(stripe_fake: FakeStripe, served: str, oauth: StripeOAuth) -> None:
    query = await authorize(oauth, scope="read_write")
    assert query["code"].startswith("ac_") and query["scope"] == "read_write"
    token = await oauth.handle_callback(query)
    account = token.stripe_user_id
    assert account is not None and account.startswith("acct_")
    assert secret(token).startswith("sk_test_") and token.refresh_token is not None
    assert (token.token_type, token.scope, token.livemode) == ("bearer", "read_write", False)
    assert (token.stripe_publishable_key or "").startswith("pk_test_")
    [authorized] = stripe_fake.events("account.application.authorized", stripe_account=account)
    assert authorized["account"] == account and authorized["data"]["object"]["id"] == stripe_fake.client_id

    async with (
        AsyncStripeClient(api_key=secret(token), base_url=served, max_retries=0) as connected,
        AsyncStripeClient(api_key=PLATFORM_KEY, base_url=served, max_retries=0) as platform,
    ):
        customer = await connected.customers.create(email="theirs@example.com")
        assert (await connected.accounts.retrieve_current()).id == account
        # The platform reaches it with Stripe-Account, not without.
        assert (await platform.for_account(account).customers.retrieve(customer.id)).id == customer.id
        with pytest.raises(NotFoundError):
            await platform.customers.retrieve(customer.id)
        assert account in [a.id for a in (await platform.accounts.list()).data]

        # Refresh: a new access token for the same account; no new refresh token.
        assert token.refresh_token is not None
        fresh = await oauth.refresh(token.refresh_token.get_secret_value())
        assert fresh.stripe_user_id == account and secret(fresh) != secret(token) and fresh.refresh_token is None
        async with AsyncStripeClient(api_key=secret(fresh), base_url=served, max_retries=0) as again:
            assert (await again.customers.retrieve(customer.id)).email == "theirs@example.com"

        # Deauthorize: tokens stop, the platform no longer reaches the account, the event goes out.
        assert await oauth.deauthorize(account) == account
        with pytest.raises(AuthenticationError) as expired:
            await connected.customers.list()
        assert expired.value.code == "api_key_expired" and secret(token) not in expired.value.message
        with pytest.raises(PermissionDeniedError):
            await platform.for_account(account).customers.list()
        with pytest.raises(InvalidGrantError):
            await oauth.refresh(token.refresh_token.get_secret_value())
        with pytest.raises(InvalidClientError):
            await oauth.deauthorize(account)
        assert account not in [a.id for a in (await platform.accounts.list()).data]
    [gone] = stripe_fake.events("account.application.deauthorized", stripe_account=account)
    assert gone["account"] == account


async def test_a_reused_code_is_refused_and_revokes_its_tokens(served: str, oauth: StripeOAuth) -> None:
    query = await authorize(oauth, scope="read_write")
    token = await oauth.exchange_code(query["code"])
    with pytest.raises(InvalidGrantError) as info:
        await oauth.exchange_code(query["code"])
    assert "already been used" in info.value.message
    async with AsyncStripeClient(api_key=secret(token), base_url=served, max_retries=0) as revoked:
        with pytest.raises(AuthenticationError):
            await revoked.customers.list()
    with pytest.raises(InvalidGrantError) as unknown:
        await oauth.exchange_code("ac_NeverIssued")
    assert "does not exist" in unknown.value.message


async def test_a_token_reaches_its_own_account_only(served: str, oauth: StripeOAuth) -> None:
    first, second = await connect(oauth), await connect(oauth)
    assert first.stripe_user_id != second.stripe_user_id
    async with (
        AsyncStripeClient(api_key=secret(first), base_url=served, max_retries=0) as a,
        AsyncStripeClient(api_key=secret(second), base_url=served, max_retries=0) as b,
        AsyncStripeClient(api_key=PLATFORM_KEY, base_url=served, max_retries=0) as platform,
    ):
        theirs = await b.customers.create(email="b@example.com")
        own = await platform.customers.create(email="platform@example.com")
        for foreign in (theirs.id, own.id):
            with pytest.raises(NotFoundError):
                await a.customers.retrieve(foreign)
        assert (await a.customers.list()).data == []
        # Naming another account with Stripe-Account does not help a token.
        with pytest.raises(PermissionDeniedError) as info:
            await a.for_account(second.stripe_user_id or "").customers.list()
        assert info.value.code == "account_invalid"


async def test_read_only_scope_reads_only(served: str, oauth: StripeOAuth) -> None:
    token = await oauth.handle_callback(await authorize(oauth, scope="read_only"))
    assert token.scope == "read_only" and token.refresh_token is not None
    async with AsyncStripeClient(api_key=secret(token), base_url=served, max_retries=0) as reader:
        assert (await reader.customers.list()).data == []
        with pytest.raises(PermissionDeniedError) as info:
            await reader.customers.create(email="no@example.com")
        assert "'read_write' scope" in info.value.message
    with pytest.raises(InvalidScopeError):
        await oauth.refresh(token.refresh_token.get_secret_value(), scope="read_write")


async def test_authorize_refuses_bad_requests(stripe_fake: FakeStripe, served: str, oauth: StripeOAuth) -> None:
    async with httpx.AsyncClient() as browser:
        unknown = await browser.get(
            f"{served}/oauth/authorize", params={"client_id": "ca_other", "redirect_uri": CALLBACK}
        )
        assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client"
        nowhere = await browser.get(f"{served}/oauth/authorize", params={"client_id": stripe_fake.client_id})
        assert nowhere.status_code == 400
        bad_scope = await browser.get(
            f"{served}/oauth/authorize",
            params={"client_id": stripe_fake.client_id, "redirect_uri": CALLBACK, "scope": "all", "state": "s1"},
        )
    assert bad_scope.status_code == 302
    back = parse_qs(urlsplit(bad_scope.headers["location"]).query)
    assert back["error"] == ["invalid_scope"] and back["state"] == ["s1"] and "code" not in back
    # A denial redirect reaches StripeOAuth as its error class.
    state = oauth.new_state()
    with pytest.raises(AccessDeniedError):
        await oauth.handle_callback({"state": state, "error": "access_denied", "error_description": "no"})


async def test_the_token_endpoint_wants_the_platform_key(
    stripe_fake: FakeStripe, served: str, oauth: StripeOAuth
) -> None:
    token = await connect(oauth)
    async with StripeOAuth(stripe_fake.client_id, secret(token), base_url=served) as impostor:
        with pytest.raises(InvalidClientError) as info:
            await impostor.exchange_code(stripe_fake.oauth_code())
    assert secret(token) not in info.value.message
    async with httpx.AsyncClient() as http:
        anonymous = await http.post(f"{served}/oauth/token", data={"grant_type": "authorization_code", "code": "ac_x"})
        odd = await http.post(
            f"{served}/oauth/token",
            data={"grant_type": "password"},
            headers={"Authorization": f"Bearer {PLATFORM_KEY}"},
        )
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"


async def test_in_process_code_for_an_existing_account(stripe_fake: FakeStripe) -> None:
    """``fake.oauth_code`` with no server: StripeOAuth on the fake's transport."""
    platform = stripe_fake.client()
    made = await platform.accounts.create(type="standard")
    http = httpx.AsyncClient(transport=stripe_fake.transport())
    async with StripeOAuth(stripe_fake.client_id, PLATFORM_KEY, http_client=http) as oauth:
        token = await oauth.exchange_code(stripe_fake.oauth_code(made.id, scope="read_write"))
    await http.aclose()
    assert token.stripe_user_id == made.id
    customer = await stripe_fake.client(api_key=secret(token)).customers.create(email="x@example.com")
    assert stripe_fake.get(customer.id, stripe_account=made.id) is not None and stripe_fake.get(customer.id) is None
    fresh = stripe_fake.oauth_code()
    assert fresh.startswith("ac_")
    with pytest.raises(StripeValueError):
        stripe_fake.oauth_code("acct_1NotConnectedAtAll")
    with pytest.raises(StripeValueError):
        stripe_fake.oauth_code(scope="everything")

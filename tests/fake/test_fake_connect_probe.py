"""Probing the fake's Connect accounts from outside, as an attacker and as a platform developer
would: every way one account could read or touch another's objects (nested paths, tokens of
deleted or disconnected accounts, reused codes, odd ``Stripe-Account`` headers), and what a
platform expects of Stripe that the fake answered wrongly."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atom_stripe import AsyncStripeClient, AuthenticationError, InvalidRequestError, NotFoundError
from atom_stripe.testing import FakeStripe

PLATFORM_KEY = "sk_test_platform_key_1234"


@pytest.fixture
async def raw(stripe_fake: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the fake, in process, with the platform's key."""
    async with httpx.AsyncClient(
        transport=stripe_fake.transport(),
        base_url="https://api.stripe.com",
        headers={"Authorization": f"Bearer {PLATFORM_KEY}"},
    ) as client:
        yield client


async def custom_accounts(client: AsyncStripeClient, count: int = 2) -> list[str]:
    return [(await client.accounts.create(type="custom", country="US")).id for _ in range(count)]


async def token_for(raw: httpx.AsyncClient, code: str) -> dict[str, str]:
    answer = await raw.post("/oauth/token", data={"grant_type": "authorization_code", "code": code})
    assert answer.status_code == 200, answer.text
    token: dict[str, str] = answer.json()
    return token


# -- nested paths: an object below one parent is not found below another ---------------------------


async def test_a_person_of_one_account_is_missing_below_another(stripe_client: AsyncStripeClient) -> None:
    a, b = await custom_accounts(stripe_client)
    person = await stripe_client.accounts.persons.create(a, first_name="Ann")
    with pytest.raises(NotFoundError) as info:
        await stripe_client.accounts.persons.retrieve(b, person.id)
    assert info.value.code == "resource_missing" and person.id in info.value.message
    with pytest.raises(NotFoundError):
        await stripe_client.accounts.persons.update(b, person.id, first_name="Taken")
    with pytest.raises(NotFoundError) as info:
        await stripe_client.accounts.persons.delete(b, person.id)
    assert info.value.code == "resource_missing" and person.id in info.value.message
    assert (await stripe_client.accounts.persons.retrieve(a, person.id)).first_name == "Ann"
    assert [p.id for p in (await stripe_client.accounts.persons.list(a)).data] == [person.id]
    assert (await stripe_client.accounts.persons.list(b)).data == []
    # The account itself (Stripe-Account) reaches its own persons, not another's.
    as_a, as_b = stripe_client.for_account(a), stripe_client.for_account(b)
    assert [p.id for p in (await as_a.accounts.persons.list(a)).data] == [person.id]
    for call in (as_b.accounts.persons.list, as_b.accounts.persons.create):
        with pytest.raises(NotFoundError) as info:
            await call(a)
        assert info.value.message.startswith(f"No such account: '{a}'")
    with pytest.raises(NotFoundError):
        await as_b.accounts.persons.retrieve(a, person.id)


async def test_an_external_account_of_one_account_is_missing_below_another(stripe_client: AsyncStripeClient) -> None:
    a, b = await custom_accounts(stripe_client)
    bank = await stripe_client.accounts.external_accounts.create(a, external_account="btok_us")
    with pytest.raises(NotFoundError):
        await stripe_client.accounts.external_accounts.retrieve(b, bank.id)
    with pytest.raises(NotFoundError):
        await stripe_client.accounts.external_accounts.delete(b, bank.id)
    assert (await stripe_client.accounts.external_accounts.retrieve(a, bank.id)).id == bank.id


async def test_a_deauthorized_accounts_persons_are_out_of_reach(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, raw: httpx.AsyncClient
) -> None:
    account = (await token_for(raw, stripe_fake.oauth_code()))["stripe_user_id"]
    person = await stripe_client.accounts.persons.create(account, first_name="Ann")
    answer = await raw.post("/oauth/deauthorize", data={"client_id": stripe_fake.client_id, "stripe_user_id": account})
    assert answer.status_code == 200
    with pytest.raises(NotFoundError):
        await stripe_client.accounts.persons.retrieve(account, person.id)
    with pytest.raises(NotFoundError):
        await stripe_client.accounts.persons.create(account, first_name="Bob")


async def test_a_customers_tax_id_is_missing_below_another_customer(stripe_client: AsyncStripeClient) -> None:
    mine = await stripe_client.customers.create(email="a@example.com")
    other = await stripe_client.customers.create(email="b@example.com")
    tax_id = await stripe_client.customers.tax_ids.create(mine.id, type="eu_vat", value="DE123456789")
    with pytest.raises(NotFoundError):
        await stripe_client.customers.tax_ids.retrieve(other.id, tax_id.id)
    with pytest.raises(NotFoundError):
        await stripe_client.customers.tax_ids.delete(other.id, tax_id.id)
    assert (await stripe_client.customers.tax_ids.retrieve(mine.id, tax_id.id)).value == "DE123456789"


# -- tokens of accounts that are gone --------------------------------------------------------------


async def test_an_access_token_of_a_deleted_account_is_expired(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient, raw: httpx.AsyncClient
) -> None:
    token = await token_for(raw, stripe_fake.oauth_code())
    account = token["stripe_user_id"]
    await stripe_client.accounts.delete(account)
    async with AsyncStripeClient(
        api_key=token["access_token"], http_client=httpx.AsyncClient(transport=stripe_fake.transport()), max_retries=0
    ) as theirs:
        with pytest.raises(AuthenticationError) as info:
            await theirs.customers.list()
    assert info.value.status_code == 401 and info.value.code == "api_key_expired"
    assert token["access_token"] not in str(info.value)
    refreshed = await raw.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_a_reused_code_revokes_the_refresh_token_it_gave(stripe_fake: FakeStripe, raw: httpx.AsyncClient) -> None:
    code = stripe_fake.oauth_code()
    token = await token_for(raw, code)
    earlier = await raw.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert earlier.status_code == 200
    again = await raw.post("/oauth/token", data={"grant_type": "authorization_code", "code": code})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # "All tokens issued with this code have been revoked": the refresh token too, or whoever
    # replayed the code could mint access tokens with it
    # (https://docs.stripe.com/connect/oauth-reference#post-token-error-codes).
    refreshed = await raw.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert token["refresh_token"] not in refreshed.text
    for access in (token["access_token"], earlier.json()["access_token"]):
        answer = await raw.get("/v1/customers", headers={"Authorization": f"Bearer {access}"})
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "api_key_expired"


async def test_an_unknown_refresh_token_is_not_echoed(raw: httpx.AsyncClient) -> None:
    secret = "rt_ThisIsSomebodysRefreshTokenXYZ1"
    answer = await raw.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": secret})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert secret not in answer.text and "XYZ1" in answer.text


# -- what the served fake writes into HTTP headers -------------------------------------------------


async def test_a_redirect_uri_cannot_write_headers(stripe_fake: FakeStripe) -> None:
    injected = "https://atom.example/cb\r\nSet-Cookie: evil=1"
    async with stripe_fake.serve() as base, httpx.AsyncClient() as browser:
        answer = await browser.get(
            f"{base}/oauth/authorize",
            params={"client_id": stripe_fake.client_id, "redirect_uri": injected, "state": "s"},
        )
    assert "set-cookie" not in answer.headers and "location" not in answer.headers
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_redirect_uri"


async def test_an_account_links_urls_must_be_urls(stripe_client: AsyncStripeClient) -> None:
    [account] = await custom_accounts(stripe_client, 1)
    back, again, evil = "https://atom.example/back", "https://atom.example/again", "\r\nSet-Cookie: evil=1"
    for param, (return_url, refresh_url) in (
        ("return_url", (back + evil, again)),
        ("refresh_url", (back, again + evil)),
    ):
        with pytest.raises(InvalidRequestError) as info:
            await stripe_client.account_links.create(
                account=account, type="account_onboarding", return_url=return_url, refresh_url=refresh_url
            )
        assert info.value.param == param and info.value.message == "Not a valid URL"


async def test_a_basic_auth_key_is_not_kept_in_the_requests(stripe_fake: FakeStripe) -> None:
    key = "sk_test_SuperSecretPlatformKey9876"
    async with httpx.AsyncClient(transport=stripe_fake.transport(), base_url="https://connect.stripe.com") as raw:
        answer = await raw.post(
            "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "rt_x"}, auth=(key, "")
        )
    assert answer.status_code == 400
    recorded = stripe_fake.requests[-1]["headers"]["authorization"]
    assert recorded == "Basic sk_test_...9876"
    assert base64.b64encode(f"{key}:".encode()).decode()[:-4] not in str(stripe_fake.requests)


async def test_the_api_takes_a_key_over_basic_auth(stripe_fake: FakeStripe) -> None:
    # "Provide your API key as the basic auth username value. You do not need to provide a
    # password." (https://docs.stripe.com/api/authentication): curl -u sk_test_...: works.
    key = "sk_test_SuperSecretPlatformKey9876"
    async with httpx.AsyncClient(transport=stripe_fake.transport(), base_url="https://api.stripe.com") as raw:
        made = await raw.post("/v1/customers", data={"email": "basic@example.com"}, auth=(key, ""))
        listed = await raw.get("/v1/customers", auth=(key, ""))
        wrong = await raw.get("/v1/customers", auth=("sk_live_SuperSecretPlatformKey9876", ""))
    assert made.status_code == 200, made.text
    assert [c["email"] for c in listed.json()["data"]] == ["basic@example.com"]
    assert wrong.status_code == 401 and "sk_live_****9876" in wrong.json()["error"]["message"]
    assert stripe_fake.requests[-1]["headers"]["authorization"] == "Basic sk_live_...9876"


# -- odd Stripe-Account headers ---------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40),
        st.sampled_from(["acct_", "acct_1", "acct_1AtomStripeFakePlatform ", "ACCT_1ATOMSTRIPEFAKEPLATFORM"]),
    ),
    suffix=st.sampled_from(["", " ", "\t", "x", "%00", "/..", "'"]),
)
async def test_an_odd_stripe_account_header_reaches_no_other_account(
    stripe_fake: FakeStripe, raw: httpx.AsyncClient, value: str, suffix: str
) -> None:
    if not stripe_fake.connected_accounts():
        made = await raw.post("/v1/accounts", data={"type": "custom"})
        await raw.post("/v1/customers", data={"email": "a@example.com"}, headers={"Stripe-Account": made.json()["id"]})
        await raw.post("/v1/customers", data={"email": "platform@example.com"})
    [account] = stripe_fake.connected_accounts()
    header = (value + suffix).encode("latin-1")
    answer = await raw.get("/v1/customers", headers={b"Stripe-Account": header})
    # Surrounding whitespace is no part of a header's value (RFC 9110, section 5.5), as over HTTP.
    named = header.decode("latin-1").strip(" \t")
    if named in ("", stripe_fake.platform_account):
        assert answer.status_code == 200
        assert [c["email"] for c in answer.json()["data"]] == ["platform@example.com"]
    elif named == account:
        assert answer.status_code == 200 and [c["email"] for c in answer.json()["data"]] == ["a@example.com"]
    else:
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "account_invalid"
        assert "@example.com" not in answer.text and PLATFORM_KEY not in answer.text


# -- what a platform expects of Stripe --------------------------------------------------------------


async def test_events_of_a_connected_accounts_persons_are_the_accounts_own(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    # A person belongs to its account: person.* are Connect events, with ``account`` set, for the
    # platform's Connect endpoints, not its own (https://docs.stripe.com/connect/webhooks).
    [account] = await custom_accounts(stripe_client, 1)
    person = await stripe_client.accounts.persons.create(account, first_name="Ann")
    await stripe_client.accounts.persons.update(account, person.id, last_name="Lee")
    events = [e for e in stripe_fake.events(stripe_account=account) if e["type"].startswith("person.")]
    assert [(e["type"], e["account"], e["data"]["object"]["id"]) for e in events] == [
        ("person.created", account, person.id),
        ("person.updated", account, person.id),
    ]
    assert [e for e in stripe_fake.events() if e["type"].startswith("person.")] == []


async def test_an_accounts_capabilities_are_listed_retrieved_and_requested(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    # Capabilities are objects of their own (https://docs.stripe.com/api/capabilities): what a
    # platform checks before charging for an account.
    asked = {"card_payments": {"requested": True}, "transfers": {"requested": True}}
    account = (await stripe_client.accounts.create(type="custom", capabilities=asked)).id  # type: ignore[arg-type]
    listed = (await stripe_client.accounts.capabilities.list(account)).data
    assert sorted((c.id, c.status, c.requested, c.account) for c in listed) == [
        ("card_payments", "inactive", True, account),
        ("transfers", "inactive", True, account),
    ]
    assert "external_account" in listed[0].requirements.currently_due  # type: ignore[union-attr]
    stripe_fake.complete_onboarding(account)
    active = await stripe_client.accounts.capabilities.retrieve(account, "card_payments")
    assert (active.status, active.requirements.currently_due) == ("active", [])  # type: ignore[union-attr]
    unasked = await stripe_client.accounts.capabilities.retrieve(account, "link_payments")
    assert (unasked.status, unasked.requested, unasked.requested_at) == ("unrequested", False, None)

    link = await stripe_client.accounts.capabilities.update(account, "link_payments", requested=True)
    assert (link.id, link.status, link.requested) == ("link_payments", "inactive", True)
    assert (await stripe_client.accounts.retrieve(account)).capabilities.link_payments == "inactive"  # type: ignore[union-attr]
    dropped = await stripe_client.accounts.capabilities.update(account, "transfers", requested=False)
    assert (dropped.status, dropped.requested) == ("unrequested", False)
    assert [c.id for c in (await stripe_client.accounts.capabilities.list(account)).data] == [
        "card_payments",
        "link_payments",
    ]
    events = stripe_fake.events("capability.updated", stripe_account=account)
    assert [(e["data"]["object"]["id"], e["account"]) for e in events] == [
        ("link_payments", account),
        ("transfers", account),
    ]
    [other] = await custom_accounts(stripe_client, 1)
    with pytest.raises(NotFoundError):
        await stripe_client.for_account(other).accounts.capabilities.list(account)


async def test_an_external_account_is_a_bank_account_listed_on_its_account(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    # btok_us is Stripe's test bank account token (https://docs.stripe.com/connect/testing#account-numbers).
    [account] = await custom_accounts(stripe_client, 1)
    bank = await stripe_client.accounts.external_accounts.create(account, external_account="btok_us")
    assert (bank.object, bank.last4, bank.routing_number) == ("bank_account", "6789", "110000000")  # type: ignore[union-attr]
    assert (bank.account, bank.currency, bank.default_for_currency) == (account, "usd", True)
    card = await stripe_client.accounts.external_accounts.create(account, external_account="tok_visa_debit")
    assert (card.object, card.funding, card.default_for_currency) == ("card", "debit", False)  # type: ignore[union-attr]
    listed = (await stripe_client.accounts.external_accounts.list(account)).data
    assert [e.id for e in listed] == [bank.id, card.id]
    held = (await stripe_client.accounts.retrieve(account)).external_accounts
    assert held is not None and [e.id for e in held.data] == [bank.id, card.id]
    events = stripe_fake.events("account.external_account.created", stripe_account=account)
    assert [(e["data"]["object"]["id"], e["account"]) for e in events] == [(bank.id, account), (card.id, account)]
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.accounts.external_accounts.delete(account, bank.id)  # the default for usd
    assert "default external account" in info.value.message
    gone = await stripe_client.accounts.external_accounts.delete(account, card.id)
    assert (gone.id, gone.deleted) == (card.id, True)
    assert [e.id for e in (await stripe_client.accounts.external_accounts.list(account)).data] == [bank.id]
    held = (await stripe_client.accounts.retrieve(account)).external_accounts
    assert held is not None and [e.id for e in held.data] == [bank.id]
    [deleted] = stripe_fake.events("account.external_account.deleted", stripe_account=account)
    assert deleted["data"]["object"]["id"] == card.id

"""The fake as a Connect platform: connected accounts (``accounts.create`` as a new test-mode
account is, onboarding, account and login links) and the isolation between accounts: what one
account creates, another (or the platform) neither reads, changes, lists, searches nor hears of."""

from __future__ import annotations

import httpx
import pytest

from atom_stripe import AsyncStripeClient, InvalidRequestError, NotFoundError, PermissionDeniedError, StripeValueError
from atom_stripe.testing import FakeStripe


async def two_accounts(client: AsyncStripeClient) -> tuple[AsyncStripeClient, AsyncStripeClient]:
    made = [await client.accounts.create(type="custom", country="US") for _ in range(2)]
    return client.for_account(made[0].id), client.for_account(made[1].id)


async def test_objects_of_one_account_are_invisible_to_the_others(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    a, b = await two_accounts(stripe_client)
    mine = await a.customers.create(email="a@example.com", metadata={"who": "a"})
    theirs = await b.customers.create(email="b@example.com", metadata={"who": "b"})
    own = await stripe_client.customers.create(email="p@example.com", metadata={"who": "p"})

    assert (await a.customers.retrieve(mine.id)).email == "a@example.com"
    for client, foreign in ((b, mine.id), (stripe_client, mine.id), (a, theirs.id), (a, own.id)):
        with pytest.raises(NotFoundError) as info:
            await client.customers.retrieve(foreign)
        assert info.value.code == "resource_missing" and info.value.message.startswith("No such customer")
        with pytest.raises(NotFoundError):
            await client.customers.update(foreign, name="taken over")
        with pytest.raises(NotFoundError):
            await client.customers.delete(foreign)
    assert (await a.customers.retrieve(mine.id)).name is None  # nobody else changed it

    assert [c.id for c in (await a.customers.list()).data] == [mine.id]
    assert [c.id for c in (await b.customers.list()).data] == [theirs.id]
    assert [c.id for c in (await stripe_client.customers.list()).data] == [own.id]
    for client, who, expected in ((a, "a", mine.id), (b, "b", theirs.id), (stripe_client, "p", own.id)):
        assert [c.id for c in (await client.customers.search(query="email~'example.com'")).data] == [expected]
        assert (await client.customers.search(query=f"metadata['who']:'{who}'")).data[0].id == expected

    # Events are each account's own; a connected account's name it.
    events_a = (await a.events.list()).data
    assert [(e.type, e.account, getattr(e.data.object, "id", None)) for e in events_a] == [
        ("customer.created", a.stripe_account, mine.id)
    ]
    platform_events = (await stripe_client.events.list(type="customer.*")).data
    assert [(getattr(e.data.object, "id", None), e.account) for e in platform_events] == [(own.id, None)]
    with pytest.raises(NotFoundError):
        await b.events.retrieve(events_a[0].id)
    assert stripe_fake.get(mine.id) is None and stripe_fake.get(mine.id, stripe_account=a.stripe_account)


async def test_a_reference_to_another_accounts_object_is_missing(stripe_client: AsyncStripeClient) -> None:
    a, b = await two_accounts(stripe_client)
    customer = await a.customers.create(email="a@example.com")
    with pytest.raises(InvalidRequestError) as info:
        await b.payment_intents.create(amount=1000, currency="usd", customer=customer.id)
    assert info.value.code == "resource_missing" and info.value.param == "customer"


async def test_balances_are_per_account(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    a, b = await two_accounts(stripe_client)
    await a.charges.create(amount=2000, currency="usd", source="tok_visa")
    balance_a = await a.balance.retrieve()
    balance_b = await b.balance.retrieve()
    platform = await stripe_client.balance.retrieve()
    assert [t.amount for t in (await a.balance_transactions.list()).data] == [2000]
    assert (await b.balance_transactions.list()).data == []
    assert (await stripe_client.balance_transactions.list()).data == []
    assert balance_a.object == balance_b.object == platform.object == "balance"


async def test_idempotency_keys_are_per_account(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    a, b = await two_accounts(stripe_client)
    first = await a.customers.create(email="a@example.com", idempotency_key="same-key")
    again = await a.customers.create(email="a@example.com", idempotency_key="same-key")
    other = await b.customers.create(email="a@example.com", idempotency_key="same-key")
    assert again.id == first.id and other.id != first.id
    assert [c.id for c in (await b.customers.list()).data] == [other.id]


async def test_an_account_the_platform_cannot_reach_is_refused(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    a, _ = await two_accounts(stripe_client)
    for account in ("acct_1NotConnectedAtAll", "cus_123"):
        with pytest.raises(PermissionDeniedError) as info:
            await stripe_client.for_account(account).customers.list()
        assert info.value.status_code == 403 and info.value.code == "account_invalid"
        assert f"does not have access to account '{account}'" in info.value.message
        assert "sk_test_atom_stripe_fake" not in info.value.message  # the key is masked
    # A deleted account is no longer reachable either, nor listed.
    await stripe_client.accounts.delete(a.stripe_account or "")
    with pytest.raises(PermissionDeniedError):
        await a.customers.list()
    assert a.stripe_account not in [x.id for x in (await stripe_client.accounts.list()).data]
    # A connected account cannot act on another one, nor list the platform's accounts.
    c, d = await two_accounts(stripe_client)
    with pytest.raises(NotFoundError):
        await c.accounts.retrieve(d.stripe_account or "")
    with pytest.raises(PermissionDeniedError):
        await c.accounts.list()
    with pytest.raises(StripeValueError):
        stripe_fake.get("cus_1", stripe_account="acct_1NotConnectedAtAll")


@pytest.mark.parametrize(
    ("kind", "fees", "dashboard", "collection"),
    [
        ("standard", "account", "full", "stripe"),
        ("express", "application_express", "express", "stripe"),
        ("custom", "application_custom", "none", "application"),
    ],
)
async def test_accounts_create_as_a_new_test_mode_account(
    stripe_client: AsyncStripeClient, kind: str, fees: str, dashboard: str, collection: str
) -> None:
    account = await stripe_client.accounts.create(
        type=kind,
        email="seller@example.com",
        capabilities={"transfers": {"requested": True}},
        metadata={"seller": "1"},
    )
    assert account.id.startswith("acct_") and account.type == kind and account.email == "seller@example.com"
    assert account.metadata == {"seller": "1"} and account.country == "US"
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    assert account.requirements is not None and "external_account" in (account.requirements.currently_due or [])
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.capabilities is not None and account.capabilities.transfers == "inactive"
    controller = account.controller
    assert controller is not None and controller.type == "application" and controller.is_controller
    assert controller.fees is not None and controller.fees.payer == fees
    assert controller.stripe_dashboard is not None and controller.stripe_dashboard.type == dashboard
    assert controller.requirement_collection == collection
    assert (await stripe_client.accounts.retrieve(account.id)).id == account.id
    assert (await stripe_client.for_account(account.id).accounts.retrieve_current()).id == account.id


async def test_accounts_create_with_controller_properties(stripe_client: AsyncStripeClient) -> None:
    express = await stripe_client.accounts.create(
        controller={
            "fees": {"payer": "application"},
            "losses": {"payments": "application"},
            "stripe_dashboard": {"type": "express"},
        }
    )
    assert express.type == "none" and express.controller is not None
    assert express.controller.fees is not None and express.controller.fees.payer == "application"
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.accounts.create(type="custom", controller={"fees": {"payer": "application"}})
    assert info.value.param == "controller"


async def test_update_list_delete_and_the_platforms_own_account(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    first = await stripe_client.accounts.create(type="express")
    second = await stripe_client.accounts.create(type="custom")
    updated = await stripe_client.accounts.update(first.id, metadata={"plan": "gold"}, email="new@example.com")
    assert updated.metadata == {"plan": "gold"} and updated.email == "new@example.com"
    asked = await stripe_client.accounts.update(second.id, capabilities={"card_payments": {"requested": True}})
    assert asked.capabilities is not None and asked.capabilities.card_payments == "inactive"
    # The change is the connected account's event (a Connect event), not the platform's.
    [event] = stripe_fake.events("account.updated", stripe_account=first.id)
    assert event["account"] == first.id and event["data"]["previous_attributes"]["metadata"] == {}
    assert stripe_fake.events("account.updated") == []
    assert [e["type"] for e in stripe_fake.events(stripe_account=second.id)] == ["account.updated"]
    assert [a.id for a in (await stripe_client.accounts.list()).data] == [second.id, first.id]
    assert [a.id for a in (await stripe_client.accounts.list(limit=1)).data] == [second.id]
    deleted = await stripe_client.accounts.delete(second.id)
    assert deleted.deleted and deleted.id == second.id
    with pytest.raises(NotFoundError):
        await stripe_client.accounts.retrieve(second.id)
    own = await stripe_client.accounts.retrieve_current()
    assert own.id == stripe_fake.platform_account and own.charges_enabled
    assert stripe_fake.connected_accounts() == [first.id]


async def test_complete_onboarding(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    account = await stripe_client.accounts.create(type="express", capabilities={"card_payments": {"requested": True}})
    done = stripe_fake.complete_onboarding(account.id)
    assert (done["charges_enabled"], done["payouts_enabled"], done["details_submitted"]) == (True, True, True)
    fetched = await stripe_client.accounts.retrieve(account.id)
    assert fetched.requirements is not None and fetched.requirements.currently_due == []
    assert fetched.requirements.disabled_reason is None
    assert fetched.capabilities is not None and fetched.capabilities.card_payments == "active"
    [event] = stripe_fake.events("account.updated", stripe_account=account.id)
    assert event["data"]["previous_attributes"]["charges_enabled"] is False and event["request"]["id"] is None
    with pytest.raises(StripeValueError):
        stripe_fake.complete_onboarding("acct_1NotConnectedAtAll")


async def test_account_and_login_links(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    express = await stripe_client.accounts.create(type="express")
    custom = await stripe_client.accounts.create(type="custom")
    link = await stripe_client.account_links.create(
        account=express.id,
        type="account_onboarding",
        return_url="https://shop.test/back",
        refresh_url="https://shop.test/again",
    )
    assert link.object == "account_link" and link.url.startswith(f"https://connect.stripe.com/setup/s/{express.id}/")
    assert link.expires_at == link.created + 300
    login = await stripe_client.accounts.login_links.create(express.id)
    assert login.url.startswith(f"https://connect.stripe.com/express/{express.id}/")
    with pytest.raises(InvalidRequestError) as info:
        await stripe_client.accounts.login_links.create(custom.id)
    assert info.value.status_code == 400
    with pytest.raises(InvalidRequestError) as missing:
        await stripe_client.account_links.create(
            account="acct_1NotConnectedAtAll", type="account_onboarding", return_url="https://shop.test/back"
        )
    assert missing.value.code == "resource_missing"


async def test_served_account_link_onboards_and_returns(stripe_fake: FakeStripe) -> None:
    async with (
        stripe_fake.serve() as base,
        AsyncStripeClient(api_key="sk_test_served", base_url=base, max_retries=0) as client,
    ):
        account = await client.accounts.create(type="express")
        link = await client.account_links.create(
            account=account.id,
            type="account_onboarding",
            return_url="https://shop.test/back",
            refresh_url="https://shop.test/again",
        )
        assert link.url.startswith(f"{base}/setup/s/{account.id}/")
        async with httpx.AsyncClient() as http:
            followed = await http.get(link.url)
            again = await http.get(link.url)
        assert followed.status_code == 302 and followed.headers["location"] == "https://shop.test/back"
        # Single use: followed again, the link sends the user to refresh_url for a new one.
        assert again.status_code == 302 and again.headers["location"] == "https://shop.test/again"
        assert (await client.accounts.retrieve(account.id)).charges_enabled


async def test_snapshot_and_restore_keep_accounts_apart(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    a, b = await two_accounts(stripe_client)
    mine = await a.customers.create(email="a@example.com")
    token_code = stripe_fake.oauth_code(b.stripe_account)
    saved = stripe_fake.snapshot()
    async with FakeStripe() as other:
        other.restore(saved)
        client = other.client()
        assert (await client.for_account(a.stripe_account or "").customers.retrieve(mine.id)).id == mine.id
        with pytest.raises(NotFoundError):
            await client.for_account(b.stripe_account or "").customers.retrieve(mine.id)
        assert other.connected_accounts() == stripe_fake.connected_accounts()
        assert token_code in other.oauth.codes

"""The fake answers every v2 operation of the table, keeps v2's wire rules (JSON bodies, replayed
idempotency keys on POST and DELETE) and records meter events, deduplicated by identifier."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, AuthenticationError, NotFoundError, PermissionDeniedError
from atom_stripe._errors import TemporarySessionExpiredError
from atom_stripe._generated.endpoints import ENDPOINTS
from atom_stripe._generated.models import OBJECTS
from atom_stripe._pagination import V2Page
from atom_stripe.models._references import model_class
from atom_stripe.testing import FakeStripe

from ..stripe_oracle import sample_params
from .test_v2_surface import NAMES, SAMPLE, method_of

OBJECT_OF = {model: obj for obj, model in OBJECTS.items()}


async def call(client: AsyncStripeClient, name: str, ids: list[str], params: dict[str, Any] | None = None) -> Any:
    return await method_of(client, name)(*ids, **(sample_params(ENDPOINTS[name]) if params is None else params))


async def valid_usage(client: AsyncStripeClient, name: str) -> dict[str, Any] | None:
    """Parameters Stripe takes for the v2 meter event calls it validates synchronously (the fake
    refuses the others loudly): an event its meter and customer exist for, and, to cancel, a
    received one."""
    if name not in ("v2.billing.meter_events.create", "v2.billing.meter_event_adjustments.create"):
        return None
    customer = await client.customers.create()
    await client.billing.meters.create(display_name="n", event_name="x_1", default_aggregation={"formula": "sum"})
    event: Any = {"event_name": "x_1", "payload": {"stripe_customer_id": customer.id, "value": "1"}}
    if name == "v2.billing.meter_events.create":
        return dict(event)
    await client.v2.billing.meter_events.create(**event, identifier="x_1")
    return {"event_name": "x_1", "type": "cancel", "cancel": {"identifier": "x_1"}}


async def check_operation(fake: FakeStripe, name: str) -> None:
    """Called on objects that exist (made by the fake's own creates): answered with its type."""
    endpoint = ENDPOINTS[name]
    async with fake.client() as client:
        ids: list[str] = []
        for _ in endpoint.ids:
            # Parents and targets made through the fake (any v2 object serves as a parent).
            made = await client.v2.core.event_destinations.create(
                name="n", type="webhook_endpoint", event_payload="thin", enabled_events=["x"]
            )
            ids.append(made.id)
        target = fake.store.find(ids[-1]) if ids else None
        if target is not None and endpoint.kind != "v2list" and endpoint.result in OBJECT_OF:
            # The object acted on, of the operation's own type (an action answering another
            # type, such as a ping's event, gets a new object of it).
            target["object"] = OBJECT_OF[endpoint.result]
        if endpoint.host == "meter_events":
            session = await client.v2.billing.meter_event_session.create()
            async with fake.client(api_key=session.authentication_token) as stream:
                result = await call(stream, name, ids)
        else:
            result = await call(client, name, ids, await valid_usage(client, name))
    if endpoint.kind == "none":
        assert result is None
        return
    item = result
    if endpoint.kind == "v2list":
        assert isinstance(result, V2Page)
        item = result.data[0] if result.data else None
        if item is None:
            return
    assert isinstance(item, model_class(endpoint.result)), (name, type(item))


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("name", NAMES)
async def test_every_v2_operation_against_the_fake(stripe_fake: FakeStripe, name: str) -> None:
    await check_operation(stripe_fake, name)


@pytest.mark.parametrize("name", SAMPLE)
async def test_a_v2_sample_on_both_backends(stripe_fake: FakeStripe, name: str) -> None:
    await check_operation(stripe_fake, name)


async def test_an_event_destination_lives_and_dies(stripe_client: AsyncStripeClient) -> None:
    destinations = stripe_client.v2.core.event_destinations
    made = await destinations.create(
        name="orders",
        type="webhook_endpoint",
        event_payload="thin",
        enabled_events=["v1.billing.meter.error_report_triggered"],
    )
    assert made.name == "orders" and isinstance(made.created, datetime)
    assert (await destinations.retrieve(made.id)).id == made.id
    assert (await destinations.update(made.id, description="for orders")).description == "for orders"
    assert (await destinations.disable(made.id)).status == "disabled"
    others = [
        await destinations.create(name=f"d{i}", type="webhook_endpoint", event_payload="thin", enabled_events=["x"])
        for i in range(3)
    ]
    seen = [d.id async for d in destinations.list(limit=2)]
    assert sorted(seen) == sorted([made.id, *(o.id for o in others)])
    await destinations.delete(made.id)
    with pytest.raises(NotFoundError):
        await destinations.retrieve(made.id)


async def test_a_replayed_key_answers_the_first_answer(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    args: Any = {"name": "n", "type": "webhook_endpoint", "event_payload": "thin", "enabled_events": ["x"]}
    first = await stripe_client.v2.core.event_destinations.create(**args, idempotency_key="k1")
    again = await stripe_client.v2.core.event_destinations.create(**args, idempotency_key="k1")
    assert first.id == again.id
    assert len(stripe_fake.store.all("v2.core.event_destination")) == 1


async def test_an_idempotency_key_is_per_account(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    """Keys are per account (https://docs.stripe.com/api/idempotent_requests), on v2 as on v1: the
    same key in two contexts makes two objects, and a replay stays in its own context."""
    connected = (await stripe_client.accounts.create(type="express")).id
    args: Any = {"name": "n", "type": "webhook_endpoint", "event_payload": "thin", "enabled_events": ["x"]}
    destinations = stripe_client.v2.core.event_destinations
    platform = await destinations.create(**args, idempotency_key="same")
    theirs = await destinations.create(**{**args, "name": "other"}, idempotency_key="same", stripe_context=connected)
    again = await destinations.create(**{**args, "name": "other"}, idempotency_key="same", stripe_context=connected)
    assert platform.id != theirs.id and again.id == theirs.id and theirs.name == "other"
    assert [d["id"] for d in stripe_fake.store_of(connected).all("v2.core.event_destination")] == [theirs.id]


async def test_meter_events_are_recorded_once_per_identifier(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    customer = (await stripe_client.customers.create()).id
    await stripe_client.billing.meters.create(
        display_name="API calls", event_name="api_call", default_aggregation={"formula": "sum"}
    )
    await stripe_client.v2.billing.meter_events.create(
        event_name="api_call", identifier="a", payload={"stripe_customer_id": customer, "value": "1"}
    )
    session = await stripe_client.v2.billing.meter_event_session.create()
    assert session.expires_at - session.created == timedelta(minutes=15)
    async with stripe_fake.client(api_key=session.authentication_token) as stream:
        events: Any = [
            {"event_name": "api_call", "identifier": i, "payload": {"stripe_customer_id": customer, "value": "2"}}
            for i in ("a", "b", "b", "c")
        ]
        await stream.v2.billing.meter_event_stream.create(events=events)
    assert [e["identifier"] for e in stripe_fake.v2.meter_events] == ["a", "b", "c"]
    assert stripe_fake.v2.meter_events[0]["payload"] == {"stripe_customer_id": customer, "value": "1"}


async def test_the_stream_takes_only_a_live_session_token(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    event: Any = {"event_name": "api_call", "payload": {"stripe_customer_id": "cus_1", "value": "1"}}
    with pytest.raises(AuthenticationError):
        await stripe_client.v2.billing.meter_event_stream.create(events=[event])  # an API key, not a token
    session = await stripe_client.v2.billing.meter_event_session.create()
    stripe_fake.v2.tokens[session.authentication_token] = datetime.now(timezone.utc) - timedelta(seconds=1)
    async with stripe_fake.client(api_key=session.authentication_token) as stream:
        with pytest.raises(TemporarySessionExpiredError):
            await stream.v2.billing.meter_event_stream.create(events=[event])
    assert stripe_fake.v2.meter_events == []


async def test_stripe_context_keeps_each_accounts_v2_objects_apart(stripe_client: AsyncStripeClient) -> None:
    """v2 objects belong to the account of the request's ``Stripe-Context``, as v1 objects to
    ``Stripe-Account``'s: another account (or the platform) does not see them, and a context the
    key cannot reach is refused."""
    ours = await stripe_client.accounts.create(type="express")
    theirs = await stripe_client.accounts.create(type="express")
    made = await stripe_client.v2.core.event_destinations.create(
        name="n", type="webhook_endpoint", event_payload="thin", enabled_events=["x"], stripe_context=ours.id
    )
    found = await stripe_client.v2.core.event_destinations.retrieve(made.id, stripe_context=ours.id)
    assert found.id == made.id
    for context in (theirs.id, None):
        with pytest.raises(NotFoundError):
            await stripe_client.v2.core.event_destinations.retrieve(made.id, stripe_context=context)
        page = await stripe_client.v2.core.event_destinations.list(stripe_context=context)
        assert [d.id for d in page.data] == []
    listed = await stripe_client.v2.core.event_destinations.list(stripe_context=ours.id)
    assert [d.id for d in listed.data] == [made.id]
    with pytest.raises(PermissionDeniedError) as refused:
        await stripe_client.v2.core.event_destinations.list(stripe_context="acct_1NotConnectedHere")
    assert refused.value.code == "account_invalid"

"""NotificationRouter: thin events routed by type, deduplicated through the event stores
(across replicas on one real redis-server), served as an ASGI app."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import respx
from redis.asyncio import Redis

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe._generated.notifications import V1BillingMeterErrorReportTriggeredEventNotification
from atom_stripe._thin_events import EventNotification, V2Event
from atom_stripe.contrib.redis import RedisEventStore
from atom_stripe.webhooks import NotificationRouter, generate_test_header

from ..helpers import KEY
from ..servers import RedisServer

SECRET = "whsec_test_destination"
METER_ERRORS = "v1.billing.meter.error_report_triggered"


def delivery(event_id: str, event_type: str = METER_ERRORS, **changes: Any) -> tuple[bytes, dict[str, str]]:
    body = {
        "id": event_id,
        "object": "v2.core.event",
        "type": event_type,
        "livemode": False,
        "created": "2026-11-30T06:20:52.246Z",
        "context": "acct_1Connected",
        "related_object": {"id": "mtr_123", "type": "billing.meter", "url": "/v1/billing/meters/mtr_123"},
        **changes,
    }
    raw = json.dumps({k: v for k, v in body.items() if v is not None}, indent=2).encode()
    return raw, {"Stripe-Signature": generate_test_header(raw, SECRET)}


def unique() -> str:
    return f"evt_test_{uuid.uuid4().hex}"


# -- replicas on one Redis (the redis package's client is asyncio only) ------------------------


@pytest.fixture
async def replicas(redis_server: RedisServer) -> AsyncIterator[list[NotificationRouter]]:
    clients = [Redis.from_url(redis_server.url, socket_timeout=2, socket_connect_timeout=2) for _ in range(2)]
    yield [NotificationRouter(SECRET, store=RedisEventStore(c), endpoint="destination") for c in clients]
    for c in clients:
        await c.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_two_replicas_on_one_redis_handle_a_notification_once(
    replicas: list[NotificationRouter], redis_server: RedisServer
) -> None:
    runs: list[str] = []
    release = anyio.Event()
    for router in replicas:

        @router.on(METER_ERRORS)
        async def handler(notification: V1BillingMeterErrorReportTriggeredEventNotification) -> None:
            assert isinstance(notification, V1BillingMeterErrorReportTriggeredEventNotification)
            runs.append(notification.id)
            await release.wait()

    event_id = unique()
    body, headers = delivery(event_id)
    results: list[int] = []

    async def deliver(router: NotificationRouter) -> None:
        results.append((await router.handle(body, headers)).status_code)

    async with anyio.create_task_group() as tg:
        tg.start_soon(deliver, replicas[0])
        await anyio.sleep(0.2)
        tg.start_soon(deliver, replicas[1])  # Stripe's retry, to the other replica, meanwhile
        await anyio.sleep(0.2)
        release.set()
    assert sorted(results) == [200, 409] and runs == [event_id]
    again = await replicas[1].handle(body, headers)
    assert again.status_code == 200 and again.duplicate and runs == [event_id]
    redis = Redis.from_url(redis_server.url)
    try:
        assert await redis.exists(f"atom_stripe:event:destination:acct_1Connected:{event_id}")
    finally:
        await redis.aclose()


# -- both event loops -------------------------------------------------------------------------


async def test_handlers_get_the_typed_notification_and_fetch_through_the_client(api: respx.MockRouter) -> None:
    event_id = unique()
    api.get(f"/v2/core/events/{event_id}").mock(
        return_value=httpx.Response(
            200, json={**json.loads(delivery(event_id)[0]), "data": {"developer_message_summary": "1 error"}}
        )
    )
    fetched: list[V2Event] = []
    async with AsyncStripeClient(KEY) as stripe:
        router = NotificationRouter(SECRET, client=stripe)

        @router.on("v1.billing.*")
        async def handler(notification: EventNotification) -> None:
            fetched.append(await notification.fetch_event())

        result = await router.handle(*delivery(event_id))
    assert result.status_code == 200 and result.handled == 1
    assert fetched[0].id == event_id and fetched[0].data is not None
    assert api.calls.last.request.headers["Stripe-Context"] == "acct_1Connected"


async def test_a_failed_handler_is_run_again_on_redelivery() -> None:
    router = NotificationRouter(SECRET)
    calls: list[str] = []

    @router.on("*")
    def handler(notification: EventNotification) -> None:
        calls.append(notification.type)
        if len(calls) == 1:
            raise RuntimeError("boom")

    body, headers = delivery(unique(), "v9.brand_new.type")
    assert (await router.handle(body, headers)).status_code == 500
    assert (await router.handle(body, headers)).status_code == 200
    assert (await router.handle(body, headers)).duplicate
    assert calls == ["v9.brand_new.type", "v9.brand_new.type"]


async def test_contexts_are_deduplicated_apart() -> None:
    router = NotificationRouter(SECRET, endpoint="destination")
    runs: list[str | None] = []
    router.on("*")(lambda n: runs.append(n.context))
    event_id = unique()
    for context in ("acct_1A", "acct_1B", None, "acct_1A"):
        await router.handle(*delivery(event_id, context=context))
    assert runs == ["acct_1A", "acct_1B", None]
    assert router.claim_key(event_id, "acct_1A") == f"destination:acct_1A:{event_id}"


async def test_bad_deliveries_are_answered_400() -> None:
    router = NotificationRouter(SECRET)
    runs: list[str] = []
    router.on("*")(lambda n: runs.append(n.id))
    snapshot = json.dumps({"id": "evt_1", "object": "event", "type": "customer.created"}).encode()
    body, _ = delivery(unique())
    for payload, header in (
        (snapshot, generate_test_header(snapshot, SECRET)),  # a v1 snapshot event: its own endpoint
        (body, generate_test_header(body, "whsec_someone_else")),
        (body, None),
    ):
        headers = {"Stripe-Signature": header} if header else {}
        result = await router.handle(payload, headers)
        assert result.status_code == 400
    weird, headers = delivery("evt:with:colons")
    assert (await router.handle(weird, headers)).status_code == 400
    assert runs == []
    with pytest.raises(StripeValueError, match="client"):
        NotificationRouter(SECRET, client="sk_test_nope")  # type: ignore[arg-type]


async def test_the_asgi_app_answers_event_destinations() -> None:
    router = NotificationRouter(SECRET)
    runs: list[str] = []
    router.on(METER_ERRORS)(lambda n: runs.append(n.id))
    app = router.asgi_app()
    body, headers = delivery(unique())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://destination") as http:
        answer = await http.post("/stripe/thin", content=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["received"] is True
        snapshot = json.dumps({"id": "evt_1", "object": "event", "type": "customer.created"}).encode()
        refused = await http.post(
            "/stripe/thin", content=snapshot, headers={"Stripe-Signature": generate_test_header(snapshot, SECRET)}
        )
        assert refused.status_code == 400
    assert len(runs) == 1


async def test_fastapi_receives_snapshot_and_thin_payloads_on_separate_paths(fixtures: dict[str, Any]) -> None:
    from fastapi import FastAPI

    from atom_stripe.contrib.fastapi import create_stripe_router

    snapshot_secret = "whsec_test_snapshots"
    thin = NotificationRouter(SECRET)
    runs: list[str] = []
    thin.on("*")(lambda n: runs.append(n.type))
    async with AsyncStripeClient(KEY) as stripe:
        app = FastAPI()
        app.include_router(
            create_stripe_router(lambda: stripe, webhook_secret=snapshot_secret, notification_router=thin)
        )
        snapshot = json.dumps({**fixtures["event"], "data": {"object": fixtures["customer"]}}).encode()
        thin_body, thin_headers = delivery(unique())
        snapshot_headers = {"Stripe-Signature": generate_test_header(snapshot, snapshot_secret)}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.post("/stripe/thin-events", content=thin_body, headers=thin_headers)).status_code == 200
            assert (await http.post("/stripe/webhooks", content=snapshot, headers=snapshot_headers)).status_code == 200
            crossed = {"Stripe-Signature": generate_test_header(snapshot, SECRET)}
            assert (await http.post("/stripe/thin-events", content=snapshot, headers=crossed)).status_code == 400
            crossed = {"Stripe-Signature": generate_test_header(thin_body, snapshot_secret)}
            assert (await http.post("/stripe/webhooks", content=thin_body, headers=crossed)).status_code == 400
    assert runs == [METER_ERRORS]

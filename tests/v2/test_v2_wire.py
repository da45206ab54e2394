"""v2's wire rules, as stripe-python 16 sends them (``_api_requestor.py``): JSON POST bodies, the
query on GET, an Idempotency-Key on POST and DELETE kept across retries, Stripe-Version,
Stripe-Context, v2 error bodies, next_page_url lists, the meter events host."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from stripe._encode import _api_encode

from atom_stripe import (
    AsyncStripeClient,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    StripeValueError,
)
from atom_stripe._errors import TemporarySessionExpiredError
from atom_stripe.models import V2BillingMeterEventSession, V2CoreEventDestination

from ..helpers import KEY

METER = "https://meter-events.stripe.com"
DESTINATION = {"id": "ed_1", "object": "v2.core.event_destination", "created": "2026-01-02T03:04:05.000Z"}
SESSION = {
    "id": "mes_1",
    "object": "v2.billing.meter_event_session",
    "authentication_token": "mets_secret_token_123",
    "created": "2026-01-02T03:04:05.000Z",
    "expires_at": "2026-01-02T03:19:05.000Z",
    "livemode": False,
}


def v2_error(status: int, type_: str, message: str = "It failed.", code: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"type": type_, "code": code, "message": message}})


async def test_a_post_sends_json_with_a_key_and_the_clients_version(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v2/core/event_destinations").respond(200, json=DESTINATION)
    created = await client.v2.core.event_destinations.create(
        name="orders",
        type="webhook_endpoint",
        event_payload="thin",
        enabled_events=["v1.billing.meter.error_report_triggered"],
        webhook_endpoint={"url": "https://example.com/hooks"},
    )
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "name": "orders",
        "type": "webhook_endpoint",
        "event_payload": "thin",
        "enabled_events": ["v1.billing.meter.error_report_triggered"],
        "webhook_endpoint": {"url": "https://example.com/hooks"},
    }
    assert request.headers["Stripe-Version"] == client.api_version
    assert len(request.headers["Idempotency-Key"]) == 36
    assert "Stripe-Context" not in request.headers
    assert isinstance(created, V2CoreEventDestination)
    assert created.created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


async def test_a_post_without_parameters_sends_an_empty_object(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v2/billing/meter_event_session").respond(200, json=SESSION)
    session = await client.v2.billing.meter_event_session.create()
    assert route.calls.last.request.content == b"{}"
    assert isinstance(session, V2BillingMeterEventSession)
    assert "mets_secret_token_123" not in repr(session)
    assert session.authentication_token == "mets_secret_token_123"


async def test_a_json_body_keeps_an_empty_object_that_form_encoding_leaves_out(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    # v1's form encoding has no way to say ``{}`` and leaves such a mapping out; JSON sends it, as
    # stripe-python does (an empty ``configuration.customer`` asks for the customer configuration).
    route = api.post("/v2/core/accounts").respond(200, json={"id": "acct_1", "object": "v2.core.account"})
    await client.v2.core.accounts.create(configuration={"customer": {}}, extra_params={"include": []})
    assert json.loads(route.calls.last.request.content) == {"configuration": {"customer": {}}, "include": []}


async def test_a_get_sends_its_parameters_in_the_query_as_stripe_python_does(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.get("/v2/core/accounts/acct_1").respond(200, json={"id": "acct_1", "object": "v2.core.account"})
    params: dict[str, Any] = {"include": ["identity", "configuration.customer"]}
    await client.v2.core.accounts.retrieve("acct_1", include=["identity", "configuration.customer"])
    request = route.calls.last.request
    assert parse_qsl(request.url.query.decode()) == [(k, str(v)) for k, v in _api_encode(params)]
    assert request.content == b""
    assert "Idempotency-Key" not in request.headers and "Content-Type" not in request.headers


async def test_a_delete_carries_a_key_reused_when_a_500_is_retried(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.delete("/v2/core/event_destinations/ed_1").mock(
        side_effect=[
            httpx.Response(500, json={"error": {"type": "api_error", "message": "oops"}}),
            httpx.Response(200, json=DESTINATION),
        ]
    )
    await client.v2.core.event_destinations.delete("ed_1")
    keys = [call.request.headers.get("Idempotency-Key") for call in route.calls]
    assert len(keys) == 2 and keys[0] is not None and keys[0] == keys[1]


async def test_a_post_keeps_its_given_key_across_a_retried_500(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v2/core/event_destinations/ed_1/disable").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json=DESTINATION)]
    )
    await client.v2.core.event_destinations.disable("ed_1", idempotency_key="disable-ed_1")
    assert [call.request.headers["Idempotency-Key"] for call in route.calls] == ["disable-ed_1"] * 2


async def test_stripe_context_per_call_and_per_client(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    route = api.get("/v2/core/events/evt_1").respond(200, json={"id": "evt_1", "object": "v2.core.event"})
    await client.v2.core.events.retrieve("evt_1", stripe_context="acct_1/acct_2")
    assert route.calls.last.request.headers["Stripe-Context"] == "acct_1/acct_2"
    scoped = client.with_options(stripe_context="acct_9")
    assert scoped.stripe_context == "acct_9" and client.stripe_context is None
    await scoped.v2.core.events.retrieve("evt_1")
    assert route.calls.last.request.headers["Stripe-Context"] == "acct_9"
    await scoped.with_options(stripe_context=None).v2.core.events.retrieve("evt_1")
    assert "Stripe-Context" not in route.calls.last.request.headers
    async with AsyncStripeClient(KEY, stripe_context="acct_3") as own:
        await own.v2.core.events.retrieve("evt_1")
    assert route.calls.last.request.headers["Stripe-Context"] == "acct_3"
    assert len(route.calls) == 4


async def test_v2_error_bodies_map_into_the_error_tree(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    api.get("/v2/core/events/evt_missing").mock(return_value=v2_error(404, "not_found", "No such event."))
    with pytest.raises(NotFoundError) as missing:
        await client.v2.core.events.retrieve("evt_missing")
    assert missing.value.type == "not_found" and "No such event." in str(missing.value)
    api.post("/v2/core/accounts").mock(return_value=v2_error(400, "invalid_request_error", "Bad.", "invalid_fields"))
    with pytest.raises(InvalidRequestError) as bad:
        await client.v2.core.accounts.create(display_name="Shop")
    assert bad.value.code == "invalid_fields"


async def test_an_expired_meter_event_session_is_its_own_error(client: AsyncStripeClient) -> None:
    with respx.mock(base_url=METER, using="httpx") as meter:
        meter.post("/v2/billing/meter_event_stream").mock(
            return_value=v2_error(401, "temporary_session_expired", "The session expired.")
        )
        with pytest.raises(TemporarySessionExpiredError) as expired:
            await client.v2.billing.meter_event_stream.create(
                events=[{"event_name": "api_call", "payload": {"stripe_customer_id": "cus_1", "value": "1"}}]
            )
    assert isinstance(expired.value, AuthenticationError)
    assert expired.value.type == "temporary_session_expired"


async def test_the_meter_event_stream_goes_to_its_host_and_answers_nothing() -> None:
    event: Any = {
        "event_name": "api_call",
        "identifier": "call-1",
        "timestamp": "2026-01-02T03:04:05Z",
        "payload": {"stripe_customer_id": "cus_1", "value": "3"},
    }
    for base, given in ((METER, None), ("http://127.0.0.1:9", "http://127.0.0.1:9/")):
        with respx.mock(base_url=base, using="httpx") as meter:
            route = meter.post("/v2/billing/meter_event_stream").respond(202)
            async with AsyncStripeClient("mets_token_1", meter_events_base_url=given) as stream:
                assert stream.meter_events_base_url == base
                await stream.v2.billing.meter_event_stream.create(events=[event])  # 202, no body: None
        request = route.calls.last.request
        assert json.loads(request.content) == {"events": [event]}
        assert request.headers["Authorization"] == "Bearer mets_token_1"
        assert request.headers["Idempotency-Key"]


async def test_lists_follow_next_page_url(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    pages = [
        {"data": [{**DESTINATION, "id": "ed_1"}], "next_page_url": "/v2/core/event_destinations?limit=1&page=p2"},
        {"data": [{**DESTINATION, "id": "ed_2"}], "next_page_url": "/v2/core/event_destinations?limit=1&page=p3"},
        {"data": [{**DESTINATION, "id": "ed_3"}], "next_page_url": None},
    ]
    route = api.get("/v2/core/event_destinations").mock(side_effect=[httpx.Response(200, json=p) for p in pages])
    seen = [destination.id async for destination in client.v2.core.event_destinations.list(limit=1)]
    assert seen == ["ed_1", "ed_2", "ed_3"]
    assert [call.request.url.query.decode() for call in route.calls] == [
        "limit=1",
        "limit=1&page=p2",
        "limit=1&page=p3",
    ]
    route.mock(side_effect=None, return_value=httpx.Response(200, json=pages[2]))
    last = await client.v2.core.event_destinations.list(limit=1, stripe_context="acct_1")
    assert last.next_page_url is None and await last.get_next_page() is None
    assert len(route.calls) == 4
    assert route.calls.last.request.headers["Stripe-Context"] == "acct_1"


async def test_datetimes_and_decimals_go_as_stripe_python_sends_them(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v2/billing/meter_events").respond(
        200, json={"object": "v2.billing.meter_event", "identifier": "i", "created": "2026-01-02T03:04:05Z"}
    )
    await client.v2.billing.meter_events.create(
        event_name="api_call",
        payload={"stripe_customer_id": "cus_1", "value": "1"},
        extra_params={"at": datetime(2026, 1, 2, tzinfo=timezone.utc)},
    )
    assert json.loads(route.calls.last.request.content)["at"] == 1767312000


async def test_bad_input_is_refused_before_sending(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    destinations = client.v2.core.event_destinations
    cases: list[tuple[str, Any]] = [
        ("bogus", lambda: destinations.retrieve("ed_1", bogus=1)),  # type: ignore[call-arg]
        ("enabled_events", lambda: destinations.update("ed_1", enabled_events="v1.x")),  # type: ignore[arg-type]
        ("expand", lambda: destinations.retrieve("ed_1", expand=["x"])),  # type: ignore[call-arg]
        ("idempotency_key", lambda: destinations.retrieve("ed_1", idempotency_key="k")),  # type: ignore[call-arg]
        ("idempotency_key", lambda: destinations.disable("ed_1", idempotency_key="k\r\nX: y")),
        ("idempotency_key", lambda: destinations.update("ed_1", name="n", idempotency_key="x" * 256)),
        ("stripe_context", lambda: destinations.retrieve("ed_1", stripe_context="acct 1")),
        ("name", lambda: destinations.update("ed_1", name="n", extra_params={"name": "m"})),
        ("params", lambda: destinations.update("ed_1", extra_params={"x": object()})),
        ("meter_events_base_url", lambda: AsyncStripeClient("sk_live_x", meter_events_base_url="http://meter.example")),
    ]
    for param, call in cases:
        with pytest.raises(StripeValueError) as refused:
            await call()
        assert refused.value.param == param, (param, refused.value)
    assert len(api.calls) == 0


async def test_the_escape_hatch_sends_a_key_on_a_v2_delete(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    route = api.delete("/v2/core/event_destinations/ed_1").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=DESTINATION)]
    )
    await client.request("DELETE", "/v2/core/event_destinations/ed_1")
    keys = [call.request.headers.get("Idempotency-Key") for call in route.calls]
    assert keys[0] is not None and keys == [keys[0], keys[0]]


async def test_stripe_context_on_a_v1_call_is_refused_not_dropped(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    with pytest.raises(StripeValueError) as refused:
        await client.customers.retrieve("cus_1", stripe_context="acct_1")  # type: ignore[call-arg]
    assert refused.value.param == "stripe_context"
    assert len(api.calls) == 0


async def test_decimal_fields_travel_as_strings(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    route = api.post("/v2/core/accounts/acct_1/persons").respond(
        200, json={"id": "person_1", "object": "v2.core.account_person"}
    )
    await client.v2.core.accounts.persons.create("acct_1", relationship={"percent_ownership": Decimal("12.5")})
    assert json.loads(route.calls.last.request.content) == {"relationship": {"percent_ownership": "12.5"}}

"""The fake adds up meter events as Stripe's meter event summaries do: per account, per meter and
customer, over a range or by hour or UTC day, from v1's and v2's creates and the stream, each
identifier once, without canceled events; bad ranges refused as Stripe refuses them."""

from __future__ import annotations

import time
from typing import Any

import pytest

from atom_stripe import AsyncStripeClient, InvalidRequestError, NotFoundError
from atom_stripe.testing import FakeStripe

HOUR = 3_600
DAY = 86_400


def hour_ago(hours: int) -> int:
    """The start of the hour ``hours`` before this one (in the past, so Stripe takes its events)."""
    return (int(time.time()) // HOUR - hours) * HOUR


async def meter_and_customer(client: AsyncStripeClient, formula: str = "sum", **options: Any) -> tuple[str, str]:
    meter = await client.billing.meters.create(
        display_name=f"API calls ({formula})",
        event_name=f"api_call_{formula}",
        default_aggregation={"formula": formula},
        **options,
    )
    customer = await client.customers.create(email="ada@example.com", **options)
    return meter.id, customer.id


async def report(
    client: AsyncStripeClient, event_name: str, customer: str, value: str, at: int, **options: Any
) -> None:
    await client.billing.meter_events.create(
        event_name=event_name, payload={"stripe_customer_id": customer, "value": value}, timestamp=at, **options
    )


async def sums(
    client: AsyncStripeClient, meter: str, customer: str, start: int, end: int, **options: Any
) -> list[tuple[int, int, float]]:
    """``(start_time, end_time, aggregated_value)`` of every summary, as the list answers them."""
    listed = client.billing.meters.event_summaries.list(
        meter, customer=customer, start_time=start, end_time=end, **options
    )
    return [(s.start_time, s.end_time, s.aggregated_value) async for s in listed]


async def test_sum_count_and_last_add_up_a_range(stripe_client: AsyncStripeClient) -> None:
    start = hour_ago(3)
    for formula in ("sum", "count", "last"):
        meter, customer = await meter_and_customer(stripe_client, formula)
        for offset, value in ((60, "5"), (HOUR + 30, "7"), (10, "2")):  # the last by timestamp: 7
            await report(stripe_client, f"api_call_{formula}", customer, value, start + offset)
        found = await sums(stripe_client, meter, customer, start, start + 2 * HOUR)
        assert found == [(start, start + 2 * HOUR, {"sum": 14.0, "count": 3.0, "last": 7.0}[formula])]


async def test_hour_windows_newest_first_an_event_at_end_time_excluded(stripe_client: AsyncStripeClient) -> None:
    meter, customer = await meter_and_customer(stripe_client)
    start = hour_ago(4)
    for offset, value in ((0, "1"), (HOUR - 1, "2"), (HOUR, "4"), (3 * HOUR, "8"), (3 * HOUR - 60, "16")):
        await report(stripe_client, "api_call_sum", customer, value, start + offset)
    found = await sums(stripe_client, meter, customer, start, start + 3 * HOUR, value_grouping_window="hour")
    assert found == [
        (start + 2 * HOUR, start + 3 * HOUR, 16.0),
        (start + HOUR, start + 2 * HOUR, 4.0),
        (start, start + HOUR, 3.0),
    ]
    # Pages of one: the same summaries, the cursors holding across calls.
    paged = await sums(stripe_client, meter, customer, start, start + 3 * HOUR, value_grouping_window="hour", limit=1)
    assert paged == found


async def test_day_windows_are_utc_days(stripe_client: AsyncStripeClient) -> None:
    meter, customer = await meter_and_customer(stripe_client)
    today = int(time.time()) // DAY * DAY
    for at, value in ((today - 2 * DAY, "1"), (today - DAY - 1, "2"), (today - DAY + 12 * HOUR, "4"), (today, "8")):
        await report(stripe_client, "api_call_sum", customer, value, at)
    found = await sums(stripe_client, meter, customer, today - 2 * DAY, today, value_grouping_window="day")
    assert found == [(today - DAY, today, 4.0), (today - 2 * DAY, today - DAY, 3.0)]


async def test_each_customer_sees_only_their_usage(stripe_client: AsyncStripeClient) -> None:
    meter, ada = await meter_and_customer(stripe_client)
    bob = (await stripe_client.customers.create(email="bob@example.com")).id
    start = hour_ago(2)
    await report(stripe_client, "api_call_sum", ada, "3", start + 60)
    await report(stripe_client, "api_call_sum", bob, "40", start + 120)
    assert await sums(stripe_client, meter, ada, start, start + HOUR) == [(start, start + HOUR, 3.0)]
    assert await sums(stripe_client, meter, bob, start, start + HOUR) == [(start, start + HOUR, 40.0)]


async def test_a_connected_accounts_usage_stays_its_own(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    connected = (await stripe_client.accounts.create(type="express")).id
    ours, our_customer = await meter_and_customer(stripe_client)
    theirs, their_customer = await meter_and_customer(stripe_client, stripe_account=connected)
    start = hour_ago(2)
    await report(stripe_client, "api_call_sum", our_customer, "1", start + 60)
    await report(stripe_client, "api_call_sum", their_customer, "100", start + 60, stripe_account=connected)
    # v2 in the account's context, and the stream on a session made in it, count there too.
    event: Any = {"event_name": "api_call_sum", "payload": {"stripe_customer_id": their_customer, "value": "20"}}
    await stripe_client.v2.billing.meter_events.create(**event, stripe_context=connected)
    session = await stripe_client.v2.billing.meter_event_session.create(stripe_context=connected)
    async with stripe_fake.client(api_key=session.authentication_token) as meter_host:
        streamed: Any = [{**event, "identifier": "s1"}]
        await meter_host.v2.billing.meter_event_stream.create(events=streamed)

    assert await sums(stripe_client, ours, our_customer, start, start + HOUR) == [(start, start + HOUR, 1.0)]
    end = hour_ago(-1)
    assert await sums(stripe_client, theirs, their_customer, start, end, stripe_account=connected) == [
        (start, end, 140.0)
    ]
    # The connected account's meter is no meter of the platform's.
    with pytest.raises(NotFoundError):
        await sums(stripe_client, theirs, their_customer, start, end)


async def test_v1_v2_and_the_stream_count_each_identifier_once(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    meter, customer = await meter_and_customer(stripe_client)
    payload = {"stripe_customer_id": customer, "value": "2"}
    await stripe_client.billing.meter_events.create(event_name="api_call_sum", payload=payload, identifier="v1")
    with pytest.raises(InvalidRequestError) as resent:
        await stripe_client.billing.meter_events.create(event_name="api_call_sum", payload=payload, identifier="v1")
    assert (resent.value.param, resent.value.message) == ("identifier", "An event already exists with identifier v1.")
    await stripe_client.v2.billing.meter_events.create(event_name="api_call_sum", payload=payload, identifier="v2")
    session = await stripe_client.v2.billing.meter_event_session.create()
    async with stripe_fake.client(api_key=session.authentication_token) as meter_host:
        events: Any = [{"event_name": "api_call_sum", "payload": payload, "identifier": i} for i in ("s", "s", "v1")]
        await meter_host.v2.billing.meter_event_stream.create(events=events)  # resends: dropped
    start, end = hour_ago(0), hour_ago(-1)
    assert await sums(stripe_client, meter, customer, start, end) == [(start, end, 6.0)]
    assert [e["identifier"] for e in stripe_fake.v2.meter_events] == ["v1", "v2", "s"]
    assert stripe_fake.v2.meter_events[0]["object"] == "billing.meter_event"


async def test_a_v1_meter_event_is_answered_as_stripe_answers_it(stripe_client: AsyncStripeClient) -> None:
    _, customer = await meter_and_customer(stripe_client)
    at = hour_ago(1)
    before = int(time.time())
    event = await stripe_client.billing.meter_events.create(
        event_name="api_call_sum", payload={"stripe_customer_id": customer, "value": "3"}, timestamp=at
    )
    assert (event.object, event.event_name, event.timestamp, event.livemode) == (
        "billing.meter_event",
        "api_call_sum",
        at,
        False,
    )
    assert event.payload == {"stripe_customer_id": customer, "value": "3"}
    assert event.identifier.startswith("mev_") and before <= event.created <= int(time.time())


async def test_a_canceled_event_leaves_the_summaries(stripe_client: AsyncStripeClient) -> None:
    meter, customer = await meter_and_customer(stripe_client)
    payload = {"stripe_customer_id": customer, "value": "5"}
    for identifier in ("a", "b", "c"):
        await stripe_client.billing.meter_events.create(
            event_name="api_call_sum", payload=payload, identifier=identifier
        )
    adjustment = await stripe_client.billing.meter_event_adjustments.create(
        event_name="api_call_sum", type="cancel", cancel={"identifier": "a"}
    )
    assert (adjustment.object, adjustment.status, adjustment.cancel and adjustment.cancel.identifier) == (
        "billing.meter_event_adjustment",
        "pending",
        "a",
    )
    v2 = await stripe_client.v2.billing.meter_event_adjustments.create(
        event_name="api_call_sum", type="cancel", cancel={"identifier": "b"}
    )
    assert (v2.object, v2.type, v2.cancel.identifier) == ("v2.billing.meter_event_adjustment", "cancel", "b")
    start, end = hour_ago(0), hour_ago(-1)
    assert await sums(stripe_client, meter, customer, start, end) == [(start, end, 5.0)]
    # Canceling what Stripe's docs say nothing about is the fake's loud refusal.
    for identifier, event_name in (("a", "api_call_sum"), ("nope", "api_call_sum"), ("c", "other")):
        with pytest.raises(InvalidRequestError) as refused:
            await stripe_client.billing.meter_event_adjustments.create(
                event_name=event_name, type="cancel", cancel={"identifier": identifier}
            )
        assert refused.value.code == "fake_not_simulated"
    assert await sums(stripe_client, meter, customer, start, end) == [(start, end, 5.0)]


@pytest.mark.parametrize(
    ("start", "end", "window", "param"),
    [
        (30, HOUR, None, "start_time"),  # "Must be aligned with minute boundaries"
        (0, HOUR + 1, None, "end_time"),
        (60, HOUR, "hour", "start_time"),  # hourly: aligned with hours
        (0, HOUR + 60, "hour", "end_time"),
        (HOUR, DAY + HOUR, "day", "start_time"),  # daily: aligned with 00:00 UTC
        (0, DAY + HOUR, "day", "end_time"),
        (HOUR, HOUR, None, "end_time"),  # an empty range
        (0, HOUR, "week", "value_grouping_window"),
    ],
)
async def test_a_bad_range_is_refused_with_the_parameter_named(
    stripe_client: AsyncStripeClient, start: int, end: int, window: str | None, param: str
) -> None:
    meter, customer = await meter_and_customer(stripe_client)
    base = hour_ago(72) // DAY * DAY
    grouping = {"value_grouping_window": window} if window else {}
    with pytest.raises(InvalidRequestError) as refused:
        await sums(stripe_client, meter, customer, base + start, base + end, **grouping)
    assert (refused.value.param, refused.value.code) == (param, None)


async def test_unknown_meter_and_customer(stripe_client: AsyncStripeClient) -> None:
    meter, customer = await meter_and_customer(stripe_client)
    start = hour_ago(1)
    with pytest.raises(NotFoundError) as unknown:
        await sums(stripe_client, "mtr_NotAMeterOfOurs", customer, start, start + HOUR)
    assert unknown.value.code == "resource_missing"
    with pytest.raises(InvalidRequestError) as stranger:
        await sums(stripe_client, meter, "cus_NotOurs", start, start + HOUR)
    assert (stranger.value.code, stranger.value.param) == ("resource_missing", "customer")


async def test_what_the_meters_refuse_is_reported_not_counted(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    """v1's create validates after accepting (as the stream: a thin event per request); a
    deactivated meter takes no more events, and keeps those it took."""
    meter, customer = await meter_and_customer(stripe_client)
    start = hour_ago(2)
    await report(stripe_client, "api_call_sum", customer, "4", start + 60)
    await report(stripe_client, "api_call_sum", customer, "lots", start + 120)
    await report(stripe_client, "api_call_sum", customer, "2.5", start + 120)  # "only ... whole number values"
    await report(stripe_client, "api_call_sum", customer, "4", int(time.time()) - 40 * DAY)
    await stripe_client.billing.meters.deactivate(meter)
    await report(stripe_client, "api_call_sum", customer, "9", start + 180)
    await report(stripe_client, "no_such_meter", customer, "9", start + 180)

    found = [e async for e in stripe_client.v2.core.events.list()]
    codes = []
    for event in reversed(found):
        data = (await stripe_client.v2.core.events.retrieve(event.id)).model_dump(mode="json")["data"]
        codes += [(event.type, t["code"]) for t in data["reason"]["error_types"]]
    assert codes == [
        ("v1.billing.meter.error_report_triggered", "meter_event_invalid_value"),
        ("v1.billing.meter.error_report_triggered", "meter_event_invalid_value"),
        ("v1.billing.meter.error_report_triggered", "timestamp_too_far_in_past"),
        ("v1.billing.meter.error_report_triggered", "archived_meter"),
        ("v1.billing.meter.no_meter_found", "no_meter"),
    ]
    assert await sums(stripe_client, meter, customer, start, start + HOUR) == [(start, start + HOUR, 4.0)]
    assert len(stripe_fake.v2.meter_events) == 6


async def test_v2_create_refuses_loudly_what_stripe_refuses_at_once(stripe_client: AsyncStripeClient) -> None:
    """v2's create validates synchronously, in an answer Stripe does not document."""
    _, customer = await meter_and_customer(stripe_client)
    good: Any = {"event_name": "api_call_sum", "payload": {"stripe_customer_id": customer, "value": "1"}}
    await stripe_client.v2.billing.meter_events.create(**good, identifier="once")
    bad: list[Any] = [
        {**good, "identifier": "once"},
        {**good, "event_name": "nothing"},
        {**good, "payload": {"stripe_customer_id": customer, "value": "x"}},
    ]
    for event in bad:
        with pytest.raises(InvalidRequestError) as refused:
            await stripe_client.v2.billing.meter_events.create(**event)
        assert refused.value.code == "fake_not_simulated"


async def test_a_snapshot_holds_each_accounts_usage(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    connected = (await stripe_client.accounts.create(type="express")).id
    meter, customer = await meter_and_customer(stripe_client, stripe_account=connected)
    start = hour_ago(1)
    await report(stripe_client, "api_call_sum", customer, "6", start + 60, stripe_account=connected)
    scene = stripe_fake.snapshot()
    async with FakeStripe() as other:
        other.restore(scene)
        again = other.client()
        assert await sums(again, meter, customer, start, start + HOUR, stripe_account=connected) == [
            (start, start + HOUR, 6.0)
        ]
        assert [e["value"] for e in (m["payload"] for m in other.v2.meter_events_of(connected))] == ["6"]
        assert other.v2.meter_events == []

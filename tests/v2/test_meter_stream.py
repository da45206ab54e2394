"""The meter event stream writer against a loopback meter events host (tests/meterhost.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone

import anyio
import pytest
from typing_extensions import assert_type

from atom_stripe import AsyncStripeClient, StripeUsageError, StripeValueError
from atom_stripe._meter_stream import MeterEventStreamError

from ..helpers import KEY
from ..meterhost import MeterHost


@pytest.fixture
def host() -> Iterator[MeterHost]:
    server = MeterHost().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def stripe(host: MeterHost) -> AsyncIterator[AsyncStripeClient]:
    async with AsyncStripeClient(KEY, base_url=host.url, meter_events_base_url=host.url) as client:
        yield client


def _payload(i: int) -> dict[str, str | int]:
    return {"stripe_customer_id": f"cus_{i % 7}", "value": i}


async def test_events_arrive_once_in_batches_of_at_most_100(stripe: AsyncStripeClient, host: MeterHost) -> None:
    async with stripe.meter_event_stream_writer() as writer:
        ids = [await writer.send(event_name="api_call", payload=_payload(i)) for i in range(1050)]
    assert set(host.events) == set(ids) and len(ids) == 1050
    assert max(host.received.values()) == 1
    # Full batches, not a request per event: at most Stripe's 100 each, and few more than 1050 / 100.
    assert host.largest_batch == 100 and 11 <= host.batches <= 20
    assert writer.sent == 1050 and host.sessions == 1
    event = host.events[ids[5]]
    assert event["event_name"] == "api_call"
    assert event["payload"] == {"stripe_customer_id": "cus_5", "value": "5"}
    assert datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).tzinfo is not None
    # The session is created with the API key; the stream is sent with the session's token.
    assert host.session_headers[0]["Authorization"] == f"Bearer {KEY}"


async def test_a_given_identifier_and_timestamp_are_sent_as_given(stripe: AsyncStripeClient, host: MeterHost) -> None:
    when = datetime(2026, 12, 1, 10, 30, tzinfo=timezone.utc)
    async with stripe.meter_event_stream_writer() as writer:
        got = await writer.send(event_name="tokens", payload={"value": "3"}, identifier="req_42", timestamp=when)
    assert got == "req_42"
    assert host.events["req_42"]["timestamp"] == "2026-12-01T10:30:00.000Z"


async def test_a_429_a_500_and_a_dropped_connection_lose_nothing_and_duplicate_nothing(
    stripe: AsyncStripeClient, host: MeterHost
) -> None:
    host.faults.extend(["429", "drop", "500", "429", "429", "429", "drop"])
    async with stripe.meter_event_stream_writer(concurrency=1) as writer:
        ids = [await writer.send(event_name="api_call", payload=_payload(i)) for i in range(500)]
    assert list(host.events) == ids or set(host.events) == set(ids)
    assert len(host.events) == 500
    # The dropped batches reached the host and were sent again: Stripe keeps each identifier once.
    assert sum(host.received.values()) > 500
    assert writer.sent == 500 and writer.resent >= 1


async def test_an_expired_token_is_renewed_and_the_batch_resent(stripe: AsyncStripeClient, host: MeterHost) -> None:
    async with stripe.meter_event_stream_writer(concurrency=1, batch_size=10) as writer:
        for i in range(30):
            await writer.send(event_name="api_call", payload=_payload(i))
        await anyio.sleep(0.2)
        host.faults.append("expire")
        for i in range(30, 60):
            await writer.send(event_name="api_call", payload=_payload(i))
    assert len(host.events) == 60 and max(host.received.values()) == 1
    assert host.sessions == 2 and writer.sessions == 2


async def test_a_token_is_renewed_before_it_expires() -> None:
    # Tokens that live 60.3 s are renewed once less than a minute is left: every ~0.3 s here.
    host = MeterHost(token_lifetime=60.3, delay=0.05).start()
    try:
        async with (
            AsyncStripeClient(KEY, base_url=host.url, meter_events_base_url=host.url) as stripe,
            stripe.meter_event_stream_writer(concurrency=1, batch_size=5) as writer,
        ):
            for i in range(100):
                await writer.send(event_name="api_call", payload=_payload(i))
        assert len(host.events) == 100
        assert host.sessions >= 2 and writer.sessions == host.sessions
        assert writer.resent == 0  # renewed ahead of time: no batch was refused
    finally:
        host.stop()


async def test_memory_stays_bounded_with_a_slow_server() -> None:
    host = MeterHost(delay=0.02).start()
    try:
        most = 0
        async with (
            AsyncStripeClient(KEY, base_url=host.url, meter_events_base_url=host.url) as stripe,
            stripe.meter_event_stream_writer(max_pending=50, batch_size=20, concurrency=2) as writer,
        ):
            for i in range(600):
                await writer.send(event_name="api_call", payload=_payload(i))
                most = max(most, writer.pending)
        assert most <= 50 + 2 * 20
        assert len(host.events) == 600
    finally:
        host.stop()


async def test_leaving_the_block_flushes_everything_queued(stripe: AsyncStripeClient, host: MeterHost) -> None:
    async with stripe.meter_event_stream_writer(max_pending=5000) as writer:
        for i in range(3000):
            await writer.send(event_name="api_call", payload=_payload(i))
        assert writer.pending > 0  # nothing has been awaited on the network yet
    assert len(host.events) == 3000 and writer.pending == 0


async def test_events_that_cannot_be_sent_are_raised_with_their_identifiers(
    stripe: AsyncStripeClient, host: MeterHost
) -> None:
    host.faults.extend(["500"] * 100)
    with pytest.raises(MeterEventStreamError) as caught:
        async with stripe.meter_event_stream_writer(concurrency=1, max_attempts=2) as writer:
            ids = [await writer.send(event_name="api_call", payload=_payload(i)) for i in range(3)]
    assert sorted(caught.value.identifiers) == sorted(ids)
    assert host.events == {}


async def test_bad_events_are_refused_before_anything_is_sent(stripe: AsyncStripeClient, host: MeterHost) -> None:
    async with stripe.meter_event_stream_writer() as writer:
        with pytest.raises(StripeValueError, match="event_name"):
            await writer.send(event_name="", payload={"value": "1"})
        with pytest.raises(StripeValueError, match="payload"):
            await writer.send(event_name="x", payload={"value": 1.5})  # type: ignore[dict-item]
        with pytest.raises(StripeValueError, match="identifier"):
            await writer.send(event_name="x", payload={"value": "1"}, identifier="x" * 101)
        with pytest.raises(StripeValueError, match="timestamp"):
            await writer.send(event_name="x", payload={"value": "1"}, timestamp=datetime(2026, 1, 1))
    with pytest.raises(StripeValueError, match="batch_size"):
        stripe.meter_event_stream_writer(batch_size=101)
    with pytest.raises(StripeValueError, match="concurrency"):
        stripe.meter_event_stream_writer(concurrency=0)
    with pytest.raises(StripeUsageError):
        await stripe.meter_event_stream_writer().send(event_name="x", payload={"value": "1"})
    assert host.sessions == 0 and host.events == {}


async def test_the_meter_events_host_is_an_option_kept_by_copies() -> None:
    async with AsyncStripeClient(KEY) as stripe:
        assert stripe.meter_events_base_url == "https://meter-events.stripe.com"
    async with AsyncStripeClient(KEY, meter_events_base_url="http://127.0.0.1:9/") as stripe:
        assert stripe.with_options(max_retries=0).meter_events_base_url == "http://127.0.0.1:9"
    with pytest.raises(StripeValueError, match="meter_events_base_url"):
        AsyncStripeClient(KEY, meter_events_base_url="meter-events.stripe.com")


async def test_an_error_in_the_block_still_flushes_and_propagates(stripe: AsyncStripeClient, host: MeterHost) -> None:
    with pytest.raises(LookupError):
        async with stripe.meter_event_stream_writer() as writer:
            ids = [await writer.send(event_name="api_call", payload=_payload(i)) for i in range(250)]
            raise LookupError("the caller's own bug")
    assert set(host.events) == set(ids) and writer.failed == []


async def test_cancelling_the_block_stops_at_once(stripe: AsyncStripeClient, host: MeterHost) -> None:
    host.delay = 1.0  # far past the cancel, even on a busy machine
    with anyio.move_on_after(0.1) as scope:
        async with stripe.meter_event_stream_writer() as writer:
            for i in range(50):
                await writer.send(event_name="api_call", payload=_payload(i))
            await anyio.sleep(5)
    assert scope.cancelled_caught and writer.sent == 0


async def test_the_writer_is_also_where_the_v2_billing_namespace_is(stripe: AsyncStripeClient, host: MeterHost) -> None:
    import atom_stripe

    assert_type(stripe.v2.billing.meter_event_stream_writer(), atom_stripe.MeterEventStreamWriter)
    async with stripe.v2.billing.meter_event_stream_writer(batch_size=10, concurrency=1) as writer:
        ids = [await writer.send(event_name="api_call", payload=_payload(i)) for i in range(25)]
    assert type(writer) is atom_stripe.MeterEventStreamWriter
    assert (writer.batch_size, writer.concurrency, writer.max_pending) == (10, 1, 10_000)
    assert set(host.events) == set(ids) and host.largest_batch == 10 and host.sessions == 1
    # A copy's namespace writes with the copy's settings (its meter events host).
    other = stripe.with_options(api_key="sk_test_other").v2.billing.meter_event_stream_writer()
    assert repr(other) == repr(stripe.meter_event_stream_writer())
    with pytest.raises(StripeValueError, match="batch_size"):
        stripe.v2.billing.meter_event_stream_writer(batch_size=101)
    with pytest.raises(StripeValueError, match="linger") as refused:  # a keyword it does not take
        stripe.v2.billing.meter_event_stream_writer(linger=1.0)  # type: ignore[call-arg]
    assert refused.value.param == "linger"
    with pytest.raises(StripeValueError, match="batchsize"):
        stripe.meter_event_stream_writer(batchsize=10)  # type: ignore[call-arg]
    assert issubclass(atom_stripe.TemporarySessionExpiredError, atom_stripe.AuthenticationError)
    assert issubclass(atom_stripe.MeterEventStreamError, atom_stripe.StripeError)

"""The bad days, played by the fault rig: nothing is charged twice, and every failure is typed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from atom_stripe import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    AsyncStripeClient,
    InvalidRequestError,
    ServerError,
)

from ..faultrig import FaultRig
from ..helpers import Sleeps


@pytest.fixture
def rig() -> Iterator[FaultRig]:
    server = FaultRig(slow_seconds=1.5).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def stripe(rig: FaultRig) -> AsyncIterator[AsyncStripeClient]:
    async with AsyncStripeClient("sk_test_rig", base_url=rig.url, timeout=0.5, max_retries=2) as client:
        yield client


def one_logical_call(rig: FaultRig, attempts: int, created: int) -> None:
    """Every attempt carried the same key, and the ledger shows at most one object for it."""
    keys = rig.keys()
    assert len(keys) == attempts
    assert len(set(keys)) == 1 and keys[0]
    entry = rig.ledger[keys[0]]
    assert entry.attempts == attempts
    assert len(entry.created) == created <= 1
    assert rig.duplicates() == 0


@pytest.mark.parametrize(
    ("faults", "attempts", "created"),
    [
        (["500", "ok"], 2, 1),
        (["drop_before", "ok"], 2, 1),
        (["drop_after", "ok"], 2, 1),  # created, then the connection died: the retry replays it
        (["429", "ok"], 2, 1),
        (["409_lock", "ok"], 2, 1),
        (["400_retry", "ok"], 2, 1),
        (["503_retry", "ok"], 2, 1),
        (["slow", "ok"], 2, 1),  # timed out while Stripe worked: the retry replays it
        (["truncated", "ok"], 2, 1),  # a damaged body: the retry replays the stored answer
        (["stall", "ok"], 2, 1),  # the body never ends: a read timeout, then a replay
    ],
)
async def test_transient_faults_end_in_one_object(
    rig: FaultRig, stripe: AsyncStripeClient, faults: list[str], attempts: int, created: int
) -> None:
    rig.script(*faults)
    customer = await stripe.customers.create(email="a@example.com")
    assert customer.id.startswith("cus_rig")
    one_logical_call(rig, attempts, created)


async def test_retry_after_is_honoured(rig: FaultRig, stripe: AsyncStripeClient, sleeps: Sleeps) -> None:
    rig.script("429", "ok")
    await stripe.customers.create(email="a@example.com")
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    ("faults", "error", "attempts"),
    [
        (["500_no_retry"], ServerError, 1),
        (["html_502"] * 3, ServerError, 3),
        (["500"] * 3, ServerError, 3),
        (["drop_before"] * 3, APIConnectionError, 3),
        (["slow"] * 3, APITimeoutError, 3),
        (["stall"] * 3, APITimeoutError, 3),
        (["truncated"] * 3, APIResponseError, 3),
    ],
)
async def test_faults_that_outlast_the_retries(
    rig: FaultRig, stripe: AsyncStripeClient, faults: list[str], error: type[Exception], attempts: int
) -> None:
    rig.script(*faults)
    with pytest.raises(error) as info:
        await stripe.customers.create(email="a@example.com")
    assert type(info.value) is error
    keys = rig.keys()
    assert len(keys) == attempts and len(set(keys)) == 1
    assert rig.duplicates() == 0
    if faults[0] == "html_502":
        assert "502 Bad Gateway" in str(info.value)


async def test_a_plain_400_is_not_retried(rig: FaultRig, stripe: AsyncStripeClient) -> None:
    rig.script("400_retry", "400_retry", "400_retry")
    with pytest.raises(InvalidRequestError):
        await stripe.customers.create(email="a@example.com")
    assert len(rig.keys()) == 3  # Stripe-Should-Retry: true made even a 400 worth retrying


async def test_reads_survive_faults_too(rig: FaultRig, stripe: AsyncStripeClient) -> None:
    rig.script("drop_before", "500", "ok")
    customer = await stripe.customers.retrieve("cus_42")
    assert customer.id == "cus_42"
    assert len(rig.requests) == 3


def test_a_dropped_connection_reported_as_a_timeout_is_seen_for_what_it_is() -> None:
    # httpx_aiohttp (a transport callers may pass in) maps aiohttp's ServerDisconnectedError to
    # httpx.ConnectTimeout; the retry loop reads the cause.
    import aiohttp
    import httpx

    from atom_stripe._request import _is_timeout

    def mapped(cause: BaseException) -> httpx.TransportError:
        exc = httpx.ConnectTimeout("mapped")
        exc.__cause__ = cause
        return exc

    assert not _is_timeout(mapped(aiohttp.ServerDisconnectedError()))
    assert _is_timeout(mapped(aiohttp.ServerTimeoutError()))
    assert _is_timeout(httpx.ReadTimeout("plain"))
    assert not _is_timeout(httpx.ConnectError("refused"))

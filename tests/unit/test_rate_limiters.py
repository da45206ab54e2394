"""The rate-limiter interface: the local limiter, shared between clients and copies, bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import pytest

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe.ratelimit import LocalRateLimiter, RateLimiter, RateLimiterError

from ..helpers import KEY


async def calls(clients: list[AsyncStripeClient], n: int) -> None:
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(clients[i % len(clients)].customers.retrieve, "cus_1")


async def test_one_local_limiter_paces_two_clients_and_their_copies(sent: list[float]) -> None:
    limiter = LocalRateLimiter(10, burst=2)
    assert isinstance(limiter, RateLimiter)
    async with AsyncStripeClient(KEY, rate_limiter=limiter) as one, AsyncStripeClient(KEY, rate_limiter=limiter) as two:
        copies = [one, two, one.with_options(max_retries=0), two.for_account("acct_1Other")]
        started = time.monotonic()
        await calls(copies, 8)
        took = time.monotonic() - started
    # 2 at once (the burst), then one every 100 ms: 6 more take 0.6 s. The margins leave room for
    # a busy machine (the suite runs three workers on two cores) without blurring the spacing.
    assert took >= 0.55
    assert len(sent) == 8
    assert sent[1] - sent[0] < 0.08
    for window_start in sent:  # no more than 10 + 1 in any one second
        assert len([t for t in sent if window_start <= t < window_start + 1]) <= 11


async def test_max_requests_per_second_is_the_local_limiter(sent: list[float]) -> None:
    async with AsyncStripeClient(KEY, max_requests_per_second=40) as client:
        assert isinstance(client._requester.throttle.rate_limiter, LocalRateLimiter)
        started = time.monotonic()
        await calls([client, client.with_options(timeout=5)], 9)
        assert time.monotonic() - started >= 8 / 40 * 0.95
        assert client._requester.throttle.waits >= 7


async def test_max_wait_refuses_a_call_without_sending_it(sent: list[float]) -> None:
    limiter = LocalRateLimiter(2, max_wait=0.2)
    async with AsyncStripeClient(KEY, rate_limiter=limiter, max_retries=0) as client:
        await client.customers.retrieve("cus_1")  # takes the only turn for 0.5 s
        with pytest.raises(RateLimiterError, match="max_wait"):
            await client.customers.retrieve("cus_1")
    assert len(sent) == 1


async def test_a_turn_past_the_callers_deadline_is_not_taken(sent: list[float]) -> None:
    limiter = LocalRateLimiter(4)
    async with AsyncStripeClient(KEY, rate_limiter=limiter) as client:
        await client.customers.retrieve("cus_1")
        with anyio.move_on_after(0.1) as scope:  # the next turn is 0.25 s away
            await client.customers.retrieve("cus_1")
        assert scope.cancelled_caught
        # The turn was not used up by the cancelled call: the next one goes at +0.25 s.
        await client.customers.retrieve("cus_1")
    assert len(sent) == 2 and 0.2 <= sent[1] - sent[0] < 0.45  # not 0.5: the cancelled call took no turn


async def test_cancellation_while_waiting_for_a_turn(sent: list[float]) -> None:
    limiter = LocalRateLimiter(1)
    async with AsyncStripeClient(KEY, rate_limiter=limiter) as client:
        await client.customers.retrieve("cus_1")
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.customers.retrieve, "cus_1")
            await anyio.sleep(0.05)
            tg.cancel_scope.cancel()
    assert len(sent) == 1


@pytest.mark.parametrize(
    "options",
    [
        {"rate_limiter": LocalRateLimiter(5), "max_requests_per_second": 5},
        {"rate_limiter": object()},
    ],
)
def test_limiter_options_are_checked(options: dict[str, Any]) -> None:
    with pytest.raises(StripeValueError, match="rate_limiter"):
        AsyncStripeClient(KEY, **options)


@pytest.mark.parametrize(
    "options",
    [{"requests_per_second": 0}, {"requests_per_second": 1, "burst": 0}, {"requests_per_second": 1, "max_wait": -1}],
)
def test_local_limiter_options_are_checked(options: dict[str, Any]) -> None:
    with pytest.raises(StripeValueError):
        LocalRateLimiter(**options)


# -- a cancelled wait gives its turn back ----------------------------------------------------

ASYNCIO_CANCELS = ["asyncio.timeout", "asyncio.wait_for", "task.cancel"] if sys.version_info >= (3, 11) else []


async def give_up(how: str, call: Callable[[], Coroutine[Any, Any, Any]], after: float = 0.05) -> None:
    """Run ``call`` and cancel it after ``after`` seconds, the way ``how`` names."""
    if how == "asyncio.timeout":
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(after):  # type: ignore[attr-defined,unused-ignore]
                await call()
    elif how == "asyncio.wait_for":
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call(), after)
    elif how == "task.cancel":
        task = asyncio.ensure_future(call())
        await asyncio.sleep(after)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    else:  # an anyio cancel scope cancelled from outside (no deadline the limiter could see coming)
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await anyio.sleep(after)
            tg.cancel_scope.cancel()
    assert how in (*ASYNCIO_CANCELS, "cancel scope")


#: Turns one second apart: far more than the callers' 50 ms, even on a machine so busy that a
#: task's sleep wakes hundreds of milliseconds late (two xdist workers on two cores).
SPACING = 1.0


async def hundred_give_up_then_one_goes_at_once(limiter: RateLimiter, how: str, sent: list[float]) -> None:
    async with AsyncStripeClient(KEY, rate_limiter=limiter, max_retries=0) as client:
        await client.customers.retrieve("cus_1")  # takes the turn: the next is SPACING away
        async with anyio.create_task_group() as tg:
            for _ in range(100):  # 100 callers queue for the next 100 turns, then give up
                tg.start_soon(give_up, how, lambda: client.customers.retrieve("cus_2"))
        assert len(sent) == 1
        await anyio.sleep(SPACING)  # the limiter is idle: the next turn is due now
        started = time.monotonic()
        with anyio.fail_after(5):
            await client.customers.retrieve("cus_3")
        assert time.monotonic() - started < SPACING / 2  # at once, not a whole spacing later
    assert len(sent) == 2


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("how", ASYNCIO_CANCELS)
async def test_asyncio_cancels_give_the_turn_back(how: str, sent: list[float]) -> None:
    await hundred_give_up_then_one_goes_at_once(LocalRateLimiter(1 / SPACING), how, sent)


async def test_a_cancel_scope_gives_the_turn_back(sent: list[float]) -> None:
    await hundred_give_up_then_one_goes_at_once(LocalRateLimiter(1 / SPACING), "cancel scope", sent)

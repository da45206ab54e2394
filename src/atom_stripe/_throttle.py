"""Client-side limits: at most N requests a second (a rate limiter) and at most M in flight.

Both are off by default. Stripe answers 429 above 100 requests/s in live mode and 25 in
test mode; pacing below that keeps a batch job from tripping the limit at all.
Every attempt, retries included, takes a turn.

A rate limiter is anything with ``async acquire() -> float`` (:class:`RateLimiter`).
:class:`LocalRateLimiter` paces one process (``max_requests_per_second=`` makes one);
``atom_stripe.contrib.redis.RedisRateLimiter`` shares one limit between processes.
Both use GCRA (a token bucket kept as one timestamp): turns are handed out in the order
they are asked for, ``burst`` of them at once after an idle spell, then one every
``1 / requests_per_second`` seconds, so any one-second window holds fewer than
``requests_per_second + burst`` starts.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol, runtime_checkable

import anyio
import sniffio

from ._errors import StripeError, StripeValueError
from ._validation import check_rate

__all__ = [
    "GCRALimiter",
    "LocalRateLimiter",
    "RateLimiter",
    "RateLimiterError",
    "RateLimiterUnavailableError",
    "Throttle",
]


class RateLimiterError(StripeError):
    """No turn to send within the limiter's ``max_wait``: the call was not sent."""


class RateLimiterUnavailableError(RateLimiterError):
    """The shared rate limiter's backend (Redis) cannot be reached: the call was not sent."""


@runtime_checkable
class RateLimiter(Protocol):
    """Hands out turns to send requests."""

    async def acquire(self) -> float:
        """Wait for one request's turn; return how many seconds it waited."""
        ...


def loop_token() -> Any:
    """Something that identifies the running event loop (asyncio's loop, or trio's run)."""
    if sniffio.current_async_library() == "asyncio":
        import asyncio

        return asyncio.get_running_loop()
    import trio

    return trio.lowlevel.current_root_task()


class GCRALimiter(ABC):
    """A GCRA rate limiter: the waiting, deadlines and ``max_wait``; subclasses keep the state.

    ``max_wait`` bounds how long one call waits for its turn (beyond it:
    :class:`RateLimiterError`, and no turn is used). A turn that would come after the
    caller's deadline (an enclosing ``anyio`` cancel scope) is not taken either: the call
    waits out its deadline instead and is cancelled by it, so no turn is wasted. A call
    cancelled while it waits for a turn it took (``asyncio.timeout``, ``wait_for``,
    ``Task.cancel()``, a cancel scope) gives the turn back.
    """

    def __init__(self, requests_per_second: float, *, burst: int = 1, max_wait: float | None = None) -> None:
        self.requests_per_second = check_rate("requests_per_second", requests_per_second)
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise StripeValueError("burst", "must be an integer >= 1 (how many requests may start at once)")
        if max_wait is not None:
            check_rate("max_wait", max_wait)
        self.burst = burst
        self.max_wait = max_wait
        self.interval = 1.0 / self.requests_per_second

    @abstractmethod
    async def _reserve(self, budget: float) -> float | None:
        """Take the next turn if it comes within ``budget`` seconds: the wait until it, else None."""

    @abstractmethod
    async def _give_back(self) -> None:
        """Return one turn taken by :meth:`_reserve` and not used (its caller was cancelled).

        GCRA keeps a token bucket as one timestamp: moving it one interval back (never
        before now, a full bucket) is the bucket as if the turn had not been taken, or
        fuller by less, so no window ever holds more turns than without the refund."""

    async def _wait_for_turn(self, wait: float) -> None:
        try:
            await anyio.sleep(wait)
        except BaseException:
            # Cancelled: asyncio's own cancellation (timeout, wait_for, Task.cancel) has no
            # deadline to see coming, so the turn was taken and must be returned. Shielded:
            # an anyio cancel scope cancels every await of the task until it leaves.
            with anyio.CancelScope(shield=True):
                await self._give_back()
            raise

    async def acquire(self) -> float:
        while True:
            budget = math.inf if self.max_wait is None else self.max_wait
            deadline_left = anyio.current_effective_deadline() - anyio.current_time()
            budget = min(budget, deadline_left)
            wait = await self._reserve(max(budget, 0.0))
            if wait is not None:
                if wait > 0:
                    await self._wait_for_turn(wait)
                return wait
            if budget < deadline_left:
                raise RateLimiterError(
                    f"No turn to send within max_wait={self.max_wait} s at {self.requests_per_second}/s: not sent."
                )
            await anyio.sleep(max(deadline_left, 0.0))  # cancelled here by the caller's deadline


class LocalRateLimiter(GCRALimiter):
    """``requests_per_second`` for every client that shares this object, in this process."""

    def __init__(self, requests_per_second: float, *, burst: int = 1, max_wait: float | None = None) -> None:
        super().__init__(requests_per_second, burst=burst, max_wait=max_wait)
        self._tat = 0.0  # GCRA's "theoretical arrival time" of the next turn, on time.monotonic()

    async def _reserve(self, budget: float) -> float | None:
        # No await in here: atomic for every task on the loop.
        now = time.monotonic()
        tat = max(self._tat, now)
        wait = max(0.0, tat - (self.burst - 1) * self.interval - now)
        if wait > budget:
            return None
        self._tat = tat + self.interval
        return wait

    async def _give_back(self) -> None:
        self._tat = max(self._tat - self.interval, time.monotonic())

    def __repr__(self) -> str:
        return f"LocalRateLimiter({self.requests_per_second:g}/s, burst={self.burst})"


class Throttle:
    """Paces attempts with a rate limiter and caps them at ``max_concurrency`` in flight."""

    def __init__(
        self,
        max_requests_per_second: float | None = None,
        max_concurrency: int | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        if max_requests_per_second is not None:
            if rate_limiter is not None:
                raise StripeValueError(
                    "rate_limiter", "give max_requests_per_second or rate_limiter, not both (a limiter has its rate)"
                )
            rate_limiter = LocalRateLimiter(check_rate("max_requests_per_second", max_requests_per_second))
        if rate_limiter is not None and not isinstance(rate_limiter, RateLimiter):
            raise StripeValueError("rate_limiter", "must have an async acquire() method (see atom_stripe.ratelimit)")
        if max_concurrency is not None and (
            isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1
        ):
            raise StripeValueError("max_concurrency", "must be an integer >= 1, or None for no limit")
        self.rate_limiter = rate_limiter
        self.max_concurrency = max_concurrency
        self.waits = 0  # how many attempts had to wait for their turn
        self._loop: Any = None
        self._semaphore: anyio.Semaphore | None = None

    @property
    def max_requests_per_second(self) -> float | None:
        return getattr(self.rate_limiter, "requests_per_second", None)

    @property
    def active(self) -> bool:
        return self.rate_limiter is not None or self.max_concurrency is not None

    def _bind(self) -> None:
        token = loop_token()
        if token is not self._loop:
            self._loop = token
            self._semaphore = anyio.Semaphore(self.max_concurrency) if self.max_concurrency else None

    async def _pace(self) -> None:
        if self.rate_limiter is not None and await self.rate_limiter.acquire() > 0:
            self.waits += 1

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot for the duration of an attempt."""
        self._bind()
        if self._semaphore is None:
            await self._pace()
            yield
            return
        async with self._semaphore:
            await self._pace()
            yield

"""Client-side limits: at most N requests a second (a token bucket) and at most M in flight.

Both are off by default. Stripe answers 429 above 100 requests/s in live mode and 25 in
test mode; pacing below that keeps a batch job from tripping the limit at all.
Every attempt, retries included, takes a slot.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import sniffio

from ._errors import StripeValueError


def loop_token() -> Any:
    """Something that identifies the running event loop (asyncio's loop, or trio's run)."""
    if sniffio.current_async_library() == "asyncio":
        import asyncio

        return asyncio.get_running_loop()
    import trio

    return trio.lowlevel.current_root_task()


class Throttle:
    """Paces attempts to ``max_requests_per_second`` and caps them at ``max_concurrency`` in flight."""

    def __init__(self, max_requests_per_second: float | None = None, max_concurrency: int | None = None) -> None:
        if max_requests_per_second is not None and (
            isinstance(max_requests_per_second, bool)
            or not isinstance(max_requests_per_second, (int, float))
            or max_requests_per_second <= 0
        ):
            raise StripeValueError("max_requests_per_second", "must be a positive number, or None for no limit")
        if max_concurrency is not None and (
            isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1
        ):
            raise StripeValueError("max_concurrency", "must be an integer >= 1, or None for no limit")
        self.max_requests_per_second = max_requests_per_second
        self.max_concurrency = max_concurrency
        self.waits = 0  # how many attempts had to wait for the rate
        self._loop: Any = None
        self._lock: anyio.Lock | None = None
        self._semaphore: anyio.Semaphore | None = None
        self._next_free = 0.0

    @property
    def active(self) -> bool:
        return self.max_requests_per_second is not None or self.max_concurrency is not None

    def _bind(self) -> None:
        token = loop_token()
        if token is not self._loop:
            self._loop = token
            self._lock = anyio.Lock()
            self._semaphore = anyio.Semaphore(self.max_concurrency) if self.max_concurrency else None

    async def _pace(self) -> None:
        assert self._lock is not None and self.max_requests_per_second is not None
        interval = 1.0 / self.max_requests_per_second
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_free)
            self._next_free = start + interval
        if start > now:
            self.waits += 1
            await anyio.sleep(start - now)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot for the duration of an attempt."""
        self._bind()
        if self._semaphore is None:
            if self.max_requests_per_second is not None:
                await self._pace()
            yield
            return
        async with self._semaphore:
            if self.max_requests_per_second is not None:
                await self._pace()
            yield

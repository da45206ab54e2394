"""Fetch the next page while the caller works through this one.

An async generator cannot hold a task group across its ``yield`` (its cleanup may run
in another task), so the one background fetch runs as a plain asyncio task, or a trio
system task under a cancel scope of its own. It never outlives the iteration: leaving
the loop early, or being cancelled, cancels it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import anyio
import sniffio

T = TypeVar("T")


class Prefetch(Generic[T]):
    """One awaitable, started now in the background; ``await result()`` when it is needed."""

    def __init__(self, fetch: Callable[[], Awaitable[T]]) -> None:
        self._done = anyio.Event()
        self._result: T | None = None
        self._error: BaseException | None = None
        self._cancel: Callable[[], Any]
        if sniffio.current_async_library() == "asyncio":
            import asyncio

            task = asyncio.ensure_future(self._run(fetch))
            self._cancel = task.cancel
        else:
            import trio

            scope = trio.CancelScope()
            self._cancel = scope.cancel

            async def run() -> None:
                with scope:
                    await self._run(fetch)

            trio.lowlevel.spawn_system_task(run)

    async def _run(self, fetch: Callable[[], Awaitable[T]]) -> None:
        try:
            self._result = await fetch()
        except BaseException as exc:  # handed to whoever awaits the result, never lost
            self._error = exc
        finally:
            self._done.set()

    async def result(self) -> T:
        await self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    def cancel(self) -> None:
        """Stop the fetch if it is still running (a no-op once it is done)."""
        if not self._done.is_set():
            self._cancel()

"""Group commit: writes that arrive while one is being committed go in together, in the next
transaction, so that many webhooks arriving at once cost one commit instead of one each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ._duckdb import Batch, DuckStore

if TYPE_CHECKING:
    from ._postgres import PgStore


@dataclass
class _Waiting:
    batch: Batch
    done: bool = False
    error: Exception | None = None


class GroupCommit:
    """Each :meth:`write` returns once its own batch is committed (or raises its own failure)."""

    def __init__(self, store: DuckStore | PgStore) -> None:
        self._store = store
        self._pending: list[_Waiting] = []
        self._busy = False
        self._idle: anyio.Event | None = None  # made in the event loop, when first awaited

    async def write(self, batch: Batch) -> None:
        entry = _Waiting(batch)
        self._pending.append(entry)
        try:
            while not entry.done:
                if self._busy:
                    # No timer: the commit under way is the batching window.
                    if self._idle is None:
                        self._idle = anyio.Event()
                    await self._idle.wait()
                    continue
                await self._lead()
        except BaseException:
            if entry in self._pending:
                self._pending.remove(entry)  # cancelled before its turn: never written
            raise
        if entry.error is not None:
            raise entry.error

    async def _lead(self) -> None:
        """Commit everything waiting, then wake the writers that arrived meanwhile."""
        self._busy = True
        taken, self._pending = self._pending, []
        try:
            # Shielded: the writers taken wait on this commit, whoever started it.
            with anyio.CancelScope(shield=True):
                await self._commit(taken)
        finally:
            self._busy = False
            idle, self._idle = self._idle, None
            if idle is not None:
                idle.set()

    async def _commit(self, taken: list[_Waiting]) -> None:
        try:
            await self._store.write_batches([entry.batch for entry in taken])
        except Exception as exc:
            if len(taken) == 1:
                taken[0].error = exc
            else:
                # One bad write must not fail the others: each half again, down to the one that fails.
                middle = len(taken) // 2
                await self._commit(taken[:middle])
                await self._commit(taken[middle:])
        for entry in taken:
            entry.done = True

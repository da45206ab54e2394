"""The backfill: each type's list split into ``created`` ranges fetched concurrently, every page
committed together with its range's new position, so that a stopped backfill resumes where it was."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .._errors import StripeError
from ._duckdb import Batch, DuckStore, Range, Write
from ._errors import SyncStripeError
from ._group import GroupCommit
from ._schema import Child, Kind

if TYPE_CHECKING:
    from ._postgres import PgStore

#: Stripe's largest page (https://docs.stripe.com/api/pagination#pagination-limit).
PAGE_SIZE = 100


@dataclass
class Progress:
    """Where a backfill stands: objects written, pages and requests made, since it started."""

    objects: int = 0
    pages: int = 0
    requests: int = 0
    ranges_done: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[Progress], None]


async def fetch_page(client: Any, path: str, params: Mapping[str, Any], progress: Progress) -> tuple[list[Any], bool]:
    """One list page through the client (its retries and rate limiter apply): (items, has_more)."""
    try:
        page = await client.request("GET", path, params=params)
    except StripeError as exc:
        raise SyncStripeError(f"listing {path} failed: {exc.message}") from exc
    progress.requests += 1
    data = getattr(page, "data", None)
    return (list(data) if isinstance(data, list) else []), bool(getattr(page, "has_more", False))


async def children(client: Any, kind: Kind, parent: Mapping[str, Any], progress: Progress) -> list[Write]:
    """The parent's embedded lists, completed by paging their own endpoint where they are truncated."""
    writes = []
    for child in kind.children:
        embedded = parent.get(child.attribute)
        if not isinstance(embedded, Mapping):
            continue
        items = [item for item in embedded.get("data") or () if isinstance(item, Mapping)]
        more = bool(embedded.get("has_more"))
        while more and items:
            params: dict[str, Any] = {key: value.format(id=parent["id"]) for key, value in child.params.items()}
            params.update(limit=PAGE_SIZE, starting_after=items[-1]["id"])
            page, more = await fetch_page(client, child.path.format(id=parent["id"]), params, progress)
            items += page
        writes += [Write(_child_kind(child), item, parent=parent["id"]) for item in items]
    return writes


def first_error(exc: BaseException) -> BaseException:
    while isinstance(group := getattr(exc, "exceptions", None), tuple) and group:
        exc = group[0]
    return exc


@contextmanager
def first_failure() -> Iterator[None]:
    """A task group's ExceptionGroup raised as its first failure (which cancelled the others)."""
    try:
        yield
    except Exception as exc:
        first = first_error(exc)
        if first is exc:
            raise
        raise first from first.__cause__


def _child_kind(child: Child) -> Kind:
    from ._schema import KINDS

    return KINDS[child.object]


class Backfill:
    """One run over ``kinds``: the stored ranges not done, at most ``concurrency`` requests at once."""

    def __init__(
        self,
        store: DuckStore | PgStore,
        client: Any,
        *,
        until: int,
        concurrency: int,
        page_size: int,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.store = store
        self.client = client
        self.until = until
        self.concurrency = concurrency
        self.page_size = page_size
        self.on_progress = on_progress
        self.progress = Progress()
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._commits = GroupCommit(store)
        # The ranges under way and the pages each has left, estimated from its last page's density.
        self._left: dict[int, float] = {}

    async def run(self, kinds: Sequence[Kind]) -> Progress:
        with first_failure():
            await self._run(kinds)
        return self.progress

    async def _run(self, kinds: Sequence[Kind]) -> None:
        async with anyio.create_task_group() as group:
            for kind in kinds:
                ranges = await self.store.ranges(kind.object)
                if not ranges:
                    # The whole of time up to the first run's start: what is created later comes through events.
                    ranges = [Range(kind.object, 0, self.until + 1)]
                    await self.store.write((), 0, ranges)
                for item in ranges:
                    if not item.done:
                        self._start(group, kind, item)

    def _start(self, group: Any, kind: Kind, item: Range) -> None:
        self._left[id(item)] = 0.0  # not known before its first page
        group.start_soon(self._range, group, kind, item)

    async def _range(self, group: Any, kind: Kind, item: Range) -> None:
        try:
            while not item.done:
                await self._page(group, kind, item)
        finally:
            del self._left[id(item)]

    def _pieces(self, item: Range, page: Sequence[Any], more: bool) -> list[int]:
        """Where to split what is left of ``item`` after this page, [gte, last], among the idle
        requests (the boundaries, newest first): nowhere unless some are idle and this range has
        about the most pages left of those under way, so that the tail does not wait on one long range.
        The pages left are estimated from this page's density. A range from 1970 (the first, and
        the oldest piece of each of its splits: how far back the objects go is not known) is cut
        one page's span below the page, then two, four...; any other range evenly."""
        first, last = (page[0].get("created"), page[-1].get("created")) if page else (None, None)
        if not (more and isinstance(first, int) and isinstance(last, int) and last > item.gte):
            self._left[id(item)] = 0.0
            return []
        span = max(first - last, 1)
        self._left[id(item)] = left = (last - item.gte) / span
        idle = self.concurrency - len(self._left)
        # The others' estimates date from their last page: a page more than they have now.
        if idle <= 0 or left < 2 or left + 1 < max(self._left.values()):
            return []
        pieces = min(idle + 1, int(left))
        width = last + 1 - item.gte
        bounds: list[int] = []
        for index in range(1, pieces):
            bound = last + 1 - (span * (2**index - 1) if item.gte == 0 else width * index // pieces)
            if item.gte < bound < (bounds[-1] if bounds else last + 1):
                bounds.append(bound)
        if bounds:
            self._left[id(item)] = (last - bounds[0]) / span
        return bounds

    async def _page(self, group: Any, kind: Kind, item: Range) -> None:
        """Fetch the range's next page and commit its objects with the range's new position."""
        as_of = int(time.time())
        params: dict[str, Any] = {**kind.params, "limit": self.page_size, "created": {"gte": item.gte, "lt": item.lt}}
        if item.cursor is not None:
            params["starting_after"] = item.cursor
        # The requests hold a slot, the commit does not: while one range's page is written (in a
        # worker thread, one write at a time), the others keep the rate limit's turns in use.
        async with self._limiter:
            items, more = await fetch_page(self.client, kind.path or "", params, self.progress)
            writes = [Write(kind, obj) for obj in items]
            for obj in items:
                writes += await children(self.client, kind, obj, self.progress)
        saved = Range(item.object, item.gte, item.lt, items[-1]["id"] if items else item.cursor, not (more and items))
        # What is left is [gte, last] after the cursor (the list is newest first): its older parts
        # go to new tasks while requests are idle, so that ranges follow the density of the data.
        bounds = self._pieces(item, items, more)
        splits: list[Range] = []
        if bounds:
            # The newest piece keeps the cursor; the oldest keeps the stored row's key (gte).
            edges = [*bounds, item.gte]
            splits = [Range(item.object, low, high) for high, low in itertools.pairwise(edges)]
            saved = Range(item.object, bounds[0], items[-1]["created"] + 1, saved.cursor)
        # Pages that come back while one is committed go in together, in the next transaction.
        await self._commits.write(Batch(writes, as_of, [*splits, saved]))
        # Only now, with the rows committed, do the ranges move on (in memory too).
        item.gte, item.lt, item.cursor, item.done = saved.gte, saved.lt, saved.cursor, saved.done
        for split in splits:
            self._start(group, kind, split)
        self.progress.pages += 1
        self.progress.objects += len(writes)
        self.progress.ranges_done += saved.done
        if self.on_progress is not None:
            self.on_progress(self.progress)

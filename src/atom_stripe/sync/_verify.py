"""``Mirror.verify``: a random sample of each type's rows compared with Stripe's current objects."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .._errors import NotFoundError, StripeError, StripeValueError
from ._backfill import Progress, children, first_failure
from ._duckdb import Write
from ._errors import SyncStripeError
from ._schema import KINDS, Kind, table_name

if TYPE_CHECKING:
    from ._duckdb import DuckStore
    from ._postgres import PgStore

#: Where each type's objects are retrieved one by one; invoice lines have no such endpoint
#: (https://docs.stripe.com/api/invoice-line-item: list only), they are checked inside their invoice.
_RETRIEVE = {kind.object: kind.path for kind in KINDS.values() if kind.path} | {
    "subscription_item": "/v1/subscription_items"
}
VERIFIABLE: tuple[str, ...] = tuple(_RETRIEVE)


@dataclass
class TypeReport:
    """One type's sample: rows ``checked``, ``matching`` Stripe, ``drifted`` (id -> the top-level
    fields that differ; ``deleted`` when the row is marked deleted but the object exists) and
    ``missing`` (rows the mirror holds as live that Stripe has deleted or no longer knows)."""

    object: str
    checked: int = 0
    matching: int = 0
    drifted: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    repaired: int = 0


@dataclass
class VerifyReport:
    """What :meth:`Mirror.verify` found, per type (``report.types["customer"]``)."""

    types: dict[str, TypeReport] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """Every sampled row matches Stripe."""
        return all(not found.drifted and not found.missing for found in self.types.values())

    @property
    def checked(self) -> int:
        return sum(found.checked for found in self.types.values())


def verify_kinds(types: Sequence[str] | None) -> list[Kind]:
    if types is None:
        return [KINDS[name] for name in VERIFIABLE]
    if isinstance(types, str) or not isinstance(types, Sequence):
        raise StripeValueError("types", "must be a list of object names, e.g. ['customer', 'invoice']")
    unknown = [name for name in types if name not in _RETRIEVE]
    if unknown:
        raise StripeValueError(
            "types",
            f"cannot verify {', '.join(map(repr, unknown))} (invoice lines are checked within their invoice);"
            f" one of {', '.join(VERIFIABLE)}",
        )
    return [KINDS[name] for name in dict.fromkeys(types)]


def sample_size(sample: Any) -> tuple[int | None, float | None]:
    """``sample`` as (rows, None) or (None, fraction)."""
    if isinstance(sample, int) and not isinstance(sample, bool) and sample >= 1:
        return sample, None
    if isinstance(sample, float) and 0 < sample <= 1:
        return None, sample
    raise StripeValueError("sample", "must be a number of rows per type (an int >= 1) or a fraction in (0, 1]")


def retrieve_path(kind: Kind) -> str | None:
    """Where one object of ``kind`` is retrieved (None: invoice lines, reached through their invoice)."""
    return _RETRIEVE.get(kind.object)


async def retrieve(client: Any, kind: Kind, object_id: str) -> dict[str, Any] | None:
    """Stripe's object as JSON, or None when it is deleted or unknown."""
    try:
        fresh = await client.request("GET", f"{_RETRIEVE[kind.object]}/{object_id}")
    except NotFoundError:
        return None
    except StripeError as exc:
        raise SyncStripeError(f"retrieving {kind.object} {object_id} failed: {exc.message}") from exc
    obj: dict[str, Any] = fresh.model_dump(mode="json")
    # A deleted customer (or product...) is retrieved as a stub with deleted: true.
    return None if obj.get("deleted") is True else obj


async def store_fresh(
    store: DuckStore | PgStore,
    client: Any,
    kind: Kind,
    object_id: str,
    fresh: dict[str, Any] | None,
    parent: Any,
    as_of: int,
) -> None:
    """Store an object just retrieved (None: gone, the row marked deleted), with its children."""
    # Stripe's state now: never older than the row's (a row can hold an event's future-dated
    # time), and within the same second the upsert writes whatever differs.
    when = max(int(time.time()), as_of)
    if fresh is None:
        await store.write((), when, deleted=[Write(kind, {"id": object_id}, deleted=True)])
        return
    writes = [Write(kind, fresh, parent=parent)]
    writes += await children(client, kind, fresh, Progress())
    await store.write(writes, when)


def differences(held: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """The top-level fields whose values differ (an absent field counts as null)."""
    return sorted(key for key in held.keys() | fresh.keys() if held.get(key) != fresh.get(key))


class Verify:
    """One verification run over ``kinds``: ``concurrency`` workers share each type's sample, so at
    most that many retrieve calls run at once and no more tasks than that exist."""

    def __init__(self, store: DuckStore | PgStore, client: Any, *, concurrency: int, repair: bool) -> None:
        self.store = store
        self.client = client
        self.repair = repair
        self.concurrency = concurrency

    async def run(self, kinds: Sequence[Kind], rows: int | None, fraction: float | None) -> VerifyReport:
        report = VerifyReport()
        for kind in kinds:
            report.types[kind.object] = found = TypeReport(kind.object)
            table = table_name(kind)
            limit = rows
            if limit is None:
                [(count,)] = await self.store.fetch(f"SELECT count(*) FROM {table}")
                limit = math.ceil(int(count) * (fraction or 0))
            sampled = await self.store.fetch(
                f"SELECT id, data, deleted, _parent, _as_of FROM {table} ORDER BY random() LIMIT ?", [limit]
            )
            with first_failure():
                await self._sample(kind, found, sampled)
            # Checked concurrently: listed in id order, the same report for the same sample.
            found.drifted = dict(sorted(found.drifted.items()))
            found.missing.sort()
        return report

    async def _sample(self, kind: Kind, found: TypeReport, sampled: list[tuple[Any, ...]]) -> None:
        rest = iter(sampled)

        async def worker() -> None:
            for held in rest:  # shared: each row goes to one worker
                await self._check(kind, found, held)

        async with anyio.create_task_group() as group:
            for _ in range(min(self.concurrency, len(sampled))):
                group.start_soon(worker)

    async def _check(self, kind: Kind, found: TypeReport, held: tuple[Any, ...]) -> None:
        object_id, data, deleted, parent, as_of = held
        stored = json.loads(data) if isinstance(data, str) else dict(data)
        fresh = await retrieve(self.client, kind, object_id)
        found.checked += 1
        if fresh is None:
            if deleted:
                found.matching += 1
                return
            found.missing.append(object_id)
        else:
            changed = differences(stored, fresh)
            if deleted:
                changed = sorted({*changed, "deleted"})
            if not changed:
                found.matching += 1
                return
            found.drifted[object_id] = changed
        if self.repair:
            await store_fresh(self.store, self.client, kind, object_id, fresh, parent, int(as_of))
            found.repaired += 1

"""``Mirror``: a local copy of a Stripe account's objects in DuckDB, filled by a resumable
backfill and kept current from events (webhooks, or ``events.list`` since a stored cursor)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._errors import StripeValueError
from .._extras import needs_extra
from ..webhooks import DEFAULT_MAX_BODY, DEFAULT_TOLERANCE, ASGIApp, EventStore, SecretSource, WebhookRouter
from ._backfill import PAGE_SIZE, Backfill, Progress, ProgressCallback, fetch_page
from ._duckdb import Batch, DuckStore, Range, Write
from ._errors import EventCursorExpiredError, SyncStateError
from ._group import GroupCommit
from ._receiver import Delivery, MirrorRouter, event_dict
from ._schema import KINDS, Kind, kinds_for, table_name, timestamp
from ._verify import Verify, VerifyReport, retrieve, retrieve_path, sample_size, store_fresh, verify_kinds

if TYPE_CHECKING:
    from ._postgres import PgStore

#: Stripe keeps events for 30 days (https://docs.stripe.com/api/events/list: "events going back 30 days").
EVENT_RETENTION = 30 * 24 * 3600
_CURSOR = "event_cursor"
_UNTIL = "backfill_until"


@dataclass
class TypeStatus:
    """One table: its rows (``deleted`` of them marked deleted) and the backfill's ranges."""

    rows: int
    deleted: int
    ranges_done: int
    ranges_pending: int


@dataclass
class Status:
    """What :meth:`Mirror.status` reads: per type, and the stored positions (unix seconds)."""

    event_cursor: int | None
    backfill_until: int | None
    types: dict[str, TypeStatus] = field(default_factory=dict)

    @property
    def cursor_age(self) -> float | None:
        """Seconds since the last applied event's time (or the backfill's start); None before any backfill."""
        return None if self.event_cursor is None else max(0.0, time.time() - self.event_cursor)


def _thin_event(event: Any) -> tuple[Kind | None, str, int] | None:
    """A v2 thin event's (kind, object id, created), or None for a snapshot event. A thin event
    carries ``related_object`` ({id, type, url}) and no snapshot; its ``created`` is an RFC 3339
    time (https://docs.stripe.com/api/v2/core/events/object)."""
    if not isinstance(event, Mapping) or (event.get("object") != "v2.core.event" and "related_object" not in event):
        return None
    related = event.get("related_object")
    created = event.get("created")
    if not isinstance(related, Mapping) or not isinstance(related.get("id"), str):
        raise StripeValueError("event", "is a thin event without a related_object to retrieve")
    try:
        when = datetime.fromisoformat(created) if isinstance(created, str) else None
    except ValueError:
        when = None
    if when is None:
        raise StripeValueError("event", "is a thin event whose 'created' is not an RFC 3339 time")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    name = str(related.get("type", ""))
    return KINDS.get(name.removeprefix("v1.")), related["id"], int(when.timestamp())


def _deletes(event_type: str, object_name: str) -> bool:
    # customer.subscription.deleted is a subscription ending: it stays on Stripe, canceled, and is
    # stored as such (https://docs.stripe.com/api/events/types#event_types-customer.subscription.deleted).
    return event_type.endswith(".deleted") and object_name != "subscription"


class Mirror:
    """A local mirror of a Stripe account: :meth:`open` a DuckDB file or :meth:`connect` to
    PostgreSQL; ``async with`` closes it.

    ::

        async with await Mirror.open("stripe.duckdb") as mirror:
            await mirror.backfill(client)
            frame = await mirror.sql("select id, email from stripe.customer where not deleted")
    """

    def __init__(self, store: DuckStore | PgStore) -> None:
        self._store = store
        self._commits = GroupCommit(store)

    @classmethod
    async def open(cls, path: str | os.PathLike[str] = ":memory:") -> Mirror:
        """Open (or create) a DuckDB file and apply the migrations it lacks."""
        if not isinstance(path, (str, os.PathLike)):
            raise StripeValueError("path", "must be a file path (or ':memory:')")
        return cls(await DuckStore.open(os.fspath(path)))

    @classmethod
    async def connect(cls, dsn: str) -> Mirror:
        """Connect to PostgreSQL (``postgresql://...``; asyncpg, on asyncio) and apply the
        migrations it lacks; the tables live in the schema ``stripe`` of that database."""
        if not isinstance(dsn, str) or not dsn.startswith(("postgresql://", "postgres://")):
            raise StripeValueError("dsn", "must be a PostgreSQL URL: postgresql://user@host:5432/database")
        from ._postgres import PgStore

        return cls(await PgStore.connect(dsn))

    async def close(self) -> None:
        await self._store.close()

    async def __aenter__(self) -> Mirror:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<Mirror {'duckdb' if isinstance(self._store, DuckStore) else 'postgresql'}>"

    # -- backfill -------------------------------------------------------------------------------

    async def backfill(
        self,
        client: Any,
        types: Sequence[str] | None = None,
        *,
        concurrency: int = 8,
        page_size: int = PAGE_SIZE,
        on_progress: ProgressCallback | None = None,
        restart: bool = False,
        extend: bool = False,
    ) -> Progress:
        """Copy every object of ``types`` (default: all mirrored types) created up to the first
        run's start; a later call resumes the ranges not finished and refetches none that are.
        ``extend=True`` also lists what was created since the last end (for types Stripe sends no
        events for, such as balance transactions); ``restart=True`` forgets the stored positions
        (after :class:`EventCursorExpiredError`)."""
        kinds = kinds_for(types)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise StripeValueError("concurrency", "must be a positive integer")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= PAGE_SIZE:
            raise StripeValueError("page_size", f"must be an integer from 1 to {PAGE_SIZE} (Stripe's limit)")
        store = self._store

        if restart:
            await store.forget_ranges()
            await store.set_state(_UNTIL, None)
            await store.set_state(_CURSOR, None)
        until = await store.state(_UNTIL)
        if until is not None and extend and int(time.time()) > until:
            # A new range for every type already begun (not only those listed now), so that a
            # type left out of this call lists the new range at its next backfill.
            later = int(time.time())
            begun = [kind.object for kind in KINDS.values() if kind.path and await store.ranges(kind.object)]
            await store.write((), 0, [Range(name, until + 1, later + 1) for name in begun], state={_UNTIL: later})
            until = later
        if until is None:
            until = int(time.time())
            await store.set_state(_UNTIL, until)
        if await store.state(_CURSOR) is None:
            # Changes after the backfill's start come from the events created since.
            await store.set_state(_CURSOR, {"created": until, "id": None})
        run = Backfill(
            store, client, until=until, concurrency=concurrency, page_size=page_size, on_progress=on_progress
        )
        return await run.run(kinds)

    # -- events ---------------------------------------------------------------------------------

    async def apply(self, event: Any, client: Any = None) -> None:
        """Apply one event (from a webhook, or ``events.list``): its ``data.object`` replaces the
        stored row unless the row holds a newer state; ``*.deleted`` marks the row deleted.
        Applying the same event again changes nothing.

        With ``client``, the object is retrieved from Stripe instead when the payload cannot be
        trusted: a v2 thin event (``related_object`` only), or an event older than the stored
        row (delivered late or out of order). A thin event needs ``client``."""
        if client is not None and not callable(getattr(client, "request", None)):
            raise StripeValueError("client", "must be an AsyncStripeClient")
        thin = _thin_event(event)
        if thin is not None:
            if client is None:
                raise StripeValueError("client", "a thin event names its object only: pass client= to retrieve it")
            kind, object_id, created = thin
            if kind is not None:
                await self._refetch(client, kind, object_id, created)
            return
        await self._apply_snapshot(event_dict(event), client)

    async def _apply_snapshot(self, found: dict[str, Any], client: Any) -> None:
        """:meth:`apply` of a snapshot event already checked (:func:`event_dict`'s answer)."""
        await self._apply(found, None)
        obj = found["data"]["object"]
        kind = KINDS.get(obj.get("object"))
        if client is None or kind is None or not isinstance(obj.get("id"), str):
            return
        if retrieve_path(kind) is not None:
            held = await self._store.fetch(f"SELECT _as_of FROM {table_name(kind)} WHERE id = ?", [obj["id"]])
            # A late or out-of-order delivery: the row is newer than this event, and Stripe's
            # current state may be newer still. As Stripe's sync-engine does with
            # revalidateObjectsViaStripeApi (supabase/stripe-sync-engine, packages/sync-engine/README.md),
            # the object is retrieved rather than the payload trusted.
            late = bool(held) and int(held[0][0]) > found["created"]
            # A truncated embedded list (a subscription's first items only): the rest is paged.
            truncated = any(
                isinstance(obj.get(child.attribute), Mapping) and obj[child.attribute].get("has_more")
                for child in kind.children
            )
            if late or truncated:
                await self._refetch(client, kind, obj["id"], found["created"])
        txn = obj.get("balance_transaction")
        if isinstance(txn, str) and kind.object != "balance_transaction":
            # Stripe sends no events for balance transactions: the one a charge, refund, payout
            # or dispute names is retrieved the first time it is seen (revenue stays current).
            ledger = KINDS["balance_transaction"]
            if not await self._store.fetch(f"SELECT 1 FROM {table_name(ledger)} WHERE id = ?", [txn]):
                await self._refetch(client, ledger, txn, found["created"])

    async def _refetch(self, client: Any, kind: Kind, object_id: str, created: int) -> None:
        """Store Stripe's current state of one object (its row marked deleted when it is gone)."""
        if retrieve_path(kind) is None:
            return  # invoice lines: no endpoint of their own, they come with their invoice
        fresh = await retrieve(client, kind, object_id)
        parent = fresh.get(KINDS[kind.parent].object) if fresh is not None and kind.parent else None
        held = await self._store.fetch(f"SELECT _as_of FROM {table_name(kind)} WHERE id = ?", [object_id])
        as_of = max(created, int(held[0][0]) if held else 0)
        await store_fresh(self._store, client, kind, object_id, fresh, parent, as_of)

    def receiver(
        self,
        secret: SecretSource,
        *,
        client: Any = None,
        store: EventStore | None = None,
        endpoint: str | None = None,
        tolerance: float | None = DEFAULT_TOLERANCE,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> WebhookRouter:
        """A :class:`~atom_stripe.webhooks.WebhookRouter` that applies every event it receives
        (signature checked, duplicates dropped by ``store``): ``router.asgi_app()`` to mount it,
        or :meth:`asgi_app`. ``client`` retrieves objects from late deliveries (see :meth:`apply`).
        The event is never built into a typed model: a handler added with ``router.on(...)`` gets
        a ``Delivery`` (``id``, ``type``, ``account`` and ``body``, the event's JSON)."""
        if client is not None and not callable(getattr(client, "request", None)):
            raise StripeValueError("client", "must be an AsyncStripeClient")
        router = MirrorRouter(secret, tolerance=tolerance, store=store, endpoint=endpoint, max_body=max_body)

        async def apply(delivery: Delivery) -> None:
            # The router checked the event as apply() would (event_dict); a thin event never
            # comes with a snapshot event's signature and payload.
            await self._apply_snapshot(delivery.body, client)

        router.on("*")(apply)
        return router

    def asgi_app(
        self,
        secret: SecretSource,
        *,
        client: Any = None,
        store: EventStore | None = None,
        endpoint: str | None = None,
        tolerance: float | None = DEFAULT_TOLERANCE,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> ASGIApp:
        """A ready ASGI app that receives Stripe's webhooks and applies them to this mirror::

        app.mount("/stripe/webhooks", mirror.asgi_app("whsec_..."))   # or run it with uvicorn
        """
        options = {"client": client, "store": store, "endpoint": endpoint, "tolerance": tolerance}
        return self.receiver(secret, max_body=max_body, **options).asgi_app()

    async def _apply(self, event: dict[str, Any], cursor: Mapping[str, Any] | None) -> None:
        obj = event["data"]["object"]
        created = event["created"]
        kind = KINDS.get(obj.get("object"))
        writes = [Write(KINDS["event"], event)]
        deleted: list[Write] = []
        prune: list[tuple[Kind, str, list[str]]] = []
        if kind is not None and isinstance(obj.get("id"), str):
            if _deletes(str(event.get("type", "")), kind.object) or obj.get("deleted") is True:
                deleted.append(Write(kind, obj, deleted=True))
            else:
                writes.append(Write(kind, obj))
                for child in kind.children:
                    embedded = obj.get(child.attribute)
                    if not isinstance(embedded, Mapping) or not isinstance(embedded.get("data"), list):
                        continue
                    items = [i for i in embedded["data"] if isinstance(i, Mapping) and isinstance(i.get("id"), str)]
                    writes += [Write(KINDS[child.object], item, parent=obj["id"]) for item in items]
                    if not embedded.get("has_more"):
                        prune.append((KINDS[child.object], obj["id"], [item["id"] for item in items]))
        state = {_CURSOR: dict(cursor)} if cursor is not None else {}
        await self._commits.write(Batch(writes, created, deleted=deleted, prune=prune, state=state))

    async def catch_up(self, client: Any) -> int:
        """Apply the events created since the stored cursor (``events.list``), oldest first; the
        number of events applied. Raises :class:`EventCursorExpiredError` past Stripe's 30 days."""
        cursor = await self._store.state(_CURSOR)
        if not isinstance(cursor, Mapping):
            raise SyncStateError("no event cursor yet: run mirror.backfill(client) first")
        since = int(cursor["created"])
        if since < time.time() - EVENT_RETENTION:
            raise EventCursorExpiredError(
                "the mirror's last event is older than the 30 days Stripe keeps events: backfill again "
                "(mirror.backfill(client, restart=True))",
                cursor=since,
            )
        progress = Progress()
        events: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": PAGE_SIZE, "created": {"gte": since}}
        more = True
        while more:
            page, more = await fetch_page(client, "/v1/events", params, progress)
            events += [dict(item) for item in page]
            if page:
                params["starting_after"] = page[-1]["id"]
        # Newest first on the wire; the same second's events keep the list's (reversed) order.
        for event in reversed(events):
            position = {"created": event["created"], "id": event["id"]}
            await self._apply(event, position)
        return len(events)

    # -- verification ---------------------------------------------------------------------------

    async def verify(
        self,
        client: Any,
        types: Sequence[str] | None = None,
        *,
        sample: int | float = 100,
        repair: bool = False,
        concurrency: int = 8,
    ) -> VerifyReport:
        """Compare a random sample of each type's rows (``sample`` rows, or a fraction such as
        ``0.05``) with Stripe, retrieving each object; the report lists per type the rows
        checked, matching, drifted (with the top-level fields that differ) and missing (deleted
        on Stripe, live here). Nothing is written unless ``repair=True``: then each drifted row
        is replaced by Stripe's object and each missing one marked deleted."""
        kinds = verify_kinds(types)
        rows, fraction = sample_size(sample)
        if not isinstance(repair, bool):
            raise StripeValueError("repair", "must be True or False")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise StripeValueError("concurrency", "must be a positive integer")
        run = Verify(self._store, client, concurrency=concurrency, repair=repair)
        return await run.run(kinds, rows, fraction)

    async def status(self) -> Status:
        """Rows (and deleted rows) per table, the backfill's ranges done and pending per type, the
        event cursor and the backfill's end, read from the database alone (no Stripe call)."""
        store = self._store
        found = Status(event_cursor=None, backfill_until=await store.state(_UNTIL))
        cursor = await store.state(_CURSOR)
        if isinstance(cursor, Mapping):
            found.event_cursor = int(cursor["created"])
        for kind in KINDS.values():
            [(rows, deleted)] = await store.fetch(
                f"SELECT count(*), count(*) FILTER (WHERE deleted) FROM {table_name(kind)}"
            )
            ranges = await store.ranges(kind.object)
            done = sum(1 for item in ranges if item.done)
            found.types[kind.object] = TypeStatus(int(rows), int(deleted or 0), done, len(ranges) - done)
        return found

    # -- queries --------------------------------------------------------------------------------

    async def sql(self, query: str, params: Sequence[Any] | None = None) -> Any:
        """Run a query (``?`` placeholders for ``params``) and return a pandas DataFrame."""
        if not isinstance(query, str) or not query.strip():
            raise StripeValueError("query", "must be a SQL statement")
        with needs_extra("analytics"):
            import pandas  # noqa: F401 - DuckDB's .df() needs it
        return await self._store.frame(query, params)

    async def objects(
        self, object_name: str, *, created: tuple[int, int] | None = None, parent: str | None = None
    ) -> list[dict[str, Any]]:
        """The stored objects of one type that are not deleted, as the JSON Stripe sent (what the
        analytics read from a mirror): those created in ``[gte, lt)`` (unix seconds) with
        ``created``, the children of one parent (a subscription's items) with ``parent``."""
        kind = KINDS.get(object_name) if isinstance(object_name, str) else None
        if kind is None:
            raise StripeValueError("object_name", f"not mirrored: {object_name!r}; one of {', '.join(KINDS)}")
        where, params = ["NOT deleted"], list[Any]()
        if created is not None:
            gte, lt = created
            where.append("created >= ? AND created < ?")
            params += [timestamp(gte), timestamp(lt)]
        if parent is not None:
            where.append("_parent = ?")
            params.append(parent)
        found = await self._store.fetch(
            f"SELECT data FROM {table_name(kind)} WHERE {' AND '.join(where)} ORDER BY id", params
        )
        return [json.loads(data) if isinstance(data, str) else dict(data) for (data,) in found]

    async def migrations(self) -> list[int]:
        """The schema versions applied to this database."""
        frame = await self.sql("select version from stripe._migrations order by version")
        return [int(version) for version in frame["version"]]

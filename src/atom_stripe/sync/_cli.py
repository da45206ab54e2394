"""``atom-stripe sync backfill|run|status|verify``: the mirror from the command line.

The commands are added to ``atom-stripe``'s parser by :func:`add_parser` and run by :func:`run`;
``atom_stripe.cli`` reports their errors as it does every command's."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import anyio

from .._errors import StripeValueError
from ._errors import EventCursorExpiredError, SyncStateError, SyncStripeError
from ._schema import KINDS

if TYPE_CHECKING:  # loaded by the command that needs it: `atom-stripe --help` loads neither
    from ._mirror import Mirror

T = TypeVar("T")

#: Exit codes besides atom-stripe's own: a backfill stopped by a signal (128 + SIGINT, as a shell
#: reports it), and a verification that found drift (and did not repair it).
EXIT_INTERRUPTED, EXIT_DRIFT = 130, 5

#: Every name ``--types`` takes for a type: its object (``checkout.session``), its table
#: (``checkout_session``) and their plurals (``customers``, ``checkout_sessions``).
TYPE_NAMES = {
    name: kind.object
    for kind in KINDS.values()
    for name in (kind.object, kind.table, f"{kind.object}s", f"{kind.table}s")
}


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """``sync`` and its four commands, on ``atom-stripe``'s subparsers."""
    sync = sub.add_parser("sync", help="a local mirror of the account in DuckDB or PostgreSQL")
    commands = sync.add_subparsers(dest="action", required=True)
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", required=True, help="a DuckDB file (created if new) or a postgresql:// URL")
    types = argparse.ArgumentParser(add_help=False)
    types.add_argument("--types", default=None, help="comma-separated, e.g. customers,invoices (default: all)")

    backfill = commands.add_parser(
        "backfill", help="copy the account's objects (resumes where a stopped run was)", parents=[db, types]
    )
    backfill.add_argument("--concurrency", type=int, default=8, help="requests at once (default 8)")
    backfill.add_argument("--extend", action="store_true", help="also list what was created since the last end")
    backfill.add_argument("--restart", action="store_true", help="forget the stored positions, list everything")

    run_ = commands.add_parser("run", help="apply Stripe's events (events.list) every --interval seconds", parents=[db])
    run_.add_argument("--interval", type=float, default=60.0, help="seconds between two rounds (default 60)")
    run_.add_argument("--once", action="store_true", help="one round, then exit")

    commands.add_parser("status", help="rows, ranges and the event cursor's age, per type", parents=[db, *parents])

    verify = commands.add_parser(
        "verify", help="compare a random sample of rows with Stripe", parents=[db, types, *parents]
    )
    verify.add_argument("--sample", default="100", help="rows per type, or a fraction such as 0.05 (default 100)")
    verify.add_argument("--repair", action="store_true", help="rewrite the rows that drifted")


def parse_types(given: str | None) -> list[str] | None:
    if given is None:
        return None
    names = [name.strip() for name in given.split(",") if name.strip()]
    unknown = [name for name in names if name not in TYPE_NAMES]
    if unknown or not names:
        shown = ", ".join(sorted({f"{kind.table}s" for kind in KINDS.values()}))
        raise StripeValueError("types", f"unknown {', '.join(map(repr, unknown)) or 'nothing'}: one of {shown}")
    return list(dict.fromkeys(TYPE_NAMES[name] for name in names))


def parse_sample(given: str) -> int | float:
    try:
        return int(given)
    except ValueError:
        pass
    try:
        return float(given)
    except ValueError:
        raise StripeValueError("sample", f"must be a number of rows or a fraction, not {given!r}") from None


async def open_mirror(db: str) -> Mirror:
    from ._mirror import Mirror

    if db.startswith(("postgresql://", "postgres://")):
        return await Mirror.connect(db)
    if "://" in db:
        raise StripeValueError("db", "must be a DuckDB file path or a postgresql:// URL")
    return await Mirror.open(db)


async def until_signal(work: Callable[[], Awaitable[T]]) -> tuple[T | None, bool]:
    """``work``, cancelled by SIGINT or SIGTERM: (its result, whether a signal stopped it). The
    mirror's writes are transactions, so a cancelled one leaves the stored positions as they were."""
    from ._backfill import first_failure

    result: T | None = None
    stopped = False
    with first_failure():
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                nonlocal stopped
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for _ in signals:
                        stopped = True
                        group.cancel_scope.cancel()
                        return

            group.start_soon(watch)
            result = await work()
            group.cancel_scope.cancel()
    return result, stopped


def ago(seconds: float) -> str:
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit} ago"
    return f"{seconds:.0f} s ago"


def when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def run(args: argparse.Namespace, out: TextIO, client: Callable[[], Any]) -> int:
    """One ``sync`` command; ``client()`` makes the Stripe client (``status`` needs none)."""
    types = parse_types(getattr(args, "types", None))
    sample = parse_sample(args.sample) if args.action == "verify" else None
    mirror = await open_mirror(args.db)
    async with mirror:
        if args.action == "status":
            return await status(mirror, out, as_json=args.json)
        async with client() as stripe:
            if args.action == "backfill":
                return await backfill(mirror, stripe, args, types, out)
            if args.action == "run":
                return await watch(mirror, stripe, args, out)
            return await verify(mirror, stripe, args, types, sample, out)


async def backfill(mirror: Mirror, stripe: Any, args: argparse.Namespace, types: list[str] | None, out: TextIO) -> int:
    from ..analytics._progress import Progress as Display

    display = Display("objects", verb="mirrored")

    def shown(progress: Any) -> None:
        display.advance(progress.objects - display.count)

    try:
        progress, stopped = await until_signal(
            lambda: mirror.backfill(
                stripe,
                types,
                concurrency=args.concurrency,
                on_progress=shown,
                restart=args.restart,
                extend=args.extend,
            )
        )
    except BaseException:
        # The error is the one line on standard error: the display goes without its count.
        display.abandon()
        raise
    display.close()
    if stopped or progress is None:
        print("atom-stripe: backfill stopped; what was written is kept: run it again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    out.write(
        f"backfilled {progress.objects} objects: {progress.pages} pages, {progress.requests} requests"
        f" ({progress.requests_per_second:.1f}/s) in {progress.elapsed:.1f} s\n"
    )
    return 0


async def watch(mirror: Mirror, stripe: Any, args: argparse.Namespace, out: TextIO) -> int:
    if args.interval <= 0:
        raise StripeValueError("interval", "must be a number of seconds above 0")
    if (await mirror.status()).event_cursor is None:
        raise SyncStateError("no event cursor yet: run atom-stripe sync backfill first")

    async def rounds() -> None:
        while True:
            try:
                applied = await mirror.catch_up(stripe)
            except EventCursorExpiredError as exc:
                raise EventCursorExpiredError(
                    "the mirror's last event is older than the 30 days Stripe keeps events:"
                    " run atom-stripe sync backfill --restart",
                    cursor=exc.cursor,
                ) from exc
            except SyncStripeError as exc:
                if args.once:
                    raise
                # Stripe down or refusing after the client's retries: the next round lists from the
                # same cursor, so a failed round is retried, never skipped.
                print(f"atom-stripe: {exc}; trying again in {args.interval:g} s", file=sys.stderr, flush=True)
            else:
                out.write(f"{when(int(time.time()))} applied {applied} events\n")
                out.flush()
            if args.once:
                return
            await anyio.sleep(args.interval)

    _, stopped = await until_signal(rounds)
    if stopped:
        out.write("stopped: the event cursor is saved\n")
    return 0


async def status(mirror: Mirror, out: TextIO, *, as_json: bool) -> int:
    found = await mirror.status()
    if as_json:
        payload = {
            "event_cursor": found.event_cursor,
            "backfill_until": found.backfill_until,
            "types": {name: vars(each) for name, each in found.types.items()},
        }
        out.write(json.dumps(payload, indent=2) + "\n")
        return 0
    head = ("TYPE", "ROWS", "DELETED", "RANGES DONE", "PENDING")
    cells = [
        (name, str(t.rows), str(t.deleted), str(t.ranges_done), str(t.ranges_pending))
        for name, t in found.types.items()
    ]
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]
    for row in [head, *cells]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")
    if found.event_cursor is None or found.cursor_age is None:
        out.write("event cursor: none (run atom-stripe sync backfill)\n")
    else:
        out.write(f"event cursor: {when(found.event_cursor)} ({ago(found.cursor_age)})\n")
    return 0


async def verify(
    mirror: Mirror,
    stripe: Any,
    args: argparse.Namespace,
    types: list[str] | None,
    sample: int | float | None,
    out: TextIO,
) -> int:
    report = await mirror.verify(stripe, types, sample=sample if sample is not None else 100, repair=args.repair)
    if args.json:
        out.write(json.dumps({name: vars(each) for name, each in report.types.items()}, indent=2) + "\n")
    else:
        for name, found in report.types.items():
            out.write(
                f"{name}: {found.checked} checked, {found.matching} matching, {len(found.drifted)} drifted,"
                f" {len(found.missing)} missing{f', {found.repaired} repaired' if args.repair else ''}\n"
            )
            for object_id, fields in found.drifted.items():
                out.write(f"  drifted {object_id}: {', '.join(fields)}\n")
            for object_id in found.missing:
                out.write(f"  missing {object_id}: deleted on Stripe\n")
        out.write("clean\n" if report.clean else "drift found\n")
    return 0 if report.clean or args.repair else EXIT_DRIFT

"""``atom-stripe``: a small command line over atom_stripe.

    atom-stripe customers list --limit 5            a table (or --json)
    atom-stripe get pi_3MtwBwLkdIwHu7ix28a3tqPa      any object by id
    atom-stripe export customers --out customers.jsonl
    atom-stripe webhook verify --secret whsec_... --signature "t=...,v1=..." < payload.json

The key comes from ``--api-key`` or ``STRIPE_API_KEY``; ``--base-url`` (or ``STRIPE_BASE_URL``)
points it at another server, such as localstripe.

Exit codes, for scripts: 0 done; 1 Stripe refused the call (an HTTP error); 2 bad usage or
input; 3 Stripe could not be reached (connection or timeout); 4 a webhook did not verify.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import anyio

from ._client import AsyncStripeClient
from ._errors import APIConnectionError, APIStatusError, SignatureVerificationError, StripeError, StripeValueError

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_CONNECTION, EXIT_SIGNATURE = 0, 1, 2, 3, 4

LISTABLE = (
    "customers",
    "payments",
    "subscriptions",
    "products",
    "prices",
    "refunds",
    "charges",
    "events",
    "balance_transactions",
)
#: id prefix -> namespace that retrieves it
PREFIXES = {
    "cus_": "customers",
    "pi_": "payments",
    "sub_": "subscriptions",
    "prod_": "products",
    "price_": "prices",
    "re_": "refunds",
    "ch_": "charges",
    "py_": "charges",
    "evt_": "events",
    "txn_": "balance_transactions",
}
COLUMNS = ("id", "object", "created", "email", "name", "amount", "currency", "status", "type", "description")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="atom-stripe", description="Talk to Stripe from the command line.")
    p.add_argument("--api-key", default=None, help="a secret key (default: STRIPE_API_KEY)")
    p.add_argument("--base-url", default=os.environ.get("STRIPE_BASE_URL"), help="default: Stripe's API")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub = p.add_subparsers(dest="command", required=True)
    # --json may also come after the command (atom-stripe customers list --json).
    late = argparse.ArgumentParser(add_help=False)
    late.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")

    for name in LISTABLE:
        ns = sub.add_parser(name, help=f"{name} commands")
        ns_sub = ns.add_subparsers(dest="action", required=True)
        listing = ns_sub.add_parser("list", help=f"list {name}, newest first", parents=[late])
        listing.add_argument("--limit", type=int, default=10, help="how many (1 to 100)")
        listing.add_argument("--all", action="store_true", help="every one, page after page")

    get = sub.add_parser("get", help="retrieve any object by its id", parents=[late])
    get.add_argument("id")

    export = sub.add_parser("export", help="write every object of a kind as JSON lines")
    export.add_argument("kind", choices=LISTABLE)
    export.add_argument("--out", required=True, help="file to write ('-' for standard output)")

    webhook = sub.add_parser("webhook", help="webhook tools")
    wh_sub = webhook.add_subparsers(dest="action", required=True)
    verify = wh_sub.add_parser("verify", help="verify a payload (read from standard input)", parents=[late])
    verify.add_argument("--secret", required=True, action="append", help="whsec_... (repeat while rolling)")
    verify.add_argument("--signature", required=True, help="the Stripe-Signature header")
    verify.add_argument("--tolerance", type=int, default=300)
    return p


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run one command; returns the exit code."""
    args = parser().parse_args(argv)
    out = stdout or sys.stdout
    try:
        if args.command == "webhook":
            return verify_webhook(args, stdin or sys.stdin, out)
        return anyio.run(run, args, out)
    except StripeError as exc:
        said = "Stripe said " if isinstance(exc, APIStatusError) else ""
        print(f"atom-stripe: {said}{exc}", file=sys.stderr)
        return exit_code(exc)


def exit_code(exc: StripeError) -> int:
    """The exit code for an error: bad input 2, unreachable 3, anything Stripe refused 1."""
    if isinstance(exc, StripeValueError):
        return EXIT_USAGE
    if isinstance(exc, APIConnectionError):
        return EXIT_CONNECTION
    return EXIT_API


async def run(args: argparse.Namespace, out: TextIO) -> int:
    async with AsyncStripeClient(args.api_key, base_url=args.base_url) as stripe:
        if args.command == "get":
            prefix = next((p for p in PREFIXES if args.id.startswith(p)), None)
            if prefix is None:
                raise StripeValueError("id", f"no resource known for {args.id!r} (known: {', '.join(PREFIXES)})")
            obj = await getattr(stripe, PREFIXES[prefix]).retrieve(args.id)
            show([obj], out, as_json=args.json)
            return EXIT_OK
        if args.command == "export":
            return await export(stripe, args.kind, args.out)
        namespace = getattr(stripe, args.command)
        if args.all:
            items = [item async for item in namespace.list(limit=100)]
        else:
            items = list((await namespace.list(limit=args.limit)).data)
        show(items, out, as_json=args.json)
        return EXIT_OK


def plain(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def show(items: list[Any], out: TextIO, *, as_json: bool) -> None:
    if as_json:
        payload: Any = [plain(i) for i in items] if len(items) != 1 else plain(items[0])
        out.write(json.dumps(payload, indent=2) + "\n")
        return
    rows = [{k: getattr(i, k, None) for k in COLUMNS} for i in items]
    columns = [c for c in COLUMNS if any(r[c] is not None for r in rows)]
    cells = [[("" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


class Progress:
    """A live count on standard error: rich's progress display when installed (the ``cli``
    extra), else a plain counter. Stripe lists carry no total, so it counts, with the rate."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.count = 0
        self._rich: Any = None
        try:
            from rich.console import Console
            from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        except ImportError:
            return
        self._rich = Progress(
            SpinnerColumn(),
            TextColumn("exporting {task.description}"),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._rich.add_task(kind, total=None)
        self._rich.start()

    def advance(self) -> None:
        self.count += 1
        if self._rich is not None:
            self._rich.update(self._task, completed=self.count)
        elif self.count % 100 == 0:
            print(f"\rexported {self.count} {self.kind}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        print(f"\rexported {self.count} {self.kind}", file=sys.stderr)


async def export(stripe: AsyncStripeClient, kind: str, path: str) -> int:
    """Every object of a kind, one JSON per line, with progress on standard error."""
    target = sys.stdout if path == "-" else open(path, "w", encoding="utf-8")  # noqa: SIM115
    progress = Progress(kind)
    try:
        async for item in getattr(stripe, kind).list(limit=100):
            target.write(json.dumps(plain(item)) + "\n")
            progress.advance()
    finally:
        progress.close()
        if target is not sys.stdout:
            target.close()
    return EXIT_OK


def verify_webhook(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from .webhooks import construct_event

    payload = stdin.read()
    try:
        event = construct_event(payload, args.signature, args.secret, tolerance=args.tolerance)
    except SignatureVerificationError as exc:
        print(f"atom-stripe: not verified: {exc}", file=sys.stderr)
        return EXIT_SIGNATURE
    if args.json:
        out.write(json.dumps({"verified": True, "id": event.id, "type": event.type}) + "\n")
    else:
        out.write(f"verified {event.id} {event.type}\n")
    return EXIT_OK


def main_exit() -> None:
    """The ``atom-stripe`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()

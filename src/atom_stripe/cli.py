"""``atom-stripe``: a small command line over atom_stripe.

    atom-stripe customers list --limit 5            a table (or --json)
    atom-stripe get pi_3MtwBwLkdIwHu7ix28a3tqPa      any object by id
    atom-stripe export customers --format csv --out customers.csv   (csv, jsonl or parquet)
    atom-stripe webhook verify --secret whsec_... --signature "t=...,v1=..." < payload.json

The key comes from ``STRIPE_API_KEY`` (``--api-key`` works, with a warning: other users see a
command line in ``ps``); ``--base-url`` (or ``STRIPE_BASE_URL``) points it at another server.

Exit codes, for scripts: 0 done; 1 Stripe refused the call (an HTTP error); 2 bad usage or
input; 3 Stripe could not be reached (connection or timeout); 4 a webhook did not verify.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TextIO

import anyio

from ._client import AsyncStripeClient
from ._errors import APIConnectionError, APIStatusError, SignatureVerificationError, StripeError, StripeValueError
from ._generated.endpoints import ENDPOINTS
from ._pagination import AsyncPaginator
from .analytics._deps import MissingExtraError

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_CONNECTION, EXIT_SIGNATURE = 0, 1, 2, 3, 4

#: names the CLI takes for a namespace of another name (ATOM says ``payments``)
ALIASES = {"payments": "payment_intents"}
#: every resource ``list`` and ``export`` take: from the table of endpoints, each namespace
#: (``customers``, ``billing.meters``) whose ``list`` needs no path id, and the aliases
LISTABLE = tuple(
    sorted(
        [key.removesuffix(".list") for key, e in ENDPOINTS.items() if key.endswith(".list") and not e.ids]
        + list(ALIASES)
    )
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
#: file suffix -> export format
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
KEY_WARNING = (
    "atom-stripe: warning: a key given with --api-key is visible to other users of this machine (ps, "
    "/proc, shell history); set STRIPE_API_KEY in the environment instead"
)
COLUMNS = ("id", "object", "created", "email", "name", "amount", "currency", "status", "type", "description")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="atom-stripe",
        description="Talk to Stripe from the command line. RESOURCE list [--limit N | --all] lists any of "
        f"{len(LISTABLE)} resources: {', '.join(LISTABLE)}.",
    )
    p.add_argument(
        "--api-key", default=None, help="a secret key; prefer STRIPE_API_KEY (others see a command line in ps)"
    )
    p.add_argument("--base-url", default=os.environ.get("STRIPE_BASE_URL"), help="default: Stripe's API")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub = p.add_subparsers(dest="command", required=True, metavar="{RESOURCE,get,export,webhook}")
    # --json may also come after the command (atom-stripe customers list --json).
    late = argparse.ArgumentParser(add_help=False)
    late.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")

    for name in LISTABLE:
        ns = sub.add_parser(name)  # no help line each: the description lists them
        ns_sub = ns.add_subparsers(dest="action", required=True)
        listing = ns_sub.add_parser("list", help=f"list {name}, newest first", parents=[late])
        listing.add_argument("--limit", type=int, default=10, help="how many (1 to 100)")
        listing.add_argument("--all", action="store_true", help="every one, page after page")

    get = sub.add_parser("get", help="retrieve any object by its id", parents=[late])
    get.add_argument("id")

    export = sub.add_parser("export", help="write every object of a kind to a CSV, JSON lines or Parquet file")
    export.add_argument("kind", choices=LISTABLE, metavar="RESOURCE", help="customers, balance_transactions, ...")
    export.add_argument("--out", required=True, help="file to write ('-' for standard output)")
    export.add_argument(
        "--format",
        choices=("csv", "jsonl", "parquet"),
        default=None,
        help="the columns of analytics.to_frame in every format (default: from --out's suffix)",
    )

    webhook = sub.add_parser("webhook", help="webhook tools")
    wh_sub = webhook.add_subparsers(dest="action", required=True)
    verify = wh_sub.add_parser("verify", help="verify a payload (read from standard input)", parents=[late])
    verify.add_argument("--secret", required=True, action="append", help="whsec_... (repeat while rolling)")
    verify.add_argument("--signature", required=True, help="the Stripe-Signature header")
    verify.add_argument("--tolerance", type=int, default=300)
    return p


def main(argv: Sequence[str] | None = None, *, stdin: IO[Any] | None = None, stdout: TextIO | None = None) -> int:
    """Run one command; returns the exit code. ``stdin`` may be binary or text (its bytes are read)."""
    args = parser().parse_args(argv)
    out = stdout or sys.stdout
    if args.api_key is not None:
        print(KEY_WARNING, file=sys.stderr)
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
    if isinstance(exc, (StripeValueError, MissingExtraError)):
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
            show([obj], out, as_json=args.json, one=True)
            return EXIT_OK
        if args.command == "export":
            return await export(stripe, args.kind, args.out, export_format(args.format, args.out), out)
        listing = list_call(stripe, args.command)
        if args.all:
            items = [item async for item in listing(limit=100)]
        else:
            items = list((await listing(limit=args.limit)).data)
        show(items, out, as_json=args.json)
        return EXIT_OK


def list_call(stripe: AsyncStripeClient, resource: str) -> Callable[..., AsyncPaginator[Any, Any]]:
    """The one place a resource name (one of :data:`LISTABLE`) becomes its list call."""
    if resource not in LISTABLE:
        raise StripeValueError("resource", f"{resource!r} has no list call")
    target: Any = stripe
    for part in ALIASES.get(resource, resource).split("."):
        target = getattr(target, part)
    call: Callable[..., AsyncPaginator[Any, Any]] = target.list
    return call


def plain(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def show(items: list[Any], out: TextIO, *, as_json: bool, one: bool = False) -> None:
    """A table, or JSON: an array for a list (whatever its length), the object for ``one``."""
    if as_json:
        payload: Any = plain(items[0]) if one else [plain(i) for i in items]
        out.write(json.dumps(payload, indent=2) + "\n")
        return
    rows = [{k: getattr(i, k, None) for k in COLUMNS} for i in items]
    columns = [c for c in COLUMNS if any(r[c] is not None for r in rows)]
    cells = [[("" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def export_format(asked: str | None, path: str) -> str:
    """The format asked for, else the one --out's suffix names; a mismatch or a guess is an error."""
    implied = SUFFIXES.get(Path(path).suffix.lower()) if path != "-" else None
    if asked is not None and implied is not None and asked != implied:
        raise StripeValueError("format", f"--format {asked} does not match --out {path!r} (a {implied} name)")
    chosen = asked or implied or ("jsonl" if path == "-" else None)
    if chosen is None:
        raise StripeValueError("format", f"say --format csv, jsonl or parquet: {path!r} does not name one")
    return chosen


async def export(stripe: AsyncStripeClient, kind: str, path: str, fmt: str, out: TextIO) -> int:
    """Every object of a kind with a live count on standard error, in CSV, JSON lines or
    Parquet, with the columns of ``analytics.to_frame`` in every format."""
    listing = list_call(stripe, kind)
    from .analytics import to_frame, write_frame
    from .analytics._deps import need

    need("pandas")
    if fmt == "parquet":
        need("pyarrow")
        if path == "-":
            raise StripeValueError("out", "Parquet is binary: give a file name")
    frame = await to_frame(listing(limit=100), progress=True)
    write_frame(frame, out if path == "-" else path, fmt)
    return EXIT_OK


def read_bytes(stream: IO[Any]) -> bytes:
    """The bytes of a stream as sent: a text stream's binary buffer, so no newline translation
    or decoding changes what was signed."""
    data = getattr(stream, "buffer", stream).read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def verify_webhook(args: argparse.Namespace, stdin: IO[Any], out: TextIO) -> int:
    from .webhooks import construct_event

    payload = read_bytes(stdin)
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

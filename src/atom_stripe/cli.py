"""``atom-stripe``: a small command line over atom_stripe.

    atom-stripe customers list --limit 5            a table (or --json)
    atom-stripe get pi_3MtwBwLkdIwHu7ix28a3tqPa      any object by id, every field
    atom-stripe subscriptions list --status all --created-gte 2026-01-01   any list parameter
    atom-stripe export customers --format csv --out customers.csv   (csv, jsonl or parquet)
    atom-stripe webhook verify --secret whsec_... --signature "t=...,v1=..." < payload.json
    atom-stripe sync backfill --db stripe.duckdb     a local mirror (also: run, status, verify)

The key comes from ``STRIPE_API_KEY`` (``--api-key`` works, with a warning: other users see a
command line in ``ps``); ``--base-url`` (or ``STRIPE_BASE_URL``) points it at another server.

Exit codes, for scripts: 0 done; 1 Stripe refused the call (an HTTP error); 2 bad usage or
input; 3 Stripe could not be reached (connection or timeout); 4 a webhook did not verify;
5 ``sync verify`` found drift; 130 ``sync backfill`` stopped by Ctrl-C or SIGTERM (it resumes).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Literal, NoReturn, TextIO

import anyio
from typing_extensions import is_typeddict

from ._client import AsyncStripeClient
from ._errors import (
    APIConnectionError,
    APIStatusError,
    MissingExtraError,
    SignatureVerificationError,
    StripeError,
    StripeValueError,
)
from ._generated.endpoints import ENDPOINTS
from ._pagination import AsyncPaginator

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
#: id prefixes Stripe uses that its example objects do not show: ``py_`` charges (bank debits)
UNSHOWN_PREFIXES = {"py_": "charges"}


def _walk(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every object (a mapping with an ``id`` and an ``object``) in a JSON value, nested ones too."""
    if isinstance(value, Mapping):
        if isinstance(value.get("id"), str) and isinstance(value.get("object"), str):
            yield value
        for inner in value.values():
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def id_prefixes() -> dict[str, str]:
    """id prefix -> the namespace that retrieves it, from Stripe's example objects (shipped as
    ``testing/fixtures3.json``) and the table of endpoints: ``in_`` -> ``invoices``.

    An example's id gives its full prefix (``sub_sched_``) and its first part (``sub_``, kept
    only when no other object's full prefix claims it). A prefix two kinds share (``price_``:
    prices and plans) goes to the kind it names."""
    from ._generated.models import OBJECTS

    retrieves: dict[str, str] = {}
    for key, endpoint in ENDPOINTS.items():
        if key.endswith(".retrieve") and len(endpoint.ids) == 1 and endpoint.kind == "object":
            retrieves.setdefault(endpoint.result, key.removesuffix(".retrieve"))
    examples = json.loads((Path(__file__).parent / "testing" / "fixtures3.json").read_text())
    full: dict[str, set[str]] = {}
    first: dict[str, set[str]] = {}
    for obj in _walk(examples):
        kind = obj["object"]
        model = OBJECTS.get(kind) or "".join(part.title() for part in re.split(r"[._]", kind))
        namespace = retrieves.get(model)
        parts = obj["id"].split("_")[:-1]
        if namespace is None or not parts:
            continue
        full.setdefault("_".join(parts) + "_", set()).add(namespace)
        first.setdefault(parts[0] + "_", set()).add(namespace)
    found = dict(UNSHOWN_PREFIXES)
    for prefixes in (full, first):
        for prefix, namespaces in sorted(prefixes.items()):
            named = [n for n in namespaces if n.rsplit(".", 1)[-1].startswith(prefix.rstrip("_"))]
            pick = namespaces if len(namespaces) == 1 else named if len(named) == 1 else ()
            if pick and prefix not in found:
                found[prefix] = next(iter(pick))
    return found


#: id prefix -> namespace that retrieves it (longest prefix first when looking one up)
PREFIXES = id_prefixes()
#: file suffix -> export format
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
KEY_WARNING = (
    "atom-stripe: warning: a key given with --api-key is visible to other users of this machine (ps, "
    "/proc, shell history); set STRIPE_API_KEY in the environment instead"
)
COLUMNS = ("id", "object", "created", "email", "name", "amount", "currency", "status", "type", "description")


class Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a misspelt resource or command instead of the list
    of every choice."""

    def error(self, message: str) -> NoReturn:
        m = re.match(r"argument [^:]*: invalid choice: '?([^' ]*)'? \(choose from (.*)\)$", message, re.S)
        if m:
            word, choices = m.group(1), [c.strip("' ") for c in m.group(2).split(",")]
            close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(map(repr, close))}?" if close else f"see {self.prog} --help"
            message = f"unknown {word!r}: {hint}"
        super().error(message)


FILTERS_HELP = (
    "filter with any parameter of the list: --status all, --customer cus_..., --created-gte 2026-01-01 "
    "(dates are UTC), or --param key=value (repeatable; key as Stripe spells it, created[gte])"
)


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="atom-stripe",
        description="Talk to Stripe from the command line. RESOURCE list [--limit N | --all] lists any of "
        f"{len(LISTABLE)} resources: {', '.join(LISTABLE)}.",
    )
    p.add_argument(
        "--api-key", default=None, help="a secret key; prefer STRIPE_API_KEY (others see a command line in ps)"
    )
    p.add_argument("--base-url", default=os.environ.get("STRIPE_BASE_URL"), help="default: Stripe's API")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub = p.add_subparsers(dest="command", required=True, metavar="{RESOURCE,get,export,webhook,sync}")
    # --json may also come after the command (atom-stripe customers list --json).
    late = Parser(add_help=False)
    late.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")

    for name in LISTABLE:
        ns = sub.add_parser(name)  # no help line each: the description lists them
        ns_sub = ns.add_subparsers(dest="action", required=True)
        listing = ns_sub.add_parser("list", help=f"list {name}, newest first", parents=[late], epilog=FILTERS_HELP)
        listing.add_argument("--limit", type=int, default=10, help="how many (1 to 100)")
        listing.add_argument("--all", action="store_true", help="every one, page after page")
        listing.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help=FILTERS_HELP)

    get = sub.add_parser("get", help="retrieve any object by its id", parents=[late])
    get.add_argument("id")

    export = sub.add_parser(
        "export", help="write every object of a kind to a CSV, JSON lines or Parquet file", epilog=FILTERS_HELP
    )
    export.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help=FILTERS_HELP)
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
    verify.add_argument(
        "--secret", action="append", help="whsec_... (repeat while rolling); default: STRIPE_WEBHOOK_SECRET"
    )
    verify.add_argument("--signature", required=True, help="the Stripe-Signature header")
    verify.add_argument("--tolerance", type=int, default=300)

    from .sync._cli import add_parser as add_sync

    add_sync(sub, [late])
    return p


def main(argv: Sequence[str] | None = None, *, stdin: IO[Any] | None = None, stdout: TextIO | None = None) -> int:
    """Run one command; returns the exit code. ``stdin`` may be binary or text (its bytes are read)."""
    p = parser()
    args, rest = p.parse_known_args(argv)
    if rest and not (args.command == "export" or getattr(args, "action", None) == "list"):
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    out = stdout or sys.stdout
    if args.api_key is not None:
        print(KEY_WARNING, file=sys.stderr)
    try:
        if args.command == "webhook":
            return verify_webhook(args, stdin or sys.stdin, out)
        if args.command == "sync":
            from .sync._cli import run as run_sync

            return anyio.run(run_sync, args, out, lambda: AsyncStripeClient(args.api_key, base_url=args.base_url))
        args.filters = (
            filters(args.kind if args.command == "export" else args.command, [*args.param, *rest])
            if (args.command == "export" or getattr(args, "action", None) == "list")
            else {}
        )
        return anyio.run(run, args, out)
    except StripeError as exc:
        said = "Stripe said " if isinstance(exc, APIStatusError) else ""
        if isinstance(exc, APIConnectionError):
            said = f"could not reach {args.base_url or 'https://api.stripe.com'}: "
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
            prefix = max((p for p in PREFIXES if args.id.startswith(p)), key=len, default=None)
            if prefix is None:
                raise StripeValueError("id", f"no resource known for {args.id!r} (known: {', '.join(PREFIXES)})")
            obj = await namespace(stripe, PREFIXES[prefix]).retrieve(args.id)
            if args.json:
                show([obj], out, as_json=True, one=True)
            else:
                data = plain(obj)
                detail({k: data[k] for k in ("id", "object") if k in data} | data, out)
            return EXIT_OK
        if args.command == "export":
            fmt = export_format(args.format, args.out)
            return await export(stripe, args.kind, args.out, fmt, out, args.filters)
        listing = list_call(stripe, args.command)
        if args.all:
            from .analytics._frame import objects

            items = await objects(listing(limit=100, **args.filters), progress=True)
        else:
            items = list((await listing(limit=args.limit, **args.filters)).data)
        show(items, out, as_json=args.json)
        return EXIT_OK


def list_call(stripe: AsyncStripeClient, resource: str) -> Callable[..., AsyncPaginator[Any, Any]]:
    """The one place a resource name (one of :data:`LISTABLE`) becomes its list call."""
    if resource not in LISTABLE:
        raise StripeValueError("resource", f"{resource!r} has no list call")
    call: Callable[..., AsyncPaginator[Any, Any]] = namespace(stripe, ALIASES.get(resource, resource)).list
    return call


def namespace(stripe: AsyncStripeClient, dotted: str) -> Any:
    """``checkout.sessions`` -> ``stripe.checkout.sessions``."""
    target: Any = stripe
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


# -- filters: any list parameter, from the command line's strings ---------------------------


def filters(resource: str, given: Sequence[str]) -> dict[str, Any]:
    """``--status all --created-gte 2026-01-01 --param customer=cus_1`` as the list's keyword
    arguments (``{"status": "all", "created": {"gte": 1767225600}, ...}``), each name and
    value checked against the list's parameters before anything is sent."""
    endpoint = ENDPOINTS[f"{ALIASES.get(resource, resource)}.list"]
    schema = endpoint.params_type
    found: dict[str, Any] = {}
    for name, value in _pairs(given):
        path, leaf = _resolve(schema, name, resource)
        target = found
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = _coerce(leaf, value, "[".join(path) + "]" * (len(path) - 1))
    return found


def _pairs(given: Sequence[str]) -> Iterator[tuple[str, str]]:
    tokens = list(given)
    while tokens:
        token = tokens.pop(0)
        if "=" in token and not token.startswith("--"):  # from --param key=value
            key, _, value = token.partition("=")
            yield key, value
        elif token.startswith("--") and len(token) > 2:
            key, eq, value = token[2:].partition("=")
            if not eq:
                if not tokens or tokens[0].startswith("--"):
                    raise StripeValueError(key, f"--{key} needs a value")
                value = tokens.pop(0)
            yield key, value
        else:
            raise StripeValueError("param", f"{token!r} is not key=value (--param customer=cus_...)")


_LEAVES = re.compile(r"[\[.]")


def _resolve(schema: type | None, name: str, resource: str) -> tuple[list[str], Any]:
    """The parameter path of ``created-gte``, ``created[gte]`` or ``created.gte``, and its type."""
    from ._validation import fields_of

    hints = fields_of(schema)[0] if schema is not None else {}
    wanted = name.replace("]", "")
    parts = _LEAVES.split(wanted) if _LEAVES.search(wanted) else None
    if parts is None:  # created-gte: the longest parameter its words start with, then the key inside
        words = wanted.replace("-", "_").split("_")
        for cut in range(len(words), 0, -1):
            head, tail = "_".join(words[:cut]), "_".join(words[cut:])
            if head in hints and (not tail or tail in _nested_keys(hints[head])):
                parts = [head, tail] if tail else [head]
                break
        else:
            parts = [wanted.replace("-", "_")]
    tp: Any = None
    known = hints
    for depth, part in enumerate(parts):
        if part not in known:
            shown = "[".join(parts[: depth + 1]) + "]" * depth
            close = difflib.get_close_matches(part, list(known), n=3)
            hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            raise StripeValueError(
                shown, f"is not a parameter of {resource} list{hint}; its parameters: {', '.join(sorted(known))}"
            )
        tp = known[part]
        known = _nested_hints(tp)
    return parts, tp


def _members(tp: Any) -> list[Any]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(tp) for m in _members(arg)]
    return [tp]


def _nested_hints(tp: Any) -> dict[str, Any]:
    from ._validation import fields_of

    return next((fields_of(m)[0] for m in _members(tp) if is_typeddict(m)), {})


def _nested_keys(tp: Any) -> set[str]:
    return set(_nested_hints(tp))


def _coerce(tp: Any, value: str, name: str) -> Any:
    """A command-line string as the type the parameter takes: an integer (or a date, as a Unix
    timestamp at midnight UTC), true/false, or the string."""
    members = _members(tp)
    if bool in members and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if int in members:
        if re.fullmatch(r"-?\d+", value):
            return int(value)
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
            return int(when.timestamp())
        if not any(m is str or typing.get_origin(m) is Literal for m in members):
            raise StripeValueError(name, f"must be an integer or a date like 2026-01-01, not {value!r}")
    return value


def plain(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def show(items: list[Any], out: TextIO, *, as_json: bool, one: bool = False) -> None:
    """A table, or JSON: an array for a list (whatever its length), the object for ``one``."""
    if as_json:
        payload: Any = plain(items[0]) if one else [plain(i) for i in items]
        out.write(json.dumps(payload, indent=2) + "\n")
        return
    rows = [{k: shown_value(k, getattr(i, k, None)) for k in COLUMNS} for i in items]
    columns = [c for c in COLUMNS if any(r[c] is not None for r in rows)]
    cells = [[("" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


#: integer fields that hold a Unix time (besides every ``..._at``): shown with their UTC date
TIMESTAMPS = frozenset(
    [
        "created",
        "date",
        "due_date",
        "start_date",
        "period_start",
        "period_end",
        "current_period_start",
        "current_period_end",
        "trial_start",
        "trial_end",
        "billing_cycle_anchor",
        "next_payment_attempt",
        "arrival_date",
        "available_on",
        "expires",
    ]
)


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_timestamp(key: str, value: Any) -> bool:
    return (key in TIMESTAMPS or key.endswith("_at")) and type(value) is int and value > 0


def shown_value(key: str, value: Any) -> Any:
    """A table cell: a Unix time as its ISO 8601 UTC date."""
    return iso(value) if is_timestamp(key, value) else value


def detail(data: Mapping[str, Any], out: TextIO, indent: str = "") -> None:
    """One object, every field: ``key: value`` lines, nested objects and lists indented below
    their key, Unix times followed by their UTC date."""
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            out.write(f"{indent}{key}:\n")
            detail(value, out, indent + "  ")
        elif isinstance(value, list) and value and any(isinstance(v, (Mapping, list)) for v in value):
            out.write(f"{indent}{key}:\n")
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    out.write(f"{indent}  - [{i}]\n")
                    detail(item, out, indent + "    ")
                else:
                    out.write(f"{indent}  - {json.dumps(item)}\n")
        elif is_timestamp(key, value):
            out.write(f"{indent}{key}: {value} ({iso(value)})\n")
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            out.write(f"{indent}{key}: {text}\n")


def export_format(asked: str | None, path: str) -> str:
    """The format asked for, else the one --out's suffix names; a mismatch or a guess is an error."""
    implied = SUFFIXES.get(Path(path).suffix.lower()) if path != "-" else None
    if asked is not None and implied is not None and asked != implied:
        raise StripeValueError("format", f"--format {asked} does not match --out {path!r} (a {implied} name)")
    chosen = asked or implied or ("jsonl" if path == "-" else None)
    if chosen is None:
        raise StripeValueError("format", f"say --format csv, jsonl or parquet: {path!r} does not name one")
    return chosen


async def export(
    stripe: AsyncStripeClient, kind: str, path: str, fmt: str, out: TextIO, where: Mapping[str, Any] | None = None
) -> int:
    """Every object of a kind with a live count on standard error, in CSV, JSON lines or
    Parquet, with the columns of ``analytics.to_frame`` in every format."""
    listing = list_call(stripe, kind)
    from ._extras import needs_extra
    from .analytics import to_frame, write_frame

    with needs_extra("analytics"):
        import pandas  # noqa: F401 - told before the first page is fetched

        if fmt == "parquet":
            import pyarrow  # noqa: F401
    if fmt == "parquet" and path == "-":
        raise StripeValueError("out", "Parquet is binary: give a file name")
    frame = await to_frame(listing(limit=100, **(where or {})), progress=True)
    write_frame(frame, out if path == "-" else path, fmt)
    return EXIT_OK


def read_bytes(stream: IO[Any]) -> bytes:
    """The bytes of a stream as sent: a text stream's binary buffer, so no newline translation
    or decoding changes what was signed."""
    data = getattr(stream, "buffer", stream).read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def verify_webhook(args: argparse.Namespace, stdin: IO[Any], out: TextIO) -> int:
    from .webhooks import construct_event

    secrets = args.secret or [s for s in os.environ.get("STRIPE_WEBHOOK_SECRET", "").split(",") if s]
    if not secrets:
        raise StripeValueError("secret", "give --secret whsec_... or set STRIPE_WEBHOOK_SECRET")
    payload = read_bytes(stdin)
    try:
        event = construct_event(payload, args.signature, secrets, tolerance=args.tolerance)
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

"""What every namespace shares: checking input, building the wire call, paginating."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError

from .._checks import check_account, check_values
from .._encoding import flatten
from .._errors import StripeValueError
from .._pagination import AsyncPaginator, Page, SearchPage
from .._request import Requester
from ..params._options import OPTION_NAMES

M = TypeVar("M")
PageT = TypeVar("PageT", bound="Page[Any] | SearchPage[Any]")

_EXPAND_PATH = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){0,3}$")
_BAD_ID_CHARS = re.compile(r"[/?#%\s\\]")
MAX_LIMIT = 100


def check_id(name: str, value: Any) -> str:
    """A path id: a non-empty string that cannot change the URL it goes into."""
    if not isinstance(value, str) or not value:
        raise StripeValueError(name, f"must be a non-empty id string, not {type(value).__name__}")
    if _BAD_ID_CHARS.search(value) or not value.isprintable():
        raise StripeValueError(name, "must not contain '/', '?', '#', '%', '\\' or whitespace")
    return value


def check_expand(expand: Any) -> list[str]:
    if isinstance(expand, str) or not isinstance(expand, Sequence):
        raise StripeValueError("expand", "must be a list of dotted field paths, e.g. ['customer']")
    for path in expand:
        if not isinstance(path, str) or not _EXPAND_PATH.match(path):
            raise StripeValueError("expand", f"{path!r} is not a field path of at most 4 levels (a.b.c.d)")
    return list(expand)


@cache
def _adapter(schema: type) -> TypeAdapter[Any]:
    return TypeAdapter(schema)


def _param_name(loc: tuple[int | str, ...], params: Any, missing: bool) -> str:
    """Stripe's bracket name for a pydantic error location, skipping union tags."""
    parts: list[str] = []
    cursor = params
    for index, part in enumerate(loc):
        if isinstance(cursor, Mapping) and part in cursor:
            cursor = cursor[part]
        elif isinstance(cursor, (list, tuple)) and isinstance(part, int) and 0 <= part < len(cursor):
            cursor = cursor[part]
        elif not (missing and index == len(loc) - 1):
            continue
        parts.append(str(part))
    if not parts:
        return "params"
    return parts[0] + "".join(f"[{p}]" for p in parts[1:])


def check_params(schema: type, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Refuse parameters that do not fit the endpoint's typed parameters; return them normalized."""
    allowed: frozenset[str] = getattr(schema, "__required_keys__") | getattr(schema, "__optional_keys__")
    for key in params:
        if key not in allowed:
            raise StripeValueError(key, "is not a parameter of this call (pass untyped ones in extra_params=)")
    try:
        _adapter(schema).validate_python(params, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        error = max(errors, key=lambda e: len(e["loc"]))
        missing = error["type"] == "missing"
        name = _param_name(tuple(error["loc"]), params, missing)
        raise StripeValueError(name, "is required" if missing else error["msg"]) from None
    return check_values(params)


def wire_params(
    schema: type | None,
    params: Mapping[str, Any],
    *,
    expand: Sequence[str] | None = None,
    extra_params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Checked parameters, ``expand`` and ``extra_params`` merged into one mapping."""
    merged = dict(check_params(schema, params) if schema is not None else check_values(params))
    if expand is not None:
        paths = check_expand(expand)
        if paths:
            merged["expand"] = paths
    if extra_params is not None:
        if not isinstance(extra_params, Mapping):
            raise StripeValueError("extra_params", "must be a mapping of parameter names to values")
        for key, value in extra_params.items():
            if not isinstance(key, str) or not key:
                raise StripeValueError("extra_params", "keys must be non-empty strings")
            if key in merged:
                raise StripeValueError(key, "is given both as a keyword and in extra_params")
            merged[key] = value
        merged.update(check_values(extra_params))
    return merged


def check_list_params(params: Mapping[str, Any]) -> None:
    limit = params.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT):
        raise StripeValueError("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    if params.get("starting_after") is not None and params.get("ending_before") is not None:
        raise StripeValueError("starting_after", "cannot be combined with ending_before")
    for cursor in ("starting_after", "ending_before"):
        if params.get(cursor) is not None:
            check_id(cursor, params[cursor])


def split_options(args: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A call's arguments as (endpoint parameters, call options)."""
    params = dict(args)
    options = {name: params.pop(name) for name in OPTION_NAMES if name in params}
    return params, options


class Resource:
    """A namespace of endpoints on one client's settings.

    Methods take their endpoint's parameters and the call options (``expand``,
    ``extra_params``, ``stripe_account``, and on POSTs ``idempotency_key``) as keyword
    arguments, typed by a generated ``...Args`` TypedDict.
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def _call(
        self,
        method: str,
        template: str,
        cast_to: type[M] | TypeAdapter[M],
        args: Mapping[str, Any],
        *,
        schema: type | None = None,
        **ids: Any,
    ) -> M:
        """One call: ids into the path, arguments checked and encoded, the answer parsed."""
        path = template
        if ids:
            path = template.format(**{k: quote(check_id(k, v), safe="") for k, v in ids.items()})
        params, options = split_options(args)
        merged = wire_params(schema, params, expand=options.get("expand"), extra_params=options.get("extra_params"))
        return await self._requester.request(
            method,
            path,
            cast_to,
            pairs=flatten(merged),
            template=template,
            idempotency_key=options.get("idempotency_key"),
            stripe_account=check_account(options.get("stripe_account")),
        )

    def _paginate(
        self, template: str, page_type: type[PageT], schema: type, args: Mapping[str, Any]
    ) -> AsyncPaginator[Any, PageT]:
        """A list or search: checked now, fetched when awaited or iterated."""
        params, options = split_options(args)
        if options.get("idempotency_key") is not None:
            raise StripeValueError("idempotency_key", "only POSTs take one; lists and searches are reads")
        merged = wire_params(schema, params, expand=options.get("expand"), extra_params=options.get("extra_params"))
        check_list_params(merged)
        account = check_account(options.get("stripe_account"))
        requester = self._requester

        async def fetch(wire: Mapping[str, Any]) -> PageT:
            page = await requester.request(
                "GET", template, page_type, pairs=flatten(wire), template=template, stripe_account=account
            )
            page._fetch = fetch
            page._params = wire
            return page

        return AsyncPaginator(fetch, merged)

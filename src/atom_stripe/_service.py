"""What every generated namespace shares: checking a call, building it from its table row,
sending it, paginating it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ._checks import amounts_signed, check_account, check_id, check_one_of, check_values
from ._encoding import flatten, without
from ._endpoint import Endpoint
from ._errors import StripeValueError
from ._options import OPTION_NAMES
from ._pagination import AsyncPaginator
from ._params import checked_params
from ._request import Requester

_EXPAND_PATH = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){0,3}$")
MAX_LIMIT = 100


def check_expand(expand: Any) -> list[str]:
    if isinstance(expand, str) or not isinstance(expand, Sequence):
        raise StripeValueError("expand", "must be a list of dotted field paths, e.g. ['customer']")
    for path in expand:
        if not isinstance(path, str) or not _EXPAND_PATH.match(path):
            raise StripeValueError("expand", f"{path!r} is not a field path of at most 4 levels (a.b.c.d)")
    return list(expand)


def wire_params(
    schema: type | None,
    params: Mapping[str, Any],
    *,
    expand: Sequence[str] | None = None,
    extra_params: Mapping[str, Any] | None = None,
    signed: bool = False,
) -> dict[str, Any]:
    """Checked parameters, ``expand`` and ``extra_params`` merged into one mapping.

    ``signed``: amounts may be negative (credits, reversals; see ``_checks.amounts_signed``)."""
    # Amounts, currencies and metadata first: their messages teach more than the type check's
    # (a Decimal amount is told about minor units and atom_stripe.money, not just "an integer").
    checked = check_values(params, signed=signed)
    if schema is not None:
        omitted = checked_params(schema, params)
        if omitted is not None:  # empty mappings Stripe takes no ``key=`` for (see _params)
            checked = without(checked, omitted)
    elif params:
        raise StripeValueError(
            next(iter(params)), "is not a parameter of this call (pass untyped ones in extra_params=)"
        )
    merged = dict(checked)
    if expand is not None:
        paths = check_expand(expand)
        if paths:
            merged["expand"] = paths
    if extra_params is not None:
        if not isinstance(extra_params, Mapping):
            raise StripeValueError("extra_params", "must be a mapping of parameter names to values")
        for key in extra_params:
            if not isinstance(key, str) or not key:
                raise StripeValueError("extra_params", "keys must be non-empty strings")
            if key in merged:
                raise StripeValueError(key, "is given both as a keyword and in extra_params")
        merged.update(check_values(extra_params, signed=signed))
    return merged


def check_list_params(params: Mapping[str, Any]) -> None:
    # A list's own fields expand nothing: its items do, under ``data.`` (and ``total_count`` is
    # refused since 2025-03-31.basil: docs.stripe.com/changelog/basil/2025-03-31/deprecate-total-count-expansion).
    for path in params.get("expand", ()):
        if not path.startswith("data."):
            raise StripeValueError("expand", f"{path!r} is not a field of the items: on a list, expand 'data.{path}'")
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


def fill_path(endpoint: Endpoint, ids: Sequence[Any]) -> str:
    """The endpoint's path with its ids checked and put in."""
    if len(ids) != len(endpoint.ids):
        raise StripeValueError("ids", f"{endpoint.path} takes {len(endpoint.ids)} id(s), got {len(ids)}")
    if not ids:
        return endpoint.path
    return endpoint.path.format(**{k: _path_part(k, v) for k, v in zip(endpoint.ids, ids, strict=True)})


#: An id of letters, digits, ``_`` and ``-`` (Stripe's own ``cus_...``): fit, and unchanged by quoting.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")


def _path_part(name: str, value: Any) -> str:
    if type(value) is str and _PLAIN_ID.fullmatch(value):
        return value
    return quote(check_id(name, value), safe="")


class Service:
    """A namespace of endpoints on one client's settings.

    Methods take their path ids positionally, then their endpoint's parameters and the call
    options (``expand``, ``extra_params``, ``stripe_account``, and on POSTs
    ``idempotency_key``) as keyword arguments, typed by a generated ``...Args`` TypedDict.
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def _checked(
        self, endpoint: Endpoint, args: Mapping[str, Any], ids: Sequence[str]
    ) -> tuple[str, dict[str, Any], dict[str, Any], str | None]:
        """A call's path, checked parameters, options and account, before anything is sent."""
        path = fill_path(endpoint, ids)
        if not args and not endpoint.params:
            return path, {}, {}, None  # nothing but ids (a retrieve, a delete): nothing else to check
        params, options = split_options(args)
        if endpoint.method != "POST" and options.get("idempotency_key") is not None:
            raise StripeValueError("idempotency_key", "only POSTs take one (GETs and DELETEs are safe to repeat)")
        merged = wire_params(
            endpoint.params_type,
            params,
            expand=options.get("expand"),
            extra_params=options.get("extra_params"),
            signed=amounts_signed(endpoint.path),
        )
        return path, merged, options, check_account(options.get("stripe_account"))

    async def _call(self, endpoint: Endpoint, args: Mapping[str, Any], *ids: str) -> Any:
        """One call: ids into the path, arguments checked and encoded, the answer parsed."""
        if endpoint.path.startswith("/v2/"):
            from ._v2 import v2_call

            return await v2_call(self._requester, endpoint, args, ids)
        path, merged, options, account = self._checked(endpoint, args, ids)
        check_one_of(endpoint.method, endpoint.path, merged)
        requester = self._requester
        if endpoint.kind == "bytes" or endpoint.host == "files":
            from ._raw import files_call

            return await files_call(
                requester,
                endpoint,
                path,
                merged,
                idempotency_key=options.get("idempotency_key"),
                stripe_account=account,
            )
        return await requester.request(
            endpoint.method,
            path,
            endpoint.result_type,
            pairs=flatten(merged),
            template=endpoint.path,
            idempotency_key=options.get("idempotency_key"),
            stripe_account=account,
        )

    def _list(self, endpoint: Endpoint, args: Mapping[str, Any], *ids: str) -> AsyncPaginator[Any, Any]:
        """A list or search: checked now, fetched when awaited or iterated."""
        if endpoint.path.startswith("/v2/"):
            from ._v2 import v2_list

            return v2_list(self._requester, endpoint, args, ids)
        path, merged, _, account = self._checked(endpoint, args, ids)
        check_list_params(merged)
        requester = self._requester
        page_type = endpoint.result_type
        template = endpoint.path
        method = endpoint.method

        async def fetch(wire: Mapping[str, Any]) -> Any:
            page = await requester.request(
                method, path, page_type, pairs=flatten(wire), template=template, stripe_account=account
            )
            page._fetch = fetch
            page._params = wire
            return page

        return AsyncPaginator(fetch, merged)

"""What every generated namespace shares: checking a call, building it from its table row,
sending it, paginating it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ._encoding import flatten
from ._endpoint import Endpoint
from ._errors import StripeValueError
from ._options import OPTION_NAMES
from ._pagination import AsyncPaginator
from ._request import Requester
from ._validation import (
    amounts_signed,
    check_account,
    check_id,
    check_keyed_method,
    check_list_params,
    check_one_of,
    wire_params,
)


def split_options(
    args: Mapping[str, Any], names: Sequence[str] = OPTION_NAMES
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A call's arguments as (endpoint parameters, call options: v1's ``names`` by default)."""
    params = dict(args)
    options = {name: params.pop(name) for name in names if name in params}
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
        check_keyed_method(endpoint.method, options.get("idempotency_key"))
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
            from ._files import files_call

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

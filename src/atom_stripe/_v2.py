"""Stripe's v2 wire rules, as stripe-python 16 sends them (``_api_requestor.py``):

- POST bodies are JSON (``Content-Type: application/json``), ``{}`` when there are no parameters;
- GET and DELETE parameters go in the query, encoded as for v1 (``key[0]=a``, ``key[sub]=b``);
- POST and DELETE carry an ``Idempotency-Key`` (one per call, reused on every retry);
- ``Stripe-Context`` (the ``stripe_context=`` option) names the account context to act in;
- ``Stripe-Version`` is the client's API version, as for v1;
- some parameters travel as strings (``_generated.v2_encodings``: int64 and decimal values);
- lists are followed by their ``next_page_url``;
- the meter event stream goes to its own host (``meter_events_base_url``) and answers 202 with no body.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._encoding import flatten
from ._errors import StripeValueError
from ._request import Requester, new_idempotency_key
from ._service import split_options
from ._validation import (
    amounts_signed,
    check_account,
    check_keyed_method,
    is_loopback,
    wire_params,
)

if TYPE_CHECKING:  # loaded by the first call (the client itself imports this module for its settings)
    from ._endpoint import Endpoint
    from ._pagination import AsyncPaginator

#: The options a v2 call takes (v2 has no ``expand``).
V2_OPTIONS = ("extra_params", "stripe_account", "stripe_context", "idempotency_key")


def check_context(value: Any) -> str | None:
    """``stripe_context=``: an account id or a ``/``-separated path of them (``acct_1/acct_2``)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or not value.isascii() or not value.isprintable() or " " in value:
        raise StripeValueError("stripe_context", "must be a context such as 'acct_123' or 'acct_123/acct_456'")
    return value


def v2_settings(api_key: str, meter_events_base_url: str | None, stripe_context: str | None) -> dict[str, Any]:
    """The client's v2 settings: the meter events host (checked like ``base_url``) and a context."""
    from ._constants import DEFAULT_METER_EVENTS_BASE_URL

    url = (meter_events_base_url or DEFAULT_METER_EVENTS_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise StripeValueError("meter_events_base_url", "must be an http(s) URL with a host")
    live = isinstance(api_key, str) and api_key.startswith(("sk_live_", "rk_live_"))
    if parts.scheme == "http" and live and not is_loopback(parts.hostname):
        raise StripeValueError("meter_events_base_url", "a live key is only sent over https (or to a loopback host)")
    return {"meter_events_base_url": url, "stripe_context": check_context(stripe_context)}


def v2_params(endpoint: Endpoint, args: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A v2 call's checked parameters (ready for the wire) and its options; nothing sent yet."""
    schema = endpoint.params_type
    if not args and (schema is None or not getattr(schema, "__required_keys__", ())):
        return {}, {"stripe_account": None, "stripe_context": None}  # a retrieve by id: nothing to check
    params, options = split_options(args, V2_OPTIONS)
    if "expand" in params:
        raise StripeValueError("expand", "v2 endpoints expand nothing (their answers name related objects by id)")
    check_keyed_method(endpoint.method, options.get("idempotency_key"), ("POST", "DELETE"))
    checked = wire_params(
        schema,
        params,
        extra_params=options.get("extra_params"),
        signed=amounts_signed(endpoint.path),
        json=True,
    )
    encoding = _encodings().get((endpoint.method, endpoint.path))
    if encoding is not None:
        checked = _coerce(checked, encoding)
    options["stripe_account"] = check_account(options.get("stripe_account"))
    options["stripe_context"] = check_context(options.get("stripe_context"))
    return checked, options


def json_body(params: Mapping[str, Any]) -> tuple[bytes, str]:
    """A v2 POST's body: the parameters as JSON."""
    try:
        text = json.dumps(params, default=_json_value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StripeValueError("params", f"cannot be sent as JSON: {exc}") from None
    return text.encode(), "application/json"


def _json_value(value: Any) -> Any:
    # stripe-python's _make_suitable_for_json: datetimes as Unix seconds, Decimals as strings.
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


@cache
def _encodings() -> dict[tuple[str, str], Any]:
    from ._generated.endpoints import ENDPOINTS
    from ._generated.v2_encodings import ENCODINGS

    return {(ENDPOINTS[name].method, ENDPOINTS[name].path): schema for name, schema in ENCODINGS.items()}


def _coerce(value: Any, schema: Any) -> Any:
    """stripe-python's ``_coerce_v2_params``: int64 and decimal fields sent as JSON strings."""
    if value is None:
        return None
    if isinstance(schema, dict):
        if isinstance(value, Mapping):
            return {k: _coerce(v, schema[k]) if k in schema else v for k, v in value.items()}
        if isinstance(value, list):
            return [_coerce(item, schema) if isinstance(item, Mapping) else item for item in value]
        return value
    if isinstance(value, list):
        return [_coerce(item, schema) for item in value]
    number = (int,) if schema == "int64_string" else (int, float, Decimal)
    return str(value) if isinstance(value, number) and not isinstance(value, bool) else value


def _requester(requester: Requester, context: str | None) -> Requester:
    return requester if context is None else requester.evolve(stripe_context=context)


async def v2_call(requester: Requester, endpoint: Endpoint, args: Mapping[str, Any], ids: Sequence[str]) -> Any:
    """One v2 call (not a list): checked, encoded by v2's rules, sent, its answer parsed."""
    from ._service import fill_path

    path = fill_path(endpoint, ids)
    params, options = v2_params(endpoint, args)
    requester = _requester(requester, options["stripe_context"])
    method = endpoint.method
    key = options.get("idempotency_key")
    if method == "DELETE" and key is None:
        key = new_idempotency_key()
    body = json_body(params) if method == "POST" else None
    pairs = flatten(params) if body is None else ()
    base_url = requester.settings.meter_events_base_url if endpoint.host == "meter_events" else None
    if endpoint.kind == "none":
        await requester.send(
            method,
            path,
            pairs=pairs,
            template=endpoint.path,
            idempotency_key=key,
            stripe_account=options["stripe_account"],
            base_url=base_url,
            body=body,
        )
        return None
    return await requester.request(
        method,
        path,
        endpoint.result_type,
        pairs=pairs,
        template=endpoint.path,
        idempotency_key=key,
        stripe_account=options["stripe_account"],
        base_url=base_url,
        body=body,
    )


def v2_list(
    requester: Requester, endpoint: Endpoint, args: Mapping[str, Any], ids: Sequence[str]
) -> AsyncPaginator[Any, Any]:
    """A v2 list: checked now, fetched when awaited or iterated, each next page at ``next_page_url``."""
    from ._pagination import AsyncPaginator
    from ._service import fill_path

    path = fill_path(endpoint, ids)
    params, options = v2_params(endpoint, args)
    requester = _requester(requester, options["stripe_context"])
    account = options["stripe_account"]
    page_type = endpoint.result_type

    async def fetch(wire: Mapping[str, Any]) -> Any:
        page = await requester.request(
            "GET", path, page_type, pairs=flatten(wire), template=endpoint.path, stripe_account=account
        )
        page._fetch = fetch
        page._params = wire
        return page

    return AsyncPaginator(fetch, params)

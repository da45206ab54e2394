"""A call's parameters as a whole: its typed parameters and values merged with ``expand`` and
``extra_params`` (:func:`wire_params`), and the rules of lists, of the escape hatch
(``client.request``) and of a file upload's ``file=``."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._encoding import without
from .._errors import StripeValueError
from ._params import checked_params
from ._values import check_id, check_values

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
    json: bool = False,
) -> dict[str, Any]:
    """Checked parameters, ``expand`` and ``extra_params`` merged into one mapping.

    ``signed``: amounts may be negative (credits, reversals; see ``amounts_signed``).
    ``json``: the body is JSON (v2), which carries empty objects as they are; form encoding (v1)
    leaves out the empty mappings Stripe takes no ``key=`` for."""
    # Amounts, currencies and metadata first: their messages teach more than the type check's
    # (a Decimal amount is told about minor units and atom_stripe.money, not just "an integer").
    checked = check_values(params, signed=signed)
    if schema is not None:
        omitted = checked_params(schema, params)
        if omitted is not None and not json:  # empty mappings Stripe takes no ``key=`` for (see ._params)
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


def check_keyed_method(method: str, idempotency_key: Any, keyed: tuple[str, ...] = ("POST",)) -> None:
    """``idempotency_key`` only on the methods that take one: v1's POSTs, v2's POSTs and DELETEs."""
    if idempotency_key is not None and method not in keyed:
        takes = " and ".join(f"{m}s" for m in METHODS if m in keyed)
        safe = " and ".join(f"{m}s" for m in METHODS if m not in keyed)
        raise StripeValueError("idempotency_key", f"only {takes} take one ({safe} are safe to repeat)")


METHODS = ("GET", "POST", "DELETE")
#: An API path: printable ASCII segments, no query, fragment, escapes or backslashes.
_API_PATH = re.compile(r"/v[12](/[A-Za-z0-9_.\-~:@!$&'()*+,;=]+)+")


def check_raw_call(method: Any, path: Any, params: Any, cast_to: Any) -> tuple[str, Mapping[str, Any]]:
    """``client.request(...)``'s arguments: the method upper-cased and the checked parameters."""
    method = method.upper() if isinstance(method, str) else method
    if method not in METHODS:
        raise StripeValueError("method", f"must be one of {', '.join(METHODS)}")
    if not isinstance(path, str) or not _API_PATH.fullmatch(path) or "/./" in path + "/" or "/../" in path + "/":
        raise StripeValueError(
            "path", "must be an API path such as '/v1/customers/cus_123' (no query, escapes or dot segments)"
        )
    if params is not None and not isinstance(params, Mapping):
        raise StripeValueError("params", "must be a mapping of parameter names to values")
    if params is not None and not all(isinstance(key, str) and key for key in params):
        raise StripeValueError("params", "keys must be non-empty strings")
    if cast_to is not None and not (
        (isinstance(cast_to, type) and hasattr(cast_to, "model_validate_json")) or hasattr(cast_to, "validate_json")
    ):
        raise StripeValueError("cast_to", "must be a model class (e.g. atom_stripe.models.Customer) or a TypeAdapter")
    params = check_values(params or {}, signed=True)  # the escape hatch: no per-endpoint sign rule
    return method, params


def check_upload(upload: Any) -> Any:
    """``file=``: bytes, an open binary file, or (filename, bytes or binary file[, content type])."""
    usage = "must be bytes, an open binary file (open(path, 'rb')), or (filename, content[, content_type])"
    if isinstance(upload, (bytes, bytearray)):
        return ("upload", bytes(upload))
    if _binary_file(upload):
        return upload
    if isinstance(upload, tuple) and 2 <= len(upload) <= 3:
        name, content, *kind = upload
        if (
            isinstance(name, str)
            and (isinstance(content, (bytes, bytearray)) or _binary_file(content))
            and all(isinstance(k, str) for k in kind)
        ):
            return (name, bytes(content) if isinstance(content, bytearray) else content, *kind)
    if upload is None:
        raise StripeValueError("file", "is required: " + usage.removeprefix("must be "))
    raise StripeValueError("file", f"{usage}, not {type(upload).__name__}")


def _binary_file(value: Any) -> bool:
    return callable(getattr(value, "read", None)) and not isinstance(value, io.TextIOBase)

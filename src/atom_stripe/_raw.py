"""Calls outside the form-encoded JSON mould: the escape hatch (``client.request``), file
uploads (multipart, to the files host) and binary downloads (``quotes.pdf``)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any

from ._checks import check_account, check_values
from ._encoding import flatten
from ._endpoint import Endpoint
from ._errors import StripeValueError
from ._request import Requester, new_idempotency_key

METHODS = ("GET", "POST", "DELETE")
#: An API path: printable ASCII segments, no query, fragment, escapes or backslashes.
_API_PATH = re.compile(r"/v[12](/[A-Za-z0-9_.\-~:@!$&'()*+,;=]+)+")


async def raw_request(
    requester: Requester,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None,
    cast_to: Any,
    idempotency_key: str | None,
    stripe_account: str | None,
) -> Any:
    """``client.request(...)``: any endpoint, through the same pipeline."""
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
    body: tuple[bytes, str] | None = None
    pairs: list[tuple[str, str]] = []
    if path.startswith("/v2/") and method == "POST":
        try:
            body = (json.dumps(params, allow_nan=False).encode(), "application/json")
        except (TypeError, ValueError) as exc:
            raise StripeValueError("params", f"cannot be sent as JSON: {exc}") from None
    else:
        pairs = flatten(params)
    if path.startswith("/v2/") and method == "DELETE" and idempotency_key is None:
        idempotency_key = new_idempotency_key()  # v2 takes one on DELETE too, as stripe-python sends
    if cast_to is None:
        from ._models import StripeObject

        cast_to = StripeObject
    return await requester.request(
        method,
        path,
        cast_to,
        pairs=pairs,
        template=path,
        idempotency_key=idempotency_key,
        stripe_account=check_account(stripe_account),
        body=body,
    )


async def files_call(
    requester: Requester,
    endpoint: Endpoint,
    path: str,
    params: Mapping[str, Any],
    *,
    idempotency_key: str | None,
    stripe_account: str | None,
) -> Any:
    """An upload (multipart/form-data) or a download (bytes) on the files host."""
    base_url = requester.settings.files_base_url
    if endpoint.kind == "bytes":
        response = await requester.send(
            endpoint.method,
            path,
            pairs=flatten(params),
            template=endpoint.path,
            stripe_account=stripe_account,
            base_url=base_url,
        )
        return response.content
    return await requester.request(
        endpoint.method,
        path,
        endpoint.result_type,
        template=endpoint.path,
        idempotency_key=idempotency_key,
        stripe_account=stripe_account,
        base_url=base_url,
        body=multipart(params),
    )


def multipart(params: Mapping[str, Any]) -> tuple[bytes, str]:
    """The parameters as a multipart/form-data body: ``file`` as the file part, the rest as fields."""
    import httpx

    fields = dict(params)
    upload = _upload(fields.pop("file", None))
    try:
        request = httpx.Request("POST", "https://files.invalid/", data=dict(flatten(fields)), files={"file": upload})
        content = request.read()
    except (OSError, ValueError, TypeError) as exc:
        raise StripeValueError("file", f"could not be read: {type(exc).__name__}") from exc
    return content, request.headers["content-type"]


def _upload(upload: Any) -> Any:
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

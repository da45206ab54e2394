"""The escape hatch: ``client.request(method, path, ...)``, any endpoint through the same
pipeline (checks, retries, hooks), JSON bodies for ``/v2`` POSTs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._encoding import flatten
from ._errors import StripeValueError
from ._request import Requester, new_idempotency_key
from ._validation import check_account, check_raw_call


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
    method, params = check_raw_call(method, path, params, cast_to)
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
        from .models._base import StripeObject

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

"""Calls on the files host: uploads (multipart/form-data, ``files.create``) and binary
downloads (``quotes.pdf``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._encoding import flatten
from ._endpoint import Endpoint
from ._errors import StripeValueError
from ._request import Requester
from ._validation import check_upload


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
    upload = check_upload(fields.pop("file", None))
    try:
        request = httpx.Request("POST", "https://files.invalid/", data=dict(flatten(fields)), files={"file": upload})
        content = request.read()
    except (OSError, ValueError, TypeError) as exc:
        raise StripeValueError("file", f"could not be read: {type(exc).__name__}") from exc
    return content, request.headers["content-type"]

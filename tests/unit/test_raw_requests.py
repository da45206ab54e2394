"""The escape hatch (``client.request``) and file uploads: what they refuse before sending, what
they send, and answers parsed inside the retry loop like every typed call."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import AsyncStripeClient, StripeValueError

from ..helpers import examples, form

FX = examples()


@pytest.mark.parametrize(
    "upload",
    [1, {"a": 1}, ["x"], object(), io.StringIO("text"), ("only-a-name",), ("a", "text"), ("a", b"x", 1), "path.txt"],
)
async def test_odd_uploads_are_refused_before_sending(
    api: respx.MockRouter, client: AsyncStripeClient, upload: Any
) -> None:
    with pytest.raises(StripeValueError) as caught:
        await client.files.create(file=upload, purpose="dispute_evidence")
    assert caught.value.param == "file"


async def test_uploads_of_each_accepted_form(client: AsyncStripeClient) -> None:
    with respx.mock(using="httpx") as router:
        route = router.post("https://files.stripe.com/v1/files").respond(200, json=FX["file"])
        for upload in (b"%PDF", bytearray(b"%PDF"), io.BytesIO(b"%PDF"), ("a.pdf", b"%PDF", "application/pdf")):
            await client.files.create(file=upload, purpose="dispute_evidence")
    assert all(b"%PDF" in call.request.content for call in route.calls) and route.call_count == 4


@pytest.mark.parametrize(
    ("args", "param"),
    [
        (("GET", "/v1/customers/\tx"), "path"),
        (("GET", "/v1/customers/%2e%2e/balance"), "path"),
        (("GET", "/v1/customers/\x00"), "path"),
        (("GET", "/v1/customers/cus_1?expand=x"), "path"),
        (("POST", "/v1/customers", {1: "b"}), "params"),
    ],
)
async def test_the_escape_hatch_refuses_what_it_cannot_send(
    client: AsyncStripeClient, args: tuple[Any, ...], param: str
) -> None:
    method, path, *rest = args
    with pytest.raises(StripeValueError) as caught:
        await client.request(method, path, params=rest[0] if rest else None)
    assert caught.value.param == param


async def test_the_escape_hatch_refuses_a_cast_to_that_is_no_model(client: AsyncStripeClient) -> None:
    for cast_to in (int, "Customer"):
        with pytest.raises(StripeValueError) as caught:
            await client.request("GET", "/v1/customers/cus_1", cast_to=cast_to)  # type: ignore[arg-type]
        assert caught.value.param == "cast_to"


async def test_the_escape_hatch_takes_credits(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    route = api.post("/v1/preview/credits").respond(200, json={"object": "credit", "amount": -5})
    await client.request("POST", "/v1/preview/credits", params={"amount": -5, "currency": "usd"})
    assert ("amount", "-5") in form(route.calls[0].request)


async def test_the_escape_hatch_and_uploads_parse_inside_the_retry_loop(
    api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    """A damaged 2xx body is asked again under the same key, as for every typed call."""
    route = api.post("/v1/preview/things").mock(
        side_effect=[httpx.Response(200, content=b"<html>proxy"), httpx.Response(200, json={"id": "t_1"})]
    )
    thing = await client.request("POST", "/v1/preview/things", params={"size": 1})
    assert thing.model_extra == {"id": "t_1"} and route.call_count == 2
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert len(keys) == 1
    with respx.mock(using="httpx") as router:
        upload = router.post("https://files.stripe.com/v1/files").mock(
            side_effect=[httpx.Response(200, content=b"{oops"), httpx.Response(200, json=FX["file"])]
        )
        made = await client.files.create(file=b"%PDF", purpose="dispute_evidence")
    assert made.id == FX["file"]["id"] and upload.call_count == 2

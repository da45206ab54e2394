"""Cheap guards on what makes atom_stripe fast (counts, not timings)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
import respx
from pydantic import model_validator

from atom_stripe import APIResponseError, AsyncStripeClient, NotFoundError, StripeValueError
from atom_stripe._validation import _params
from atom_stripe.models import Customer, Page, StripeObject

from ..helpers import serve_asgi


def page(start: int, size: int, total: int) -> httpx.Response:
    ids = range(start, min(start + size, total))
    return httpx.Response(
        200,
        json={
            "object": "list",
            "url": "/v1/customers",
            "has_more": start + size < total,
            "data": [{"id": f"cus_{i}", "object": "customer"} for i in ids],
        },
    )


async def test_auto_pagination_makes_one_request_per_page_and_runs_at_most_one_ahead(
    client: AsyncStripeClient, api: respx.MockRouter
) -> None:
    consumed_pages = 0
    ahead: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")
        start = 0 if after is None else int(after.removeprefix("cus_")) + 1
        ahead.append(start // 100 - consumed_pages)
        return page(start, 100, 1050)

    route = api.get("/v1/customers").mock(side_effect=answer)
    seen = 0
    async for _ in client.customers.list(limit=100):
        if seen % 100 == 0:
            consumed_pages = seen // 100
        seen += 1
    assert seen == 1050
    assert route.call_count == 11
    assert max(ahead) <= 1


async def test_each_answer_is_parsed_once_and_nothing_is_rebuilt_per_call(
    client: AsyncStripeClient, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post("/v1/customers").mock(return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"}))
    api.get("/v1/customers").mock(return_value=page(0, 5, 5))
    await client.customers.create(email="warm@example.com")
    await client.customers.list(limit=5)
    schemas = dict(_params._schemas)
    page_class = Page[Customer]
    parses = 0
    original = Customer.model_validate_json

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal parses
        parses += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(Customer, "model_validate_json", counting)
    for _ in range(20):
        await client.customers.create(email="a@example.com")
        await client.customers.list(limit=5)
    assert parses == 20  # one parse per create; the list items are parsed inside their page
    assert _params._schemas.keys() == schemas.keys()  # parameter annotations resolved once
    assert all(_params._schemas[k] is v for k, v in schemas.items())
    assert Page[Customer] is page_class  # the page model is not re-made per call


async def test_the_default_client_skips_httpx_client_layer(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.get("/v1/customers/cus_1").mock(return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"}))

    async def no_send(*args: Any, **kwargs: Any) -> httpx.Response:
        raise AssertionError("AsyncClient.send is not on the hot path of a client that owns its pool")

    async with AsyncStripeClient("sk_test_x") as stripe:
        monkeypatch.setattr(stripe.http_client, "send", no_send)
        assert (await stripe.customers.retrieve("cus_1")).id == "cus_1"


def test_import_loads_pydantic_but_no_models_no_aiohttp_no_backoff() -> None:
    """pydantic's model machinery comes with the client (every call parses into a model: the
    first call does not pay for it); the models, aiohttp, backoff and asyncio come with their
    first use. ``import atom_stripe`` alone loads neither (tests/fake/test_fake_plugin.py). The model
    base (``atom_stripe.models._base``) comes with the client; the models' index does not."""
    code = (
        "import sys, atom_stripe; atom_stripe.AsyncStripeClient('sk_test_x'); "
        "print(sorted(m for m in ('aiohttp', 'backoff', 'atom_stripe._generated.models', 'atom_stripe.models.event', "
        "'pydantic.main', 'asyncio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "['pydantic.main']"


def test_verifying_a_signature_loads_no_event_models_until_an_event_is_parsed() -> None:
    """A receiver that only checks signatures (the local mirror's, ``sync status``) does not pay
    for the event models (some 0.4 s); ``construct_event`` loads them for its first parse."""
    code = (
        "import sys, json; from atom_stripe import webhooks; "
        "body = json.dumps({'id': 'evt_1', 'object': 'event', 'type': 'customer.created', "
        "'data': {'object': {'id': 'cus_1', 'object': 'customer'}}}); "
        "header = webhooks.generate_test_header(body, 'whsec_x'); "
        "webhooks.verify_event_json(body, header, 'whsec_x'); "
        "before = 'atom_stripe.models.event' in sys.modules; "
        "webhooks.construct_event(body, header, 'whsec_x'); "
        "print(before, 'atom_stripe.models.event' in sys.modules, webhooks.CustomerEvent.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False True CustomerEvent"  # the names it held before are still there


def _stripe_app(fixtures: dict[str, Any]) -> Any:
    """A loopback Stripe for the fast path: a customer, its list, and a 404 with a request id."""
    customer = json.dumps({**fixtures["customer"], "id": "cus_1"}).encode()
    listing = json.dumps({"object": "list", "url": "/v1/customers", "has_more": False, "data": []}).encode()
    missing = json.dumps({"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such"}})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        path, status, body = scope["path"], 200, customer
        if path == "/v1/customers" and scope["method"] == "GET":
            body = listing
        elif path == "/v1/customers/cus_missing":
            status, body = 404, missing.encode()
        headers = [(b"content-type", b"application/json"), (b"request-id", b"req_guard")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the aiohttp fast path is asyncio's
async def test_a_plain_2xx_over_aiohttp_makes_no_httpx_request_or_response(
    fixtures: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    request_init, response_init = httpx.Request.__init__, httpx.Response.__init__

    def counting_request(self: httpx.Request, *args: Any, **kwargs: Any) -> None:
        made.append("Request")
        request_init(self, *args, **kwargs)

    def counting_response(self: httpx.Response, *args: Any, **kwargs: Any) -> None:
        made.append("Response")
        response_init(self, *args, **kwargs)

    with serve_asgi(_stripe_app(fixtures)) as url:
        async with AsyncStripeClient("sk_test_x", base_url=url, max_retries=0) as stripe:
            await stripe.customers.retrieve("cus_1")  # warm: the transport and the schemas
            monkeypatch.setattr(httpx.Request, "__init__", counting_request)
            monkeypatch.setattr(httpx.Response, "__init__", counting_response)
            assert (await stripe.customers.retrieve("cus_1")).id == "cus_1"
            assert (await stripe.customers.create(email="a@example.com")).id == "cus_1"
            assert len((await stripe.customers.list(limit=3)).data) == 0
            assert made == []
            # An error answer still carries the httpx request and response it always had.
            with pytest.raises(NotFoundError) as caught:
                await stripe.customers.retrieve("cus_missing")
            assert caught.value.request_id == "req_guard"
            assert caught.value.response.request.url.path == "/v1/customers/cus_missing"
            assert sorted(set(made)) == ["Request", "Response"]


async def test_respx_httpx_mode_still_sees_every_request(api: respx.MockRouter) -> None:
    """respx's "httpx" mode patches httpx's transport lookup: the fast path must step aside."""
    route = api.get("/v1/customers/cus_1").mock(
        return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"})
    )
    async with AsyncStripeClient("sk_test_x") as stripe:
        assert (await stripe.customers.retrieve("cus_1")).id == "cus_1"
    assert route.call_count == 1
    assert route.calls.last.request.headers["Authorization"] == "Bearer sk_test_x"


def test_objects_of_one_type_share_their_set_of_sent_fields_until_one_changes() -> None:
    a = Customer.model_validate({"id": "cus_a", "object": "customer", "address": {"city": "Paris"}})
    b = Customer.model_validate({"id": "cus_b", "object": "customer", "address": {"city": "Lyon"}})
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__  # one set, not one per object
    assert a.address is not None and b.address is not None
    assert a.address.__pydantic_fields_set__ is b.address.__pydantic_fields_set__
    b.email = "b@example.com"
    assert b.model_fields_set == {"id", "object", "address", "email"}
    assert a.model_fields_set == {"id", "object", "address"}
    copied = a.model_copy(update={"name": "A"})
    assert copied.model_fields_set == {"id", "object", "address", "name"}
    assert a.model_fields_set == {"id", "object", "address"}
    del b.email
    assert a.model_dump(exclude_unset=True) == {"id": "cus_a", "object": "customer", "address": {"city": "Paris"}}


def test_types_of_under_five_fields_pay_no_call_per_object_and_still_work() -> None:
    from atom_stripe.models import CustomerInvoiceSettingsRenderingOptions

    small = CustomerInvoiceSettingsRenderingOptions
    assert len(small.model_fields) < 5 and small.__pydantic_post_init__ is None
    assert Customer.__pydantic_post_init__ == "model_post_init"
    a = small.model_validate({"template": "inrtem_1"})
    b = small.model_validate({"template": "inrtem_2"})
    assert a.__pydantic_fields_set__ is not b.__pydantic_fields_set__
    b.amount_tax_display = "exclude_tax"
    assert a.model_fields_set == {"template"} and b.model_fields_set == {"template", "amount_tax_display"}
    page = Page[Customer].model_validate({"object": "list", "data": [], "has_more": False, "url": "/v1/customers"})
    assert page.__pydantic_private__ is not None  # pages keep their private state (few fields, own post-init)


def test_respx_active_when_atom_stripe_is_first_imported_still_sees_every_request() -> None:
    code = """
import asyncio, httpx, respx
with respx.mock(using="httpx", base_url="https://api.stripe.com") as router:
    import atom_stripe
    route = router.get("/v1/customers/cus_1").mock(
        return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"})
    )

    async def main() -> None:
        async with atom_stripe.AsyncStripeClient("sk_test_x") as stripe:
            print((await stripe.customers.retrieve("cus_1")).id)

    asyncio.run(main())
    print(route.call_count)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["cus_1", "1"]


class _GcWitness(StripeObject):
    """Records whether Python's cyclic garbage collector ran free while it was parsed."""

    id: str

    @model_validator(mode="before")
    @classmethod
    def _witness(cls, data: Any) -> Any:
        gc_states.append(gc.isenabled())
        return data


gc_states: list[bool] = []


async def test_answers_are_parsed_with_the_garbage_collector_paused(api: respx.MockRouter) -> None:
    """Parsing makes thousands of objects and no cycles: the collector waits for it to end,
    is back on after every answer (parsed, damaged, or refused), and stays off for a caller
    who turned it off."""
    api.get("/v1/customers/cus_1").mock(return_value=httpx.Response(200, json={"id": "cus_1"}))
    api.get("/v1/customers/cus_bad").mock(return_value=httpx.Response(200, content=b"{not json"))
    api.get("/v1/customers/cus_404").mock(
        return_value=httpx.Response(404, json={"error": {"type": "invalid_request_error", "message": "No such"}})
    )
    gc_states.clear()
    async with AsyncStripeClient("sk_test_x", max_retries=0) as stripe:
        assert gc.isenabled()
        witness = await stripe.request("GET", "/v1/customers/cus_1", cast_to=_GcWitness)
        assert isinstance(witness, _GcWitness) and witness.id == "cus_1"
        assert gc_states == [False] and gc.isenabled()
        with pytest.raises(APIResponseError):
            await stripe.request("GET", "/v1/customers/cus_bad", cast_to=_GcWitness)
        assert gc.isenabled()
        with pytest.raises(NotFoundError):
            await stripe.request("GET", "/v1/customers/cus_404", cast_to=_GcWitness)
        assert gc.isenabled()
        gc.disable()
        try:
            await stripe.request("GET", "/v1/customers/cus_1", cast_to=_GcWitness)
            assert not gc.isenabled()
        finally:
            gc.enable()
    assert gc_states == [False, False]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the aiohttp fast path is asyncio's
async def test_a_warm_call_runs_no_import_statement(fixtures: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """An ``import`` inside a function costs a trip through importlib on every call (pydantic's
    lazy attributes most of all): the hot path does its imports once."""
    import builtins

    imported: list[str] = []
    real_import = builtins.__import__

    def counting_import(name: str, *args: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        imported.append(f"{name} ({frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno})")
        return real_import(name, *args, **kwargs)

    with serve_asgi(_stripe_app(fixtures)) as url:
        async with AsyncStripeClient("sk_test_x", base_url=url, max_retries=0) as stripe:
            await stripe.customers.retrieve("cus_1")  # warm: the transport and the schemas
            await stripe.customers.create(email="a@example.com")
            await stripe.customers.list(limit=3)
            monkeypatch.setattr(builtins, "__import__", counting_import)
            await stripe.customers.retrieve("cus_1")
            await stripe.customers.create(email="a@example.com")
            await stripe.customers.list(limit=3)
            monkeypatch.undo()
    assert imported == []


async def test_a_call_with_only_ids_skips_the_parameter_pipeline(
    client: AsyncStripeClient, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atom_stripe import _service
    from atom_stripe._validation import wire_params as real

    api.get("/v1/customers/cus_1").mock(return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"}))
    api.delete("/v1/customers/cus_1").mock(
        return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer", "deleted": True})
    )
    checked: list[Any] = []

    def counting(schema: Any, params: Any, **kwargs: Any) -> Any:
        checked.append(params)
        return real(schema, params, **kwargs)

    monkeypatch.setattr(_service, "wire_params", counting)
    assert (await client.customers.retrieve("cus_1")).id == "cus_1"
    assert (await client.customers.delete("cus_1")).deleted is True
    assert checked == []
    await client.customers.retrieve("cus_1", expand=["default_source"])  # options: the whole pipeline
    assert checked == [{}]
    with pytest.raises(StripeValueError):
        await client.customers.retrieve("../cus_1")  # an odd id is still refused on the short path

"""Every operation of the table, called through the client with valid parameters against a
stand-in that checks each request against stripe-python's own params definitions and answers with
Stripe's example object of the returned type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import respx

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe._generated.endpoints import ENDPOINTS
from atom_stripe._pagination import Page, SearchPage
from atom_stripe.models import BaseEvent, StripeObject, model_for
from atom_stripe.models._references import model_class

from ..helpers import KEY, examples
from ..stripe_oracle import StandIn, sample_params

FILES = "https://files.stripe.com"
NAMES = sorted(n for n in ENDPOINTS if not n.startswith("v2."))  # v2: test_v2_surface
#: a sample run under trio as well (the rest under asyncio only, to keep the suite short)
SAMPLE = [n for i, n in enumerate(NAMES) if i % 25 == 0] + ["files.create", "quotes.pdf", "customers.search"]


@pytest.fixture(scope="module")
def standin() -> StandIn:
    return StandIn()


@pytest.fixture
def routed(standin: StandIn) -> Iterator[StandIn]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.route(host="api.stripe.com").mock(side_effect=standin.answer)
        router.route(host="files.stripe.com").mock(side_effect=standin.answer)
        standin.seen.clear()
        standin.problems.clear()
        yield standin


def method_of(client: AsyncStripeClient, name: str) -> Any:
    target: Any = client
    for part in name.split("."):
        target = getattr(target, part)
    return target


def assert_result(name: str, result: Any) -> None:
    endpoint = ENDPOINTS[name]
    if endpoint.kind == "bytes":
        assert isinstance(result, bytes) and result.startswith(b"%PDF")
        return
    item = result
    if endpoint.kind in ("list", "search"):
        assert isinstance(result, SearchPage if endpoint.kind == "search" else Page), name
        assert len(result.data) == 1
        item = result.data[0]
    names = endpoint.result.split(" | ")
    if names == ["Event"]:
        assert isinstance(item, BaseEvent)
        return
    classes = tuple(model_class(n) for n in names)
    assert isinstance(item, classes), (name, type(item))


async def call(client: AsyncStripeClient, name: str) -> Any:
    endpoint = ENDPOINTS[name]
    ids = [f"{i}_1" for i in endpoint.ids]
    params = sample_params(endpoint)
    result = method_of(client, name)(*ids, **params)
    return await result


async def check_operation(routed: StandIn, name: str) -> None:
    async with AsyncStripeClient(KEY) as client:
        result = await call(client, name)
    assert routed.problems == [], routed.problems
    endpoint = ENDPOINTS[name]
    assert [(ENDPOINTS[n].method, ENDPOINTS[n].path) for n, _ in routed.seen] == [(endpoint.method, endpoint.path)]
    request = routed.seen[0][1]
    assert request.method == endpoint.method
    assert request.url.host == ("files.stripe.com" if endpoint.host == "files" else "api.stripe.com")
    if endpoint.method == "POST":
        assert request.headers["Idempotency-Key"]
    assert_result(name, result)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("name", NAMES)
async def test_every_operation(routed: StandIn, name: str) -> None:
    await check_operation(routed, name)


@pytest.mark.parametrize("name", SAMPLE)
async def test_a_sample_on_both_backends(routed: StandIn, name: str) -> None:
    await check_operation(routed, name)


def test_the_table_has_every_stripe_python_operation() -> None:
    oracle = StandIn().oracle
    assert set(NAMES) == set(oracle)
    assert len([n for n in NAMES if not n.startswith("account.")]) == 558


def extras(value: Any, where: str) -> list[str]:
    """Every place, at any depth, where a parsed model kept a field it has no type for."""
    found: list[str] = []
    if isinstance(value, StripeObject):
        if value.model_extra and type(value) is not StripeObject:
            found.append(f"{where}: {type(value).__name__} kept {sorted(value.model_extra)}")
        for key in type(value).model_fields:
            found += extras(getattr(value, key), f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += extras(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += extras(item, f"{where}[{key}]")
    return found


FIXTURE_OBJECTS = examples()


@pytest.mark.parametrize("key", sorted(FIXTURE_OBJECTS))
def test_every_example_object_parses_with_nothing_left_over(key: str) -> None:
    example = FIXTURE_OBJECTS[key]
    object_name = example["object"]
    model = model_for(object_name)
    assert model is not None, f"no model for {object_name!r}"
    if object_name == "event":
        from atom_stripe.models import parse_event

        parsed: Any = parse_event(example)
    elif key.startswith("deleted_") and len(example) == 3:
        from atom_stripe.models import DeletedObject

        parsed = DeletedObject.model_validate(example)
    elif hasattr(model, "validate_python"):
        parsed = model.validate_python(example)
    else:
        parsed = model.model_validate(example)
    assert extras(parsed, key) == []
    assert parsed.model_dump(mode="json", exclude_unset=True, by_alias=True) == example or object_name == "event"


async def test_nested_unknown_keys_are_refused_before_sending(routed: StandIn) -> None:
    async with AsyncStripeClient(KEY) as client:
        with pytest.raises(StripeValueError) as exc:
            await client.customers.create(address={"cty": "Paris"})  # type: ignore[arg-type]
        assert exc.value.param == "address[cty]"
        with pytest.raises(StripeValueError) as exc:
            await client.subscriptions.create(customer="cus_1", items=[{"prise": "price_1"}])  # type: ignore[typeddict-unknown-key]
        assert exc.value.param == "items[0][prise]"
        with pytest.raises(StripeValueError) as exc:
            await client.customers.retrieve("cus_1", bogus="1")  # type: ignore[call-arg]
        assert exc.value.param == "bogus"
        with pytest.raises(StripeValueError) as exc:
            await client.customers.delete("cus_1", bogus="1")  # type: ignore[call-arg]
        assert exc.value.param == "bogus"
        with pytest.raises(StripeValueError) as exc:
            await client.checkout.sessions.create(mode="payment", line_items=[{"price": "p", "quantity": "2"}])  # type: ignore[typeddict-item]
        assert exc.value.param == "line_items[0][quantity]"
        with pytest.raises(StripeValueError) as exc:
            await client.invoices.create(auto_advance="yes")  # type: ignore[arg-type]
        assert exc.value.param == "auto_advance" and "True or False" in str(exc.value)
    assert routed.seen == []


async def test_new_namespaces_send_what_stripe_expects(routed: StandIn) -> None:
    async with AsyncStripeClient(KEY) as client:
        session = await client.checkout.sessions.create(
            mode="subscription",
            line_items=[{"price": "price_1", "quantity": 2}],
            success_url="https://example.com/ok",
            customer="cus_1",
        )
        await client.invoices.finalize_invoice("in_1", auto_advance=False)
        await client.customers.balance_transactions.list("cus_1", limit=3)
        await client.test_helpers.test_clocks.advance("clock_1", frozen_time=1_900_000_000)
        await client.payment_methods.attach("pm_1", customer="cus_1")
        link = await client.account_links.create(
            account="acct_1", type="account_onboarding", refresh_url="https://e.x/r", return_url="https://e.x/b"
        )
    assert session.object == "checkout.session" and link.object == "account_link"
    sent = {name: request for name, request in routed.seen}
    assert "line_items[0][quantity]=2" in sent["checkout.sessions.create"].content.decode()
    assert sent["invoices.finalize_invoice"].url.path == "/v1/invoices/in_1/finalize"
    assert sent["customers.balance_transactions.list"].url.path == "/v1/customers/cus_1/balance_transactions"
    assert sent["test_helpers.test_clocks.advance"].content == b"frozen_time=1900000000"
    assert routed.problems == []


async def test_files_go_to_the_files_host(routed: StandIn) -> None:
    async with AsyncStripeClient(KEY) as client:
        uploaded = await client.files.create(file=("id.png", b"\x89PNG..."), purpose="identity_document")
        pdf = await client.quotes.pdf("qt_1")
    assert uploaded.object == "file" and pdf.startswith(b"%PDF")
    upload = routed.seen[0][1]
    assert upload.url == f"{FILES}/v1/files"
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="purpose"\r\n\r\nidentity_document' in upload.content
    assert b'filename="id.png"' in upload.content and b"\x89PNG..." in upload.content
    assert routed.seen[1][1].url == f"{FILES}/v1/quotes/qt_1/pdf"


async def test_files_base_url_is_configurable() -> None:
    with respx.mock(using="httpx") as router:
        route = router.get("http://127.0.0.1:9/v1/quotes/qt_1/pdf").respond(200, content=b"%PDF-1")
        async with AsyncStripeClient(KEY, files_base_url="http://127.0.0.1:9/") as client:
            assert client.files_base_url == "http://127.0.0.1:9"
            assert await client.quotes.pdf("qt_1") == b"%PDF-1"
    assert route.called


async def test_the_escape_hatch() -> None:
    with respx.mock(using="httpx") as router:
        preview = router.post("https://api.stripe.com/v1/preview_things").respond(
            200, json={"id": "pt_1", "object": "preview_thing", "size": 3}
        )
        v2 = router.post("https://api.stripe.com/v2/core/event_destinations").respond(
            200, json={"id": "ed_1", "object": "v2.core.event_destination"}
        )
        customer_route = router.get("https://api.stripe.com/v1/customers/cus_1").respond(
            200, json=FIXTURE_OBJECTS["customer"]
        )
        async with AsyncStripeClient(KEY) as client:
            thing = await client.request("POST", "/v1/preview_things", params={"size": 3, "tags": ["a"]})
            made = await client.request("post", "/v2/core/event_destinations", params={"name": "n", "types": ["a"]})
            from atom_stripe.models import Customer

            customer = await client.request("GET", "/v1/customers/cus_1", cast_to=Customer)
            with pytest.raises(StripeValueError):
                await client.request("GET", "/v1/customers/../x")
            with pytest.raises(StripeValueError):
                await client.request("PATCH", "/v1/customers")
            with pytest.raises(StripeValueError):
                await client.request("POST", "/v1/payment_intents", params={"amount": 12.5, "currency": "usd"})
    assert thing.model_extra == {"id": "pt_1", "object": "preview_thing", "size": 3}
    assert preview.calls[0].request.content == b"size=3&tags[0]=a"
    assert preview.calls[0].request.headers["Idempotency-Key"]
    assert json.loads(v2.calls[0].request.content) == {"name": "n", "types": ["a"]}
    assert v2.calls[0].request.headers["content-type"] == "application/json"
    assert isinstance(customer, Customer) and customer_route.called
    assert made.model_extra is not None and made.model_extra["id"] == "ed_1"
    stats = client.stats()
    assert stats.calls >= 3


def test_events_of_any_type_carry_their_typed_object() -> None:
    from atom_stripe.models import CheckoutSession, Invoice, UnknownEvent, parse_event

    event = {**FIXTURE_OBJECTS["event"], "type": "invoice.paid"}
    event["data"] = {"object": FIXTURE_OBJECTS["invoice"]}
    parsed = parse_event(event)
    assert isinstance(parsed, UnknownEvent) and isinstance(parsed.data.object, Invoice)
    event["type"], event["data"] = "checkout.session.completed", {"object": FIXTURE_OBJECTS["checkout.session"]}
    assert isinstance(parse_event(event).data.object, CheckoutSession)
    event["type"], event["data"] = "thing.happened", {"object": {"id": "th_1", "object": "thing", "size": 1}}
    generic = parse_event(event).data.object
    assert type(generic) is StripeObject and generic.model_extra == {"id": "th_1", "object": "thing", "size": 1}

"""Regressions found by reviewing the generated surface's core (each failed before its fix)."""

from __future__ import annotations

import io
import json
import pickle
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe.models import Customer, Invoice, IssuingCard, UnknownEvent, parse_event

from ..helpers import examples, form

FX = examples()


async def test_credits_and_reversals_take_negative_amounts(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    route = api.post("/v1/customers/cus_1/balance_transactions").respond(200, json=FX["customer_balance_transaction"])
    await client.customers.balance_transactions.create("cus_1", amount=-500, currency="usd")
    assert ("amount", "-500") in form(route.calls[0].request)
    item = api.post("/v1/invoiceitems").respond(200, json=FX["invoiceitem"])
    await client.invoice_items.create(customer="cus_1", amount=-250, currency="usd")
    assert ("amount", "-250") in form(item.calls[0].request)
    with pytest.raises(StripeValueError, match="positive"):
        await client.payments.create(amount=-500, currency="usd")
    with pytest.raises(StripeValueError, match="minor unit"):
        await client.customers.balance_transactions.create("cus_1", amount=-5.5, currency="usd")  # type: ignore[arg-type]


def test_any_event_round_trips_its_typed_object() -> None:
    event = parse_event({**FX["event"], "type": "invoice.paid", "data": {"object": {**FX["invoice"], "x_new": 1}}})
    assert isinstance(event, UnknownEvent) and isinstance(event.data.object, Invoice)
    dumped = event.model_dump(mode="json")
    assert dumped["data"]["object"]["amount_due"] == FX["invoice"]["amount_due"]
    assert dumped["data"]["object"]["x_new"] == 1
    again = parse_event(json.loads(event.model_dump_json()))
    assert isinstance(again.data.object, Invoice) and again == event


def test_events_and_models_with_pages_pickle() -> None:
    customer = Customer.model_validate(
        {**FX["customer"], "subscriptions": {"object": "list", "data": [FX["subscription"]], "has_more": False}}
    )
    assert pickle.loads(pickle.dumps(customer)) == customer
    for kind, obj in (("customer.created", FX["customer"]), ("invoice.paid", FX["invoice"])):
        event = parse_event({**FX["event"], "type": kind, "data": {"object": obj}})
        assert pickle.loads(pickle.dumps(event)) == event


def test_include_and_exclude_reach_inside_other_object_types() -> None:
    customer = Customer.model_validate({**FX["customer"], "default_source": FX["card"]})
    assert customer.model_dump(include={"default_source": {"id"}}) == {"default_source": {"id": FX["card"]["id"]}}
    dumped = customer.model_dump(exclude={"default_source": {"last4"}})
    assert "last4" not in dumped["default_source"] and dumped["default_source"]["id"] == FX["card"]["id"]


def test_card_numbers_and_app_secrets_are_masked_in_reprs() -> None:
    card = IssuingCard.model_validate({**FX["issuing.card"], "number": "4242424242424242", "cvc": "123"})
    assert "4242424242424242" not in repr(card) and "'123'" not in repr(card)
    assert card.number == "4242424242424242"


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


async def test_decimal_strings_must_be_numbers(client: AsyncStripeClient) -> None:
    for bad in ("abc", "NaN", "Infinity"):
        with pytest.raises(StripeValueError) as caught:
            await client.prices.create(currency="usd", unit_amount_decimal=bad, product="prod_1")  # type: ignore[arg-type]
        assert caught.value.param == "unit_amount_decimal"


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

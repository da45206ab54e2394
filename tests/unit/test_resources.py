"""Every namespace method against respx: verb, path, exact form body, and the fixture parsed back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import AsyncStripeClient, StripeValueError
from atom_stripe import models as m
from atom_stripe._generated.params.product_create import ProductCreateParamsDefaultPriceData

from ..helpers import form


@dataclass
class Case:
    namespace: str
    method: str
    verb: str
    path: str
    fixture: str
    model: type[Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    sent: list[tuple[str, str]] = field(default_factory=list)
    listing: str | None = None  # "list" or "search" for paginated calls

    def __str__(self) -> str:
        return f"{self.namespace}.{self.method}"


PI_CREATE = {
    "amount": 2000,
    "currency": "USD",
    "allowed_payment_method_types": ["card"],
    "capture_method": "manual",
    "metadata": {"order_id": "6735", "cart": "c_1"},
    "payment_method_options": {"card": {"request_three_d_secure": "any"}},
}
PI_CREATE_SENT = [
    ("amount", "2000"),
    ("currency", "usd"),
    ("allowed_payment_method_types[0]", "card"),
    ("capture_method", "manual"),
    ("metadata[order_id]", "6735"),
    ("metadata[cart]", "c_1"),
    ("payment_method_options[card][request_three_d_secure]", "any"),
    ("expand[0]", "latest_charge"),
]

CASES = [
    # payments
    Case(
        "payments",
        "create",
        "POST",
        "/v1/payment_intents",
        "payment_intent",
        m.PaymentIntent,
        kwargs={**PI_CREATE, "expand": ["latest_charge"]},
        sent=PI_CREATE_SENT,
    ),
    Case(
        "payments",
        "retrieve",
        "GET",
        "/v1/payment_intents/pi_1",
        "payment_intent",
        m.PaymentIntent,
        args=("pi_1",),
        kwargs={"expand": ["customer", "latest_charge"]},
        sent=[("expand[0]", "customer"), ("expand[1]", "latest_charge")],
    ),
    Case(
        "payments",
        "update",
        "POST",
        "/v1/payment_intents/pi_1",
        "payment_intent",
        m.PaymentIntent,
        args=("pi_1",),
        kwargs={"description": "", "shipping": {"name": "J", "address": {"city": "Paris"}}},
        sent=[("description", ""), ("shipping[name]", "J"), ("shipping[address][city]", "Paris")],
    ),
    Case(
        "payments",
        "confirm",
        "POST",
        "/v1/payment_intents/pi_1/confirm",
        "payment_intent",
        m.PaymentIntent,
        args=("pi_1",),
        kwargs={"payment_method": "pm_card_visa", "return_url": "https://atom.example/r"},
        sent=[("payment_method", "pm_card_visa"), ("return_url", "https://atom.example/r")],
    ),
    Case(
        "payments",
        "capture",
        "POST",
        "/v1/payment_intents/pi_1/capture",
        "payment_intent",
        m.PaymentIntent,
        args=("pi_1",),
        kwargs={"amount_to_capture": 1500, "metadata": {"k": "v"}},
        sent=[("amount_to_capture", "1500"), ("metadata[k]", "v")],
    ),
    Case(
        "payments",
        "cancel",
        "POST",
        "/v1/payment_intents/pi_1/cancel",
        "payment_intent",
        m.PaymentIntent,
        args=("pi_1",),
        kwargs={"cancellation_reason": "requested_by_customer"},
        sent=[("cancellation_reason", "requested_by_customer")],
    ),
    Case(
        "payments",
        "list",
        "GET",
        "/v1/payment_intents",
        "payment_intent",
        m.PaymentIntent,
        kwargs={"customer": "cus_1", "created": {"gte": 1700000000}, "limit": 5},
        sent=[("customer", "cus_1"), ("created[gte]", "1700000000"), ("limit", "5")],
        listing="list",
    ),
    Case(
        "payments",
        "search",
        "GET",
        "/v1/payment_intents/search",
        "payment_intent",
        m.PaymentIntent,
        kwargs={"query": "status:'succeeded' AND amount>1000"},
        sent=[("query", "status:'succeeded' AND amount>1000")],
        listing="search",
    ),
    # subscriptions
    Case(
        "subscriptions",
        "create",
        "POST",
        "/v1/subscriptions",
        "subscription",
        m.Subscription,
        kwargs={"customer": "cus_1", "items": [{"price": "price_1", "quantity": 2}], "trial_period_days": 14},
        sent=[
            ("customer", "cus_1"),
            ("items[0][price]", "price_1"),
            ("items[0][quantity]", "2"),
            ("trial_period_days", "14"),
        ],
    ),
    Case(
        "subscriptions", "retrieve", "GET", "/v1/subscriptions/sub_1", "subscription", m.Subscription, args=("sub_1",)
    ),
    Case(
        "subscriptions",
        "update",
        "POST",
        "/v1/subscriptions/sub_1",
        "subscription",
        m.Subscription,
        args=("sub_1",),
        kwargs={"items": [{"id": "si_1", "deleted": True}], "cancel_at_period_end": True},
        sent=[("items[0][id]", "si_1"), ("items[0][deleted]", "true"), ("cancel_at_period_end", "true")],
    ),
    Case(
        "subscriptions",
        "cancel",
        "DELETE",
        "/v1/subscriptions/sub_1",
        "subscription",
        m.Subscription,
        args=("sub_1",),
        kwargs={"invoice_now": True, "prorate": False},
        sent=[("invoice_now", "true"), ("prorate", "false")],
    ),
    Case(
        "subscriptions",
        "resume",
        "POST",
        "/v1/subscriptions/sub_1/resume",
        "subscription",
        m.Subscription,
        args=("sub_1",),
        kwargs={"billing_cycle_anchor": {"type": "now"}},
        sent=[("billing_cycle_anchor[type]", "now")],
    ),
    Case(
        "subscriptions",
        "list",
        "GET",
        "/v1/subscriptions",
        "subscription",
        m.Subscription,
        kwargs={"customer": "cus_1", "status": "all", "price": "price_1"},
        sent=[("customer", "cus_1"), ("status", "all"), ("price", "price_1")],
        listing="list",
    ),
    Case(
        "subscriptions",
        "search",
        "GET",
        "/v1/subscriptions/search",
        "subscription",
        m.Subscription,
        kwargs={"query": "status:'active'"},
        sent=[("query", "status:'active'")],
        listing="search",
    ),
    # products
    Case(
        "products",
        "create",
        "POST",
        "/v1/products",
        "product",
        m.Product,
        kwargs={
            "name": "T-shirt",
            "default_price_data": {"currency": "eur", "unit_amount": 1500},
            "images": ["https://img.example/1.png"],
        },
        sent=[
            ("name", "T-shirt"),
            ("default_price_data[currency]", "eur"),
            ("default_price_data[unit_amount]", "1500"),
            ("images[0]", "https://img.example/1.png"),
        ],
    ),
    Case("products", "retrieve", "GET", "/v1/products/prod_1", "product", m.Product, args=("prod_1",)),
    Case(
        "products",
        "update",
        "POST",
        "/v1/products/prod_1",
        "product",
        m.Product,
        args=("prod_1",),
        kwargs={"active": False},
        sent=[("active", "false")],
    ),
    Case(
        "products",
        "list",
        "GET",
        "/v1/products",
        "product",
        m.Product,
        kwargs={"active": True, "limit": 3},
        sent=[("active", "true"), ("limit", "3")],
        listing="list",
    ),
    Case(
        "products",
        "search",
        "GET",
        "/v1/products/search",
        "product",
        m.Product,
        kwargs={"query": "name~'shirt'"},
        sent=[("query", "name~'shirt'")],
        listing="search",
    ),
    # prices
    Case(
        "prices",
        "create",
        "POST",
        "/v1/prices",
        "price",
        m.Price,
        kwargs={"product": "prod_1", "currency": "usd", "unit_amount": 999, "recurring": {"interval": "month"}},
        sent=[("product", "prod_1"), ("currency", "usd"), ("unit_amount", "999"), ("recurring[interval]", "month")],
    ),
    Case("prices", "retrieve", "GET", "/v1/prices/price_1", "price", m.Price, args=("price_1",)),
    Case(
        "prices",
        "update",
        "POST",
        "/v1/prices/price_1",
        "price",
        m.Price,
        args=("price_1",),
        kwargs={"nickname": "Pro monthly", "lookup_key": "pro_m"},
        sent=[("nickname", "Pro monthly"), ("lookup_key", "pro_m")],
    ),
    Case(
        "prices",
        "list",
        "GET",
        "/v1/prices",
        "price",
        m.Price,
        kwargs={"product": "prod_1", "type": "recurring"},
        sent=[("product", "prod_1"), ("type", "recurring")],
        listing="list",
    ),
    Case(
        "prices",
        "search",
        "GET",
        "/v1/prices/search",
        "price",
        m.Price,
        kwargs={"query": "product:'prod_1'"},
        sent=[("query", "product:'prod_1'")],
        listing="search",
    ),
    # balance
    Case("balance", "retrieve", "GET", "/v1/balance", "balance", m.Balance),
    Case(
        "balance_transactions",
        "retrieve",
        "GET",
        "/v1/balance_transactions/txn_1",
        "balance_transaction",
        m.BalanceTransaction,
        args=("txn_1",),
        kwargs={"expand": ["source"]},
        sent=[("expand[0]", "source")],
    ),
    Case(
        "balance_transactions",
        "list",
        "GET",
        "/v1/balance_transactions",
        "balance_transaction",
        m.BalanceTransaction,
        kwargs={"type": "charge", "payout": "po_1"},
        sent=[("type", "charge"), ("payout", "po_1")],
        listing="list",
    ),
    # account
    Case("account", "retrieve", "GET", "/v1/account", "account", m.Account),
    # refunds
    Case(
        "refunds",
        "create",
        "POST",
        "/v1/refunds",
        "refund",
        m.Refund,
        kwargs={"payment_intent": "pi_1", "amount": 500, "reason": "requested_by_customer"},
        sent=[("payment_intent", "pi_1"), ("amount", "500"), ("reason", "requested_by_customer")],
    ),
    Case("refunds", "retrieve", "GET", "/v1/refunds/re_1", "refund", m.Refund, args=("re_1",)),
    Case(
        "refunds",
        "update",
        "POST",
        "/v1/refunds/re_1",
        "refund",
        m.Refund,
        args=("re_1",),
        kwargs={"metadata": {"ticket": "T-1"}},
        sent=[("metadata[ticket]", "T-1")],
    ),
    Case("refunds", "cancel", "POST", "/v1/refunds/re_1/cancel", "refund", m.Refund, args=("re_1",)),
    Case(
        "refunds",
        "list",
        "GET",
        "/v1/refunds",
        "refund",
        m.Refund,
        kwargs={"charge": "ch_1"},
        sent=[("charge", "ch_1")],
        listing="list",
    ),
    # charges
    Case("charges", "retrieve", "GET", "/v1/charges/ch_1", "charge", m.Charge, args=("ch_1",)),
    Case(
        "charges",
        "update",
        "POST",
        "/v1/charges/ch_1",
        "charge",
        m.Charge,
        args=("ch_1",),
        kwargs={"description": "Order 42", "fraud_details": {"user_report": "safe"}},
        sent=[("description", "Order 42"), ("fraud_details[user_report]", "safe")],
    ),
    Case(
        "charges",
        "list",
        "GET",
        "/v1/charges",
        "charge",
        m.Charge,
        kwargs={"payment_intent": "pi_1"},
        sent=[("payment_intent", "pi_1")],
        listing="list",
    ),
    Case(
        "charges",
        "search",
        "GET",
        "/v1/charges/search",
        "charge",
        m.Charge,
        kwargs={"query": "amount>999"},
        sent=[("query", "amount>999")],
        listing="search",
    ),
    # events
    Case("events", "retrieve", "GET", "/v1/events/evt_1", "event", m.BaseEvent, args=("evt_1",)),
    Case(
        "events",
        "list",
        "GET",
        "/v1/events",
        "event",
        m.BaseEvent,
        kwargs={"type": "charge.*", "created": {"gt": 1700000000}},
        sent=[("type", "charge.*"), ("created[gt]", "1700000000")],
        listing="list",
    ),
]


def answer(case: Case, fixtures: dict[str, Any]) -> httpx.Response:
    obj = fixtures[case.fixture]
    if case.listing == "list":
        body: dict[str, Any] = {"object": "list", "url": case.path, "has_more": False, "data": [obj, obj]}
    elif case.listing == "search":
        body = {"object": "search_result", "url": case.path, "has_more": False, "next_page": None, "data": [obj]}
    else:
        body = obj
    return httpx.Response(200, content=json.dumps(body).encode(), headers={"Request-Id": "req_1"})


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_method(client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any], case: Case) -> None:
    route = api.route(method=case.verb, path=case.path).mock(return_value=answer(case, fixtures))
    call = getattr(getattr(client, case.namespace), case.method)(*case.args, **case.kwargs)
    result = await call
    request = route.calls.last.request
    assert request.method == case.verb
    assert request.url.path == case.path
    assert form(request) == case.sent
    assert ("Idempotency-Key" in request.headers) == (case.verb == "POST")
    items = result.data if case.listing else [result]
    assert items
    for item in items:
        assert isinstance(item, case.model)
        assert item.model_extra == {}
    if case.listing:
        assert isinstance(result, m.SearchPage if case.listing == "search" else m.Page)


def test_every_case_names_a_real_method() -> None:
    """The hand-written cases here check exact forms; tests/surface/test_surface.py calls every operation."""
    from atom_stripe._generated.endpoints import ENDPOINTS

    covered = {f"{c.namespace}.{c.method}" for c in CASES}
    aliases = {"payments.": "payment_intents."}
    for name in covered:
        for alias, real in aliases.items():
            name = name.replace(alias, real) if name.startswith(alias) else name
        assert name in ENDPOINTS, name


async def test_product_delete(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    api.delete("/v1/products/prod_1").mock(
        return_value=httpx.Response(200, json={"id": "prod_1", "object": "product", "deleted": True})
    )
    gone = await client.products.delete("prod_1")
    assert isinstance(gone, m.DeletedProduct) and gone.deleted


async def test_refund_needs_a_payment_intent_or_a_charge(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    with pytest.raises(StripeValueError, match="payment_intent"):
        await client.refunds.create(amount=100)
    assert not api.calls


async def test_account_for_a_connected_account(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    route = api.get("/v1/account").mock(return_value=httpx.Response(200, json=fixtures["account"]))
    account = await client.account.retrieve(stripe_account="acct_connected")
    assert isinstance(account, m.Account)
    assert route.calls.last.request.headers["Stripe-Account"] == "acct_connected"


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"amount": -5, "currency": "usd"}, "amount"),
        ({"amount": 0, "currency": "usd"}, "amount"),
        ({"amount": 10.5, "currency": "usd"}, "amount"),
        ({"amount": "100", "currency": "usd"}, "amount"),
        ({"amount": 100_000_000, "currency": "usd"}, "amount"),
        ({"amount": 150, "currency": "isk"}, "amount"),
        ({"amount": 1005, "currency": "kwd"}, "amount"),
        ({"amount": 100, "currency": "xyz"}, "currency"),
        ({"amount": 100, "currency": "usd", "metadata": {"a[b]": "x"}}, "metadata"),
        ({"amount": 100, "currency": "usd", "metadata": {"k": "v" * 501}}, "metadata[k]"),
        ({"currency": "usd"}, "amount"),
    ],
)
async def test_payments_refuse_bad_money_before_sending(
    client: AsyncStripeClient, api: respx.MockRouter, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(StripeValueError) as info:
        await client.payments.create(**kwargs)
    assert info.value.param == param
    assert not api.calls


async def test_nested_amounts_and_currencies_are_checked(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    with pytest.raises(StripeValueError) as info:
        await client.products.create(name="x", default_price_data={"currency": "EUR", "unit_amount": -1})
    assert info.value.param == "default_price_data[unit_amount]"
    with pytest.raises(StripeValueError) as info:
        await client.subscriptions.create(
            customer="cus_1",
            items=[
                {
                    "price_data": {
                        "currency": "zzz",
                        "product": "p",
                        "unit_amount": 1,
                        "recurring": {"interval": "month"},
                    }
                }
            ],
        )
    assert info.value.param == "items[0][price_data][currency]"
    assert not api.calls


async def test_currency_is_sent_lower_case_and_the_callers_dict_is_untouched(
    client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]
) -> None:
    route = api.post("/v1/products").mock(return_value=httpx.Response(200, json=fixtures["product"]))
    price_data: ProductCreateParamsDefaultPriceData = {"currency": "EUR", "unit_amount": 100}
    await client.products.create(name="x", default_price_data=price_data)
    assert ("default_price_data[currency]", "eur") in form(route.calls.last.request)
    assert price_data["currency"] == "EUR"


async def test_health_ok(client: AsyncStripeClient, api: respx.MockRouter, fixtures: dict[str, Any]) -> None:
    route = api.get("/v1/balance").mock(
        return_value=httpx.Response(200, json=fixtures["balance"], headers={"Request-Id": "req_h"})
    )
    health = await client.health()
    assert health.ok and health.error is None
    assert health.livemode is False and health.request_id == "req_h"
    assert health.latency_ms >= 0
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            httpx.Response(401, json={"error": {"type": "invalid_request_error", "message": "bad key"}}),
            "AuthenticationError",
        ),
        (httpx.ConnectError("refused"), "APIConnectionError"),
        (httpx.Response(500, text="oops"), "ServerError"),
    ],
)
async def test_health_never_raises(client: AsyncStripeClient, api: respx.MockRouter, response: Any, error: str) -> None:
    route = api.get("/v1/balance").mock(side_effect=[response])
    health = await client.health()
    assert not health.ok
    assert type(health.error).__name__ == error
    assert route.call_count == 1  # one cheap read, no retries


async def test_credits_and_reversals_take_negative_amounts(
    fixtures: dict[str, Any], api: respx.MockRouter, client: AsyncStripeClient
) -> None:
    route = api.post("/v1/customers/cus_1/balance_transactions").respond(
        200, json=fixtures["customer_balance_transaction"]
    )
    await client.customers.balance_transactions.create("cus_1", amount=-500, currency="usd")
    assert ("amount", "-500") in form(route.calls[0].request)
    item = api.post("/v1/invoiceitems").respond(200, json=fixtures["invoiceitem"])
    await client.invoice_items.create(customer="cus_1", amount=-250, currency="usd")
    assert ("amount", "-250") in form(item.calls[0].request)
    with pytest.raises(StripeValueError, match="positive"):
        await client.payments.create(amount=-500, currency="usd")
    with pytest.raises(StripeValueError, match="minor unit"):
        await client.customers.balance_transactions.create("cus_1", amount=-5.5, currency="usd")  # type: ignore[arg-type]


async def test_decimal_strings_must_be_numbers(client: AsyncStripeClient) -> None:
    for bad in ("abc", "NaN", "Infinity"):
        with pytest.raises(StripeValueError) as caught:
            await client.prices.create(currency="usd", unit_amount_decimal=bad, product="prod_1")  # type: ignore[arg-type]
        assert caught.value.param == "unit_amount_decimal"

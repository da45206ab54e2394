"""Ids that would move the URL, text that cannot be encoded, and the messages that teach."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import AsyncStripeClient, StripeError, StripeValueError

SURROGATE = "\ud800"


@pytest.mark.parametrize("bad", [".", ".."])
async def test_dot_ids_are_refused_before_anything_is_sent(
    client: AsyncStripeClient, api: respx.MockRouter, bad: str
) -> None:
    route = api.route().mock(return_value=httpx.Response(200, json={"id": "pi_1", "object": "payment_intent"}))
    with pytest.raises(StripeValueError) as caught:
        await client.payments.confirm(bad)
    assert caught.value.param == "intent"
    with pytest.raises(StripeValueError):
        await client.customers.retrieve(bad)
    assert not route.called


async def test_ids_with_dots_inside_are_fine(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/customers/cus_a.b").mock(return_value=httpx.Response(200, json={"id": "cus_a.b"}))
    assert (await client.customers.retrieve("cus_a.b")).id == "cus_a.b"
    assert route.called


@pytest.mark.parametrize(
    "kwargs",
    [
        {"metadata": {f"k{SURROGATE}": "v"}},
        {"metadata": {"k": f"v{SURROGATE}"}},
        {"name": f"Jenny{SURROGATE}"},
        {"address": {"line1": SURROGATE}},
        {"extra_params": {f"x{SURROGATE}": "1"}},
        {"extra_params": {"nested": {f"k{SURROGATE}": "1"}}},
        {"stripe_account": f"acct_{SURROGATE}"},
        {"idempotency_key": f"key{SURROGATE}"},
    ],
)
async def test_a_lone_surrogate_anywhere_is_a_value_error(
    client: AsyncStripeClient, api: respx.MockRouter, kwargs: dict[str, Any]
) -> None:
    route = api.route().mock(return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"}))
    with pytest.raises(StripeValueError):
        await client.customers.create(**kwargs)
    assert not route.called


# -- messages that teach ------------------------------------------------------------------


@pytest.mark.parametrize("amount", [Decimal("20.00"), 20.0, 19.99])
async def test_a_decimal_or_float_amount_explains_minor_units(
    client: AsyncStripeClient, api: respx.MockRouter, amount: Any
) -> None:
    route = api.route().mock(return_value=httpx.Response(200, json={"id": "pi_1", "object": "payment_intent"}))
    with pytest.raises(StripeValueError) as caught:
        await client.payments.create(amount=amount, currency="usd")
    message = str(caught.value)
    assert "integer" in message and "minor unit" in message
    assert "atom_stripe.money" in message and "to_minor_units" in message
    assert not route.called


async def test_sync_iteration_of_a_list_says_use_async_for(client: AsyncStripeClient, api: respx.MockRouter) -> None:
    route = api.route().mock(return_value=httpx.Response(200, json={"object": "list", "data": []}))
    with pytest.raises(TypeError) as caught:
        for _ in client.customers.list():  # type: ignore[attr-defined]
            pass
    assert isinstance(caught.value, StripeError)
    assert "async for" in str(caught.value)
    assert not route.called


def test_a_missing_extra_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.delitem(sys.modules, "atom_stripe.contrib.otel", raising=False)
    with pytest.raises(ImportError) as caught:
        import atom_stripe.contrib.otel  # noqa: F401
    assert isinstance(caught.value, StripeError)
    assert "pip install 'atom_stripe[otel]'" in str(caught.value)


def test_the_fastapi_router_without_fastapi_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fastapi", None)
    monkeypatch.delitem(sys.modules, "atom_stripe.contrib.fastapi", raising=False)
    with pytest.raises(ImportError) as caught:
        import atom_stripe.contrib.fastapi  # noqa: F401
    assert isinstance(caught.value, StripeError)
    assert "pip install 'atom_stripe[fastapi]'" in str(caught.value)

"""Bad input is refused with a typed error before anything is sent; good input arrives exactly."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atom_stripe import AsyncStripeClient, CardError, NotFoundError, StripeValueError

from ..helpers import form

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def to_wire(value: Any) -> Any:
    """What a value should look like once encoded and decoded: strings, in nested dicts."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, dict):
        if not value:
            return ""
        out = {k: to_wire(v) for k, v in value.items() if v is not None}
        return out or None
    if isinstance(value, list):
        return {str(i): to_wire(v) for i, v in enumerate(value)} if value else ""
    raise AssertionError(f"unexpected {value!r}")


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's ``a[b][0]=v`` pairs back into nested dicts."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        path = [head] + (rest[:-1].split("][") if rest else [])
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


text = st.text(max_size=8)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    text,
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000),
)
values = st.recursive(
    scalars, lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(text, c, max_size=3)), max_leaves=8
)
CUSTOMER_NAMES = [
    "email",
    "name",
    "description",
    "phone",
    "balance",
    "metadata",
    "address",
    "preferred_locales",
    "tax_exempt",
    "shipping",
    "not_a_param",
]


@EXAMPLES
@given(st.dictionaries(st.sampled_from(CUSTOMER_NAMES), values, max_size=4))
async def test_customers_create_sends_exactly_what_was_given_or_refuses(
    client: AsyncStripeClient, api: respx.MockRouter, kwargs: dict[str, Any]
) -> None:
    route = api.post("/v1/customers").mock(return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"}))
    route.reset()
    try:
        await client.customers.create(**kwargs)
    except StripeValueError as exc:
        assert exc.param
        assert route.call_count == 0
        return
    assert route.call_count == 1
    sent = unflatten(form(route.calls.last.request))
    expected = {k: w for k, v in kwargs.items() if v is not None and (w := to_wire(v)) is not None}
    assert sent == expected


@EXAMPLES
@given(st.one_of(st.text(max_size=12), st.integers(), st.none(), st.binary(max_size=4)))
async def test_ids_never_change_the_url(client: AsyncStripeClient, api: respx.MockRouter, cid: Any) -> None:
    route = api.get(url__regex=r"/v1/customers/.*").mock(
        return_value=httpx.Response(200, json={"id": "cus_1", "object": "customer"})
    )
    route.reset()
    try:
        await client.customers.retrieve(cid)
    except StripeValueError as exc:
        assert exc.param == "customer"
        assert route.call_count == 0
        return
    request = route.calls.last.request
    assert request.url.path.count("/") == 3
    assert unquote(request.url.raw_path.decode().split("?")[0].rsplit("/", 1)[1]) == cid


@EXAMPLES
@given(
    st.one_of(st.integers(-10, 10**13), st.floats(), st.decimals(allow_nan=True), st.text(max_size=4), st.booleans()),
    st.one_of(st.sampled_from(["usd", "USD", "jpy", "kwd", "isk", "xyz", "", "us"]), st.text(max_size=4)),
)
async def test_payments_create_money(
    client: AsyncStripeClient, api: respx.MockRouter, amount: Any, currency: Any
) -> None:
    route = api.post("/v1/payment_intents").mock(
        return_value=httpx.Response(200, json={"id": "pi_1", "object": "payment_intent"})
    )
    route.reset()
    try:
        await client.payments.create(amount=amount, currency=currency)
    except StripeValueError as exc:
        assert exc.param in ("amount", "currency")
        assert route.call_count == 0
        return
    assert isinstance(amount, int) and not isinstance(amount, bool) and amount > 0
    assert dict(parse_qsl(route.calls.last.request.content.decode())) == {
        "amount": str(amount),
        "currency": currency.strip().lower(),
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"address": {"ci[ty": "Paris"}},
        {"preferred_locales": ["fr", None]},
        {"name": "\ud800"},
        {"metadata": {"": "x"}},
    ],
)
async def test_shapes_the_wire_cannot_carry(
    client: AsyncStripeClient, api: respx.MockRouter, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(StripeValueError):
        await client.customers.create(**kwargs)
    assert not api.calls


# -- secrets ---------------------------------------------------------------------------------


async def test_no_secret_in_any_log_line_repr_or_message(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture, fixtures: dict[str, Any]
) -> None:
    from atom_stripe.oauth import StripeOAuth
    from atom_stripe.webhooks import construct_event, generate_test_header

    caplog.set_level(logging.DEBUG)
    api_key = "sk_test_SECRETKEY_abc123"
    client_secret_pi = "pi_1_secret_CLIENTSECRET"
    platform_key = "sk_test_PLATFORMKEY_zz"
    access, refresh = "sk_test_ACCESSTOKEN_q", "rt_REFRESHTOKEN_w"
    webhook_secret = "whsec_WEBHOOKSECRET"
    pi = {**fixtures["payment_intent"], "client_secret": client_secret_pi}
    api.post("/v1/payment_intents").mock(side_effect=[httpx.Response(500), httpx.Response(200, json=pi)])
    api.post("/v1/payment_intents/pi_1/confirm").mock(
        return_value=httpx.Response(
            402,
            json={
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                    "payment_intent": pi,
                }
            },
        )
    )
    api.get("/v1/customers/cus_x").mock(
        return_value=httpx.Response(
            404, json={"error": {"type": "invalid_request_error", "message": "No such customer"}}
        )
    )
    with respx.mock(base_url="https://connect.stripe.com", using="httpx") as connect:
        connect.post("/oauth/token").mock(
            side_effect=[
                httpx.Response(
                    200, json={"access_token": access, "refresh_token": refresh, "stripe_user_id": "acct_1"}
                ),
                httpx.Response(
                    400, json={"error": "invalid_grant", "error_description": f"Refresh token {refresh} revoked"}
                ),
            ]
        )
        texts: list[str] = []
        async with AsyncStripeClient(api_key) as stripe, StripeOAuth("ca_1", platform_key) as oauth:
            texts += [repr(stripe), str(stripe), repr(oauth)]
            intent = await stripe.payments.create(amount=100, currency="usd")
            texts += [repr(intent), str(intent), str(intent.model_dump(exclude={"client_secret"}))]
            with pytest.raises(CardError) as card:
                await stripe.payments.confirm("pi_1")
            with pytest.raises(NotFoundError) as missing:
                await stripe.customers.retrieve("cus_x")
            token = await oauth.exchange_code("ac_1")
            texts += [repr(token), str(token), token.model_dump_json()]
            with pytest.raises(Exception) as revoked:
                await oauth.refresh(refresh)
            body = b'{"id": "evt_1", "object": "event"}'
            with pytest.raises(Exception) as forged:
                construct_event(body, generate_test_header(body, "whsec_other"), webhook_secret)
        for exc in (card.value, missing.value, revoked.value, forged.value):
            texts += [str(exc), repr(exc), repr(getattr(exc, "request", None)), repr(getattr(exc, "response", None))]
    texts += [r.getMessage() for r in caplog.records] + [str(r.__dict__) for r in caplog.records]
    assert len(caplog.records) >= 6
    for secret in (api_key, client_secret_pi, platform_key, access, refresh, webhook_secret):
        for text in texts:
            assert secret not in text, (secret, text)

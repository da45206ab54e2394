"""Secrets never show in a repr or str, wherever they sit: typed fields, extras, and the dicts
that escape-hatch results, expanded objects and events' ``previous_attributes`` keep."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import respx

from atom_stripe import AsyncStripeClient
from atom_stripe.models import IssuingCard, PaymentIntent
from atom_stripe.webhooks import WebhookRouter, construct_event, generate_test_header

from ..helpers import KEY

PI_SECRET = "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH"
SECRETS = {
    "client_secret": PI_SECRET,
    "secret": "whsec_ThisIsAWebhookSigningSecret",
    "access_token": "sk_test_ConnectedAccountAccessToken",
    "refresh_token": "rt_RefreshTokenValue0001",
    "api_key": "rk_live_RestrictedKeyValue01",
    "ephemeral_key_secret": "ek_test_EphemeralSecretValue",
}
WEBHOOK_SECRET = "whsec_secrets_repr"


def shows(value: Any) -> str:
    return f"{value!r} {value!s}"


def assert_masked(text: str) -> None:
    for name, secret in SECRETS.items():
        assert secret not in text, name
    assert "_secret_Yr" not in text


def intent(**changes: Any) -> dict[str, Any]:
    return {"id": "pi_1", "object": "payment_intent", "amount": 100, "currency": "usd", **changes}


async def test_escape_hatch_results_mask_secrets_at_any_depth(api: respx.MockRouter) -> None:
    items = [
        intent(client_secret=PI_SECRET, latest_charge={"id": "ch_1", "object": "charge", **SECRETS}),
        {"id": "whe_1", "object": "webhook_endpoint", "secret": SECRETS["secret"], "nested": [[dict(SECRETS)]]},
    ]
    api.get("/v1/payment_intents").respond(200, json={"object": "list", "data": items, "has_more": False})
    api.get("/v1/payment_intents/pi_1").respond(200, json=items[0])
    async with AsyncStripeClient(KEY) as client:
        page = await client.request("GET", "/v1/payment_intents")
        one = await client.request("GET", "/v1/payment_intents/pi_1")
        typed = await client.request("GET", "/v1/payment_intents/pi_1", cast_to=PaymentIntent)
    assert isinstance(typed, PaymentIntent)
    for value in (page, one, typed, typed.latest_charge):
        text = shows(value)
        assert_masked(text)
    # What is not secret still shows, and the data itself is untouched.
    assert "pi_1" in repr(page) and "ch_1" in repr(one) and "whe_1" in repr(page)
    assert typed.client_secret == PI_SECRET
    assert one.model_dump()["latest_charge"]["access_token"] == SECRETS["access_token"]


def test_previous_attributes_of_an_event_are_masked(fixtures: dict[str, Any]) -> None:
    body = json.dumps(
        {
            **fixtures["event"],
            "id": "evt_1",
            "type": "payment_intent.updated",
            "data": {
                "object": {**fixtures["payment_intent"], "client_secret": PI_SECRET},
                "previous_attributes": {"client_secret": PI_SECRET, "metadata": {"note": SECRETS["api_key"]}},
            },
        }
    ).encode()
    now = int(time.time())
    event = construct_event(body, generate_test_header(body, WEBHOOK_SECRET, timestamp=now), WEBHOOK_SECRET, now=now)
    assert_masked(shows(event))
    assert_masked(shows(event.data))
    assert event.data.previous_attributes is not None
    assert event.data.previous_attributes["client_secret"] == PI_SECRET


async def test_a_webhook_result_shows_no_secret(fixtures: dict[str, Any]) -> None:
    body = json.dumps(
        {
            **fixtures["event"],
            "id": "evt_2",
            "type": "payment_intent.updated",
            "data": {
                "object": {**fixtures["payment_intent"], "client_secret": PI_SECRET},
                "previous_attributes": {"client_secret": PI_SECRET},
            },
        }
    ).encode()
    router = WebhookRouter(WEBHOOK_SECRET)
    result = await router.handle(body, {"Stripe-Signature": generate_test_header(body, WEBHOOK_SECRET)})
    assert result.status_code == 200 and result.event is not None
    assert_masked(shows(result))
    assert WEBHOOK_SECRET not in shows(result) + shows(router)


@pytest.mark.parametrize(
    "value",
    [
        {"client_secret": PI_SECRET},
        [{"deep": ({"refresh_token": SECRETS["refresh_token"]},)}],
        {"list": [{"nested": {"secret": SECRETS["secret"]}}]},
        {"note": PI_SECRET},
        {"some_other_secret": "plain-text-but-named-secret"},
    ],
)
def test_secrets_are_masked_in_extras_whatever_their_shape(value: Any) -> None:
    model = PaymentIntent.model_validate(intent(extra_field=value))
    text = shows(model)
    assert_masked(text)
    assert "plain-text-but-named-secret" not in text
    assert "extra_field" in text and "pi_1" in text


def test_card_numbers_and_app_secrets_are_masked_in_reprs(fixtures: dict[str, Any]) -> None:
    card = IssuingCard.model_validate({**fixtures["issuing.card"], "number": "4242424242424242", "cvc": "123"})
    assert "4242424242424242" not in repr(card) and "'123'" not in repr(card)
    assert card.number == "4242424242424242"

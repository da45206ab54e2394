"""Test cards made on localstripe with plain requests (atom_stripe has no tokens or payment_methods namespace)."""

from __future__ import annotations

from atom_stripe import AsyncStripeClient


async def make_card(local: AsyncStripeClient, path: str, number: str = "4242424242424242", **extra: str) -> str:
    """POST a card to ``/v1/tokens`` or ``/v1/payment_methods``; the new object's id."""
    card = {"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123"}
    response = await local.http_client.post(
        f"{local.base_url}{path}", data={**extra, **card}, headers={"Authorization": "Bearer sk_test_local"}
    )
    made: str = response.json()["id"]
    return made


async def card_token(local: AsyncStripeClient) -> str:
    return await make_card(local, "/v1/tokens")


async def payment_method(local: AsyncStripeClient, number: str) -> str:
    return await make_card(local, "/v1/payment_methods", number, type="card")

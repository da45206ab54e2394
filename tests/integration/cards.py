"""Test cards made on localstripe through the typed namespaces (``tokens``, ``payment_methods``)."""

from __future__ import annotations

from atom_stripe import AsyncStripeClient


async def card_token(local: AsyncStripeClient, number: str = "4242424242424242") -> str:
    token = await local.tokens.create(card={"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"})
    return token.id


async def payment_method(local: AsyncStripeClient, number: str) -> str:
    card = {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    made = await local.payment_methods.create(type="card", card=card)  # type: ignore[arg-type]
    return made.id

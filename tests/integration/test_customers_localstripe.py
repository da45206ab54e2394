"""The customers life cycle against a real (fake) Stripe server: localstripe on 127.0.0.1."""

from __future__ import annotations

import uuid

import pytest

from atom_stripe import AsyncStripeClient, NotFoundError
from atom_stripe.models import Card, Customer

from .cards import card_token


async def test_customer_life_cycle(local: AsyncStripeClient) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    created = await local.customers.create(email=email, name="Jenny Rosen", metadata={"atom_user": "u1"})
    assert isinstance(created, Customer)
    assert created.id.startswith("cus_")
    assert created.metadata == {"atom_user": "u1"}

    fetched = await local.customers.retrieve(created.id, expand=["default_source"])
    assert fetched.email == email and fetched.name == "Jenny Rosen"

    updated = await local.customers.update(created.id, description="VIP", metadata={"plan": "pro"})
    assert updated.description == "VIP"
    assert updated.metadata == {"atom_user": "u1", "plan": "pro"}

    page = await local.customers.list(email=email, limit=10)
    assert [c.id for c in page.data] == [created.id]

    gone = await local.customers.delete(created.id)
    assert gone.deleted is True and gone.id == created.id
    with pytest.raises(NotFoundError) as info:
        await local.customers.retrieve(created.id)
    assert info.value.status_code == 404


async def test_auto_pagination_over_more_than_two_pages(local: AsyncStripeClient) -> None:
    tag = uuid.uuid4().hex[:8]
    made = [await local.customers.create(email=f"{tag}-{i}@example.com", metadata={"tag": tag}) for i in range(7)]
    seen = [c.id async for c in local.customers.list(limit=2)]
    assert {c.id for c in made} <= set(seen)
    assert len(seen) == len(set(seen))
    pages = [p async for p in local.customers.list(limit=2).pages()]
    assert len(pages) >= 4
    assert sum(len(p.data) for p in pages) == len(seen)


async def test_missing_customer_is_not_found(local: AsyncStripeClient) -> None:
    with pytest.raises(NotFoundError):
        await local.customers.retrieve("cus_doesnotexist")


async def test_expand_a_real_object(local: AsyncStripeClient) -> None:
    customer = await local.customers.create(email="expand@example.com", source=await card_token(local))
    expanded = await local.customers.retrieve(customer.id, expand=["default_source"])
    assert isinstance(expanded.default_source, Card)  # an expandable union, told apart by `object`
    assert expanded.default_source.object == "card"
    plain = await local.customers.retrieve(customer.id)
    assert isinstance(plain.default_source, str)

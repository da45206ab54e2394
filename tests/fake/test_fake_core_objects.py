"""Objects the fake makes are built from what Stripe would set, not from Stripe's example objects:
every object type the fake can create (through the public client, generic creates included)
parses into the client's model with nothing in ``model_invalid``, no warning logged, and none of
the example's sample values (its ids, its sample timestamp) leaking into a new object."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from atom_stripe import AsyncStripeClient
from atom_stripe._generated.endpoints import ENDPOINTS
from atom_stripe.testing import FakeStripe
from atom_stripe.testing._engine import simulation
from atom_stripe.testing._simulated import kind
from atom_stripe.testing._store import load_fixtures

from .test_fake_operations import call, seeded

# v2 against the fake: test_v2_fake
CREATES = sorted(n for n in ENDPOINTS if kind(n) == "create" and simulation(n) != "refused" and not n.startswith("v2."))
#: The example objects' own ids (``cus_QXg1o8vcGmoR32``, ``obj_123``...) and sample timestamp.
_ID = re.compile(r"^[a-z]+(?:_[a-z]+)*_(?=[a-z]*[A-Z0-9])[A-Za-z0-9]{3,}$")


def _strings(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    else:
        yield node


SAMPLES = {v for v in _strings(load_fixtures()) if isinstance(v, str) and _ID.match(v)} | {1234567890}


def invalid_fields(model: Any, path: str = "") -> dict[str, Any]:
    """Every ``model_invalid`` entry in a parsed answer, nested models included, by dotted path."""
    found: dict[str, Any] = {}
    if isinstance(model, BaseModel):
        invalid = getattr(model, "model_invalid", {})
        found.update({f"{path}{k}": v for k, v in invalid.items()})
        for name in type(model).model_fields:
            found.update(invalid_fields(getattr(model, name, None), f"{path}{name}."))
    elif isinstance(model, list):
        for index, item in enumerate(model):
            found.update(invalid_fields(item, f"{path}{index}."))
    return found


@pytest.fixture(scope="module")
def seed() -> bytes:
    return seeded().snapshot()


@pytest.fixture
def fake(seed: bytes) -> Iterator[FakeStripe]:
    made = FakeStripe()
    made.restore(seed)
    yield made
    made.close()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("name", CREATES)
async def test_every_created_object_is_fresh_and_fits_the_model(
    fake: FakeStripe, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = fake.client(max_retries=0, files_base_url="https://files.stripe.com")
    with caplog.at_level(logging.WARNING, logger="atom_stripe"):
        made = await call(client, name)
    assert invalid_fields(made) == {}, name
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    raw = fake.get(made.id) if getattr(made, "id", None) else None
    leaked = sorted(str(v) for v in _strings(raw or {}) if v in SAMPLES)
    assert leaked == [], f"{name}: the example's sample values leaked into a new object: {leaked}"


async def test_a_payment_intent_has_only_what_it_asked_for(stripe_client: AsyncStripeClient) -> None:
    pi = await stripe_client.payment_intents.create(amount=500, currency="eur")
    assert pi.transfer_data is None and pi.canceled_at is None and pi.last_payment_error is None
    assert pi.amount == 500 and pi.currency == "eur" and pi.status == "requires_payment_method"
    assert pi.client_secret is not None and pi.client_secret.startswith(f"{pi.id}_secret_")
    customer = await stripe_client.customers.create(email="new@example.com")
    assert customer.discount is None and customer.currency is None and customer.address is None
    assert customer.balance == 0 and customer.delinquent is False and customer.tax_exempt == "none"
    assert customer.invoice_settings is not None and customer.invoice_settings.default_payment_method is None
    product = await stripe_client.products.create(name="Plain")
    assert product.default_price is None and product.description is None and product.images == []
    assert json.dumps(product.model_dump()).count("1234567890") == 0

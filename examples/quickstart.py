"""A short ATOM flow through atom_stripe's public API.

Run it with ``bash scripts/demo.sh`` (it starts a local Stripe fake for you), or
against Stripe's test mode with ``STRIPE_API_KEY=sk_test_... python examples/quickstart.py``.
"""

from __future__ import annotations

import os
import uuid

import anyio

from atom_stripe import AsyncStripeClient, NotFoundError


async def main() -> None:
    base_url = os.environ.get("STRIPE_BASE_URL")  # unset: Stripe's own API host
    tag = uuid.uuid4().hex[:8]
    rows: list[tuple[str, str]] = []
    async with AsyncStripeClient(base_url=base_url) as stripe:
        customer = await stripe.customers.create(
            email=f"jenny-{tag}@example.com", name="Jenny Rosen", metadata={"atom_user": f"u-{tag}"}
        )
        rows.append(("customer created", customer.id))
        customer = await stripe.customers.update(customer.id, description="VIP", metadata={"plan": "pro"})
        rows.append(("customer updated", f"{customer.description}, metadata={customer.metadata}"))
        for i in range(3):
            await stripe.customers.create(email=f"team-{tag}-{i}@example.com")
        count = 0
        async for _ in stripe.customers.list(limit=2):
            count += 1
        rows.append(("customers (auto-paginated, 2 a page)", str(count)))
        gone = await stripe.customers.delete(customer.id)
        rows.append(("customer deleted", f"{gone.id} deleted={gone.deleted}"))
        try:
            await stripe.customers.retrieve(customer.id)
        except NotFoundError as exc:
            rows.append(("retrieve after delete", f"NotFoundError {exc.status_code}"))
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    print()


if __name__ == "__main__":
    anyio.run(main)

"""The ATOM Stripe endpoints in a FastAPI app.

    STRIPE_API_KEY=sk_test_... STRIPE_WEBHOOK_SECRET=whsec_... uvicorn examples.fastapi_app:app --reload

Then open http://127.0.0.1:8000/docs for the OpenAPI page.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from atom_stripe import AsyncStripeClient
from atom_stripe.contrib.fastapi import create_stripe_router

stripe = AsyncStripeClient(base_url=os.environ.get("STRIPE_BASE_URL"))


def get_client() -> AsyncStripeClient:
    """Which key or connected account serves the caller: the host decides (here: one platform key)."""
    return stripe


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await stripe.aclose()


app = FastAPI(title="ATOM Stripe API", lifespan=lifespan)
app.include_router(create_stripe_router(get_client, webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET")))

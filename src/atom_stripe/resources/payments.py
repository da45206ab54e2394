"""``client.payments``: PaymentIntents, ``/v1/payment_intents``."""

from __future__ import annotations

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.payment_intent import PaymentIntent
from ..params._options import ReadOptions
from ..params.payment_intent import (
    PaymentIntentCancelArgs,
    PaymentIntentCancelParams,
    PaymentIntentCaptureArgs,
    PaymentIntentCaptureParams,
    PaymentIntentConfirmArgs,
    PaymentIntentConfirmParams,
    PaymentIntentCreateArgs,
    PaymentIntentCreateParams,
    PaymentIntentListArgs,
    PaymentIntentListParams,
    PaymentIntentSearchArgs,
    PaymentIntentSearchParams,
    PaymentIntentUpdateArgs,
    PaymentIntentUpdateParams,
)
from ._base import Resource

ONE = "/v1/payment_intents/{intent}"


class Payments(Resource):
    """Take payments with PaymentIntents: create, confirm, capture, cancel, list and search."""

    async def create(self, **args: Unpack[PaymentIntentCreateArgs]) -> PaymentIntent:
        """Create a PaymentIntent (``amount`` in minor units, ``currency``; ``confirm=True`` to charge now)."""
        return await self._call("POST", "/v1/payment_intents", PaymentIntent, args, schema=PaymentIntentCreateParams)

    async def retrieve(self, intent: str, **args: Unpack[ReadOptions]) -> PaymentIntent:
        """Retrieve a PaymentIntent."""
        return await self._call("GET", ONE, PaymentIntent, args, intent=intent)

    async def update(self, intent: str, **args: Unpack[PaymentIntentUpdateArgs]) -> PaymentIntent:
        """Change a PaymentIntent without confirming it."""
        return await self._call("POST", ONE, PaymentIntent, args, schema=PaymentIntentUpdateParams, intent=intent)

    async def confirm(self, intent: str, **args: Unpack[PaymentIntentConfirmArgs]) -> PaymentIntent:
        """Confirm a PaymentIntent: try to take the payment (``payment_method=...``)."""
        return await self._call(
            "POST", ONE + "/confirm", PaymentIntent, args, schema=PaymentIntentConfirmParams, intent=intent
        )

    async def capture(self, intent: str, **args: Unpack[PaymentIntentCaptureArgs]) -> PaymentIntent:
        """Capture an authorized PaymentIntent (``requires_capture``), fully or ``amount_to_capture``."""
        return await self._call(
            "POST", ONE + "/capture", PaymentIntent, args, schema=PaymentIntentCaptureParams, intent=intent
        )

    async def cancel(self, intent: str, **args: Unpack[PaymentIntentCancelArgs]) -> PaymentIntent:
        """Cancel a PaymentIntent (``cancellation_reason=...`` optional)."""
        return await self._call(
            "POST", ONE + "/cancel", PaymentIntent, args, schema=PaymentIntentCancelParams, intent=intent
        )

    def list(self, **args: Unpack[PaymentIntentListArgs]) -> AsyncPaginator[PaymentIntent, Page[PaymentIntent]]:
        """List PaymentIntents (filter by ``customer``, ``created``)."""
        return self._paginate("/v1/payment_intents", Page[PaymentIntent], PaymentIntentListParams, args)

    def search(
        self, **args: Unpack[PaymentIntentSearchArgs]
    ) -> AsyncPaginator[PaymentIntent, SearchPage[PaymentIntent]]:
        """Search PaymentIntents (``query="status:'succeeded' AND amount>1000"``)."""
        return self._paginate("/v1/payment_intents/search", SearchPage[PaymentIntent], PaymentIntentSearchParams, args)

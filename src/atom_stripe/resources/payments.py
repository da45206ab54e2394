"""``client.payments``: PaymentIntents, ``/v1/payment_intents``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.payment_intent import PaymentIntent
from ..params.payment_intent import (
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentIntentListParams,
    PaymentIntentSearchParams,
    PaymentIntentUpdateParams,
)
from ._base import Resource

ONE = "/v1/payment_intents/{intent}"


class Payments(Resource):
    """Take payments with PaymentIntents: create, confirm, capture, cancel, list and search."""

    async def create(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PaymentIntentCreateParams],
    ) -> PaymentIntent:
        """Create a PaymentIntent (``amount`` in minor units, ``currency``; ``confirm=True`` to charge now)."""
        return await self._call(
            "POST",
            "/v1/payment_intents",
            PaymentIntent,
            schema=PaymentIntentCreateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def retrieve(
        self,
        intent: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> PaymentIntent:
        """Retrieve a PaymentIntent."""
        return await self._call(
            "GET",
            ONE,
            PaymentIntent,
            ids={"intent": intent},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    async def update(
        self,
        intent: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PaymentIntentUpdateParams],
    ) -> PaymentIntent:
        """Change a PaymentIntent without confirming it."""
        return await self._call(
            "POST",
            ONE,
            PaymentIntent,
            ids={"intent": intent},
            schema=PaymentIntentUpdateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def confirm(
        self,
        intent: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PaymentIntentConfirmParams],
    ) -> PaymentIntent:
        """Confirm a PaymentIntent: try to take the payment (``payment_method=...``)."""
        return await self._call(
            "POST",
            ONE + "/confirm",
            PaymentIntent,
            ids={"intent": intent},
            schema=PaymentIntentConfirmParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def capture(
        self,
        intent: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PaymentIntentCaptureParams],
    ) -> PaymentIntent:
        """Capture an authorized PaymentIntent (status ``requires_capture``), fully or ``amount_to_capture``."""
        return await self._call(
            "POST",
            ONE + "/capture",
            PaymentIntent,
            ids={"intent": intent},
            schema=PaymentIntentCaptureParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def cancel(
        self,
        intent: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PaymentIntentCancelParams],
    ) -> PaymentIntent:
        """Cancel a PaymentIntent (``cancellation_reason=...`` optional)."""
        return await self._call(
            "POST",
            ONE + "/cancel",
            PaymentIntent,
            ids={"intent": intent},
            schema=PaymentIntentCancelParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    def list(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PaymentIntentListParams],
    ) -> AsyncPaginator[PaymentIntent, Page[PaymentIntent]]:
        """List PaymentIntents (filter by ``customer``, ``created``)."""
        return self._paginate(
            "/v1/payment_intents",
            Page[PaymentIntent],
            schema=PaymentIntentListParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    def search(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PaymentIntentSearchParams],
    ) -> AsyncPaginator[PaymentIntent, SearchPage[PaymentIntent]]:
        """Search PaymentIntents (``query="status:'succeeded' AND amount>1000"``)."""
        return self._paginate(
            "/v1/payment_intents/search",
            SearchPage[PaymentIntent],
            schema=PaymentIntentSearchParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

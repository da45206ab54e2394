"""``client.refunds``: ``/v1/refunds``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._errors import StripeValueError
from .._pagination import AsyncPaginator, Page
from ..models.refund import Refund
from ..params.refund import RefundCancelParams, RefundCreateParams, RefundListParams, RefundUpdateParams
from ._base import Resource

ONE = "/v1/refunds/{refund}"


class Refunds(Resource):
    """Give money back: full or partial refunds of a PaymentIntent or a charge."""

    async def create(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[RefundCreateParams],
    ) -> Refund:
        """Refund a ``payment_intent`` or a ``charge``: all of it, or ``amount`` of it."""
        if params.get("payment_intent") is None and params.get("charge") is None:
            raise StripeValueError("payment_intent", "give the payment_intent or the charge to refund")
        return await self._call(
            "POST",
            "/v1/refunds",
            Refund,
            schema=RefundCreateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def retrieve(
        self,
        refund: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Refund:
        """Retrieve a refund."""
        return await self._call(
            "GET",
            ONE,
            Refund,
            ids={"refund": refund},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    async def update(
        self,
        refund: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[RefundUpdateParams],
    ) -> Refund:
        """Change a refund's metadata."""
        return await self._call(
            "POST",
            ONE,
            Refund,
            ids={"refund": refund},
            schema=RefundUpdateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def cancel(
        self,
        refund: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[RefundCancelParams],
    ) -> Refund:
        """Cancel a refund that is still ``requires_action``."""
        return await self._call(
            "POST",
            ONE + "/cancel",
            Refund,
            ids={"refund": refund},
            schema=RefundCancelParams,
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
        **params: Unpack[RefundListParams],
    ) -> AsyncPaginator[Refund, Page[Refund]]:
        """List refunds (``charge``, ``payment_intent``, ``created``)."""
        return self._paginate(
            "/v1/refunds",
            Page[Refund],
            schema=RefundListParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

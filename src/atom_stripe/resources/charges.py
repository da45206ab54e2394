"""``client.charges``: ``/v1/charges``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.charge import Charge
from ..params.charge import ChargeListParams, ChargeSearchParams, ChargeUpdateParams
from ._base import Resource


class Charges(Resource):
    """Charges made by PaymentIntents: read, annotate, list and search them."""

    async def retrieve(
        self,
        charge: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Charge:
        """Retrieve a charge."""
        return await self._call(
            "GET",
            "/v1/charges/{charge}",
            Charge,
            ids={"charge": charge},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    async def update(
        self,
        charge: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[ChargeUpdateParams],
    ) -> Charge:
        """Change a charge's description, metadata, receipt email, ..."""
        return await self._call(
            "POST",
            "/v1/charges/{charge}",
            Charge,
            ids={"charge": charge},
            schema=ChargeUpdateParams,
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
        **params: Unpack[ChargeListParams],
    ) -> AsyncPaginator[Charge, Page[Charge]]:
        """List charges (``customer``, ``payment_intent``, ``created``)."""
        return self._paginate(
            "/v1/charges",
            Page[Charge],
            schema=ChargeListParams,
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
        **params: Unpack[ChargeSearchParams],
    ) -> AsyncPaginator[Charge, SearchPage[Charge]]:
        """Search charges (``query="amount>999 AND status:'succeeded'"``)."""
        return self._paginate(
            "/v1/charges/search",
            SearchPage[Charge],
            schema=ChargeSearchParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

"""``client.prices``: ``/v1/prices``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.price import Price
from ..params.price import PriceCreateParams, PriceListParams, PriceSearchParams, PriceUpdateParams
from ._base import Resource


class Prices(Resource):
    """How much and how often: create, change, list and search prices (archive with ``active=False``)."""

    async def create(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PriceCreateParams],
    ) -> Price:
        """Create a one-time price, or a recurring one with ``recurring={"interval": "month"}``."""
        return await self._call(
            "POST",
            "/v1/prices",
            Price,
            schema=PriceCreateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def retrieve(
        self,
        price: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Price:
        """Retrieve a price."""
        return await self._call(
            "GET",
            "/v1/prices/{price}",
            Price,
            ids={"price": price},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    async def update(
        self,
        price: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[PriceUpdateParams],
    ) -> Price:
        """Change a price's changeable fields (``active``, ``nickname``, ``metadata``, ...)."""
        return await self._call(
            "POST",
            "/v1/prices/{price}",
            Price,
            ids={"price": price},
            schema=PriceUpdateParams,
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
        **params: Unpack[PriceListParams],
    ) -> AsyncPaginator[Price, Page[Price]]:
        """List prices (``product``, ``active``, ``type``, ``currency``, ...)."""
        return self._paginate(
            "/v1/prices",
            Page[Price],
            schema=PriceListParams,
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
        **params: Unpack[PriceSearchParams],
    ) -> AsyncPaginator[Price, SearchPage[Price]]:
        """Search prices (``query="product:'prod_123'"``)."""
        return self._paginate(
            "/v1/prices/search",
            SearchPage[Price],
            schema=PriceSearchParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

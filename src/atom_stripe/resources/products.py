"""``client.products``: ``/v1/products``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.deleted import DeletedProduct
from ..models.product import Product
from ..params.product import ProductCreateParams, ProductListParams, ProductSearchParams, ProductUpdateParams
from ._base import Resource

ONE = "/v1/products/{product}"


class Products(Resource):
    """What you sell: create, change, delete, list and search products."""

    async def create(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[ProductCreateParams],
    ) -> Product:
        """Create a product (``name`` required; ``default_price_data`` also makes a price)."""
        return await self._call(
            "POST",
            "/v1/products",
            Product,
            schema=ProductCreateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def retrieve(
        self,
        product: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Product:
        """Retrieve a product."""
        return await self._call(
            "GET",
            ONE,
            Product,
            ids={"product": product},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    async def update(
        self,
        product: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[ProductUpdateParams],
    ) -> Product:
        """Change a product."""
        return await self._call(
            "POST",
            ONE,
            Product,
            ids={"product": product},
            schema=ProductUpdateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def delete(
        self,
        product: str,
        *,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> DeletedProduct:
        """Delete a product (only one with no prices; archive others with ``active=False``)."""
        return await self._call(
            "DELETE",
            ONE,
            DeletedProduct,
            ids={"product": product},
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    def list(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
        **params: Unpack[ProductListParams],
    ) -> AsyncPaginator[Product, Page[Product]]:
        """List products (``active``, ``ids``, ``created``, ...)."""
        return self._paginate(
            "/v1/products",
            Page[Product],
            schema=ProductListParams,
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
        **params: Unpack[ProductSearchParams],
    ) -> AsyncPaginator[Product, SearchPage[Product]]:
        """Search products (``query="active:'true' AND name~'shirt'"``)."""
        return self._paginate(
            "/v1/products/search",
            SearchPage[Product],
            schema=ProductSearchParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

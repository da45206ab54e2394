"""``client.products``: ``/v1/products``."""

from __future__ import annotations

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.deleted import DeletedProduct
from ..models.product import Product
from ..params._options import ReadOptions
from ..params.product import (
    ProductCreateArgs,
    ProductCreateParams,
    ProductListArgs,
    ProductListParams,
    ProductSearchArgs,
    ProductSearchParams,
    ProductUpdateArgs,
    ProductUpdateParams,
)
from ._base import Resource

ONE = "/v1/products/{product}"


class Products(Resource):
    """What you sell: create, change, delete, list and search products."""

    async def create(self, **args: Unpack[ProductCreateArgs]) -> Product:
        """Create a product (``name`` required; ``default_price_data`` also makes a price)."""
        return await self._call("POST", "/v1/products", Product, args, schema=ProductCreateParams)

    async def retrieve(self, product: str, **args: Unpack[ReadOptions]) -> Product:
        """Retrieve a product."""
        return await self._call("GET", ONE, Product, args, product=product)

    async def update(self, product: str, **args: Unpack[ProductUpdateArgs]) -> Product:
        """Change a product."""
        return await self._call("POST", ONE, Product, args, schema=ProductUpdateParams, product=product)

    async def delete(self, product: str, **args: Unpack[ReadOptions]) -> DeletedProduct:
        """Delete a product (only one with no prices; archive others with ``active=False``)."""
        return await self._call("DELETE", ONE, DeletedProduct, args, product=product)

    def list(self, **args: Unpack[ProductListArgs]) -> AsyncPaginator[Product, Page[Product]]:
        """List products (``active``, ``ids``, ``created``, ...)."""
        return self._paginate("/v1/products", Page[Product], ProductListParams, args)

    def search(self, **args: Unpack[ProductSearchArgs]) -> AsyncPaginator[Product, SearchPage[Product]]:
        """Search products (``query="active:'true' AND name~'shirt'"``)."""
        return self._paginate("/v1/products/search", SearchPage[Product], ProductSearchParams, args)

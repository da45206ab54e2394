"""``client.prices``: ``/v1/prices``."""

from __future__ import annotations

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.price import Price
from ..params._options import ReadOptions
from ..params.price import (
    PriceCreateArgs,
    PriceCreateParams,
    PriceListArgs,
    PriceListParams,
    PriceSearchArgs,
    PriceSearchParams,
    PriceUpdateArgs,
    PriceUpdateParams,
)
from ._base import Resource

ONE = "/v1/prices/{price}"


class Prices(Resource):
    """How much and how often: create, change, list and search prices (archive with ``active=False``)."""

    async def create(self, **args: Unpack[PriceCreateArgs]) -> Price:
        """Create a one-time price, or a recurring one with ``recurring={"interval": "month"}``."""
        return await self._call("POST", "/v1/prices", Price, args, schema=PriceCreateParams)

    async def retrieve(self, price: str, **args: Unpack[ReadOptions]) -> Price:
        """Retrieve a price."""
        return await self._call("GET", ONE, Price, args, price=price)

    async def update(self, price: str, **args: Unpack[PriceUpdateArgs]) -> Price:
        """Change a price's changeable fields (``active``, ``nickname``, ``metadata``, ...)."""
        return await self._call("POST", ONE, Price, args, schema=PriceUpdateParams, price=price)

    def list(self, **args: Unpack[PriceListArgs]) -> AsyncPaginator[Price, Page[Price]]:
        """List prices (``product``, ``active``, ``type``, ``currency``, ...)."""
        return self._paginate("/v1/prices", Page[Price], PriceListParams, args)

    def search(self, **args: Unpack[PriceSearchArgs]) -> AsyncPaginator[Price, SearchPage[Price]]:
        """Search prices (``query="product:'prod_123'"``)."""
        return self._paginate("/v1/prices/search", SearchPage[Price], PriceSearchParams, args)

"""``client.charges``: ``/v1/charges``."""

from __future__ import annotations

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.charge import Charge
from ..params._options import ReadOptions
from ..params.charge import (
    ChargeListArgs,
    ChargeListParams,
    ChargeSearchArgs,
    ChargeSearchParams,
    ChargeUpdateArgs,
    ChargeUpdateParams,
)
from ._base import Resource

ONE = "/v1/charges/{charge}"


class Charges(Resource):
    """Charges made by PaymentIntents: read, annotate, list and search them."""

    async def retrieve(self, charge: str, **args: Unpack[ReadOptions]) -> Charge:
        """Retrieve a charge."""
        return await self._call("GET", ONE, Charge, args, charge=charge)

    async def update(self, charge: str, **args: Unpack[ChargeUpdateArgs]) -> Charge:
        """Change a charge's description, metadata, receipt email, ..."""
        return await self._call("POST", ONE, Charge, args, schema=ChargeUpdateParams, charge=charge)

    def list(self, **args: Unpack[ChargeListArgs]) -> AsyncPaginator[Charge, Page[Charge]]:
        """List charges (``customer``, ``payment_intent``, ``created``)."""
        return self._paginate("/v1/charges", Page[Charge], ChargeListParams, args)

    def search(self, **args: Unpack[ChargeSearchArgs]) -> AsyncPaginator[Charge, SearchPage[Charge]]:
        """Search charges (``query="amount>999 AND status:'succeeded'"``)."""
        return self._paginate("/v1/charges/search", SearchPage[Charge], ChargeSearchParams, args)

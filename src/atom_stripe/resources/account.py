"""``client.account``: ``/v1/account``."""

from __future__ import annotations

from typing_extensions import Unpack

from ..models.account import Account
from ..params._options import ReadOptions
from ._base import Resource


class AccountResource(Resource):
    """The Stripe account the key belongs to, or the connected one named by ``stripe_account``."""

    async def retrieve(self, **args: Unpack[ReadOptions]) -> Account:
        """Retrieve the account (``GET /v1/account``)."""
        return await self._call("GET", "/v1/account", Account, args)

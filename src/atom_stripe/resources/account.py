"""``client.account``: ``/v1/account``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..models.account import Account
from ._base import Resource


class AccountResource(Resource):
    """The Stripe account the key belongs to, or the connected one named by ``stripe_account``."""

    async def retrieve(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Account:
        """Retrieve the account (``GET /v1/account``)."""
        return await self._call(
            "GET", "/v1/account", Account, expand=expand, extra_params=extra_params, stripe_account=stripe_account
        )

"""``client.balance`` (``/v1/balance``) and ``client.balance_transactions``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page
from ..models.balance import Balance
from ..models.balance_transaction import BalanceTransaction
from ..params.balance_transaction import BalanceTransactionListParams
from ._base import Resource


class BalanceResource(Resource):
    """Your account's balance (or a connected account's, with ``stripe_account``)."""

    async def retrieve(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Balance:
        """Retrieve the balance: ``available`` and ``pending`` amounts per currency."""
        return await self._call(
            "GET", "/v1/balance", Balance, expand=expand, extra_params=extra_params, stripe_account=stripe_account
        )


class BalanceTransactions(Resource):
    """Every movement of funds: charges, refunds, payouts, fees."""

    async def retrieve(
        self,
        transaction: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> BalanceTransaction:
        """Retrieve a balance transaction."""
        return await self._call(
            "GET",
            "/v1/balance_transactions/{transaction}",
            BalanceTransaction,
            ids={"transaction": transaction},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    def list(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
        **params: Unpack[BalanceTransactionListParams],
    ) -> AsyncPaginator[BalanceTransaction, Page[BalanceTransaction]]:
        """List balance transactions (``type``, ``source``, ``payout``, ``currency``, ``created``)."""
        return self._paginate(
            "/v1/balance_transactions",
            Page[BalanceTransaction],
            schema=BalanceTransactionListParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

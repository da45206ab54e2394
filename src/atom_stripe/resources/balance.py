"""``client.balance`` (``/v1/balance``) and ``client.balance_transactions``."""

from __future__ import annotations

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page
from ..models.balance import Balance
from ..models.balance_transaction import BalanceTransaction
from ..params._options import ReadOptions
from ..params.balance_transaction import BalanceTransactionListArgs, BalanceTransactionListParams
from ._base import Resource


class BalanceResource(Resource):
    """Your account's balance (or a connected account's, with ``stripe_account``)."""

    async def retrieve(self, **args: Unpack[ReadOptions]) -> Balance:
        """Retrieve the balance: ``available`` and ``pending`` amounts per currency."""
        return await self._call("GET", "/v1/balance", Balance, args)


class BalanceTransactions(Resource):
    """Every movement of funds: charges, refunds, payouts, fees."""

    async def retrieve(self, transaction: str, **args: Unpack[ReadOptions]) -> BalanceTransaction:
        """Retrieve a balance transaction."""
        return await self._call(
            "GET", "/v1/balance_transactions/{transaction}", BalanceTransaction, args, transaction=transaction
        )

    def list(
        self, **args: Unpack[BalanceTransactionListArgs]
    ) -> AsyncPaginator[BalanceTransaction, Page[BalanceTransaction]]:
        """List balance transactions (``type``, ``source``, ``payout``, ``currency``, ``created``)."""
        return self._paginate("/v1/balance_transactions", Page[BalanceTransaction], BalanceTransactionListParams, args)

"""``client.refunds``: ``/v1/refunds``."""

from __future__ import annotations

from typing_extensions import Unpack

from .._errors import StripeValueError
from .._pagination import AsyncPaginator, Page
from ..models.refund import Refund
from ..params._options import ReadOptions
from ..params.refund import (
    RefundCancelArgs,
    RefundCancelParams,
    RefundCreateArgs,
    RefundCreateParams,
    RefundListArgs,
    RefundListParams,
    RefundUpdateArgs,
    RefundUpdateParams,
)
from ._base import Resource

ONE = "/v1/refunds/{refund}"


class Refunds(Resource):
    """Give money back: full or partial refunds of a PaymentIntent or a charge."""

    async def create(self, **args: Unpack[RefundCreateArgs]) -> Refund:
        """Refund a ``payment_intent`` or a ``charge``: all of it, or ``amount`` of it."""
        if args.get("payment_intent") is None and args.get("charge") is None:
            raise StripeValueError("payment_intent", "give the payment_intent or the charge to refund")
        return await self._call("POST", "/v1/refunds", Refund, args, schema=RefundCreateParams)

    async def retrieve(self, refund: str, **args: Unpack[ReadOptions]) -> Refund:
        """Retrieve a refund."""
        return await self._call("GET", ONE, Refund, args, refund=refund)

    async def update(self, refund: str, **args: Unpack[RefundUpdateArgs]) -> Refund:
        """Change a refund's metadata."""
        return await self._call("POST", ONE, Refund, args, schema=RefundUpdateParams, refund=refund)

    async def cancel(self, refund: str, **args: Unpack[RefundCancelArgs]) -> Refund:
        """Cancel a refund that is still ``requires_action``."""
        return await self._call("POST", ONE + "/cancel", Refund, args, schema=RefundCancelParams, refund=refund)

    def list(self, **args: Unpack[RefundListArgs]) -> AsyncPaginator[Refund, Page[Refund]]:
        """List refunds (``charge``, ``payment_intent``, ``created``)."""
        return self._paginate("/v1/refunds", Page[Refund], RefundListParams, args)

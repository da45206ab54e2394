"""``client.subscriptions``: ``/v1/subscriptions``."""

from __future__ import annotations

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.subscription import Subscription
from ..params._options import ReadOptions
from ..params.subscription import (
    SubscriptionCancelArgs,
    SubscriptionCancelParams,
    SubscriptionCreateArgs,
    SubscriptionCreateParams,
    SubscriptionListArgs,
    SubscriptionListParams,
    SubscriptionResumeArgs,
    SubscriptionResumeParams,
    SubscriptionSearchArgs,
    SubscriptionSearchParams,
    SubscriptionUpdateArgs,
    SubscriptionUpdateParams,
)
from ._base import Resource

ONE = "/v1/subscriptions/{subscription}"


class Subscriptions(Resource):
    """Recurring billing: create, change, cancel, resume, list and search subscriptions."""

    async def create(self, **args: Unpack[SubscriptionCreateArgs]) -> Subscription:
        """Subscribe a ``customer`` to ``items=[{"price": ..., "quantity": ...}]``."""
        return await self._call("POST", "/v1/subscriptions", Subscription, args, schema=SubscriptionCreateParams)

    async def retrieve(self, subscription: str, **args: Unpack[ReadOptions]) -> Subscription:
        """Retrieve a subscription."""
        return await self._call("GET", ONE, Subscription, args, subscription=subscription)

    async def update(self, subscription: str, **args: Unpack[SubscriptionUpdateArgs]) -> Subscription:
        """Change a subscription (items, ``cancel_at_period_end``, proration, ...)."""
        return await self._call(
            "POST", ONE, Subscription, args, schema=SubscriptionUpdateParams, subscription=subscription
        )

    async def cancel(self, subscription: str, **args: Unpack[SubscriptionCancelArgs]) -> Subscription:
        """Cancel now (``DELETE``); returns the canceled subscription."""
        return await self._call(
            "DELETE", ONE, Subscription, args, schema=SubscriptionCancelParams, subscription=subscription
        )

    async def resume(self, subscription: str, **args: Unpack[SubscriptionResumeArgs]) -> Subscription:
        """Resume a paused subscription."""
        return await self._call(
            "POST", ONE + "/resume", Subscription, args, schema=SubscriptionResumeParams, subscription=subscription
        )

    def list(self, **args: Unpack[SubscriptionListArgs]) -> AsyncPaginator[Subscription, Page[Subscription]]:
        """List subscriptions (``customer``, ``price``, ``status``; canceled ones only with ``status="all"``)."""
        return self._paginate("/v1/subscriptions", Page[Subscription], SubscriptionListParams, args)

    def search(self, **args: Unpack[SubscriptionSearchArgs]) -> AsyncPaginator[Subscription, SearchPage[Subscription]]:
        """Search subscriptions (``query="status:'active'"``)."""
        return self._paginate("/v1/subscriptions/search", SearchPage[Subscription], SubscriptionSearchParams, args)

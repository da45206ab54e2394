"""``client.subscriptions``: ``/v1/subscriptions``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.subscription import Subscription
from ..params.subscription import (
    SubscriptionCancelParams,
    SubscriptionCreateParams,
    SubscriptionListParams,
    SubscriptionResumeParams,
    SubscriptionSearchParams,
    SubscriptionUpdateParams,
)
from ._base import Resource

ONE = "/v1/subscriptions/{subscription}"


class Subscriptions(Resource):
    """Recurring billing: create, change, cancel, resume, list and search subscriptions."""

    async def create(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[SubscriptionCreateParams],
    ) -> Subscription:
        """Subscribe a ``customer`` to ``items=[{"price": ..., "quantity": ...}]``."""
        return await self._call(
            "POST",
            "/v1/subscriptions",
            Subscription,
            schema=SubscriptionCreateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def retrieve(
        self,
        subscription: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Subscription:
        """Retrieve a subscription."""
        return await self._call(
            "GET",
            ONE,
            Subscription,
            ids={"subscription": subscription},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    async def update(
        self,
        subscription: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[SubscriptionUpdateParams],
    ) -> Subscription:
        """Change a subscription (items, ``cancel_at_period_end``, proration, ...)."""
        return await self._call(
            "POST",
            ONE,
            Subscription,
            ids={"subscription": subscription},
            schema=SubscriptionUpdateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def cancel(
        self,
        subscription: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
        **params: Unpack[SubscriptionCancelParams],
    ) -> Subscription:
        """Cancel now (``DELETE``); returns the canceled subscription."""
        return await self._call(
            "DELETE",
            ONE,
            Subscription,
            ids={"subscription": subscription},
            schema=SubscriptionCancelParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    async def resume(
        self,
        subscription: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[SubscriptionResumeParams],
    ) -> Subscription:
        """Resume a paused subscription."""
        return await self._call(
            "POST",
            ONE + "/resume",
            Subscription,
            ids={"subscription": subscription},
            schema=SubscriptionResumeParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    def list(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
        **params: Unpack[SubscriptionListParams],
    ) -> AsyncPaginator[Subscription, Page[Subscription]]:
        """List subscriptions (``customer``, ``price``, ``status``; canceled ones only with ``status="all"``)."""
        return self._paginate(
            "/v1/subscriptions",
            Page[Subscription],
            schema=SubscriptionListParams,
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
        **params: Unpack[SubscriptionSearchParams],
    ) -> AsyncPaginator[Subscription, SearchPage[Subscription]]:
        """Search subscriptions (``query="status:'active'"``)."""
        return self._paginate(
            "/v1/subscriptions/search",
            SearchPage[Subscription],
            schema=SubscriptionSearchParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

"""``client.customers``: ``/v1/customers``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.customer import Customer
from ..models.deleted import DeletedCustomer
from ..params.customer import (
    CustomerCreateParams,
    CustomerListParams,
    CustomerSearchParams,
    CustomerUpdateParams,
)
from ._base import Resource


class Customers(Resource):
    """Create, read, change, delete, list and search customers."""

    async def create(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[CustomerCreateParams],
    ) -> Customer:
        """Create a customer (``POST /v1/customers``)."""
        return await self._call(
            "POST",
            "/v1/customers",
            Customer,
            schema=CustomerCreateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def retrieve(
        self,
        customer: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Customer:
        """Retrieve a customer (``GET /v1/customers/{customer}``); a deleted one comes back with ``deleted=True``."""
        return await self._call(
            "GET",
            "/v1/customers/{customer}",
            Customer,
            ids={"customer": customer},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    async def update(
        self,
        customer: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        stripe_account: str | None = None,
        **params: Unpack[CustomerUpdateParams],
    ) -> Customer:
        """Change a customer (``POST /v1/customers/{customer}``); ``""`` clears a field."""
        return await self._call(
            "POST",
            "/v1/customers/{customer}",
            Customer,
            ids={"customer": customer},
            schema=CustomerUpdateParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            idempotency_key=idempotency_key,
            stripe_account=stripe_account,
        )

    async def delete(
        self,
        customer: str,
        *,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> DeletedCustomer:
        """Delete a customer for good (``DELETE /v1/customers/{customer}``)."""
        return await self._call(
            "DELETE",
            "/v1/customers/{customer}",
            DeletedCustomer,
            ids={"customer": customer},
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    def list(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
        **params: Unpack[CustomerListParams],
    ) -> AsyncPaginator[Customer, Page[Customer]]:
        """List customers, newest first: await for a page, ``async for`` for every customer."""
        return self._paginate(
            "/v1/customers",
            Page[Customer],
            schema=CustomerListParams,
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
        **params: Unpack[CustomerSearchParams],
    ) -> AsyncPaginator[Customer, SearchPage[Customer]]:
        """Search customers (``query="email:'a@example.com'"``); eventually consistent."""
        return self._paginate(
            "/v1/customers/search",
            SearchPage[Customer],
            schema=CustomerSearchParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

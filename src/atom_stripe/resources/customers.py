"""``client.customers``: ``/v1/customers``."""

from __future__ import annotations

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page, SearchPage
from ..models.customer import Customer
from ..models.deleted import DeletedCustomer
from ..params._options import ReadOptions
from ..params.customer import (
    CustomerCreateArgs,
    CustomerCreateParams,
    CustomerListArgs,
    CustomerListParams,
    CustomerSearchArgs,
    CustomerSearchParams,
    CustomerUpdateArgs,
    CustomerUpdateParams,
)
from ._base import Resource

ONE = "/v1/customers/{customer}"


class Customers(Resource):
    """Create, read, change, delete, list and search customers."""

    async def create(self, **args: Unpack[CustomerCreateArgs]) -> Customer:
        """Create a customer (``POST /v1/customers``)."""
        return await self._call("POST", "/v1/customers", Customer, args, schema=CustomerCreateParams)

    async def retrieve(self, customer: str, **args: Unpack[ReadOptions]) -> Customer:
        """Retrieve a customer; a deleted one comes back with ``deleted=True``."""
        return await self._call("GET", ONE, Customer, args, customer=customer)

    async def update(self, customer: str, **args: Unpack[CustomerUpdateArgs]) -> Customer:
        """Change a customer; ``""`` clears a field."""
        return await self._call("POST", ONE, Customer, args, schema=CustomerUpdateParams, customer=customer)

    async def delete(self, customer: str, **args: Unpack[ReadOptions]) -> DeletedCustomer:
        """Delete a customer for good (it also cancels their subscriptions)."""
        return await self._call("DELETE", ONE, DeletedCustomer, args, customer=customer)

    def list(self, **args: Unpack[CustomerListArgs]) -> AsyncPaginator[Customer, Page[Customer]]:
        """List customers, newest first: await for a page, ``async for`` for every customer."""
        return self._paginate("/v1/customers", Page[Customer], CustomerListParams, args)

    def search(self, **args: Unpack[CustomerSearchArgs]) -> AsyncPaginator[Customer, SearchPage[Customer]]:
        """Search customers (``query="email:'a@example.com'"``); eventually consistent."""
        return self._paginate("/v1/customers/search", SearchPage[Customer], CustomerSearchParams, args)

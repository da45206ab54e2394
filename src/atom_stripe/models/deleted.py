"""What Stripe answers to a DELETE: the id, the object type and ``deleted: true``."""

from __future__ import annotations

from typing import Literal

from .._models import ALWAYS_SENT, StripeObject


class DeletedObject(StripeObject):
    """A deleted object's stub."""

    id: str = ALWAYS_SENT
    object: str = ALWAYS_SENT
    deleted: Literal[True] = True


class DeletedCustomer(DeletedObject):
    """A deleted customer."""

    object: Literal["customer"] = "customer"


class DeletedProduct(DeletedObject):
    """A deleted product."""

    object: Literal["product"] = "product"

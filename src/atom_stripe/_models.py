"""The base of every atom_stripe model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

#: Default for fields Stripe always sends. A server that speaks an older API shape
#: (localstripe, for one) may leave such a field out; it then reads as ``None``.
ALWAYS_SENT: Any = None

#: Field names whose values are secrets and are masked in reprs.
SECRET_FIELDS = frozenset({"client_secret", "secret", "access_token", "refresh_token"})


class StripeObject(BaseModel):
    """A Stripe API object: typed fields, plus any field Stripe adds later kept as extra."""

    model_config = ConfigDict(
        extra="allow",
        defer_build=True,
        protected_namespaces=(),
        populate_by_name=True,
        arbitrary_types_allowed=False,
    )

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name in SECRET_FIELDS and value is not None:
                yield name, "**********"
            elif value is not None:
                yield name, value

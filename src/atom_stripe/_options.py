"""What every call takes besides its endpoint's parameters."""

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import TypedDict


class ReadOptions(TypedDict, total=False):
    """Options of every call."""

    expand: Sequence[str] | None
    """Fields to expand into objects (dotted paths, at most 4 levels; ``data.`` first on lists)."""
    extra_params: Mapping[str, Any] | None
    """Parameters atom_stripe has not typed yet, sent as given."""
    stripe_account: str | None
    """Act on this connected account (``Stripe-Account``) for this call."""


class WriteOptions(ReadOptions, total=False):
    """Options of every POST."""

    idempotency_key: str | None
    """The key that makes retries safe (default: a fresh UUID per call, reused on every attempt)."""


#: The option names, taken out of a call's arguments before its parameters are checked.
OPTION_NAMES = ("expand", "extra_params", "stripe_account", "idempotency_key", "stripe_context")


class V2ReadOptions(TypedDict, total=False):
    """Options of every v2 call (v2 has no ``expand``)."""

    extra_params: Mapping[str, Any] | None
    """Parameters atom_stripe has not typed yet, sent as given."""
    stripe_account: str | None
    """Act on this connected account (``Stripe-Account``) for this call."""
    stripe_context: str | None
    """The context to act in (``Stripe-Context``, v2's successor of ``Stripe-Account``)."""


class V2WriteOptions(V2ReadOptions, total=False):
    """Options of every v2 POST and DELETE."""

    idempotency_key: str | None
    """The key that makes retries safe (default: a fresh UUID per call, reused on every attempt)."""

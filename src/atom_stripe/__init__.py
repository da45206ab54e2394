"""atom_stripe: a typed, async-first client for Stripe's REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__

if TYPE_CHECKING:
    from ._client import DEFAULT_API_VERSION, AsyncStripeClient
    from ._errors import (
        APIConnectionError,
        APIResponseError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        CardError,
        ClientClosedError,
        ConflictError,
        IdempotencyError,
        InvalidRequestError,
        MissingExtraError,
        NotAwaitedError,
        NotFoundError,
        OAuthError,
        OAuthStateError,
        PermissionDeniedError,
        RateLimitError,
        ServerError,
        SignatureVerificationError,
        StripeError,
        StripeUsageError,
        StripeValueError,
        TemporarySessionExpiredError,
    )
    from ._meter_stream import MeterEventStreamError, MeterEventStreamWriter

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncStripeClient",
    "AuthenticationError",
    "CardError",
    "ClientClosedError",
    "ConflictError",
    "DEFAULT_API_VERSION",
    "IdempotencyError",
    "InvalidRequestError",
    "MeterEventStreamError",
    "MeterEventStreamWriter",
    "MissingExtraError",
    "NotAwaitedError",
    "NotFoundError",
    "OAuthError",
    "OAuthStateError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "SignatureVerificationError",
    "StripeError",
    "StripeUsageError",
    "StripeValueError",
    "TemporarySessionExpiredError",
    "__version__",
]

# Every name is loaded on first use: importing a submodule (the pytest plugin, which every pytest
# run loads wherever atom_stripe is installed; ``atom_stripe.webhooks``) does not load the client.
# The client itself brings pydantic's model machinery with it (see _client).
_WHERE = {
    **dict.fromkeys(("AsyncStripeClient", "DEFAULT_API_VERSION"), "._client"),
    **dict.fromkeys(("MeterEventStreamError", "MeterEventStreamWriter"), "._meter_stream"),
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__, default="._errors")

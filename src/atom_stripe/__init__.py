"""atom_stripe: a typed, async-first client for Stripe's REST API."""

from . import (
    _lighter,  # noqa: F401  (first: httpx's command-line tool then loads only if used)
    _models,  # noqa: F401  (pydantic's model machinery: every answer and event is parsed into a model)
)
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
)
from ._version import __version__

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
    "__version__",
]

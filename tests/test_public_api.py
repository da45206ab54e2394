"""The public names are a contract: pinned here, sorted."""

from __future__ import annotations

import atom_stripe
from atom_stripe import models


def test_public_names() -> None:
    assert atom_stripe.__all__ == sorted(atom_stripe.__all__)
    assert set(atom_stripe.__all__) == {
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
    }
    for name in atom_stripe.__all__:
        assert hasattr(atom_stripe, name)


def test_model_names() -> None:
    assert models.__all__ == sorted(models.__all__)
    for name in models.__all__:
        assert hasattr(models, name)


def test_error_tree() -> None:
    e = atom_stripe
    assert issubclass(e.APITimeoutError, e.APIConnectionError)
    assert issubclass(e.NotFoundError, e.InvalidRequestError)
    assert issubclass(e.IdempotencyError, e.InvalidRequestError)
    for cls in (e.APIConnectionError, e.APIStatusError, e.APIResponseError, e.SignatureVerificationError):
        assert issubclass(cls, e.StripeError)
    assert issubclass(e.StripeValueError, ValueError)

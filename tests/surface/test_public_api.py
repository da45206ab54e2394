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


def test_public_module_names_are_pinned() -> None:
    from atom_stripe import money
    from atom_stripe.contrib import fastapi, otel

    pinned = {
        money: [
            "ISO_CURRENCIES",
            "MAX_AMOUNT",
            "MAX_AMOUNT_BY_CURRENCY",
            "THREE_DECIMAL",
            "WHOLE_UNITS_TIMES_100",
            "WHOLE_UNIT_PAYOUTS",
            "ZERO_DECIMAL",
            "check_amount",
            "decimals",
            "format_amount",
            "from_minor_units",
            "max_amount",
            "normalize_currency",
            "to_minor_units",
        ],
        fastapi: ["StripeRouter", "create_stripe_router", "error_response", "install_error_handlers"],
        otel: ["StripeTracer", "TRACER_NAME", "instrument"],
    }
    for module, names in pinned.items():
        assert module.__all__ == names, module.__name__
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_copies_of_a_subclassed_client_keep_its_class() -> None:
    class MyClient(atom_stripe.AsyncStripeClient):
        def tag(self) -> str:
            return "mine"

    client = MyClient("sk_test_subclass")
    copy = client.with_options(max_retries=0)
    on_account = client.for_account("acct_1")
    assert type(copy) is MyClient and copy.tag() == "mine"
    assert type(on_account) is MyClient and on_account.tag() == "mine"

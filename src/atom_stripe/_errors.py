"""The exception tree, and the one place that maps an HTTP error answer to a class.

::

    StripeError
    ├── APIConnectionError            no answer (connection refused, reset, dropped)
    │   └── APITimeoutError           no answer in time
    ├── APIStatusError                an HTTP error answer (status_code, request_id, code, ...)
    │   ├── InvalidRequestError       400
    │   │   ├── NotFoundError         404
    │   │   └── IdempotencyError      400/404 type "idempotency_error": a key reused with other parameters
    │   ├── AuthenticationError       401
    │   ├── CardError                 402
    │   ├── PermissionDeniedError     403
    │   ├── ConflictError             409 (also "idempotency_key_in_use": the key's first call still runs)
    │   ├── RateLimitError            429
    │   ├── ServerError               5xx
    │   └── OAuthError                Connect OAuth's {"error": "invalid_grant", ...} (OAuth endpoints only)
    │       └── InvalidGrantError, InvalidClientError, InvalidRequestOAuthError,
    │           InvalidScopeError, UnsupportedGrantTypeError, UnsupportedResponseTypeError,
    │           AccessDeniedError
    ├── APIResponseError              a body that is not JSON, does not decode, or exceeds max_response_size
    ├── SignatureVerificationError    a webhook that does not verify
    ├── OAuthStateError               an OAuth callback whose state does not verify
    ├── StripeValueError (ValueError) bad input, refused before anything is sent
    ├── StripeUsageError (TypeError)  the library used the wrong way (``for`` over an async paginator)
    │   ├── ClientClosedError         a call on a client already closed (after its ``async with``)
    │   └── NotAwaitedError (AttributeError) a page's attribute asked of a paginator not awaited
    └── MissingExtraError (ImportError) an optional part whose extra is not installed
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import httpx

#: How much of a non-JSON error body an exception keeps.
SNIPPET_CHARS = 200


class StripeError(Exception):
    """Root of every error atom_stripe raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> Any:
        # Pickle (a ProcessPoolExecutor's worker, a task queue) rebuilds an exception by calling
        # its class with ``args``, which no subclass with arguments of its own accepts: rebuild
        # it without ``__init__`` instead. Its HTTP request travels without the API key.
        state = {name: _portable(value) for name, value in self.__dict__.items()}
        if isinstance(self, ImportError):  # kept in slots, not in __dict__
            state.update(name=self.name, path=self.path)
        return _restore, (type(self), self.args), state


def _restore(cls: type[StripeError], args: tuple[Any, ...]) -> StripeError:
    return cls.__new__(cls, *args)


def _portable(value: Any) -> Any:
    """An error's attribute as it is pickled: an httpx request or response copied without its
    ``Authorization`` header (and without what cannot be pickled: streams, extensions)."""
    if isinstance(value, httpx.Request):
        headers = [(k, v) for k, v in value.headers.multi_items() if k.lower() != "authorization"]
        try:
            content = value.content
        except httpx.RequestNotRead:
            content = b""
        return httpx.Request(value.method, value.url, headers=headers, content=content)
    if isinstance(value, httpx.Response):
        try:
            request: httpx.Request | None = _portable(value.request)
        except RuntimeError:  # a response made without a request
            request = None
        try:
            body = value.content
        except httpx.ResponseNotRead:
            body = b""
        return httpx.Response(value.status_code, headers=value.headers.multi_items(), content=body, request=request)
    return value


class StripeValueError(StripeError, ValueError):
    """Bad input, refused before anything goes over the wire. ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class StripeUsageError(StripeError, TypeError):
    """The library used the wrong way, e.g. a plain ``for`` over what needs ``async for``."""


class ClientClosedError(StripeUsageError):
    """A call on a client that is closed: its ``async with`` block has ended, or ``aclose()`` ran."""

    def __init__(self) -> None:
        super().__init__(
            "This client has been closed: make every call inside its `async with AsyncStripeClient(...) as stripe:` "
            "block (or before `await stripe.aclose()`), or open a new client"
        )


class NotAwaitedError(StripeUsageError, AttributeError):
    """A page's attribute (``.data``, ``.has_more``) asked of what ``list()`` returns before awaiting it.

    An ``AttributeError`` too, so ``hasattr()`` and ``getattr(x, name, default)`` still answer."""


def typename(value: object) -> str:
    """A value's type name for a message, with the fix for the two usual slips: a model
    where its id is expected, and a coroutine that was not awaited."""
    name = type(value).__name__
    if inspect.isawaitable(value):
        return f"{name} (did you forget `await`?)"
    if isinstance(getattr(value, "id", None), str) and isinstance(getattr(value, "object", None), str):
        return f"{name} (pass {_snake(name)}.id)"
    return name


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class MissingExtraError(StripeError, ImportError):
    """An optional part of atom_stripe whose extra is not installed; the message names the pip install."""

    def __init__(self, extra: str, missing: str | None) -> None:
        super().__init__(
            f"this needs the '{extra}' extra (module {missing or extra!r} is not installed): "
            f"pip install 'atom_stripe[{extra}]'"
        )
        self.extra = extra
        self.name = missing


class APIConnectionError(StripeError):
    """The request got no HTTP answer: connection refused, reset or dropped."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request got no answer within the timeout."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APIResponseError(StripeError):
    """An answer whose body cannot be used: a 2xx that is not JSON (or not the expected object),
    a body that does not decode as its ``Content-Encoding`` says, or one past ``max_response_size``."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code
        self.request_id: str | None = response.headers.get("request-id")


class APIStatusError(StripeError):
    """Stripe (or a proxy in front of it) answered with an HTTP error status."""

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message)
        self.response = response
        self.status_code: int = response.status_code
        self.request_id: str | None = response.headers.get("request-id")
        self.body = body
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        self.type: str | None = error.get("type")
        self.code: str | None = error.get("code")
        self.param: str | None = error.get("param")
        self.decline_code: str | None = error.get("decline_code")
        self.doc_url: str | None = error.get("doc_url")

    def __str__(self) -> str:
        parts = [f"{self.status_code}"]
        if self.type:
            parts.append(self.type)
        if self.code:
            parts.append(self.code)
        text = f"({', '.join(parts)}) {self.message}"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text


class InvalidRequestError(APIStatusError):
    """400: missing or invalid parameters."""


class NotFoundError(InvalidRequestError):
    """404: no such object."""


class IdempotencyError(InvalidRequestError):
    """400 (or 404) of type ``idempotency_error``: an idempotency key reused with different parameters.

    Never retried. A key whose first call is still running answers 409 instead: a :class:`ConflictError`
    (retried), with ``type == "idempotency_error"`` and ``code == "idempotency_key_in_use"``.
    """


class AuthenticationError(APIStatusError):
    """401: no valid API key."""


class TemporarySessionExpiredError(AuthenticationError):
    """v2 error type ``temporary_session_expired``: a meter event session's token has expired
    (they last 15 minutes): create a new session (``v2.billing.meter_event_session.create``).

    Chosen by its type whatever the 4xx status, as Stripe's own libraries do (stripe-python's
    ``specific_v2_api_error``)."""


class CardError(APIStatusError):
    """402: the parameters were valid but the payment failed (a decline: see ``decline_code``)."""


class PermissionDeniedError(APIStatusError):
    """403: the key lacks permission for this request."""


class ConflictError(APIStatusError):
    """409: the request conflicts with another one (for example the same idempotency key in flight)."""


class RateLimitError(APIStatusError):
    """429: too many requests, or an object locked by another request (``lock_timeout``)."""


class ServerError(APIStatusError):
    """5xx: Stripe, or a proxy in front of it, failed. The call may have taken effect."""


class SignatureVerificationError(StripeError):
    """A webhook payload whose signature header does not verify."""


class OAuthStateError(StripeError):
    """An OAuth callback whose ``state`` is missing, forged, for another session, or expired."""


class OAuthError(APIStatusError):
    """Connect OAuth refused the call: ``error`` is Stripe's code, ``description`` its words."""

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message, response=response, body=body)
        error = body.get("error") if isinstance(body, dict) else None
        self.error: str = error if isinstance(error, str) else ""
        self.description: str = message
        self.code = self.error
        self.type = "oauth_error"


class InvalidGrantError(OAuthError):
    """The code or refresh token is unknown, expired, used or revoked."""


class InvalidClientError(OAuthError):
    """The client id or the platform's secret key is wrong."""


class InvalidRequestOAuthError(OAuthError):
    """A parameter is missing or malformed."""


class InvalidScopeError(OAuthError):
    """The scope asked for is not allowed."""


class UnsupportedGrantTypeError(OAuthError):
    """The grant type is not one Stripe supports."""


class UnsupportedResponseTypeError(OAuthError):
    """The response type is not one Stripe supports."""


class AccessDeniedError(OAuthError):
    """The user declined to connect their account."""


OAUTH_ERRORS: dict[str, type[OAuthError]] = {
    "invalid_grant": InvalidGrantError,
    "invalid_client": InvalidClientError,
    "invalid_request": InvalidRequestOAuthError,
    "invalid_scope": InvalidScopeError,
    "unsupported_grant_type": UnsupportedGrantTypeError,
    "unsupported_response_type": UnsupportedResponseTypeError,
    "access_denied": AccessDeniedError,
}

#: Token-like words (keys, refresh tokens, codes) scrubbed from OAuth error descriptions.
_TOKEN_LIKE = re.compile(r"\b(sk|rk|rt|ac)_(test_|live_)?[A-Za-z0-9]+")


def redact_tokens(text: str) -> str:
    """``text`` with anything shaped like a key, refresh token or code replaced by its prefix."""
    return _TOKEN_LIKE.sub(lambda m: f"{m.group(1)}_{m.group(2) or ''}***", text)


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: CardError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_class(status: int, error_type: str | None) -> type[APIStatusError]:
    """The exception class for an HTTP error answer: the status decides the family, and
    ``idempotency_error`` narrows a 400 or 404 (never a 409, which stays a ``ConflictError``)."""
    if status >= 500:
        return ServerError
    cls = _BY_STATUS.get(status, APIStatusError)
    if error_type == "idempotency_error" and issubclass(cls, InvalidRequestError):
        return IdempotencyError
    if error_type == "temporary_session_expired":
        return TemporarySessionExpiredError
    return cls


def make_status_error(response: httpx.Response, *, oauth: bool = True) -> APIStatusError:
    """Build the exception for an HTTP error answer whose body has been read.

    ``oauth`` says whether the answer comes from a Connect OAuth endpoint, whose errors are
    ``{"error": "invalid_grant", ...}``; anywhere else such a body (a proxy's
    ``{"error": "upstream connect error"}``) maps by status like any unexpected body.
    """
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if oauth and isinstance(error, str):
        # Connect OAuth's shape: {"error": "invalid_grant", "error_description": "..."}
        description = body.get("error_description")
        message = redact_tokens(description if isinstance(description, str) else error)
        return OAUTH_ERRORS.get(error, OAuthError)(message, response=response, body=body)
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        message = error["message"]
        error_type = error.get("type")
    else:
        snippet = response.content[:SNIPPET_CHARS].decode("utf-8", "replace").strip()
        message = f"HTTP {response.status_code} with an unexpected body: {snippet!r}"
        error_type = None
    cls = error_class(response.status_code, error_type if isinstance(error_type, str) else None)
    return cls(message, response=response, body=body)

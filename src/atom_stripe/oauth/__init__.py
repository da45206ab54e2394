"""Stripe Connect OAuth: connect merchants' accounts, and keep their tokens safe.

::

    oauth = StripeOAuth.from_env()
    state = oauth.new_state(bind=session_id)
    redirect(oauth.authorize_url(state=state))
    # ... on the callback:
    token = await oauth.handle_callback(request.query_params, bind=session_id)
    await store.put(token)
    stripe.for_account(token.stripe_user_id)   # Stripe's recommended way to act for them
"""

from .._errors import (
    AccessDeniedError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestOAuthError,
    InvalidScopeError,
    OAuthError,
    OAuthStateError,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)
from ._client import DEFAULT_CONNECT_BASE, StripeOAuth
from ._postgres import PostgresTokenStore, TokenStoreUnavailableError
from ._store import InMemoryTokenStore, SQLiteTokenStore, TokenStore, TokenStoreError
from ._token import OAuthToken

__all__ = [
    "DEFAULT_CONNECT_BASE",
    "AccessDeniedError",
    "InMemoryTokenStore",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidRequestOAuthError",
    "InvalidScopeError",
    "OAuthError",
    "OAuthStateError",
    "OAuthToken",
    "PostgresTokenStore",
    "SQLiteTokenStore",
    "StripeOAuth",
    "TokenStore",
    "TokenStoreError",
    "TokenStoreUnavailableError",
    "UnsupportedGrantTypeError",
    "UnsupportedResponseTypeError",
]

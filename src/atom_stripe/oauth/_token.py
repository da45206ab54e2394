"""OAuthToken: what Connect OAuth returns, with the tokens kept secret."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr


class OAuthToken(BaseModel):
    """A connected account's tokens. Every field is optional: Stripe only promises some.

    ``access_token`` and ``refresh_token`` are :class:`pydantic.SecretStr`: they print as
    ``**********`` in reprs, logs and ``model_dump(mode="json")``; read them with
    ``token.access_token.get_secret_value()``. Stripe recommends calling the API with the
    platform key and ``stripe_account=token.stripe_user_id`` instead of the access token.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    token_type: str | None = None
    scope: Literal["read_only", "read_write", "express"] | str | None = None
    livemode: bool | None = None
    stripe_user_id: str | None = None
    stripe_publishable_key: str | None = None

"""The pages of Stripe's Connect host (``connect.stripe.com``) that the served fake plays: the
user's side of onboarding (an account link followed) and of OAuth (``/oauth/authorize``
approved at once), and Connect's OAuth API (``/oauth/token``, ``/oauth/deauthorize``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from . import _accounts
from ._accounts import key_of, mask_key, safe_url

if TYPE_CHECKING:
    from ._fake import FakeStripe

Answer = tuple[int, dict[str, str], bytes]

_LINK = re.compile(r"/setup/[se]/(?P<account>acct_\w+)/(?P<secret>\w+)")
_LOGIN = re.compile(r"/express/(?P<account>acct_\w+)/\w+")


def page(
    fake: FakeStripe, method: str, path: str, query: str, body: bytes, headers: Mapping[str, str]
) -> Answer | None:
    """The answer of a Connect page, or None for any other path (an API request)."""
    if method == "GET" and (found := _LINK.fullmatch(path)):
        return _follow_link(fake, found["account"], found["secret"])
    if method == "GET" and _LOGIN.fullmatch(path):
        return _html(200, "The Express Dashboard of a connected account (the fake Stripe shows nothing here).")
    if method == "GET" and path in ("/oauth/authorize", "/express/oauth/authorize"):
        return _authorize(fake, _form(query, b""), express=path.startswith("/express"))
    if method == "POST" and path in ("/oauth/token", "/oauth/deauthorize"):
        form = _form(query, body)
        refused = _platform_key(fake, headers, form)
        if refused is not None:
            return refused
        return _token(fake, form) if path == "/oauth/token" else _deauthorize(fake, form)
    return None


# -- OAuth (https://docs.stripe.com/connect/oauth-reference) --------------------------------------


def _oauth_error(status: int, error: str, description: str) -> Answer:
    """Connect OAuth's error shape: ``{"error": ..., "error_description": ...}``."""
    return _json(status, {"error": error, "error_description": description})


def _authorize(fake: FakeStripe, params: Mapping[str, str], *, express: bool) -> Answer:
    """The user approves at once (as clicking "Connect" would) and is sent back to
    ``redirect_uri`` with ``code``, ``scope`` and ``state``; a request Stripe cannot answer by
    redirecting (unknown ``client_id``, no usable ``redirect_uri``) gets an error page, the
    others an ``error`` redirect (https://docs.stripe.com/connect/oauth-reference#get-authorize)."""
    client_id = params.get("client_id", "")
    if client_id != fake.client_id:
        return _oauth_error(400, "invalid_client", f"No such application: '{client_id}'")
    redirect_uri = params.get("redirect_uri", "")
    if not safe_url(redirect_uri):
        return _oauth_error(
            400,
            "invalid_redirect_uri",
            "A redirect_uri (an http or https URL) is required: the fake has none registered.",
        )
    state = {"state": params["state"]} if "state" in params else {}
    if params.get("response_type", "code") != "code":
        return _back(
            redirect_uri,
            error="unsupported_response_type",
            error_description=f"Unsupported response_type: {params.get('response_type')}",
            **state,
        )
    scope = params.get("scope", "read_only")
    if scope not in ("read_only", "read_write"):
        return _back(redirect_uri, error="invalid_scope", error_description=f"Invalid scope: {scope}", **state)
    email = params.get("stripe_user[email]")
    code = _accounts.oauth_code(
        fake, None, "express" if express else scope, email=email, kind="express" if express else "standard"
    )
    return _back(redirect_uri, code=code, scope="express" if express else scope, **state)


def _back(redirect_uri: str, **params: str) -> Answer:
    joiner = "&" if "?" in redirect_uri else "?"
    return _redirect(f"{redirect_uri}{joiner}{urlencode(params)}")


def _platform_key(fake: FakeStripe, headers: Mapping[str, str], form: Mapping[str, str]) -> Answer | None:
    """Only the platform's secret key (Bearer, Basic, or the older ``client_secret`` parameter)
    may call /oauth/token and /oauth/deauthorize; an access token is not one."""
    auth = headers.get("authorization", "")
    key = key_of(auth) if auth else form.get("client_secret", "")
    if not key:
        return _oauth_error(
            401,
            "invalid_client",
            "No authentication was provided. Send your secret API key using the Authorization header, "
            "or as a client_secret POST parameter.",
        )
    if not key.startswith("sk_test_") or key in fake.oauth.access_tokens or key in fake.oauth.revoked:
        return _oauth_error(401, "invalid_client", f"Invalid API Key provided: {mask_key(key)}")
    return None


def _token(fake: FakeStripe, form: Mapping[str, str]) -> Answer:
    """``authorization_code``: a code (single use: used again, it is refused and every token it
    gave is revoked) for the account's tokens, connecting it; ``refresh_token``: a new access
    token, of the same or a narrower scope (https://docs.stripe.com/connect/oauth-reference#post-token)."""
    grants = fake.oauth
    grant = form.get("grant_type")
    if not grant:
        return _oauth_error(400, "invalid_request", "No grant type specified")
    if grant == "authorization_code":
        code = form.get("code")
        if not code:
            return _oauth_error(400, "invalid_request", "No authorization code provided")
        held = grants.codes.get(code)
        if held is None:
            return _oauth_error(400, "invalid_grant", f"Authorization code does not exist: {code}")
        if held["used"]:
            for token in held["tokens"]:
                grants.revoke(token)
            return _oauth_error(
                400,
                "invalid_grant",
                "This authorization code has already been used. All tokens issued with this code have been revoked.",
            )
        held["used"] = True
        _accounts.connect_over_oauth(fake, held)
        return _json(200, grants.issue(held["account"], held["scope"], code, refresh=True))
    if grant == "refresh_token":
        refresh = grants.refresh_tokens.get(form.get("refresh_token", ""))
        if refresh is None or not _accounts.connected(fake, refresh["account"]):
            # A refresh token is a secret: shown as an API key is, never whole.
            given = mask_key(form.get("refresh_token", ""))
            return _oauth_error(400, "invalid_grant", f"Refresh token does not exist: {given}")
        scope = form.get("scope") or refresh["scope"]
        if scope not in ("read_only", "read_write", "express") or (
            scope == "read_write" and refresh["scope"] == "read_only"
        ):
            return _oauth_error(400, "invalid_scope", f"Invalid scope: {scope} (at most {refresh['scope']})")
        # Stripe answers a refresh without a new refresh token: the first one stays the one to
        # use (/work/shared/reference/stripe-api.md, section 8.3).
        return _json(200, grants.issue(refresh["account"], scope, refresh["code"], refresh=False))
    return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")


def _deauthorize(fake: FakeStripe, form: Mapping[str, str]) -> Answer:
    """Disconnects an account: its tokens stop working, ``Stripe-Account`` no longer reaches it,
    and an ``account.application.deauthorized`` event goes to Connect webhooks
    (https://docs.stripe.com/connect/oauth-reference#post-deauthorize)."""
    client_id = form.get("client_id", "")
    if client_id != fake.client_id:
        return _oauth_error(401, "invalid_client", f"No such application: '{client_id}'")
    account = form.get("stripe_user_id", "")
    if not _accounts.connected(fake, account):
        return _oauth_error(
            401,
            "invalid_client",
            f"This application is not connected to stripe account {account}, or that account does not exist.",
        )
    _accounts.disconnect(fake, account)
    return _json(200, {"stripe_user_id": account})


def _follow_link(fake: FakeStripe, account: str, secret: str) -> Answer:
    """An account link followed: the user completes onboarding and is sent to ``return_url``.
    Links are single use: followed again (or unknown), the user is sent to ``refresh_url``
    to get a new one (https://docs.stripe.com/connect/account-links#refresh-url)."""
    link = fake.oauth.links.get(secret)
    if link is None or link["account"] != account:
        return _html(404, "This account link is unknown.")
    if link.get("used"):
        return _redirect(link["refresh_url"]) if link.get("refresh_url") else _html(410, "This link was used.")
    link["used"] = True
    if _accounts.connected(fake, account):
        fake.complete_onboarding(account)
    return _redirect(link["return_url"]) if link.get("return_url") else _html(200, "Onboarding complete.")


def _redirect(location: str) -> Answer:
    if not safe_url(location):  # never written into a header as it is
        return _html(400, "This link leads nowhere: its URL is not one.")
    return 302, {"Location": location, "Content-Type": "text/html; charset=utf-8"}, b""


def _html(status: int, text: str) -> Answer:
    return status, {"Content-Type": "text/html; charset=utf-8"}, f"<!doctype html><p>{text}</p>".encode()


def _json(status: int, payload: Mapping[str, Any]) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _form(query: str, body: bytes) -> dict[str, str]:
    return {**dict(parse_qsl(query)), **dict(parse_qsl(body.decode("utf-8", "replace")))}

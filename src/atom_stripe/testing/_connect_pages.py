"""The pages of Stripe's Connect host (``connect.stripe.com``) that the served fake plays: the
user's side of onboarding (an account link followed) and of OAuth (``/oauth/authorize``
approved at once), and Connect's OAuth API (``/oauth/token``, ``/oauth/deauthorize``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .._generated.endpoints import ENDPOINTS
from ._engine import Ctx

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
    return None


def _follow_link(fake: FakeStripe, account: str, secret: str) -> Answer:
    """An account link followed: the user completes onboarding and is sent to ``return_url``.
    Links are single use: followed again (or unknown), the user is sent to ``refresh_url``
    to get a new one (https://docs.stripe.com/connect/account-links#refresh-url)."""
    from . import _accounts

    link = fake.oauth.links.get(secret)
    if link is None or link["account"] != account:
        return _html(404, "This account link is unknown.")
    if link.get("used"):
        return _redirect(link["refresh_url"]) if link.get("refresh_url") else _html(410, "This link was used.")
    link["used"] = True
    if _accounts.connected(fake, account):
        ctx = Ctx(fake, "accounts.update", ENDPOINTS["accounts.update"], {"account": account}, {}, None, None)
        with ctx.automatic():
            _accounts.complete_onboarding(ctx, account)
    return _redirect(link["return_url"]) if link.get("return_url") else _html(200, "Onboarding complete.")


def _redirect(location: str) -> Answer:
    return 302, {"Location": location, "Content-Type": "text/html; charset=utf-8"}, b""


def _html(status: int, text: str) -> Answer:
    return status, {"Content-Type": "text/html; charset=utf-8"}, f"<!doctype html><p>{text}</p>".encode()


def _json(status: int, payload: Mapping[str, Any]) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _form(query: str, body: bytes) -> dict[str, str]:
    return {**dict(parse_qsl(query)), **dict(parse_qsl(body.decode("utf-8", "replace")))}

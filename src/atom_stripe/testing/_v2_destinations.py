"""Event destinations as Stripe keeps them: a webhook endpoint destination gets its signing
secret when created, ``enable``/``disable`` set its status, ``ping`` sends it a
``v2.core.event_destination.ping``, and answers leave out the endpoint's URL and secret unless
``include`` asks for them (https://docs.stripe.com/api/v2/core/event_destinations/create:
"Public API clients must include ``webhook_endpoint.signing_secret`` to receive the signing
secret"; the list's example answers ``"webhook_endpoint": {"signing_secret": null, "url": null}``,
https://docs.stripe.com/api/v2/event-destinations/list)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from . import _v2_events
from ._store import new_id

OBJECT = "v2.core.event_destination"
#: What each ``include`` value shows of ``webhook_endpoint``.
_INCLUDABLE = {"webhook_endpoint.signing_secret": "signing_secret", "webhook_endpoint.url": "url"}


def created(destination: dict[str, Any]) -> None:
    """What Stripe sets on a new destination: enabled, and a webhook endpoint's signing secret."""
    destination.update(status="enabled", status_details=None, updated=destination.get("created"))
    if destination.get("type") == "webhook_endpoint":
        endpoint = dict(destination.get("webhook_endpoint") or {})
        endpoint["signing_secret"] = new_id("whsec")
        destination["webhook_endpoint"] = endpoint


def updating(destination: Mapping[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of an update as they apply: a new ``webhook_endpoint.url`` keeps the secret."""
    if "webhook_endpoint" in params:
        params = {
            **params,
            "webhook_endpoint": {**(destination.get("webhook_endpoint") or {}), **params["webhook_endpoint"]},
        }
    return params


def changed(destination: dict[str, Any], action: str, moment: str) -> None:
    """``disable`` records why (the user), ``enable`` clears it; every change stamps ``updated``."""
    destination["updated"] = moment
    if action == "disable":
        destination["status_details"] = {"disabled": {"reason": "user"}}
    elif action == "enable":
        destination["status_details"] = None


def view(destination: Mapping[str, Any], include: Any) -> dict[str, Any]:
    """The destination as answered: the endpoint's URL and secret only when included."""
    shown = copy.deepcopy(dict(destination))
    endpoint = shown.get("webhook_endpoint")
    if isinstance(endpoint, dict):
        wanted = {_INCLUDABLE[i] for i in include or () if i in _INCLUDABLE}
        shown["webhook_endpoint"] = {k: (endpoint.get(k) if k in wanted else None) for k in ("signing_secret", "url")}
    return shown


def ping(fake: Any, account: str | None, destination: Mapping[str, Any], request: Mapping[str, str | None]) -> Any:
    """A ``v2.core.event_destination.ping`` to this destination only ("Send a ping event to an
    event destination", https://docs.stripe.com/api/v2/core/event_destinations/ping; its
    example's related object is typed ``event_destination``); answered with the event."""
    url = f"/v2/core/event_destinations/{destination['id']}"
    target = _v2_events.related(destination["id"], "event_destination", url)
    return _v2_events.emit(fake, account, _v2_events.PING, target, request=request, to=[destination])

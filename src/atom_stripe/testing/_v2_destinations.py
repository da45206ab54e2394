"""Event destinations as Stripe keeps them: a webhook endpoint destination gets its signing
secret when created, ``enable``/``disable`` set its status, ``ping`` sends it a
``v2.core.event_destination.ping``, and answers leave out the endpoint's URL and secret unless
``include`` asks for them (https://docs.stripe.com/api/v2/core/event_destinations/create:
"Public API clients must include ``webhook_endpoint.signing_secret`` to receive the signing
secret"; the list's example answers ``"webhook_endpoint": {"signing_secret": null, "url": null}``,
https://docs.stripe.com/api/v2/event-destinations/list)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import StripeValueError
from . import _v2_events
from ._store import new_id
from ._webhooks import asgi_url

if TYPE_CHECKING:
    from ._fake import FakeStripe

OBJECT = "v2.core.event_destination"
#: Its id prefix (``ed_test_...``, as Stripe's test-mode destinations' ids).
ID_PREFIX = "ed_test"
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


#: The thin events the fake emits: what an in-process destination takes by default.
EMITTED = (
    _v2_events.PING,
    *_v2_events.OPERATION_EVENTS.values(),
    "v1.billing.meter.no_meter_found",
    "v1.billing.meter.error_report_triggered",
)


@contextlib.asynccontextmanager
async def deliver(
    fake: FakeStripe,
    app: Any,
    path: str,
    enabled_events: Sequence[str],
    events_from: Sequence[str],
    stripe_context: str | None,
) -> AsyncIterator[dict[str, Any]]:
    """An enabled thin event destination whose notifications are POSTed to an ASGI app, in
    process (see ``FakeStripe.v2.deliver_notifications``); disabled on leaving."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise StripeValueError("path", f"must start with '/', not {path!r}")
    if isinstance(enabled_events, str) or not enabled_events or not all(isinstance(e, str) for e in enabled_events):
        raise StripeValueError("enabled_events", "must be a non-empty list of event types")
    unknown = [e for e in events_from if e not in _v2_events.SELF | _v2_events.OTHER_ACCOUNTS]
    if isinstance(events_from, str) or not events_from or unknown:
        raise StripeValueError("events_from", "must list 'self' and/or 'other_accounts' ('@self', '@accounts')")
    url = asgi_url(path)
    moment = _v2_events.stamp(_v2_events.now(fake))
    fields: dict[str, Any] = {
        "name": f"in process: {path}",
        "created": moment,
        "livemode": False,
        "type": "webhook_endpoint",
        "event_payload": "thin",
        "enabled_events": list(enabled_events),
        "events_from": list(events_from),
        "webhook_endpoint": {"url": url},
    }
    created(fields)
    fake.store_of(stripe_context)  # an account the fake lacks is refused before anything is made
    # The app is in place before the destination exists, so no event can reach it unsent.
    async with fake._outbox.delivering_to(url, app):
        # fake.add stores it under the fake's lock (served, the fake answers from other threads).
        made = fake.add(OBJECT, stripe_account=stripe_context, id=new_id(ID_PREFIX), **fields)
        try:
            yield view(made, _INCLUDABLE)
        finally:
            held = fake.store_of(stripe_context).find(made["id"], OBJECT)
            if held is not None:  # one assignment per field: atomic, as the fake's readers need
                changed(held, "disable", _v2_events.stamp(_v2_events.now(fake)))
                held["status"] = "disabled"

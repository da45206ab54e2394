"""Typed models of Stripe's objects, one for every object type, each loaded on first use.

``from atom_stripe.models import Customer, Invoice`` imports only those two models' modules.
Every model keeps fields Stripe adds after this release as extras (``model.model_extra``)
instead of dropping or refusing them. The models themselves are generated (see
``atom_stripe._generated.models``); events, pages and the base classes are hand-written.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._generated.models import *  # noqa: F403
    from .._pagination import Page as Page
    from .._pagination import SearchPage as SearchPage
    from ._base import StripeObject as StripeObject
    from ._references import DeletedObject as DeletedObject
    from .event import AccountEvent as AccountEvent
    from .event import BalanceEvent as BalanceEvent
    from .event import BaseEvent as BaseEvent
    from .event import ChargeEvent as ChargeEvent
    from .event import CustomerEvent as CustomerEvent
    from .event import Event as Event
    from .event import EventData as EventData
    from .event import EventRequest as EventRequest
    from .event import PaymentIntentEvent as PaymentIntentEvent
    from .event import PriceEvent as PriceEvent
    from .event import ProductEvent as ProductEvent
    from .event import RefundEvent as RefundEvent
    from .event import SubscriptionEvent as SubscriptionEvent
    from .event import UnknownEvent as UnknownEvent
    from .event import parse_event as parse_event

_HAND_WRITTEN = {
    "StripeObject": "atom_stripe.models._base",
    "DeletedObject": "atom_stripe.models._references",
    "Page": "atom_stripe._pagination",
    "SearchPage": "atom_stripe._pagination",
    **dict.fromkeys(
        [
            "AccountEvent",
            "BalanceEvent",
            "BaseEvent",
            "ChargeEvent",
            "CustomerEvent",
            "Event",
            "EventData",
            "EventRequest",
            "PaymentIntentEvent",
            "PriceEvent",
            "ProductEvent",
            "RefundEvent",
            "SubscriptionEvent",
            "UnknownEvent",
            "parse_event",
        ],
        "atom_stripe.models.event",
    ),
}


def model_for(object_name: str) -> Any:
    """The model class for a Stripe ``object`` value (``"invoice"`` -> ``Invoice``), or None
    (for ``"event"``: the TypeAdapter of the typed :data:`Event` union)."""
    from ._references import object_model

    return object_model(object_name)


def __getattr__(name: str) -> Any:
    if name == "__all__":  # made when asked for (star imports, documentation): ~2,400 names
        return __dir__()
    module = _HAND_WRITTEN.get(name)
    if module is None:
        # The index of generated models is read on the first model asked for: the model base
        # (``._base``) lives in this package and comes with every client, the index does not.
        from .._generated.models import module_of

        generated = module_of(name)
        if generated is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module = f"atom_stripe._generated.models.{generated}"
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    from .._generated import models

    return sorted({*dir(models), *_HAND_WRITTEN, "model_for"})

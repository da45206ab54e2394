"""Events: what happened in a Stripe account, with ``data.object`` parsed into its model.

``Event`` is a union of typed events, told apart by ``type``: a
``payment_intent.*`` event is a :class:`PaymentIntentEvent` whose
``data.object`` is a :class:`PaymentIntent`, and so on. Any other type parses
into :class:`UnknownEvent`, whose ``data.object`` is a generic
:class:`StripeObject`: a new event type never breaks parsing. Narrow with
``isinstance(event, PaymentIntentEvent)`` or ``match event: case PaymentIntentEvent(): ...``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BeforeValidator,
    Discriminator,
    SerializeAsAny,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from .._generated.models.account import Account
from .._generated.models.balance import Balance
from .._generated.models.charge import Charge
from .._generated.models.customer import Customer
from .._generated.models.payment_intent import PaymentIntent
from .._generated.models.price import Price
from .._generated.models.product import Product
from .._generated.models.refund import Refund
from .._generated.models.subscription import Subscription
from ._base import NONE_IF_OMITTED, StripeObject

ObjectT = TypeVar("ObjectT")
logger = logging.getLogger("atom_stripe")


# The event types each typed event class parses.
PaymentIntentTypes = Literal[
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "payment_intent.created",
    "payment_intent.partially_funded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.succeeded",
]
ChargeTypes = Literal[
    "charge.captured",
    "charge.expired",
    "charge.failed",
    "charge.pending",
    "charge.refunded",
    "charge.succeeded",
    "charge.updated",
]
CustomerTypes = Literal["customer.created", "customer.deleted", "customer.updated"]
SubscriptionTypes = Literal[
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "customer.subscription.updated",
]
RefundTypes = Literal["refund.created", "refund.failed", "refund.updated", "charge.refund.updated"]
ProductTypes = Literal["product.created", "product.deleted", "product.updated"]
PriceTypes = Literal["price.created", "price.deleted", "price.updated"]
BalanceTypes = Literal["balance.available"]
AccountTypes = Literal["account.updated"]


class EventRequest(StripeObject):
    """The API request that caused the event (``id`` is None when Stripe acted on its own)."""

    id: str | None = None
    idempotency_key: str | None = None


class EventData(StripeObject, Generic[ObjectT]):
    """The object as it was when the event happened, and on ``*.updated`` the fields it had before."""

    object: ObjectT
    previous_attributes: dict[str, Any] | None = None


class BaseEvent(StripeObject):
    """Fields every event has."""

    id: str = NONE_IF_OMITTED
    object: Literal["event"] = "event"
    account: str | None = None
    api_version: str | None = None
    context: str | None = None
    created: int = NONE_IF_OMITTED
    livemode: bool = NONE_IF_OMITTED
    pending_webhooks: int = NONE_IF_OMITTED
    request: EventRequest | None = None
    type: str = NONE_IF_OMITTED


class AccountEvent(BaseEvent):
    type: AccountTypes
    data: EventData[Account]


class BalanceEvent(BaseEvent):
    type: BalanceTypes
    data: EventData[Balance]


class ChargeEvent(BaseEvent):
    type: ChargeTypes
    data: EventData[Charge]


class CustomerEvent(BaseEvent):
    type: CustomerTypes
    data: EventData[Customer]


class PaymentIntentEvent(BaseEvent):
    type: PaymentIntentTypes
    data: EventData[PaymentIntent]


class PriceEvent(BaseEvent):
    type: PriceTypes
    data: EventData[Price]


class ProductEvent(BaseEvent):
    type: ProductTypes
    data: EventData[Product]


class RefundEvent(BaseEvent):
    type: RefundTypes
    data: EventData[Refund]


class SubscriptionEvent(BaseEvent):
    type: SubscriptionTypes
    data: EventData[Subscription]


def _by_object_type(value: Any) -> Any:
    from ._references import parse_object

    return parse_object(value)


class UnknownEvent(BaseEvent):
    """An event of any other type (``invoice.paid``, ``checkout.session.completed``, ...):
    ``data.object`` is parsed into the model its ``object`` field names (``Invoice``,
    ``CheckoutSession``, ...), or a generic :class:`StripeObject` for an object type atom_stripe
    has no model for. Narrow it with ``isinstance(event.data.object, Invoice)``."""

    data: EventData[SerializeAsAny[Annotated[StripeObject, BeforeValidator(_by_object_type)]]]


TYPED_EVENTS: tuple[type[BaseEvent], ...] = (
    AccountEvent,
    BalanceEvent,
    ChargeEvent,
    CustomerEvent,
    PaymentIntentEvent,
    PriceEvent,
    ProductEvent,
    RefundEvent,
    SubscriptionEvent,
)
#: event type -> the class that parses it
EVENT_CLASSES: dict[str, type[BaseEvent]] = {
    literal: cls
    for cls in TYPED_EVENTS
    for literal in cls.model_fields["type"].annotation.__args__  # type: ignore[union-attr]
}


def _fall_back_to_unknown(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """An event whose object does not fit its typed model (it may be rendered in an older
    API version than atom_stripe's) is kept as an :class:`UnknownEvent` rather than lost."""
    try:
        return handler(value)
    except ValidationError:
        if isinstance(value, UnknownEvent):
            raise
        typed = _typed_leniently(value)
        if typed is not None:
            return typed
        event = UnknownEvent.model_validate(value)
        logger.warning("event %s (%s) does not fit its typed model; parsed as UnknownEvent", event.id, event.type)
        return event


def _typed_leniently(value: Any) -> BaseEvent | None:
    """The typed event, its object parsed by the model's own lenient fallback (a field that
    does not fit keeps its raw value in ``model_invalid``); None when even that fails."""
    if not isinstance(value, dict) or not isinstance(value.get("data"), dict):
        return None
    cls = EVENT_CLASSES.get(value.get("type", ""))
    if cls is None:
        return None
    model = cls.model_fields["data"].annotation.model_fields["object"].annotation  # type: ignore[union-attr]
    try:
        obj = model.model_validate(value["data"].get("object"))
        return cls.model_validate({**value, "data": {**value["data"], "object": obj}})
    except ValidationError:
        return None


def _event_tag(value: Any) -> str:
    event_type = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    cls = EVENT_CLASSES.get(event_type) if isinstance(event_type, str) else None
    return cls.__name__ if cls is not None else UnknownEvent.__name__


Event = Annotated[
    Annotated[AccountEvent, Tag("AccountEvent")]
    | Annotated[BalanceEvent, Tag("BalanceEvent")]
    | Annotated[ChargeEvent, Tag("ChargeEvent")]
    | Annotated[CustomerEvent, Tag("CustomerEvent")]
    | Annotated[PaymentIntentEvent, Tag("PaymentIntentEvent")]
    | Annotated[PriceEvent, Tag("PriceEvent")]
    | Annotated[ProductEvent, Tag("ProductEvent")]
    | Annotated[RefundEvent, Tag("RefundEvent")]
    | Annotated[SubscriptionEvent, Tag("SubscriptionEvent")]
    | Annotated[UnknownEvent, Tag("UnknownEvent")],
    Discriminator(_event_tag),
    WrapValidator(_fall_back_to_unknown),
]
"""Any v1 event: one of the typed event classes, or :class:`UnknownEvent`."""

_EVENT_ADAPTER: TypeAdapter[Event] | None = None


def event_adapter() -> TypeAdapter[Event]:
    """The (lazily built) validator for :data:`Event`."""
    global _EVENT_ADAPTER
    if _EVENT_ADAPTER is None:
        _EVENT_ADAPTER = TypeAdapter(Event)
    return _EVENT_ADAPTER


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Parse an event from JSON text, bytes or a dict."""
    if isinstance(data, dict):
        return event_adapter().validate_python(data)
    return event_adapter().validate_json(data)

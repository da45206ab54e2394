"""Typed models of Stripe's objects.

Every model keeps fields Stripe adds after this release as extras
(``model.model_extra``) instead of dropping or refusing them.
"""

from .._models import StripeObject
from .._pagination import Page, SearchPage
from .account import Account
from .balance import Balance
from .balance_transaction import BalanceTransaction
from .charge import Charge
from .customer import Customer
from .deleted import DeletedCustomer, DeletedObject, DeletedProduct
from .event import (
    AccountEvent,
    BalanceEvent,
    BaseEvent,
    ChargeEvent,
    CustomerEvent,
    Event,
    EventData,
    EventRequest,
    PaymentIntentEvent,
    PriceEvent,
    ProductEvent,
    RefundEvent,
    SubscriptionEvent,
    UnknownEvent,
    parse_event,
)
from .payment_intent import PaymentIntent
from .price import Price
from .product import Product
from .refund import Refund
from .subscription import Subscription
from .subscription_item import SubscriptionItem

__all__ = [
    "Account",
    "AccountEvent",
    "Balance",
    "BalanceEvent",
    "BalanceTransaction",
    "BaseEvent",
    "Charge",
    "ChargeEvent",
    "Customer",
    "CustomerEvent",
    "DeletedCustomer",
    "DeletedObject",
    "DeletedProduct",
    "Event",
    "EventData",
    "EventRequest",
    "Page",
    "PaymentIntent",
    "PaymentIntentEvent",
    "Price",
    "PriceEvent",
    "Product",
    "ProductEvent",
    "Refund",
    "RefundEvent",
    "SearchPage",
    "StripeObject",
    "Subscription",
    "SubscriptionEvent",
    "SubscriptionItem",
    "UnknownEvent",
    "parse_event",
]

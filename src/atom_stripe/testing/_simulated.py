"""What the fake simulates, and the refusal of everything else.

The fake either does what Stripe's test mode does or refuses with a 400 whose code is
``fake_not_simulated``: a test that passes on the fake must not teach code that fails on Stripe.
Simulated are the operations a behaviour module registers (``@behaviour``), and the generic
operations on objects whose existence changes nothing else (create, retrieve, update, delete,
list, search of a coupon, a product, a customer...). Refused are the other *actions*
(``POST /v1/x/{id}/verb``) and the generic operations listed in :data:`SIDE_EFFECTS` (their
object would move money or change other objects), and the parameters listed in
:data:`NOT_SIMULATED_PARAMS` (or marked by a behaviour with ``not_simulated_params=``), and the
list filters that no field of the listed object answers and no behaviour plays
(:func:`unplayed_filters`).
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from functools import cache
from typing import Any

from .._generated.endpoints import ENDPOINTS
from ._store import _CURSORS, plural_of
from ._wire import FakeError

NOT_SIMULATED = "fake_not_simulated"

_MONEY = "it would move money"
_BILLING = "it would change what is billed"
_TAX = "it would compute or record tax"
#: Generic creates, updates and deletes Stripe follows with changes to other objects or money.
SIDE_EFFECTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "transfers.create",
            "transfers.reversals.create",
            "payouts.create",
            "topups.create",
            "credit_notes.create",
            "application_fees.refunds.create",
            "customers.balance_transactions.create",
            "payment_records.report_payment",
            "climate.orders.create",
            "treasury.credit_reversals.create",
            "treasury.debit_reversals.create",
            "treasury.inbound_transfers.create",
            "treasury.outbound_payments.create",
            "treasury.outbound_transfers.create",
            "test_helpers.treasury.received_credits.create",
            "test_helpers.treasury.received_debits.create",
            "test_helpers.issuing.authorizations.create",
            "test_helpers.issuing.transactions.create_force_capture",
            "test_helpers.issuing.transactions.create_unlinked_refund",
        ),
        _MONEY,
    ),
    **dict.fromkeys(
        (
            "invoices.create",
            "invoices.create_preview",
            "invoice_items.create",
            "subscriptions.update",
            "subscription_items.create",
            "subscription_items.update",
            "subscription_items.delete",
            "subscription_schedules.create",
            "subscription_schedules.update",
            "billing.credit_grants.create",
            "test_helpers.test_clocks.delete",
        ),
        _BILLING,
    ),
    **dict.fromkeys(
        ("tax.calculations.create", "tax.transactions.create_from_calculation", "tax.transactions.create_reversal"),
        _TAX,
    ),
    "customers.payment_sources.create": "it would attach a card to the customer",
    "forwarding.requests.create": "it would send a request to a third party",
}
#: Actions (``POST .../{id}/verb``) that only make an object, as a generic create would.
PLAIN_ACTIONS = frozenset({"accounts.login_links.create", "customers.funding_instructions.create"})
#: Parameters of simulated operations whose effect the fake does not play, per operation.
NOT_SIMULATED_PARAMS: dict[str, dict[str, str]] = {"disputes.update": {"submit": "submitting the evidence"}}


def not_simulated(name: str, param: str | None = None, detail: str = "") -> FakeError:
    """The fake's refusal of an operation (or one of its parameters) it does not simulate."""
    endpoint = ENDPOINTS[name]
    what = f"the parameter {param!r} of {name}" if param else name
    message = (
        f"The fake Stripe does not simulate {what} ({endpoint.method} {endpoint.path})"
        f"{': ' + detail if detail else ''}. Test it against Stripe's test mode; "
        "atom_stripe's docs list what the fake simulates (fake-simulated.md)."
    )
    return FakeError(400, message, code=NOT_SIMULATED, param=param)


def mark_params(name: str, params: Iterable[str] | dict[str, str]) -> None:
    """Mark parameters of ``name`` as not simulated (a mapping gives each one's effect)."""
    found = params if isinstance(params, dict) else dict.fromkeys(params, "")
    NOT_SIMULATED_PARAMS.setdefault(name, {}).update(found)


#: List filters a behaviour plays itself, per list operation (registered with ``filters=``).
FILTERS_PLAYED: dict[str, frozenset[str]] = {}
UNPLAYED_FILTER = "a list filter the fake does not apply"


def check_params(name: str, params: dict[str, Any]) -> None:
    """Refuse a request that sets a parameter of ``name`` marked as not simulated, or a list
    filter the fake cannot apply (answering the whole list instead would be a wrong answer)."""
    for param, detail in NOT_SIMULATED_PARAMS.get(name, {}).items():
        if params.get(param) not in (None, "", False):  # set, and not to "off"
            raise not_simulated(name, param, detail)
    for param in unplayed_filters(name):
        if params.get(param) is not None:
            raise not_simulated(name, param, UNPLAYED_FILTER)


@cache
def unplayed_filters(name: str) -> frozenset[str]:
    """The filters of a v1 list that the fake cannot apply: each list compares a filter with the
    listed object's field of that name (equal, in a ``created``-style range, or field by field
    for an object such as ``recurring``) or, for a plural such as ``ids`` or ``lookup_keys``,
    looks for the field's value among those given; a behaviour may play others (``FILTERS_PLAYED``).
    What is left names nothing the fake holds, or is an object to compare with a field that holds
    an id (``transaction_refresh={"after": ...}``: an order the fake does not keep). A list of
    objects of no one model (a card or a bank account) filters on what each has."""
    endpoint = ENDPOINTS[name]
    if endpoint.kind != "list" or endpoint.params_type is None or not endpoint.path.startswith("/v1/"):
        return frozenset()
    fields = _fields(endpoint.result_type.model_fields["data"].annotation)
    if fields is None:
        return frozenset()
    hints = typing.get_type_hints(endpoint.params_type)
    unplayed = set()
    for param in set(hints) - _CURSORS - FILTERS_PLAYED.get(name, frozenset()):
        if param in fields:
            if hasattr(hints[param], "__required_keys__") and _holds_text(fields[param]):  # a hash
                unplayed.add(param)
        elif plural_of(param, fields) is None:
            unplayed.add(param)
    return frozenset(unplayed)


def _fields(tp: Any) -> dict[str, Any] | None:
    """A list item model's fields and their types (None: items of no one model, parsed by their
    ``object``)."""
    fields = getattr(tp, "model_fields", None)
    if isinstance(fields, dict):
        return {name: info.annotation for name, info in fields.items()}
    found = [f for f in map(_fields, typing.get_args(tp)) if f is not None]
    return {k: v for f in found for k, v in f.items()} if found else None


def _holds_text(annotation: Any) -> bool:
    """Whether a field holds a string (or null): an id, not an object or a number."""
    members = set(typing.get_args(annotation)) or {annotation}
    return str in members and members <= {str, type(None)}


def kind(name: str) -> str:
    """What an operation does, by its shape: ``read``, ``create``, ``update``, ``delete`` or ``action``."""
    endpoint = ENDPOINTS[name]
    if endpoint.method == "GET":
        return "read"
    if endpoint.method == "DELETE":
        return "delete"
    if endpoint.path.endswith("}") or endpoint.path in _SINGLETONS:
        return "update"
    if not endpoint.ids or endpoint.path in _LISTS or name in PLAIN_ACTIONS:
        return "create"
    return "action"


_LISTS = frozenset(e.path for e in ENDPOINTS.values() if e.method == "GET" and e.kind == "list")
_SINGLETONS = frozenset(
    e.path for e in ENDPOINTS.values() if e.method == "GET" and e.kind == "object" and not e.path.endswith("}")
)


def refusal(name: str) -> str | None:
    """Why the generic engine must refuse ``name`` (None: it may answer it)."""
    if name in SIDE_EFFECTS:
        return SIDE_EFFECTS[name]
    if kind(name) == "action":
        return "an action whose effect the fake does not play"
    required = unplayed_filters(name) & getattr(ENDPOINTS[name].params_type, "__required_keys__", frozenset())
    if required:
        return f"{UNPLAYED_FILTER} is required ({', '.join(sorted(required))})"
    return None

"""Thin events: one notification class and one event class per stripe-python event type, same
names, and the models of the events' ``data``."""

from __future__ import annotations

import importlib
import inspect
import typing

from .models import ModelWriter, dict_entry
from .names import (
    BANNER,
    MODEL_BASE_MODULE,
    OMITTED_DEFAULT,
    STRIPE_VERSION,
    model_module,
    model_name,
)
from .stripe_reader import resolve

_LOOKUP = "stripe.events._event_classes"


def read_events() -> list[tuple[str, str, type | None]]:
    """(event type, event class name, stripe-python's class of its ``data`` or None), by type."""
    lookup: dict[str, tuple[str, str]] = importlib.import_module(_LOOKUP)._V2_EVENT_CLASS_LOOKUP
    rows = []
    for event_type, (module_name, class_name) in sorted(lookup.items()):
        cls = getattr(importlib.import_module(module_name), class_name)
        data = inspect.get_annotations(cls).get("data")
        rows.append((event_type, class_name, data))
    return rows


class EventDataWriter(ModelWriter):
    """The model of one event type's ``data``, at stripe-python's name
    (``V1BillingMeterErrorReportTriggeredEvent.V1BillingMeterErrorReportTriggeredEventData`` is
    ``V1BillingMeterErrorReportTriggeredEventData``; what it nests adds its own names to that),
    in its event's module."""

    def __init__(self, data: type, index: dict[type, tuple[str, str]]) -> None:
        super().__init__(data, index)
        self.module = event_module(data)

    def name_of(self, cls: type) -> str:
        return "".join(cls.__qualname__.split(".")[1:])

    def about(self) -> str:
        return event_about(self.top.__qualname__.split(".")[0])


def event_module(cls: type) -> str:
    """``stripe.events._v1_invoice_upcoming_event`` -> ``v1_invoice_upcoming_event``."""
    return model_module(cls).removeprefix("events_")


def event_about(class_name: str) -> str:
    return f"{class_name}: a full v2 event of its type, as ``fetch_event()`` returns it."


def render_event_models(index: dict[type, tuple[str, str]]) -> dict[str, str]:
    """One model module per event type (``models/<module>.py`` -> text): its event class, a
    :class:`~atom_stripe._thin_events.V2Event` at stripe-python's name, and its ``data``'s models."""
    kinds = {event_type: kind for event_type, _, kind, _ in read_notifications()}
    lookup: dict[str, tuple[str, str]] = importlib.import_module(_LOOKUP)._V2_EVENT_CLASS_LOOKUP
    files: dict[str, str] = {}
    for event_type, class_name, data in read_events():
        event = getattr(importlib.import_module(lookup[event_type][0]), class_name)
        kind = kinds.get(event_type)
        data_name = "".join(data.__qualname__.split(".")[1:]) if data is not None else None
        about = f" (``data``: :class:`{data_name}`)" if data_name else ""
        body = [f"class {class_name}(V2Event):", f'    """A ``{event_type}`` event{about}."""', ""]
        body += [f'    LOOKUP_TYPE = "{event_type}"', f'    type: Literal["{event_type}"]']
        # Fields Stripe always sends: None if a server leaves them out (as every model's are).
        if kind:
            body.append(f"    related_object: {kind} = {OMITTED_DEFAULT}")
        if data_name:
            body.append(f"    data: {data_name} = {OMITTED_DEFAULT}")
        imports = [f"from ..._thin_events import {', '.join(n for n in (kind, 'V2Event') if n)}"]
        if data is None:
            head = [BANNER, f'"""{event_about(class_name)}"""', "", "from __future__ import annotations", ""]
            head += ["from typing import Literal", "", *imports]
            if kind:
                head.append(f"from {MODEL_BASE_MODULE} import {OMITTED_DEFAULT}")
            text = "\n".join([*head, "", "", *body, ""])
        else:
            writer = EventDataWriter(data, {**index, event: (event_module(data), "")})
            writer.uses |= {"Literal", OMITTED_DEFAULT}
            text = writer.render(False)
            base = f"from {MODEL_BASE_MODULE} import"
            text = text.replace(base, "\n".join(imports) + "\n" + base, 1)
            text = text.rstrip("\n") + "\n\n\n" + "\n".join(body) + "\n"
        files[f"models/{event_module(event)}.py"] = text
    return files


def render_events() -> str:
    """``events.py``: the table from event type to its event class (a model, loaded on first use)."""
    lines = [
        BANNER,
        f'"""The event class of each event type of stripe-python {STRIPE_VERSION}: what ``fetch_event()`` parses',
        'into. The classes are models (``atom_stripe.models``), each loaded on first use."""',
        "",
        "#: Event type -> the name of its event class in ``atom_stripe.models``.",
        "EVENTS: dict[str, str] = {",
    ]
    lines += [dict_entry(event_type, class_name) for event_type, class_name, _ in read_events()]
    lines += ["}", ""]
    return "\n".join(lines)


def read_notifications() -> list[tuple[str, str, str | None, str | None]]:
    """(event type, class name, related object kind, atom_stripe model of the related object), by type.

    The kind is ``RelatedObject``, ``RelatedSingletonObject`` or None; the model is the
    related object's atom_stripe model name (``render_notifications`` keeps only those that exist).
    """
    lookup: dict[str, tuple[str, str]] = importlib.import_module(_LOOKUP)._V2_EVENT_NOTIFICATION_CLASS_LOOKUP
    rows = []
    for event_type, (module_name, class_name) in sorted(lookup.items()):
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
        related = typing.get_type_hints(cls).get("related_object")
        kind = related.__name__ if related is not None else None
        model = None
        fetch = cls.__dict__.get("fetch_related_object")
        if kind is not None and fetch is not None:
            model = model_name(resolve(module, fetch.__annotations__["return"].strip("'\"")))
        rows.append((event_type, class_name, kind, model))
    return rows


def render_notifications(known_models: set[str]) -> str:
    rows = read_notifications()
    models = sorted({m for _, _, _, m in rows if m is not None and m in known_models})
    events = {event_type: class_name for event_type, class_name, _ in read_events()}
    lines = [
        BANNER,
        f'"""Thin event notification classes, one per event type of stripe-python {STRIPE_VERSION}, at its names.',
        "",
        "Loaded on the first parsed notification (see ``atom_stripe._thin_events``).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING, Literal, cast",
        "",
        "from .._thin_events import EventNotification, RelatedObject, RelatedSingletonObject",
        "",
        "if TYPE_CHECKING:",
        "    from ..models._base import StripeObject",
    ]
    lines += [f"    from ..models import {m}" for m in sorted({*models, *events.values()})]
    lines.append("")
    for event_type, class_name, kind, model in rows:
        model = model if model in known_models else None
        returns = model or "StripeObject"
        lines += ["", "", f"class {class_name}(EventNotification):"]
        about = f"related object: :class:`~atom_stripe.models.{model}`" if model else "its related object"
        lines.append(
            f'    """A ``{event_type}`` notification ({about})."""'
            if kind
            else f'    """A ``{event_type}`` notification."""'
        )
        lines += ["", f'    LOOKUP_TYPE = "{event_type}"', f'    type: Literal["{event_type}"]']
        if kind:
            lines.append(f"    related_object: {kind}")
        lines += [
            "",
            f"    async def fetch_event(self) -> {events[event_type]}:",
            '        """The full event (``GET /v2/core/events/{id}``), its ``data`` parsed."""',
            f'        return cast("{events[event_type]}", await super().fetch_event())',
        ]
        if kind:
            lines += [
                "",
                f"    async def fetch_related_object(self) -> {returns}:",
                '        """The related object as it is now (``GET`` its ``url``, with ``Stripe-Context``)."""',
                f"        result: {returns} = await self._fetch_related()",
                "        return result",
            ]
    lines += ["", "", "_CLASSES: tuple[type[EventNotification], ...] = ("]
    lines += [f"    {class_name}," for _, class_name, _, _ in rows]
    lines += [
        ")",
        "#: Event type -> notification class.",
        "NOTIFICATIONS = {str(cls.LOOKUP_TYPE): cls for cls in _CLASSES}",
        "",
    ]
    return "\n".join(lines)

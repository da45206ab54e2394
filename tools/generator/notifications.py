"""Thin events: one notification class and one event class per stripe-python event type, same
names, and the models of the events' ``data``."""

from __future__ import annotations

import importlib
import inspect
import typing

from .models import ModelWriter
from .names import (
    BANNER,
    MODEL_BASE_MODULE,
    MODEL_REFERENCES_MODULE,
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
    ``V1BillingMeterErrorReportTriggeredEventData``; what it nests adds its own names to that)."""

    def __init__(self, data: type, index: dict[type, tuple[str, str]]) -> None:
        super().__init__(data, index)
        self.module = data_module(data)

    def name_of(self, cls: type) -> str:
        return "".join(cls.__qualname__.split(".")[1:])

    def about(self) -> str:
        event = self.top.__qualname__.split(".")[0]
        return f"{self.name_of(self.top)}: the ``data`` of a fetched ``{event}``."


def data_module(data: type) -> str:
    """``stripe.events._v1_invoice_upcoming_event`` -> ``v1_invoice_upcoming_event``."""
    return model_module(data).removeprefix("events_")


def render_event_data(index: dict[type, tuple[str, str]]) -> dict[str, str]:
    """The models of the events' ``data`` (models/<module>.py -> text)."""
    files: dict[str, str] = {}
    for _, _, data in read_events():
        if data is None:
            continue
        root = getattr(importlib.import_module(data.__module__), data.__qualname__.split(".")[0])
        writer = EventDataWriter(data, {**index, root: (data_module(data), "")})
        files[f"models/{data_module(data)}.py"] = writer.render(False)
    return files


def render_events() -> str:
    """``events.py``: the event class of every type, what ``fetch_event()`` parses into."""
    kinds = {event_type: kind for event_type, _, kind, _ in read_notifications()}
    rows = read_events()
    data_names = {t: ("".join(d.__qualname__.split(".")[1:]), data_module(d)) for t, _, d in rows if d is not None}
    lines = [
        BANNER,
        f'"""The full events of thin events, one class per event type of stripe-python {STRIPE_VERSION}, at its',
        "names: what ``fetch_event()`` parses into.",
        "",
        "Loaded on the first fetched event (see ``atom_stripe._thin_events``).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING, Literal",
        "",
        "from .._thin_events import RelatedObject, RelatedSingletonObject, V2Event",
        f"from {MODEL_BASE_MODULE.removeprefix('.')} import {OMITTED_DEFAULT}",
        f"from {MODEL_REFERENCES_MODULE.removeprefix('.')} import lazy_model",
        "",
        "if TYPE_CHECKING:",
    ]
    lines += [f"    from .models.{module} import {name}" for name, module in sorted(data_names.values())]
    lines.append("else:  # a data model loads when an event of its type is first parsed")
    lines += [f'    {name} = lazy_model("{module}", "{name}")' for name, module in sorted(data_names.values())]
    lines += [
        "",
        "# The classes below inherit fields that V2Event's bases name in their own modules (the event's",
        "# reason): built first, V2Event hands them over resolved.",
        "V2Event.model_rebuild()",
    ]
    for event_type, class_name, _ in rows:
        data = data_names.get(event_type)
        about = f" (``data``: :class:`~atom_stripe.models.{data[0]}`)" if data else ""
        lines += ["", "", f"class {class_name}(V2Event):", f'    """A ``{event_type}`` event{about}."""', ""]
        lines += [f'    LOOKUP_TYPE = "{event_type}"', f'    type: Literal["{event_type}"]']
        # Fields Stripe always sends: None if a server leaves them out (as every model's are).
        if kinds.get(event_type):
            lines.append(f"    related_object: {kinds[event_type]} = {OMITTED_DEFAULT}")
        if data:
            lines.append(f"    data: {data[0]} = {OMITTED_DEFAULT}")
    lines += ["", "", "_CLASSES: tuple[type[V2Event], ...] = ("]
    lines += [f"    {class_name}," for _, class_name, _ in rows]
    lines += [")", "#: Event type -> event class.", "EVENTS = {str(cls.LOOKUP_TYPE): cls for cls in _CLASSES}", ""]
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
        "    from .events import (",
        *[f"        {event}," for event in sorted(events.values())],
        "    )",
    ]
    lines += [f"    from ..models import {m}" for m in models]
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

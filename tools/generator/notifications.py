"""Thin event notification classes: one per stripe-python event notification class, same names."""

from __future__ import annotations

import importlib
import typing

from .names import BANNER, STRIPE_VERSION, model_name
from .stripe_reader import resolve

_LOOKUP = "stripe.events._event_classes"


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
    lines = [
        BANNER,
        f'"""Thin event notification classes, one per event type of stripe-python {STRIPE_VERSION}, at its names.',
        "",
        "Loaded on the first parsed notification (see ``atom_stripe._thin_events``).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING, Literal",
        "",
        "from .._thin_events import EventNotification, RelatedObject, RelatedSingletonObject",
        "",
        "if TYPE_CHECKING:",
        "    from ..models._base import StripeObject",
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
            lines += [
                f"    related_object: {kind}",
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

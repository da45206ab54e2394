"""stripe-python's v2 side (``StripeClient.v2``): its services, its resources, and the per-field
wire encodings its v2 services apply before sending (``_coerce_v2_params``)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from typing import Any

import stripe.v2
from stripe._stripe_object import StripeObject
from stripe.v2._amount import Amount

from .names import BANNER
from .stripe_reader import Service, all_services, read_service

#: v2 timestamp fields: RFC 3339 strings on the wire, typed as datetimes (stripe-python types them ``str``).
_TIME_NAMES = ("created", "timestamp", "start_time", "end_time")


def read_v2_root() -> Service:
    """``client.v2``: stripe-python's ``V2Services`` and everything under it."""
    return read_service("stripe._v2_services", "V2Services", "v2")


def v2_model_classes() -> list[type]:
    """Every v2 resource class (one with an ``OBJECT_NAME`` other than a list's), and ``Amount``."""
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(stripe.v2.__path__, "stripe.v2."):
        if info.name.endswith("_service") or "._" not in info.name:
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and obj.__module__ == module.__name__
                and issubclass(obj, StripeObject)
                and "OBJECT_NAME" in obj.__dict__
                and getattr(obj, "OBJECT_NAME") not in ("list", "v2.search_result")
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def amount_class() -> type:
    """v2's ``{value, currency}`` amount (stripe-python's ``stripe.v2._amount.Amount``)."""
    return Amount


def is_timestamp(cls: type, name: str, annotation: Any) -> bool:
    """Whether a v2 model's field is an RFC 3339 timestamp (``created``, ``..._at``, ...)."""
    if not cls.__module__.startswith("stripe.v2."):
        return False
    if annotation not in (str, str | None):
        return False
    return name in _TIME_NAMES or name.endswith("_at")


def param_encodings(root: Service) -> dict[str, Any]:
    """Operation name -> the schema stripe-python coerces its params with before sending
    (``"int64_string"``: an int sent as a JSON string; ``"decimal_string"``: a number sent as one)."""
    out: dict[str, Any] = {}
    for service in all_services(root):
        if not service.ops:
            continue
        tree = ast.parse(inspect.getsource(importlib.import_module(service.stripe_module)))
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == service.stripe_class)
        for node in cls.body:
            if not isinstance(node, ast.AsyncFunctionDef):
                continue
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "_coerce_v2_params":
                    out[f"{service.path}.{node.name.removesuffix('_async')}"] = ast.literal_eval(call.args[1])
    return out


def render_encodings(encodings: dict[str, Any]) -> str:
    lines = [
        BANNER,
        '"""v2 parameters stripe-python sends as strings: operation -> schema (``int64_string``,',
        '``decimal_string``, or a nested schema)."""',
        "",
        "from typing import Any",
        "",
        "ENCODINGS: dict[str, Any] = {",
        *[f"    {name!r}: {schema!r}," for name, schema in sorted(encodings.items())],
        "}",
        "",
    ]
    return "\n".join(lines)

"""Generate atom_stripe's resource models from stripe-python's field annotations.

stripe-python 16.1.0 annotates every field of every resource for API version
``2026-10-28.endive``. This script reads those annotations (a development-time
oracle only: atom_stripe never imports ``stripe``) and writes one pydantic module
per in-scope resource under ``src/atom_stripe/models/``.

Run it after bumping the pinned stripe version::

    .venv/bin/python tools/generate_models.py && .venv/bin/ruff format src/atom_stripe/models
"""

from __future__ import annotations

import keyword
import re
import types
import typing
from decimal import Decimal
from pathlib import Path

import pydantic
import stripe
from stripe._list_object import ListObject
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject, UntypedStripeObject

OUT = Path(__file__).resolve().parent.parent / "src" / "atom_stripe" / "models"

#: module name -> stripe class. Event is written by hand (its data.object is a union).
RESOURCES: dict[str, type[StripeObject]] = {
    "account": stripe.Account,
    "balance": stripe.Balance,
    "balance_transaction": stripe.BalanceTransaction,
    "charge": stripe.Charge,
    "customer": stripe.Customer,
    "payment_intent": stripe.PaymentIntent,
    "price": stripe.Price,
    "product": stripe.Product,
    "refund": stripe.Refund,
    "subscription": stripe.Subscription,
    "subscription_item": stripe.SubscriptionItem,
}
ROOT_NAMES = {cls.__qualname__.split(".")[0]: mod for mod, cls in RESOURCES.items()}
BASEMODEL_NAMES = set(dir(pydantic.BaseModel))


def class_name(cls: type) -> str:
    return str(cls.__qualname__).replace(".", "")


def root_module(cls: type) -> str | None:
    """The generated module that owns ``cls``, or None when it is out of scope."""
    root = cls.__qualname__.split(".")[0]
    mod = ROOT_NAMES.get(root)
    if mod is None:
        return None
    owner = RESOURCES.get(mod)
    if owner is not None and owner.__module__ != cls.__module__:
        return None
    return mod


class Writer:
    def __init__(self, module: str) -> None:
        self.module = module
        self.pending: list[type] = []
        self.done: set[type] = set()
        self.imports: set[tuple[str, str]] = set()
        self.uses: set[str] = set()

    def want(self, cls: type) -> str:
        mod = root_module(cls)
        if mod is None:
            self.uses.add("StripeObject")
            return "StripeObject"
        name = class_name(cls)
        if mod == self.module:
            if cls not in self.done and cls not in self.pending:
                self.pending.append(cls)
        else:
            self.imports.add((mod, name))
        return name

    def forward(self, name: str) -> str:
        mod = ROOT_NAMES.get(name)
        if mod is None or mod == "event":
            self.uses.add("StripeObject")
            return "StripeObject"
        if mod != self.module:
            self.imports.add((mod, name))
        return name

    def emit(self, t: typing.Any) -> str:
        if t is type(None):
            return "None"
        if t is typing.Any:
            self.uses.add("Any")
            return "Any"
        if isinstance(t, typing.ForwardRef):
            return self.forward(t.__forward_arg__)
        if isinstance(t, str):
            return self.forward(t)
        if t in (str, int, bool, float):
            return str(t.__name__)
        if t is Decimal:
            self.uses.add("Decimal")
            return "Decimal"
        origin: typing.Any = typing.get_origin(t)
        args = typing.get_args(t)
        if origin is typing.Literal:
            self.uses.add("Literal")
            return "Literal[" + ", ".join(repr(a) for a in args) + "]"
        if origin in (typing.Union, types.UnionType):
            parts: list[str] = []
            for a in args:
                e = self.emit(a)
                if e not in parts:
                    parts.append(e)
            models = [p for p in parts if p[:1].isupper() and p != "None" and not p.startswith("Literal")]
            models = [m for m in models if not m.startswith(("Page[", "SearchPage["))]
            if len(models) > 1:
                # An undiscriminated union of models: keep it open.
                self.uses.add("StripeObject")
                parts = [p for p in parts if p not in models]
                parts.insert(1 if parts and parts[0] == "str" else 0, "StripeObject")
            return " | ".join(parts)
        if origin is list:
            return f"list[{self.emit(args[0])}]"
        if origin is dict:
            return f"dict[str, {self.emit(args[1])}]"
        if origin is ListObject or t is ListObject:
            self.uses.add("Page")
            inner = self.emit(args[0]) if args else "StripeObject"
            return f"Page[{inner}]"
        if origin is SearchResultObject:
            self.uses.add("SearchPage")
            return f"SearchPage[{self.emit(args[0])}]"
        if origin is UntypedStripeObject or t is UntypedStripeObject:
            inner = self.emit(args[0]) if args else "Any"
            if inner == "Any":
                self.uses.add("Any")
            return f"dict[str, {inner}]"
        if isinstance(t, type) and issubclass(t, StripeObject):
            return self.want(t)
        raise TypeError(f"unhandled annotation {t!r} in {self.module}")

    def fields(self, cls: type) -> list[str]:
        lines: list[str] = []
        for name, ann in cls.__annotations__.items():
            origin: typing.Any = typing.get_origin(ann)
            if name.startswith("_") or name == "OBJECT_NAME" or origin is typing.ClassVar:
                continue
            optional = origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(ann)
            expr = self.emit(ann)
            attr = name
            alias = ""
            if keyword.iskeyword(name) or name in BASEMODEL_NAMES:
                attr = name + "_"
                alias = f'alias="{name}"'
            if optional:
                default = f"Field(None, {alias})" if alias else "None"
            else:
                self.uses.add("ALWAYS_SENT")
                default = f"Field(ALWAYS_SENT, {alias})" if alias else "ALWAYS_SENT"
            if alias:
                self.uses.add("Field")
            lines.append(f"    {attr}: {expr} = {default}")
        return lines

    def render(self, top: type) -> str:
        self.want(top)
        bodies: list[str] = []
        while self.pending:
            cls = self.pending.pop(0)
            self.done.add(cls)
            doc = (cls.__doc__ or "").strip().splitlines()
            lines = [f"class {class_name(cls)}(StripeObject):"]
            if cls is top and doc and doc[0]:
                lines.append(f'    """{doc[0].rstrip(".")}."""')
                lines.append("")
            lines += self.fields(cls) or ["    pass"]
            bodies.append("\n".join(lines))
        self.uses.add("StripeObject")
        head = [
            f'"""{top.__qualname__.replace(".", "")} model (generated by tools/generate_models.py; do not edit)."""',
            "",
            "from __future__ import annotations",
            "",
        ]
        if "Decimal" in self.uses:
            head.append("from decimal import Decimal")
        typing_names = sorted(n for n in ("Any", "Literal") if n in self.uses)
        if typing_names:
            head.append(f"from typing import {', '.join(typing_names)}")
        if "Field" in self.uses:
            head += ["", "from pydantic import Field"]
        head.append("")
        base_names = sorted(n for n in ("ALWAYS_SENT", "StripeObject") if n in self.uses)
        head.append(f"from .._models import {', '.join(base_names)}")
        pages = sorted(n for n in ("Page", "SearchPage") if n in self.uses)
        if pages:
            head.append(f"from .._pagination import {', '.join(pages)}")
        tail = []
        used = "\n".join(bodies)
        for mod, name in sorted(self.imports):
            if not re.search(rf"\b{name}\b", used):
                continue
            tail.append(f"from .{mod} import {name}  # noqa: E402  (after the classes: models refer to each other)")
        return (
            "\n".join(head)
            + "\n\n\n"
            + "\n\n\n".join(bodies)
            + "\n"
            + ("\n\n" + "\n".join(tail) + "\n" if tail else "")
        )


def main() -> None:
    for mod, cls in RESOURCES.items():
        text = Writer(mod).render(cls)
        (OUT / f"{mod}.py").write_text(text)
        print(f"wrote {mod}.py ({text.count(chr(10))} lines)")


if __name__ == "__main__":
    main()

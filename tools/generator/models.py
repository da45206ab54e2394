"""Models: one pydantic module per Stripe object type, the fixture-only types, the index."""

from __future__ import annotations

import keyword
import re
import sys
import types
import typing
from decimal import Decimal
from typing import Any

from stripe._list_object import ListObject
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject, UntypedStripeObject

from .names import (
    BANNER,
    BASEMODEL_NAMES,
    MODEL_BASE_MODULE,
    MODEL_REFERENCES_MODULE,
    OMITTED_DEFAULT,
    SECRET_MODEL_FIELDS,
    WIDTH,
    camel,
    model_module,
    model_name,
    prefix_of,
    snake,
)
from .params import code_names
from .stripe_reader import Names, resolve
from .v2 import is_timestamp


class ModelWriter:
    """One model module: a top-level Stripe object and the nested objects it owns."""

    def __init__(self, top: type, index: dict[type, tuple[str, str]], example: dict[str, Any] | None = None) -> None:
        self.top = top
        self.example = example
        self.module = model_module(top)
        self.index = index
        self.pending: list[type] = []
        self.done: set[type] = set()
        self.lazy: dict[str, str] = {}  # name -> module
        self.uses: set[str] = set()

    def owner(self, cls: type) -> tuple[str, str] | None:
        root = getattr(sys.modules[cls.__module__], cls.__qualname__.split(".")[0])
        if root not in self.index:
            return None
        return self.index[root][0], self.name_of(cls)

    def name_of(self, cls: type) -> str:
        """The model name of a class this module renders (its nesting flattened)."""
        return prefix_of(cls.__module__) + cls.__qualname__.replace(".", "")

    def about(self) -> str:
        """The module's docstring."""
        return f"{model_name(self.top)}: ``{getattr(self.top, 'OBJECT_NAME', '')}`` objects."

    def want(self, cls: type) -> str:
        owner = self.owner(cls)
        if owner is None:
            self.uses.add("StripeObject")
            return "StripeObject"
        module, name = owner
        if module == self.module:
            if cls not in self.done and cls not in self.pending:
                self.pending.append(cls)
        else:
            self.lazy[name] = module
        return name

    def emit(self, t: Any, where: type) -> str:
        if t is type(None):
            return "None"
        if t is typing.Any:
            self.uses.add("Any")
            return "Any"
        if isinstance(t, typing.ForwardRef):
            return self.emit(resolve(sys.modules[where.__module__], t.__forward_arg__), where)
        if isinstance(t, str):
            return self.emit(resolve(sys.modules[where.__module__], t), where)
        if t in (str, int, bool, float):
            return str(t.__name__)
        if t is Decimal:
            self.uses.add("Decimal")
            return "Decimal"
        origin: Any = typing.get_origin(t)
        args = typing.get_args(t)
        if origin is typing.Literal:
            self.uses.add("Literal")
            return "Literal[" + ", ".join(repr(a) for a in args) + "]"
        if origin in (typing.Union, types.UnionType):
            parts: list[str] = []
            for a in args:
                e = self.emit(a, where)
                if e not in parts:
                    parts.append(e)
            return " | ".join(parts)
        if origin is list:
            return f"list[{self.emit(args[0], where)}]"
        if origin is dict:
            return f"dict[str, {self.emit(args[1], where)}]"
        if origin is ListObject or t is ListObject:
            self.uses.add("Page")
            inner = self.emit(args[0], where) if args else "StripeObject"
            if inner == "StripeObject":
                self.uses.add("StripeObject")
            return f"Page[{inner}]"
        if origin is SearchResultObject:
            self.uses.add("SearchPage")
            return f"SearchPage[{self.emit(args[0], where)}]"
        if origin is UntypedStripeObject or t is UntypedStripeObject:
            inner = self.emit(args[0], where) if args else "Any"
            if inner == "Any":
                self.uses.add("Any")
            return f"dict[str, {inner}]"
        if isinstance(t, type) and issubclass(t, StripeObject):
            return self.want(t)
        raise TypeError(f"unhandled annotation {t!r} in {self.module}")

    def fields(self, cls: type) -> list[str]:
        lines: list[str] = []
        hints: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            if klass is not StripeObject and issubclass(klass, StripeObject):
                hints.update(getattr(klass, "__annotations__", {}))
        for name, ann in sorted(hints.items()):
            origin: Any = typing.get_origin(ann)
            if name.startswith("_") or name == "OBJECT_NAME" or origin is typing.ClassVar:
                continue
            if isinstance(ann, str):
                ann = eval(ann, vars(sys.modules[cls.__module__]), Names(sys.modules[cls.__module__]))
                origin = typing.get_origin(ann)
            optional = origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(ann)
            expr = self.emit(ann, cls)
            if is_timestamp(cls, name, ann):
                expr = expr.replace("str", "datetime")
                self.uses.add("datetime")
            attr, alias = name, ""
            if keyword.iskeyword(name) or name in BASEMODEL_NAMES:
                attr, alias = name + "_", f'alias="{name}"'
                self.uses.add("Field")
            if optional:
                default = f"Field(None, {alias})" if alias else "None"
            else:
                self.uses.add(OMITTED_DEFAULT)
                default = f"Field({OMITTED_DEFAULT}, {alias})" if alias else OMITTED_DEFAULT
            line = f"    {attr}: {expr} = {default}"
            if len(f"    {attr}: {expr} = (") > WIDTH and expr.isidentifier():
                # A class name longer than a line can hold (ruff moves only the default to
                # the next line): nothing to break it at.
                line += "  # noqa: E501"
            lines.append(line)
        return lines

    def fixture_fields(self, cls: type, lines: list[str]) -> list[str]:
        """Fields of Stripe's current example object that stripe-python does not annotate."""
        if cls is not self.top or self.example is None:
            return lines
        known = {line.split(":")[0].strip().removesuffix("_") for line in lines}
        known |= {a for line in lines for a in re.findall(r'alias="(\w+)"', line)}
        extra = []
        for key, value in sorted(self.example.items()):
            if key not in known:
                kind = "dict[str, Any] | None" if isinstance(value, dict) else infer(value, "Any", [])
                extra.append(f"    {key}: {kind} = None")
                self.uses.add("Any")
        return sorted(lines + extra)

    def render(self, deleted: bool) -> str:
        top_name = self.want(self.top)
        bodies: list[str] = []
        while self.pending:
            cls = self.pending.pop(0)
            self.done.add(cls)
            name = self.name_of(cls)
            lines = [f"class {name}(StripeObject):"]
            doc = (cls.__doc__ or "").strip().splitlines()
            if cls is self.top and doc and doc[0]:
                first = doc[0].rstrip(".").replace("\\", "\\\\").replace('"""', "'''")
                lines += [f'    """{first}."""', ""]
            secret = SECRET_MODEL_FIELDS.get(getattr(cls, "OBJECT_NAME", "")) if cls is self.top else None
            if secret:
                self.uses.add("ClassVar")
                names = ", ".join(f'"{n}"' for n in secret)
                lines += [f"    __secret_fields__: ClassVar[frozenset[str]] = frozenset({{{names}}})", ""]
            lines += self.fixture_fields(cls, self.fields(cls)) or ["    pass"]
            bodies.append("\n".join(lines))
        if deleted:
            obj = getattr(self.top, "OBJECT_NAME")
            self.uses |= {"Literal", "DeletedObject"}
            bodies.append(
                f"class Deleted{top_name}(DeletedObject):\n"
                f'    """What deleting a {obj} returns: its id and ``deleted=True``."""\n\n'
                f'    object: Literal["{obj}"] = "{obj}"'
            )
        self.uses.add("StripeObject")
        return self.head() + "\n\n\n" + "\n\n\n".join(bodies) + "\n" + self.tail("\n".join(bodies))

    def head(self) -> str:
        head = [
            BANNER,
            f'"""{self.about()}"""',
            "",
            "from __future__ import annotations",
            "",
        ]
        if "datetime" in self.uses:
            head.append("from datetime import datetime")
        if "Decimal" in self.uses:
            head.append("from decimal import Decimal")
        typing_names: list[str] = sorted(n for n in ("Any", "ClassVar", "Literal") if n in self.uses)
        if self.lazy:
            typing_names.append("TYPE_CHECKING")
        if typing_names:
            head.append(f"from typing import {', '.join(sorted(typing_names))}")
        if "Field" in self.uses:
            head += ["", "from pydantic import Field"]
        head.append("")
        base_names = sorted(n for n in (OMITTED_DEFAULT, "StripeObject") if n in self.uses)
        head.append(f"from {MODEL_BASE_MODULE} import {', '.join(base_names)}")
        objects = sorted(n for n in ("DeletedObject",) if n in self.uses)
        if self.lazy:
            objects.append("lazy_model")
        if objects:
            head.append(f"from {MODEL_REFERENCES_MODULE} import {', '.join(sorted(objects))}")
        pages = sorted(n for n in ("Page", "SearchPage") if n in self.uses)
        if pages:
            head.append(f"from ..._pagination import {', '.join(pages)}")
        return "\n".join(head)

    def tail(self, used: str) -> str:
        names = sorted(n for n in self.lazy if re.search(rf"\b{n}\b", used))
        if not names:
            return ""
        lines = ["", "", "if TYPE_CHECKING:"]
        for name in names:
            lines.append(f"    from .{self.lazy[name]} import {name}")
        lines.append("else:  # other object types load on first use")
        for name in names:
            lines.append(f'    {name} = lazy_model("{self.lazy[name]}", "{name}")')
        return "\n".join(lines) + "\n"


def dict_entry(key: str, value: str) -> str:
    """``"key": "value",``, the value on its own lines when the entry is longer than a line."""
    line = f'    "{key}": "{value}",'
    return line if len(line) <= WIDTH else f'    "{key}": (\n        "{value}"\n    ),'


def examples_by_object(fixtures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field seen on each object type anywhere in Stripe's example objects (top level,
    or nested, as an event's ``data.object`` is), with one example value each."""
    seen: dict[str, dict[str, Any]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            kind = value.get("object")
            if isinstance(kind, str) and not value.get("deleted"):
                merged = seen.setdefault(kind, {})
                for key, item in value.items():
                    if merged.get(key) is None:
                        merged[key] = item
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for key in sorted(fixtures):
        walk(fixtures[key])
    return seen


def infer(value: Any, name: str, classes: list[str]) -> str:
    """A field type from an example value (for object types stripe-python has no class for)."""
    if isinstance(value, bool):
        return "bool | None"
    if isinstance(value, int):
        return "int | None"
    if isinstance(value, float):
        return "float | None"
    if isinstance(value, str):
        return "str | None"
    if isinstance(value, dict) and value:
        classes.append(fixture_class(name, value, classes))
        return f"{name} | None"
    if isinstance(value, dict):
        return "dict[str, Any] | None"
    if isinstance(value, list):
        return "list[Any] | None"
    return "Any"


def fixture_class(name: str, example: dict[str, Any], classes: list[str], doc: str = "") -> str:
    lines = [f"class {name}(StripeObject):"]
    if doc:
        lines += [f'    """{doc}"""', ""]
    fields = []
    for key, value in sorted(example.items()):
        attr = key + "_" if keyword.iskeyword(key) or key in BASEMODEL_NAMES else key
        alias = f'Field(None, alias="{key}")' if attr != key else "None"
        if key == "object" and isinstance(value, str):
            fields.append(f'    object: Literal["{value}"] | None = None')
        else:
            fields.append(f"    {attr}: {infer(value, name + camel(key), classes)} = {alias}")
    return "\n".join(lines + (fields or ["    pass"]))


def render_fixture_model(object_name: str, example: dict[str, Any]) -> tuple[str, str, str]:
    module = snake(object_name.split("."))
    name = camel(object_name)
    classes: list[str] = []
    doc = f"A ``{object_name}`` object (shape taken from Stripe's example object; stripe-python has no class for it)."
    top = fixture_class(name, example, classes, doc)
    text = "\n".join(
        [
            BANNER,
            f'"""{name}: ``{object_name}`` objects."""',
            "",
            "from __future__ import annotations",
            "",
            "from typing import Any, Literal",
            "",
            "from pydantic import Field",
            "",
            f"from {MODEL_BASE_MODULE} import StripeObject",
            "",
            "",
            "\n\n\n".join([top, *reversed(classes)]),
            "",
        ]
    )
    text = text.replace("from pydantic import Field\n\n", "") if "Field(" not in text else text
    if "Any" not in code_names("\n".join([top, *classes])):
        text = text.replace("from typing import Any, Literal", "from typing import Literal")
    return module, name, text


def render_model_index(model_names: dict[str, str], object_names: dict[str, str]) -> dict[str, str]:
    """The index of models, in three files: ``__init__.py`` (what a program loads: the ~175
    models not nested in another, and ``object`` values), ``_index.py`` (every model, ~2,400,
    loaded only for a nested model's name, ``dir()`` or ``__all__``), ``__init__.pyi`` (for
    type checkers: every model, re-exported)."""
    by_module: dict[str, list[str]] = {}
    for name, module in model_names.items():
        by_module.setdefault(module, []).append(name)
    tops = {
        name: module
        for module, names in by_module.items()
        for name in names
        if not any(other != name and name.startswith(other) for other in names)
    }
    runtime = [
        BANNER,
        '"""Every model, loaded on first use: ``from atom_stripe.models import Customer``.',
        "",
        "Type checkers read ``__init__.pyi``; the index of nested models (``CustomerAddress``) is",
        '``_index.py``, loaded only when one is asked for by name."""',
        "",
        "from __future__ import annotations",
        "",
        "from importlib import import_module",
        "from typing import Any",
        "",
        "#: model name -> module, for the models not nested in another (``Customer``, ``DeletedCustomer``)",
        "TOPS: dict[str, str] = {",
        *[dict_entry(name, module) for name, module in sorted(tops.items())],
        "}",
        "",
        "#: Stripe's ``object`` value -> model name",
        "OBJECTS: dict[str, str] = {",
        *[f'    "{obj}": "{name}",' for obj, name in sorted(object_names.items())],
        "}",
        "",
        "",
        "def module_of(name: str) -> str | None:",
        '    """The module (under this package) that defines the model ``name``, or None."""',
        "    module = TOPS.get(name)",
        "    if module is None:",
        "        from ._index import NESTED",
        "",
        "        module = NESTED.get(name)",
        "    return module",
        "",
        "",
        "def __getattr__(name: str) -> Any:",
        '    if name == "__all__":',
        "        return __dir__()",
        "    module = module_of(name)",
        "    if module is None:",
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
        '    value = getattr(import_module(f"{__name__}.{module}"), name)',
        "    globals()[name] = value",
        "    return value",
        "",
        "",
        "def __dir__() -> list[str]:",
        '    """Every model\'s name."""',
        "    from ._index import NESTED",
        "",
        "    return sorted({*TOPS, *NESTED})",
        "",
    ]
    index = [
        BANNER,
        '"""The models nested in others and their modules: loaded only when one is asked for by',
        'name, or for ``dir()`` and ``__all__`` (the others are ``TOPS`` in ``__init__.py``)."""',
        "",
        "#: model name -> module",
        "NESTED: dict[str, str] = {",
        *[dict_entry(name, module) for name, module in sorted(model_names.items()) if name not in tops],
        "}",
        "",
    ]
    stub = [
        BANNER,
        '"""For type checkers: every model of ``__init__.py``, re-exported (by ``__all__``)."""',
        "",
        *[f"from .{module} import {name}" for name, module in sorted(model_names.items())],
        "",
        "__all__ = [",
        *[f'    "{name}",' for name in sorted(model_names)],
        "]",
        "",
        "TOPS: dict[str, str]",
        "OBJECTS: dict[str, str]",
        "",
        "def module_of(name: str) -> str | None: ...",
        "",
    ]
    return {
        "models/__init__.py": "\n".join(runtime),
        "models/_index.py": "\n".join(index),
        "models/__init__.pyi": "\n".join(stub),
    }

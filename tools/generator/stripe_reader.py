"""Reading stripe-python: its services (every operation), its resource classes, names seen
from inside its modules."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import stripe
from stripe._stripe_object import StripeObject

from .names import camel, module_parts, prefix_of, snake


def import_map(module: types.ModuleType) -> dict[str, tuple[str, str]]:
    """Every ``from stripe.x import Name`` in a stripe module (also under TYPE_CHECKING)."""
    tree = ast.parse(inspect.getsource(module))
    names: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stripe"):
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
    return names


def resolve(module: types.ModuleType, name: str) -> Any:
    """The stripe object that a (forward-referenced) name means inside ``module``."""
    if "." in name:
        head, _, rest = name.partition(".")
        obj = resolve(module, head)
        for part in rest.split("."):
            obj = getattr(obj, part)
        return obj
    if hasattr(module, name):
        return getattr(module, name)
    source, real = import_map(module)[name]
    return getattr(importlib.import_module(source), real)


class Names(dict[str, Any]):
    """Names seen from inside a stripe module, also those it imports only for type checking."""

    def __init__(self, module: types.ModuleType) -> None:
        super().__init__()
        self.module = module

    def __missing__(self, name: str) -> Any:
        return resolve(self.module, name)


@dataclass
class Op:
    service: str  # dotted namespace path, e.g. "customers.balance_transactions"
    method: str
    verb: str
    path: str
    ids: list[str]
    params: tuple[str, str] | None  # (stripe params module, class)
    params_required: bool
    result: str  # annotation text, e.g. "ListObject[Customer]"
    result_module: types.ModuleType  # where names in ``result`` resolve
    host: str
    stream: bool
    doc: str

    @property
    def name(self) -> str:
        return f"{self.service}.{self.method}"


@dataclass
class Service:
    stripe_module: str
    stripe_class: str
    path: str
    subservices: dict[str, Service] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)

    @property
    def module(self) -> str:
        parts = module_parts(self.stripe_module)
        parts[-1] = parts[-1].removesuffix("_service")
        return snake(parts) or "v1"

    @property
    def class_name(self) -> str:
        return prefix_of(self.stripe_module) + self.stripe_class


def read_service(stripe_module: str, stripe_class: str, path: str) -> Service:
    module = importlib.import_module(stripe_module)
    service = Service(stripe_module, stripe_class, path)
    tree = ast.parse(inspect.getsource(module))
    imports = import_map(module)
    cls_node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == stripe_class)
    for node in cls_node.body:
        if not (isinstance(node, ast.AsyncFunctionDef) and node.name.endswith("_async")):
            continue
        call = next(
            n
            for n in ast.walk(node)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr.startswith("_request")
        )
        verb = call.args[0]
        target = call.args[1]
        assert isinstance(verb, ast.Constant)
        url = target.func.value if isinstance(target, ast.Call) and isinstance(target.func, ast.Attribute) else target
        assert isinstance(url, ast.Constant) and isinstance(url.value, str)
        assert isinstance(verb.value, str) and isinstance(call.func, ast.Attribute)
        base = next(k.value for k in call.keywords if k.arg == "base_address")
        assert isinstance(base, ast.Constant) and isinstance(base.value, str)
        host = base.value
        ids = [a.arg for a in node.args.posonlyargs if a.arg != "self"]
        assert ids == re.findall(r"\{(\w+)\}", url.value), node.name
        params = None
        required = False
        for arg in node.args.args:
            if arg.arg == "params" and arg.annotation is not None:
                text = ast.unparse(arg.annotation)
                required = not text.startswith("Optional")
                pname = re.search(r"'(\w+)'", text)
                assert pname, text
                params = imports[pname.group(1)]
        assert node.returns is not None
        result = ast.literal_eval(ast.unparse(node.returns))
        service.ops.append(
            Op(
                service=path,
                method=node.name.removesuffix("_async"),
                verb=verb.value.upper(),
                path=url.value,
                ids=ids,
                params=params,
                params_required=required,
                result=result,
                result_module=module,
                host=host,
                stream=call.func.attr == "_request_stream_async",
                doc=inspect.cleandoc(ast.get_docstring(node) or ""),
            )
        )
    for name, (sub_module, sub_class) in getattr(module, "_subservices", {}).items():
        service.subservices[name] = read_service(sub_module, sub_class, f"{path}.{name}" if path else name)
    return service


#: Namespaces of the ATOM design that stripe-python spells otherwise: name -> {method: operation}.
DESIGN_NAMESPACES = {"account": {"retrieve": "accounts.retrieve_current"}}


def add_design_names(root: Service) -> None:
    """``client.account.retrieve()``: the account of the key (``accounts.retrieve_current``)."""
    from dataclasses import replace

    ops = {op.name: op for s in all_services(root) for op in s.ops}
    for namespace, methods in DESIGN_NAMESPACES.items():
        service = Service(f"stripe._{namespace}_design_service", f"{camel(namespace)}DesignService", namespace)
        service.ops = [replace(ops[target], service=namespace, method=method) for method, target in methods.items()]
        root.subservices[namespace] = service


def all_services(root: Service) -> list[Service]:
    out = [root]
    for sub in root.subservices.values():
        out += all_services(sub)
    return out


def all_model_classes() -> list[type]:
    """Every stripe-python v1 resource class (one with an ``OBJECT_NAME``)."""
    import pkgutil

    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(stripe.__path__, "stripe."):
        name = info.name
        if ".params" in name or ".v2" in name or name.endswith("_service") or "._" not in name:
            continue
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and obj.__module__ == module.__name__
                and issubclass(obj, StripeObject)
                and "OBJECT_NAME" in obj.__dict__
                and getattr(obj, "OBJECT_NAME") not in ("list", "search_result")
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def answers_deleted_stub(op: Op) -> bool:
    """A ``delete`` that Stripe answers with ``{id, object, deleted: true}``: stripe-python types it as
    the model itself, whose ``deleted: Optional[Literal[True]]`` says the stub exists ("Always true
    for a deleted object"). An ephemeral key has no such field: its delete answers the whole key."""
    if op.method != "delete" or op.verb != "DELETE" or op.stream or "[" in op.result:
        return False
    cls = resolve(op.result_module, op.result.strip("'\""))
    return bool(cls.__annotations__.get("deleted") == (typing.Literal[True] | None))

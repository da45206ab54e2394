"""A stand-in for every v1 operation, built from the table of endpoints, that checks each request
against stripe-python's own params definitions (not atom_stripe's copy) and answers with Stripe's
example object of the type the operation returns.

Also: ``sample_params`` makes valid parameters for an operation from its typed parameters.
"""

from __future__ import annotations

import functools
import re
import sys
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Union
from urllib.parse import parse_qsl

import httpx
from typing_extensions import is_typeddict

from atom_stripe._endpoint import Endpoint, find_endpoint
from atom_stripe._generated.models import OBJECTS

from .helpers import ROOT, examples

sys.path.insert(0, str(ROOT / "tools"))
import generate

MODEL_OBJECTS = {name: obj for obj, name in OBJECTS.items()}


@functools.cache
def stripe_params() -> dict[str, type | None]:
    """Operation name -> stripe-python's params TypedDict for it (the oracle; read once a process:
    reading stripe-python's services takes a second or two)."""
    import importlib

    root = generate.read_service("stripe._v1_services", "V1Services", "")
    generate.add_design_names(root)
    out: dict[str, type | None] = {}
    for service in generate.all_services(root):
        for op in service.ops:
            out[op.name] = getattr(importlib.import_module(op.params[0]), op.params[1]) if op.params else None
    return out


# -- decoding and checking a request -----------------------------------------------------------


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=v`` pairs back into nested dicts (list indices stay as string keys)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|(?<=\[)(?=\])", key)
        cursor = out
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = value
    return out


def stripe_hints(tp: Any) -> dict[str, Any]:
    """A params TypedDict's keys and types, without stripe-python's request options."""
    from stripe._request_options import RequestOptions

    skip = set(RequestOptions.__annotations__) if tp.__module__.startswith("stripe") else set()
    namespace = vars(sys.modules[tp.__module__])
    hints: dict[str, Any] = {}
    for key, annotation in tp.__annotations__.items():
        if key in skip:
            continue
        if isinstance(annotation, str):
            annotation = typing.ForwardRef(annotation)
        hints[key] = typing._eval_type(annotation, namespace, None)  # type: ignore[attr-defined]
    return {k: _strip(v) for k, v in hints.items()}


def _strip(tp: Any) -> Any:
    """Without ``NotRequired[...]``/``Required[...]``."""
    from typing_extensions import NotRequired, Required

    while typing.get_origin(tp) in (NotRequired, Required):
        tp = typing.get_args(tp)[0]
    return tp


def mismatches(value: Any, tp: Any, name: str) -> list[str]:
    """Where a decoded form value does not fit stripe-python's annotation (empty: it fits)."""
    if tp is Any:
        return []
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return mismatches(value, args[0], name)
    if origin in (Union, getattr(__import__("types"), "UnionType", Union)):
        results = [mismatches(value, arg, name) for arg in args]
        return [] if any(not r for r in results) else min(results, key=len)
    if is_typeddict(tp):
        if value == "":
            return [f"{name}: empty where an object is expected"]
        if not isinstance(value, dict):
            return [f"{name}: not an object"]
        hints = stripe_hints(tp)
        problems = [f"{name}[{k}]: unknown parameter" for k in value if k not in hints]
        for key, item in value.items():
            if key in hints:
                problems += mismatches(item, hints[key], f"{name}[{key}]" if name else key)
        required: frozenset[str] = getattr(tp, "__required_keys__", frozenset())
        problems += [f"{name}[{k}]: missing" for k in required if k not in value]
        return problems
    if origin is Literal:
        return [] if any(str(a).lower() == str(value).lower() for a in args) else [f"{name}: {value!r} not in {args}"]
    if origin in (list, typing.List):  # noqa: UP006
        if value == "":
            return []
        if not isinstance(value, dict) or not all(k.isdigit() for k in value):
            return [f"{name}: not a list"]
        return [p for k, item in value.items() for p in mismatches(item, args[0], f"{name}[{k}]")]
    if origin in (dict, typing.Dict):  # noqa: UP006
        if value == "":
            return []
        if not isinstance(value, dict):
            return [f"{name}: not a mapping"]
        return [p for k, item in value.items() for p in mismatches(item, args[1], f"{name}[{k}]")]
    if tp is str:
        return [] if isinstance(value, str) else [f"{name}: not a string"]
    if tp is bool:
        return [] if value in ("true", "false") else [f"{name}: not a boolean"]
    if tp is int:
        return [] if isinstance(value, str) and re.fullmatch(r"-?\d+", value) else [f"{name}: not an integer"]
    if tp in (float, Decimal):
        return [] if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) else [f"{name}: not a number"]
    if tp is type(None):
        return [f"{name}: null sent"]
    return [f"{name}: cannot check {tp!r}"]


# -- answering ----------------------------------------------------------------------------------


def example(fixtures: dict[str, Any], endpoint: Endpoint) -> Any:
    """Stripe's example object of the type ``endpoint`` returns (a one-item page for lists)."""
    name = endpoint.result.split(" | ")[0]
    deleted = name.startswith("Deleted") and name not in MODEL_OBJECTS
    obj_name = MODEL_OBJECTS.get(name.removeprefix("Deleted") if deleted else name)
    if deleted:
        stub = fixtures.get(f"deleted_{obj_name}") or {"id": "x_1", "object": obj_name, "deleted": True}
        return stub
    obj = fixtures.get(obj_name or "", {"id": "x_1", "object": obj_name})
    if endpoint.kind == "list":
        return {"object": "list", "data": [obj], "has_more": False, "url": endpoint.path}
    if endpoint.kind == "search":
        return {"object": "search_result", "data": [obj], "has_more": False, "next_page": None, "url": endpoint.path}
    return obj


@dataclass
class StandIn:
    fixtures: dict[str, Any] = field(default_factory=examples)
    oracle: dict[str, type | None] = field(default_factory=stripe_params)
    seen: list[tuple[str, httpx.Request]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def route(self, request: httpx.Request) -> tuple[str, Endpoint] | None:
        found = find_endpoint(request.method, request.url.path)
        return None if found is None else found[:2]

    def answer(self, request: httpx.Request) -> httpx.Response:
        found = self.route(request)
        if found is None:
            return httpx.Response(404, json={"error": {"type": "invalid_request_error", "message": "no such route"}})
        name, endpoint = found
        self.seen.append((name, request))
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            pairs = [(k, "file") for k in re.findall(rb'; name="([^"]+)"', request.content.decode("latin-1").encode())]
            decoded: dict[str, Any] = {k.decode(): v for k, v in pairs}
        else:
            text = request.content.decode() if request.method == "POST" else request.url.query.decode()
            decoded = unflatten(parse_qsl(text, keep_blank_values=True))
        decoded.pop("expand", None)
        schema = self.oracle[name]
        if schema is None:
            found_problems = [f"{k}: {name} takes no parameters" for k in decoded]
        else:
            found_problems = mismatches(decoded, schema, "")
        if found_problems:
            self.problems += [f"{name}: {p}" for p in found_problems]
            first = found_problems[0].split(":")[0]
            return httpx.Response(
                400,
                json={"error": {"type": "invalid_request_error", "code": "parameter_unknown", "param": first}},
            )
        if endpoint.kind == "bytes":
            return httpx.Response(200, content=b"%PDF-1.4 example", headers={"Content-Type": "application/pdf"})
        return httpx.Response(200, json=example(self.fixtures, endpoint), headers={"Request-Id": "req_standin"})


# -- valid parameters ---------------------------------------------------------------------------

SPECIAL = {
    "currency": "usd",
    "country": "US",
    "email": "jenny@example.com",
    "amount": 1000,
    "unit_amount": 1000,
    "file": b"%PDF-1.4 upload",
    "query": "metadata['key']:'value'",
}


def sample(tp: Any, key: str) -> Any:
    """A valid value of annotation ``tp`` for a parameter named ``key``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if key == "file" and tp is not Any:
        return "file_1"
    if key in SPECIAL and not is_typeddict(tp) and not any(is_typeddict(a) for a in args):
        return SPECIAL[key]
    if is_typeddict(tp):
        hints = typing.get_type_hints(tp)
        keys = sorted(getattr(tp, "__required_keys__", ())) or sorted(hints)[:1]
        return {k: sample(hints[k], k) for k in keys}
    if origin is Literal:
        return next((a for a in args if a != ""), args[0])
    if origin in (Union, getattr(__import__("types"), "UnionType", Union)):
        choices = [a for a in args if not (typing.get_origin(a) is Literal and typing.get_args(a) == ("",))]
        choices = [a for a in choices if a is not type(None)]
        return sample(choices[0], key)
    if origin is list:
        return [sample(args[0], key)]
    if origin is dict:
        return {"key": sample(args[1], key)}
    if tp is str:
        return "x_1"
    if tp is bool:
        return True
    if tp is int:
        return 1
    if tp is float:
        return 1.5
    if tp is Decimal:
        return Decimal("1.5")
    if tp is Any:
        return "x"
    raise TypeError(f"no sample for {tp!r}")


def sample_params(endpoint: Endpoint) -> dict[str, Any]:
    """Every required parameter of ``endpoint`` with a valid value."""
    schema = endpoint.params_type
    if schema is None:
        return {}
    params = sample(schema, "")
    if endpoint.path == "/v1/refunds" and endpoint.method == "POST":
        params["payment_intent"] = "pi_1"
    return dict(params)

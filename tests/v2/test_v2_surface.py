"""Every v2 operation of the table, called through ``client.v2`` with valid parameters against a
stand-in that checks each request against stripe-python's own v2 params TypedDicts (JSON bodies on
POST, the query on GET and DELETE) and answers with an object of the type the operation returns."""

from __future__ import annotations

import importlib
import json
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Union
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from typing_extensions import is_typeddict

from atom_stripe import AsyncStripeClient
from atom_stripe._endpoint import Endpoint, find_endpoint
from atom_stripe._generated.endpoints import ENDPOINTS
from atom_stripe._generated.models import OBJECTS
from atom_stripe._pagination import V2Page
from atom_stripe.models._references import model_class

from ..helpers import KEY, ROOT
from ..stripe_oracle import mismatches, sample_params, stripe_hints, unflatten

sys.path.insert(0, str(ROOT / "tools"))
import generate

NAMES = sorted(n for n in ENDPOINTS if n.startswith("v2."))
#: a sample run under trio as well
SAMPLE = [n for i, n in enumerate(NAMES) if i % 9 == 0] + ["v2.billing.meter_event_stream.create"]
MODEL_OBJECTS = {name: obj for obj, name in OBJECTS.items()}
CREATED = "2026-01-02T03:04:05.678Z"


def v2_oracle() -> dict[str, type | None]:
    """Operation name -> stripe-python's v2 params TypedDict (not atom_stripe's copy)."""
    root = generate.read_service("stripe._v2_services", "V2Services", "v2")
    return {
        op.name: getattr(importlib.import_module(op.params[0]), op.params[1]) if op.params else None
        for service in generate.all_services(root)
        for op in service.ops
    }


def json_mismatches(value: Any, tp: Any, name: str) -> list[str]:
    """Where a decoded JSON value does not fit stripe-python's annotation (empty: it fits)."""
    if tp is Any:
        return []
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, getattr(__import__("types"), "UnionType", Union)):
        results = [json_mismatches(value, arg, name) for arg in args]
        return [] if any(not r for r in results) else min(results, key=len)
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{name}: not an object"]
        hints = stripe_hints(tp)
        problems = [f"{name}.{k}: unknown parameter" for k in value if k not in hints]
        for key, item in value.items():
            if key in hints:
                problems += json_mismatches(item, hints[key], f"{name}.{key}" if name else key)
        required: frozenset[str] = getattr(tp, "__required_keys__", frozenset())
        return problems + [f"{name}.{k}: missing" for k in required if k not in value]
    if origin is Literal:
        return [] if value in args else [f"{name}: {value!r} not in {args}"]
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            return [f"{name}: not a list"]
        return [p for i, item in enumerate(value) for p in json_mismatches(item, args[0], f"{name}[{i}]")]
    if origin in (dict, typing.Dict):  # noqa: UP006
        if not isinstance(value, dict):
            return [f"{name}: not a mapping"]
        return [p for k, item in value.items() for p in json_mismatches(item, args[1], f"{name}.{k}")]
    if tp is type(None):
        return [] if value is None else [f"{name}: not null"]
    for kind, accepted in ((str, str), (bool, bool), (int, int), (float, (int, float)), (Decimal, str)):
        if tp is kind:
            fits = isinstance(value, accepted) and (kind is bool or not isinstance(value, bool))
            return [] if fits else [f"{name}: not {kind.__name__}"]
    return [f"{name}: cannot check {tp!r}"]


def answer_object(endpoint: Endpoint) -> dict[str, Any]:
    name = endpoint.result
    obj: dict[str, Any] = {"id": "x_1", "object": MODEL_OBJECTS.get(name, "v2.core.event_destination")}
    if "created" in model_class(name).model_fields:
        obj["created"] = CREATED
    return obj


@dataclass
class V2StandIn:
    oracle: dict[str, type | None] = field(default_factory=v2_oracle)
    seen: list[tuple[str, httpx.Request]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def answer(self, request: httpx.Request) -> httpx.Response:
        found = find_endpoint(request.method, request.url.path)
        if found is None:
            return httpx.Response(404, json={"error": {"type": "not_found", "message": "no such route"}})
        name, endpoint, _ = found
        self.seen.append((name, request))
        schema = self.oracle[name]
        if request.method == "POST":
            if request.headers.get("content-type") != "application/json":
                self.problems.append(f"{name}: content type {request.headers.get('content-type')!r}")
            body = json.loads(request.content)
            problems = json_mismatches(body, schema, "") if schema is not None else [f"{k}: unexpected" for k in body]
        else:
            decoded = unflatten(parse_qsl(request.url.query.decode(), keep_blank_values=True))
            problems = mismatches(decoded, schema, "") if schema is not None else [f"{k}: unexpected" for k in decoded]
        if problems:
            self.problems += [f"{name}: {p}" for p in problems]
            return httpx.Response(400, json={"error": {"type": "invalid_request_error", "message": problems[0]}})
        if endpoint.kind == "none":
            return httpx.Response(202)
        if endpoint.kind == "v2list":
            page = {"data": [answer_object(endpoint)], "next_page_url": None, "previous_page_url": None}
            return httpx.Response(200, json=page)
        return httpx.Response(200, json=answer_object(endpoint))


@pytest.fixture(scope="module")
def standin() -> V2StandIn:
    return V2StandIn()


@pytest.fixture
def routed(standin: V2StandIn) -> Iterator[V2StandIn]:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.route(host="api.stripe.com").mock(side_effect=standin.answer)
        router.route(host="meter-events.stripe.com").mock(side_effect=standin.answer)
        standin.seen.clear()
        standin.problems.clear()
        yield standin


def method_of(client: AsyncStripeClient, name: str) -> Any:
    target: Any = client
    for part in name.split("."):
        target = getattr(target, part)
    return target


async def check_operation(routed: V2StandIn, name: str) -> None:
    endpoint = ENDPOINTS[name]
    async with AsyncStripeClient(KEY) as client:
        result = await method_of(client, name)(*[f"{i}_1" for i in endpoint.ids], **sample_params(endpoint))
    assert routed.problems == [], routed.problems
    assert [n for n, _ in routed.seen] == [name]
    request = routed.seen[0][1]
    assert request.url.host == ("meter-events.stripe.com" if endpoint.host == "meter_events" else "api.stripe.com")
    assert ("Idempotency-Key" in request.headers) == (endpoint.method in ("POST", "DELETE"))
    if endpoint.kind == "none":
        assert result is None
        return
    item = result
    if endpoint.kind == "v2list":
        assert isinstance(result, V2Page) and len(result.data) == 1
        item = result.data[0]
    assert isinstance(item, model_class(endpoint.result)), (name, type(item))
    if "created" in type(item).model_fields:
        assert item.created.isoformat() == "2026-01-02T03:04:05.678000+00:00"


def test_the_table_has_every_v2_operation_of_stripe_python(standin: V2StandIn) -> None:
    assert set(NAMES) == set(standin.oracle)
    assert len(NAMES) == 91


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("name", NAMES)
async def test_every_v2_operation(routed: V2StandIn, name: str) -> None:
    await check_operation(routed, name)


@pytest.mark.parametrize("name", SAMPLE)
async def test_a_v2_sample_on_both_backends(routed: V2StandIn, name: str) -> None:
    await check_operation(routed, name)

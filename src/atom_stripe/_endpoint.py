"""One row of the table of endpoints (``_generated/endpoints.py``), and what it resolves to."""

from __future__ import annotations

import re
from functools import cache
from importlib import import_module
from typing import Annotated, Any, NamedTuple

from ._objects import model_class, parse_object


class Endpoint(NamedTuple):
    """One operation: everything the client, the fake, the router and the CLI need to know."""

    method: str
    """``GET``, ``POST`` or ``DELETE``."""
    path: str
    """The path template, ids in braces: ``/v1/customers/{customer}``."""
    ids: tuple[str, ...]
    """The path ids, in path order (the method's positional arguments)."""
    params: str
    """``module:Class`` of its parameters under ``_generated.params`` (empty: none)."""
    kind: str
    """``object``, ``list``, ``search`` or ``bytes``."""
    result: str
    """The model name of the answer (of each item for lists); ``A | B``: picked by ``object``."""
    host: str
    """``api`` or ``files`` (uploads and downloads)."""

    @property
    def params_type(self) -> type | None:
        return _params_type(self.params) if self.params else None

    @property
    def result_type(self) -> Any:
        return _result_type(self.kind, self.result)

    @property
    def is_page(self) -> bool:
        return self.kind in ("list", "search", "v2list")


@cache
def _params_type(ref: str) -> type:
    module, _, name = ref.partition(":")
    found: type = getattr(import_module(f"atom_stripe._generated.params.{module}"), name)
    return found


@cache
def _result_type(kind: str, result: str) -> Any:
    """What an answer parses into: a model (or a TypeAdapter), a page of them, or bytes."""
    if kind in ("bytes", "none"):
        return bytes
    from pydantic import TypeAdapter

    from ._pagination import Page, SearchPage, V2Page

    item: Any
    one: Any
    if result == "Event":  # hand-written: a union of typed events
        from .models.event import Event, event_adapter

        item, one = Event, event_adapter()
    elif "|" in result:  # a union of object types, told apart by their `object` field
        from pydantic import BeforeValidator

        item = Annotated[Any, BeforeValidator(parse_object)]
        one = TypeAdapter(item) if kind == "object" else None
    else:
        item = one = model_class(result)
    if kind == "list":
        return Page[item]
    if kind == "search":
        return SearchPage[item]
    if kind == "v2list":
        return V2Page[item]
    return one


def find_endpoint(method: str, path: str) -> tuple[str, Endpoint, dict[str, str]] | None:
    """The table's operation for a request: ``(name, endpoint, path ids)``, or None.

    A fixed path (``/v1/customers/search``) wins over an id in its place (``/v1/customers/{customer}``).
    """
    for route_method, pattern, name, endpoint in _routes():
        if route_method == method and (match := pattern.match(path)):
            return name, endpoint, match.groupdict()
    return None


@cache
def _routes() -> list[tuple[str, re.Pattern[str], str, Endpoint]]:
    from ._generated.endpoints import ENDPOINTS  # the table imports this module

    routes = []
    for name, endpoint in ENDPOINTS.items():
        pattern = re.escape(endpoint.path)
        for id_name in endpoint.ids:
            pattern = pattern.replace(re.escape("{" + id_name + "}"), f"(?P<{id_name}>[^/]+)")
        routes.append((endpoint.method, re.compile(pattern + "$"), name, endpoint))
    routes.sort(key=lambda r: (r[3].path.count("{"), -len(r[3].path)))
    return routes

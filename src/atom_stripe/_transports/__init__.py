"""The transports: how one attempt goes over the wire and comes back read.

Every transport has one ``send(outgoing)`` that returns a :class:`Response` whose body is read
whole, decoded, and refused beyond the size limit, all within the attempt's deadline (the
:data:`~atom_stripe._constants.DEADLINE` and :data:`~atom_stripe._constants.MAX_RESPONSE_SIZE`
extensions carry both). The requester knows only these two protocols:

- :mod:`.auto`: the client's own pool; aiohttp on asyncio, httpx's transport elsewhere, httpx's
  client layer when respx has patched it;
- :mod:`.aiohttp`: aiohttp, imported on the first request under asyncio;
- :mod:`.httpx`: a caller's ``httpx.AsyncClient``, httpx's own transports, the proxies;
- :mod:`.body`: reading a body within its limits.

An ``httpx.Response`` is built only where a caller needs one (errors, ``send``, hooks that ask).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx


class Outgoing(Protocol):
    """One attempt's request, as a transport reads it."""

    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Any:
        """A mapping or ``(name, value)`` pairs."""

    @property
    def content(self) -> bytes | None: ...
    @property
    def extensions(self) -> Mapping[str, Any]: ...
    @property
    def request(self) -> httpx.Request:
        """The request as an ``httpx.Request``, made when something needs one."""


class Response(Protocol):
    """A response read whole: what a 2xx needs, and the way to an ``httpx.Response``."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]:
        """Case-insensitive."""

    @property
    def content(self) -> bytes: ...
    def httpx_response(self, request: httpx.Request) -> httpx.Response: ...


class Transport(Protocol):
    def send(self, outgoing: Outgoing) -> Awaitable[Response]: ...


class HttpxOutgoing:
    """An ``httpx.Request`` as an :class:`Outgoing`."""

    __slots__ = ("content", "extensions", "headers", "method", "request", "url")

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        self.method = request.method
        self.url = str(request.url)
        self.headers = request.headers.multi_items()
        self.content = request.content or None
        self.extensions = request.extensions

"""The transport of a client's own pool: aiohttp under asyncio, httpx's own transport elsewhere.

On asyncio, aiohttp costs a fraction of httpx's own transport in client CPU per request
(docs/performance.md, "Figures the code refers to"); trio cannot run aiohttp, so there the requests go through httpx's
own transport. The choice is made on the first request, in the running event loop, and
aiohttp is imported only then. When respx has patched httpx's client to mock it, requests
go through httpx's client layer, so that respx sees every one.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, cast

import httpx
import sniffio

from .._compat import close_httpx_pool_now, current_transport_lookup, httpx_transport_lookup, transport_for_url
from .._constants import DEFAULT_LIMITS
from . import HttpxOutgoing, Outgoing, Response
from .httpx import ProxiedTransport, Proxies, send_through

if TYPE_CHECKING:
    from .aiohttp import AiohttpTransport

#: httpx's own transport lookup, or None if something (respx) had patched it when this was
#: imported. Anything else in its place (respx's "httpx" mode) means: go through httpx's client.
_HTTPX_LOOKUP = httpx_transport_lookup()


class AutoTransport(httpx.AsyncBaseTransport):
    """Sends through aiohttp under asyncio and through httpx's own transport elsewhere;
    either way the response comes back read (see :mod:`.body`).

    It is also the transport of the ``httpx.AsyncClient`` it makes (:meth:`open_client`, the
    client's ``http_client``), so that a request sent through that client goes the same way.

    aiohttp's session belongs to one event loop; when the loop changes (a notebook
    that restarts its loop, one ``anyio.run`` after another), the old one is closed
    and a new one made.
    """

    def __init__(self, limits: httpx.Limits = DEFAULT_LIMITS, proxies: Proxies | None = None) -> None:
        self._limits = limits
        self._proxies = dict(proxies or {})
        self._inner: AiohttpTransport | httpx.AsyncBaseTransport | None = None
        self._loop: Any = None
        self.client: httpx.AsyncClient | None = None

    def open_client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` on this transport (made once)."""
        self.client = httpx.AsyncClient(transport=self)
        return self.client

    def send(self, outgoing: Outgoing) -> Awaitable[Response]:
        """One attempt, read. (A plain function returning what to await: one coroutine layer less.)"""
        client = self.client
        if client is not None and (_HTTPX_LOOKUP is None or current_transport_lookup(client) is not _HTTPX_LOOKUP):
            # httpx's lookup, patched (respx's "httpx" mode does that to mock a client).
            transport = transport_for_url(client, outgoing.request.url)
            if transport is not self:
                return send_through(transport, outgoing)
        return self._send(outgoing)

    def _send(self, outgoing: Outgoing) -> Awaitable[Response]:
        inner = self._transport()
        if self._loop is not None:
            return cast("AiohttpTransport", inner).send(outgoing)
        return send_through(cast("httpx.AsyncBaseTransport", inner), outgoing)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._send(HttpxOutgoing(request))
        return response.httpx_response(request)

    def _transport(self) -> AiohttpTransport | httpx.AsyncBaseTransport:
        loop = _running_loop()
        if loop is not None:
            if self._inner is None or self._loop is not loop:
                from .aiohttp import AiohttpTransport

                self._drop()
                self._inner = AiohttpTransport(self._limits, self._proxies)
                self._loop = loop
        elif self._inner is None or self._loop is not None:
            self._drop()
            self._inner = (
                ProxiedTransport(self._limits, self._proxies)
                if self._proxies
                else httpx.AsyncHTTPTransport(limits=self._limits)
            )
            self._loop = None
        return self._inner

    def _drop(self) -> None:
        """Let go of a transport made in another event loop, closing what can be closed now."""
        inner, self._inner = self._inner, None
        close_now = getattr(inner, "close_now", None)
        if close_now is not None:
            close_now()
        elif isinstance(inner, httpx.AsyncHTTPTransport):
            close_httpx_pool_now(inner)
        elif isinstance(inner, ProxiedTransport):
            for transport in inner.transports():
                close_httpx_pool_now(transport)

    @property
    def inner(self) -> AiohttpTransport | httpx.AsyncBaseTransport | None:
        """The transport in use, once a request has been sent."""
        return self._inner

    async def aclose(self) -> None:
        if self._inner is not None and self._loop is not None and self._loop is not _running_loop():
            self._drop()  # made in another loop: it cannot be awaited from this one
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()


def _running_loop() -> Any:
    """The running asyncio loop, or None under another async library: what sniffio would say, worked
    out here without the import statements sniffio runs on every call (this runs on every
    request)."""
    name = sniffio.thread_local.name or sniffio.current_async_library_cvar.get()
    if name is None:
        loaded = sys.modules.get("asyncio")
        if loaded is not None:
            try:  # (not contextlib.suppress: a class, three calls, on every request)
                loop = loaded.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None and loaded.current_task(loop) is not None:
                return loop
        name = sniffio.current_async_library()  # the rest as sniffio tells it (it raises outside one)
    return sys.modules["asyncio"].get_running_loop() if name == "asyncio" else None

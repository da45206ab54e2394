"""Which httpx transport carries the requests.

On asyncio, aiohttp (through ``httpx_aiohttp``) costs about a tenth of httpx's
own transport in client CPU per request; trio cannot run aiohttp, so there the
requests go through httpx's own transport. The choice is made on the first
request, in the running event loop, and aiohttp is imported only then.
"""

from __future__ import annotations

from typing import Any

import httpx
import sniffio

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)


class AutoTransport(httpx.AsyncBaseTransport):
    """Sends through aiohttp under asyncio and through httpx's own transport elsewhere.

    aiohttp's session belongs to one event loop; when the loop changes (a notebook
    that restarts its loop, one ``anyio.run`` after another), a new one is made.
    """

    def __init__(self, limits: httpx.Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._inner: httpx.AsyncBaseTransport | None = None
        self._loop: Any = None

    def _transport(self) -> httpx.AsyncBaseTransport:
        if sniffio.current_async_library() == "asyncio":
            import asyncio

            loop = asyncio.get_running_loop()
            if self._inner is None or self._loop is not loop:
                from ._aiohttp import AiohttpTransport

                self._inner = AiohttpTransport(self._limits)
                self._loop = loop
        elif self._inner is None or self._loop is not None:
            self._inner = httpx.AsyncHTTPTransport(limits=self._limits)
            self._loop = None
        return self._inner

    @property
    def inner(self) -> httpx.AsyncBaseTransport | None:
        """The transport in use, once a request has been sent."""
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport().handle_async_request(request)

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()

"""Which httpx transport carries the requests, and how one attempt's answer is read.

On asyncio, aiohttp (through a small transport of our own, :mod:`._aiohttp`) costs
about a tenth of httpx's own transport in client CPU per request; trio cannot run
aiohttp, so there the requests go through httpx's own transport. The choice is made on
the first request, in the running event loop, and aiohttp is imported only then.

Proxies come from the environment as httpx reads them (``HTTPS_PROXY``, ``HTTP_PROXY``,
``ALL_PROXY``, ``NO_PROXY``), worked out once per client for its hosts (:func:`env_proxies`).

Every transport hands back an answer whose body is read whole, decoded, and refused
beyond the size limit (:func:`read_body`, in bounded memory, gzip bombs included), all
within the attempt's deadline: the request's ``atom_stripe.deadline`` and
``atom_stripe.max_response_size`` extensions carry both.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing, suppress
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import anyio
import httpx
import sniffio

from ._compat import close_httpx_pool_now

if TYPE_CHECKING:
    from ._aiohttp import AiohttpTransport

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)
#: Request extensions: the deadline of one whole attempt (seconds or None), and the largest decoded body.
DEADLINE = "atom_stripe.deadline"
MAX_RESPONSE_SIZE = "atom_stripe.max_response_size"
#: Far above Stripe's largest answers (a page of 100 expanded objects is a few MB).
DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024


#: A client's proxies: the prefix of each of its hosts (``https://api.stripe.com/``) -> proxy URL.
Proxies = Mapping[str, str]


def env_proxies(*urls: str) -> dict[str, str]:
    """The proxy the environment names for each of ``urls`` (a client's hosts), keyed by the
    URL's prefix, as httpx reads the environment (``urllib.request.getproxies``): the
    variable of the URL's scheme (``HTTPS_PROXY``, ``HTTP_PROXY``), else ``ALL_PROXY``; none
    for a host ``NO_PROXY`` lists. A proxy without a scheme is ``http://``. Read once, when a
    client is made: never on a call."""
    from urllib.request import getproxies, proxy_bypass

    from ._errors import StripeValueError

    found = getproxies()
    out: dict[str, str] = {}
    for url in urls:
        parts = urlsplit(url)
        proxy = found.get(parts.scheme) or found.get("all")
        if not proxy or proxy_bypass(parts.netloc):  # NO_PROXY (and, on macOS, the system's list)
            continue
        if "://" not in proxy:
            proxy = f"http://{proxy}"
        if urlsplit(proxy).scheme not in ("http", "https"):
            raise StripeValueError(
                "trust_env",
                f"the environment's proxy for {parts.scheme} URLs is a {urlsplit(proxy).scheme}:// proxy, which "
                "atom_stripe cannot use (http:// and https:// proxies only); pass trust_env=False to ignore it",
            )
        out[f"{url}/"] = proxy
    return out


def proxy_for(proxies: Proxies, url: str) -> str | None:
    """The proxy a request to ``url`` goes through, if any."""
    for prefix, proxy in proxies.items():
        if url.startswith(prefix):
            return proxy
    return None


class BodyError(Exception):
    """An answer came, but its body cannot be used: mis-encoded or cut short (worth another
    attempt: ``retry``), or larger than the limit (not). ``response`` has the status and headers."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry
        self.response: httpx.Response | None = None

    def with_head(self, status: int, headers: Any, request: httpx.Request) -> BodyError:
        self.response = httpx.Response(status, headers=without_encoding(headers), request=request)
        return self


def without_encoding(headers: Any) -> list[tuple[Any, Any]]:
    """Header pairs without ``Content-Encoding`` (for a body already decoded)."""
    pairs = headers.multi_items() if isinstance(headers, httpx.Headers) else list(headers)
    return [(k, v) for k, v in pairs if (k.lower() if isinstance(k, str) else k.lower().decode()) != "content-encoding"]


def _decompressor(encoding: str) -> Any:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise BodyError(f"the answer is in an encoding atom_stripe did not ask for ({encoding!r})", retry=False)


def too_large(limit: int) -> BodyError:
    return BodyError(
        f"the answer's body is larger than max_response_size ({limit} bytes); nothing more was read", retry=False
    )


async def read_body(chunks: AsyncIterable[bytes], encoding: str, limit: int) -> bytes:
    """The body from its raw chunks: decoded (gzip, deflate) and counted as it comes, refused
    as soon as it grows past ``limit`` bytes, so memory stays within the limit."""
    decompress = _decompressor(encoding)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        if decompress is not None:
            try:
                # Never more than one byte past the limit: a gzip bomb stops here.
                chunk = decompress.decompress(chunk, limit - size + 1)
            except zlib.error:
                raise BodyError(f"the answer is labelled {encoding!r} but does not decode", retry=True) from None
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        parts.append(chunk)
    if decompress is not None and not decompress.eof:
        raise BodyError(f"the answer's {encoding!r} body was cut short", retry=True)
    return b"".join(parts)


async def read_answer(
    send: Callable[[httpx.Request], Awaitable[httpx.Response]], request: httpx.Request
) -> httpx.Response:
    """One attempt through an httpx-style ``send``: the answer with its body read and decoded,
    at most the size limit, all within the attempt's deadline (``httpx.ReadTimeout`` past it)."""
    deadline: float | None = request.extensions.get(DEADLINE)
    limit: int = request.extensions.get(MAX_RESPONSE_SIZE, DEFAULT_MAX_RESPONSE_SIZE)
    try:
        with anyio.fail_after(deadline):
            response = await send(request)
            try:
                if response.is_stream_consumed:  # already read (a mock's answer)
                    if len(response.content) > limit:
                        raise too_large(limit)
                    return response
                encoding = response.headers.get("content-encoding", "")
                async with aclosing(cast("AsyncGenerator[bytes, None]", response.aiter_raw())) as chunks:
                    try:
                        body = await read_body(chunks, encoding, limit)
                    except BodyError:
                        await _abandon(response, chunks)
                        raise
            except BodyError as exc:
                raise exc.with_head(response.status_code, response.headers, request) from None
            finally:
                await response.aclose()
    except TimeoutError as exc:
        raise httpx.ReadTimeout(f"no whole answer within {deadline} s", request=request) from exc
    headers = without_encoding(response.headers) if encoding else response.headers
    return httpx.Response(
        response.status_code, headers=headers, content=body, request=request, extensions=response.extensions
    )


async def _abandon(response: httpx.Response, chunks: AsyncIterator[bytes]) -> None:
    """Stop reading an answer half-way: close its connection, then read on until the reader
    runs into the closed connection, so that every generator in httpx's and httpcore's chain
    ends from the inside (trio warns about any left suspended). At most what was buffered."""
    await response.aclose()
    with suppress(Exception):
        async for _ in chunks:
            pass


class AutoTransport(httpx.AsyncBaseTransport):
    """Sends through aiohttp under asyncio and through httpx's own transport elsewhere;
    either way the answer comes back read (see :func:`read_answer`).

    aiohttp's session belongs to one event loop; when the loop changes (a notebook
    that restarts its loop, one ``anyio.run`` after another), the old one is closed
    and a new one made.
    """

    def __init__(self, limits: httpx.Limits = DEFAULT_LIMITS, proxies: Proxies | None = None) -> None:
        self._limits = limits
        self._proxies = dict(proxies or {})
        self._inner: httpx.AsyncBaseTransport | None = None
        self._loop: Any = None

    def _transport(self) -> httpx.AsyncBaseTransport:
        loop = _running_loop()
        if loop is not None:
            if self._inner is None or self._loop is not loop:
                from ._aiohttp import AiohttpTransport

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

    def aiohttp(self) -> AiohttpTransport | None:
        """The aiohttp transport when running on asyncio (else None): the fast path's."""
        inner = self._transport()
        return cast("AiohttpTransport", inner) if self._loop is not None else None

    @property
    def inner(self) -> httpx.AsyncBaseTransport | None:
        """The transport in use, once a request has been sent."""
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._transport()
        if self._loop is not None:
            return await inner.handle_async_request(request)  # aiohttp reads and bounds it itself
        return await read_answer(inner.handle_async_request, request)

    async def aclose(self) -> None:
        if self._inner is not None and self._loop is not None and self._loop is not _running_loop():
            self._drop()  # made in another loop: it cannot be awaited from this one
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()


class ProxiedTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, one per proxy (as httpx mounts them), for a client whose hosts
    the environment sends through proxies; a host without one goes direct."""

    def __init__(self, limits: httpx.Limits, proxies: Proxies) -> None:
        self._direct = httpx.AsyncHTTPTransport(limits=limits)
        self._by_proxy = {url: httpx.AsyncHTTPTransport(limits=limits, proxy=url) for url in set(proxies.values())}
        self._proxies = proxies

    def transports(self) -> list[httpx.AsyncHTTPTransport]:
        return [self._direct, *self._by_proxy.values()]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        proxy = proxy_for(self._proxies, str(request.url))
        transport = self._direct if proxy is None else self._by_proxy[proxy]
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self.transports():
            await transport.aclose()


def _running_loop() -> Any:
    """The running asyncio loop, or None under another async library: sniffio's answer, worked
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

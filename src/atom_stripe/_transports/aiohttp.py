"""The aiohttp transport: a fraction of httpx's own client CPU per request (docs/performance.md,
"Figures the code refers to").

Small on purpose: it reads each response whole (atom_stripe never streams), within the
attempt's deadline (aiohttp's ``total`` timeout) and the size limit, hands headers over
as plain pairs, and maps aiohttp's errors onto httpx's so the retry loop can tell a
timeout from a dropped connection. Imported only on asyncio, on the first request.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
import httpx

from .._compat import close_aiohttp_connector_now
from .._constants import DEADLINE, DEFAULT_MAX_RESPONSE_SIZE, MAX_RESPONSE_SIZE
from . import Outgoing
from .body import BodyError, read_body, without_encoding
from .httpx import Proxies

_timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}


def _timeout(extensions: Mapping[str, Any]) -> aiohttp.ClientTimeout:
    """aiohttp's timeout for one attempt (made once per distinct setting). A limit no shorter
    than the whole attempt's deadline could never fire first: it is left out (one timer less)."""
    t = extensions.get("timeout", {})
    total = extensions.get(DEADLINE)
    key = (total, t.get("connect"), t.get("read"), t.get("pool"))
    found = _timeouts.get(key)
    if found is None:
        if len(_timeouts) > 256:
            _timeouts.clear()
        connect, read, pool = (None if total is not None and x is not None and x >= total else x for x in key[1:])
        found = _timeouts[key] = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read, connect=pool)
    return found


class AiohttpResponse:
    """A response read whole, as aiohttp gave it: what a 2xx needs, and no more. Turned into an
    ``httpx.Response`` (:meth:`httpx_response`) only when something needs one (an error, ``send``)."""

    __slots__ = ("content", "headers", "raw_headers", "status_code")

    def __init__(self, status: int, raw_headers: Any, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status
        self.raw_headers = raw_headers
        #: Case-insensitive (aiohttp's ``CIMultiDictProxy``), for ``request-id`` and the like.
        self.headers = headers
        self.content = content

    def httpx_response(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            self.status_code,
            headers=self.raw_headers,
            content=self.content,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )


def _describe(exc: BaseException) -> str:
    """An exception's text, or its class name (some of aiohttp's cannot print without their fields)."""
    try:
        return str(exc) or type(exc).__name__
    except Exception:
        return type(exc).__name__


class AiohttpTransport:
    """Sends with one ``aiohttp.ClientSession`` (made lazily, in the running loop)."""

    def __init__(self, limits: httpx.Limits, proxies: Proxies | None = None) -> None:
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        #: Host prefix -> (proxy URL without credentials, the headers that carry them to the proxy).
        self._proxies = {prefix: _split_auth(proxy) for prefix, proxy in (proxies or {}).items()}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                keepalive_timeout=self._limits.keepalive_expiry,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    @property
    def session(self) -> aiohttp.ClientSession | None:
        return self._session

    async def send(self, outgoing: Outgoing) -> AiohttpResponse:
        """One attempt, read whole within its deadline and size limit (both in its extensions).
        The ``httpx.Request`` that errors carry is made only when one is raised."""
        session = self._get_session()
        url, headers, extensions = outgoing.url, outgoing.headers, outgoing.extensions
        limit: int = extensions.get(MAX_RESPONSE_SIZE, DEFAULT_MAX_RESPONSE_SIZE)
        proxy, proxy_headers = self._proxy(url) if self._proxies else (None, None)
        if proxy_headers and url.startswith("http:"):
            # No tunnel: the request itself goes to the proxy (aiohttp adds these only to a CONNECT).
            headers = (
                {**headers, **proxy_headers} if isinstance(headers, Mapping) else [*headers, *proxy_headers.items()]
            )
        try:
            async with session.request(
                outgoing.method,
                url,
                headers=headers,
                data=outgoing.content,
                allow_redirects=False,
                compress=None,
                timeout=_timeout(extensions),
                proxy=proxy,
                proxy_headers=proxy_headers,
            ) as response:
                status = response.status
                raw: Any = response.raw_headers
                parsed: Mapping[str, str] = response.headers
                encoding = parsed.get("Content-Encoding")
                length = response.content_length
                try:
                    if encoding is None and length is not None and length <= limit:
                        body = await response.read()  # the common case: aiohttp stops at the length
                    else:
                        body = await read_body(response.content.iter_any(), encoding or "", limit)
                        if encoding:
                            raw = without_encoding(raw)
                            parsed = httpx.Headers(raw)
                except BodyError as exc:
                    raise exc.with_head(status, raw, outgoing.request) from None
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(_describe(exc), request=outgoing.request) from exc
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError) as exc:
            raise httpx.ReadTimeout(_describe(exc), request=outgoing.request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(_describe(exc), request=outgoing.request) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
            raise httpx.RemoteProtocolError(_describe(exc), request=outgoing.request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.NetworkError(_describe(exc), request=outgoing.request) from exc
        return AiohttpResponse(status, raw, parsed, body)

    def _proxy(self, url: str) -> tuple[str | None, dict[str, str] | None]:
        for prefix, found in self._proxies.items():
            if url.startswith(prefix):
                return found
        return None, None

    def close_now(self) -> None:
        """Close the session without awaiting: for a session whose event loop is gone or not
        running (the client moved to another loop). Its sockets are closed, nothing warns."""
        session, self._session = self._session, None
        if session is None or session.closed:
            return
        connector = session.connector
        session.detach()  # the session counts as closed; the connector is ours to close
        if connector is not None and not connector.closed:
            close_aiohttp_connector_now(connector)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _split_auth(proxy: str) -> tuple[str, dict[str, str] | None]:
    """A proxy URL without its ``user:password@``, and those as a ``Proxy-Authorization``
    header (as httpx sends them; aiohttp's ``BasicAuth`` is deprecated)."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return proxy, None
    host = parts.netloc.rpartition("@")[2]
    credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    headers = {"Proxy-Authorization": f"Basic {base64.b64encode(credentials).decode()}"}
    return urlunsplit(parts._replace(netloc=host)), headers

"""An httpx transport that sends through aiohttp: about a tenth of httpx's own CPU per request.

Small on purpose: it reads each answer whole (atom_stripe never streams), within the
attempt's deadline (aiohttp's ``total`` timeout) and the size limit, hands headers over
as plain pairs, and maps aiohttp's errors onto httpx's so the retry loop can tell a
timeout from a dropped connection. Imported only on asyncio, on the first request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import httpx

from ._transport import DEADLINE, DEFAULT_MAX_RESPONSE_SIZE, MAX_RESPONSE_SIZE, BodyError, read_body, without_encoding


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    extensions = request.extensions
    t = extensions.get("timeout", {})
    return aiohttp.ClientTimeout(
        total=extensions.get(DEADLINE), sock_connect=t.get("connect"), sock_read=t.get("read"), connect=t.get("pool")
    )


def _describe(exc: BaseException) -> str:
    """An exception's text, or its class name (some of aiohttp's cannot print without their fields)."""
    try:
        return str(exc) or type(exc).__name__
    except Exception:
        return type(exc).__name__


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests with one ``aiohttp.ClientSession`` (made lazily, in the running loop)."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

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

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._get_session()
        limit: int = request.extensions.get(MAX_RESPONSE_SIZE, DEFAULT_MAX_RESPONSE_SIZE)
        try:
            async with session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
                compress=None,
                timeout=_timeout(request),
            ) as answer:
                status = answer.status
                headers: Any = answer.raw_headers
                encoding = answer.headers.get("Content-Encoding")
                length = answer.content_length
                try:
                    if encoding is None and length is not None and length <= limit:
                        body = await answer.read()  # the common case: aiohttp stops at the length
                    else:
                        body = await read_body(answer.content.iter_any(), encoding or "", limit)
                        headers = without_encoding(headers) if encoding else headers
                except BodyError as exc:
                    raise exc.with_head(status, headers, request) from None
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(_describe(exc), request=request) from exc
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError) as exc:
            raise httpx.ReadTimeout(_describe(exc), request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(_describe(exc), request=request) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
            raise httpx.RemoteProtocolError(_describe(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.NetworkError(_describe(exc), request=request) from exc
        return httpx.Response(
            status, headers=headers, content=body, request=request, extensions={"http_version": b"HTTP/1.1"}
        )

    def close_now(self) -> None:
        """Close the session without awaiting: for a session whose event loop is gone or not
        running (the client moved to another loop). Its sockets are closed, nothing warns."""
        session, self._session = self._session, None
        if session is None or session.closed:
            return
        connector = session.connector
        session.detach()  # the session counts as closed; the connector is ours to close
        if connector is not None and not connector.closed:
            _close_connector_now(connector)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _close_connector_now(connector: aiohttp.BaseConnector) -> None:
    """Close a connector's pooled connections from outside its event loop, without awaiting.

    A loop that is still open gets each transport aborted (the rest happens if it runs
    again); a closed loop can run nothing, so each socket is closed here, as the transport
    itself would have done, and the transport told so (else it warns when collected).
    """
    loop: asyncio.AbstractEventLoop = connector._loop
    for protocols in list(connector._conns.values()):
        for proto, _ in protocols:
            transport: Any = proto.transport
            if transport is None:
                continue
            if not loop.is_closed():
                transport.abort()
                continue
            sock = getattr(transport, "_sock", None)
            if sock is not None:
                sock.close()
                transport._sock = None
    connector._conns.clear()
    connector._closed = True

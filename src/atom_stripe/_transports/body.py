"""Reading a response's body: whole, decoded (gzip, deflate), within its size limit and the attempt's deadline."""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import aclosing, suppress
from typing import Any, cast

import anyio
import httpx

from .._constants import DEADLINE, DEFAULT_MAX_RESPONSE_SIZE, MAX_RESPONSE_SIZE


class BodyError(Exception):
    """A response came, but its body cannot be used: mis-encoded or cut short (worth another
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
    raise BodyError(f"the response is in an encoding atom_stripe did not ask for ({encoding!r})", retry=False)


def too_large(limit: int) -> BodyError:
    return BodyError(
        f"the response's body is larger than max_response_size ({limit} bytes); nothing more was read", retry=False
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
                raise BodyError(f"the response is labelled {encoding!r} but does not decode", retry=True) from None
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        parts.append(chunk)
    if decompress is not None and not decompress.eof:
        raise BodyError(f"the response's {encoding!r} body was cut short", retry=True)
    return b"".join(parts)


async def read_response(
    send: Callable[[httpx.Request], Awaitable[httpx.Response]], request: httpx.Request
) -> httpx.Response:
    """One attempt through an httpx-style ``send``: the response with its body read and decoded,
    at most the size limit, all within the attempt's deadline (``httpx.ReadTimeout`` past it)."""
    deadline: float | None = request.extensions.get(DEADLINE)
    limit: int = request.extensions.get(MAX_RESPONSE_SIZE, DEFAULT_MAX_RESPONSE_SIZE)
    try:
        with anyio.fail_after(deadline):
            response = await send(request)
            try:
                if response.is_stream_consumed:  # already read (a mock's response)
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
        raise httpx.ReadTimeout(f"no whole response within {deadline} s", request=request) from exc
    headers = without_encoding(response.headers) if encoding else response.headers
    return httpx.Response(
        response.status_code, headers=headers, content=body, request=request, extensions=response.extensions
    )


async def _abandon(response: httpx.Response, chunks: AsyncIterator[bytes]) -> None:
    """Stop reading a response half-way: close its connection, then read on until the reader
    runs into the closed connection, so that every generator in httpx's and httpcore's chain
    ends from the inside (trio warns about any left suspended). At most what was buffered."""
    await response.aclose()
    with suppress(Exception):
        async for _ in chunks:
            pass

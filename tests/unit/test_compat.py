"""Guards for every private name of another package that ``atom_stripe._compat`` uses.

Each test exercises one access against the installed package and fails loudly (naming the
package) when a release renames or drops what atom_stripe relies on."""

from __future__ import annotations

import asyncio
import socket
import threading
from functools import partial
from typing import Any

import aiohttp
import httpx
import pydantic
import pytest

from atom_stripe import _compat


class _Shared(pydantic.BaseModel):
    a: int = 0
    b: int = 0


def test_pydantic_keeps_fields_set_where_compat_reads_and_writes_it() -> None:
    one, two = _Shared.model_validate({"a": 1}), _Shared.model_validate({"b": 2})
    assert _compat.fields_set_of(one) is one.model_fields_set, f"pydantic {pydantic.VERSION} moved fields_set"
    object.__setattr__(two, _compat.FIELDS_SET, _compat.fields_set_of(one))
    assert two.model_fields_set is one.model_fields_set == {"a"}


def test_pydantic_skips_post_init_when_compat_says_so() -> None:
    """As ``StripeObject`` does it: before the (deferred) schema is built."""
    calls: list[int] = []

    class Counted(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(defer_build=True)
        x: int

        def model_post_init(self, context: Any, /) -> None:
            calls.append(self.x)

    class Skipped(Counted):
        pass

    _compat.skip_post_init(Skipped)
    Counted.model_validate({"x": 1})
    Skipped.model_validate({"x": 2})
    Skipped.model_validate_json(b'{"x": 3}')
    assert calls == [1], f"pydantic {pydantic.VERSION} no longer reads __pydantic_post_init__"


def test_httpx_lookup_is_found_and_used_by_the_client() -> None:
    lookup = _compat.httpx_transport_lookup()
    assert lookup is not None, f"httpx {httpx.__version__}: AsyncClient._transport_for_url is gone"
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    client = httpx.AsyncClient(transport=transport)
    assert _compat.current_transport_lookup(client) is lookup
    assert _compat.transport_for_url(client, httpx.URL("https://api.stripe.com/v1/x")) is transport


def test_httpx_lookup_reads_as_patched_under_respx() -> None:
    import respx

    with respx.mock(using="httpx"):
        assert _compat.httpx_transport_lookup() is None
        assert _compat.current_transport_lookup(httpx.AsyncClient()) is not _compat.httpx_transport_lookup()
    assert _compat.httpx_transport_lookup() is not None


@pytest.mark.parametrize("anyio_backend", ["trio"])  # the pool closed from outside is trio's
async def test_httpx_pool_closes_its_sockets_without_awaiting() -> None:
    import trio

    async def serve(stream: trio.SocketStream) -> None:
        await stream.receive_some()
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, serve, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        transport = httpx.AsyncHTTPTransport()
        response = await transport.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{port}/"))
        await response.aread()
        assert len(transport._pool.connections) == 1
        _compat.close_httpx_pool_now(transport)
        assert transport._pool.connections == [], f"httpcore: {_compat.close_httpx_pool_now.__doc__}"
        nursery.cancel_scope.cancel()


def _serve_once(listener: socket.socket, accepted: list[socket.socket]) -> None:
    conn, _ = listener.accept()
    accepted.append(conn)
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")


@pytest.mark.parametrize("loop_closed", [False, True])
def test_aiohttp_connector_closes_from_outside_its_loop(loop_closed: bool) -> None:
    accepted: list[socket.socket] = []
    listener = socket.create_server(("127.0.0.1", 0))
    server = threading.Thread(target=_serve_once, args=(listener, accepted))
    server.start()
    loop = asyncio.new_event_loop()

    async def one_request() -> aiohttp.TCPConnector:
        connector = aiohttp.TCPConnector()
        session = aiohttp.ClientSession(connector=connector)
        async with session.get(f"http://127.0.0.1:{listener.getsockname()[1]}/") as response:
            await response.read()
        session.detach()  # the connector (with its one idle connection) is the test's
        return connector

    try:
        connector = loop.run_until_complete(one_request())
        (protocols,) = connector._conns.values()
        transport: Any = protocols[0][0].transport
        sock: socket.socket = transport._sock
        if loop_closed:
            loop.close()
        _compat.close_aiohttp_connector_now(connector)
        assert connector.closed and not connector._conns, f"aiohttp {aiohttp.__version__} changed its connector"
        if loop_closed:
            assert sock.fileno() == -1 and transport._sock is None, "asyncio's transport keeps its socket elsewhere"
        else:
            assert transport.is_closing()
    finally:
        if not loop.is_closed():
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()
        server.join()
        for conn in [*accepted, listener]:
            conn.close()

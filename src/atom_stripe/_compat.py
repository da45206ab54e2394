"""Every use of another package's private names, in one place.

atom_stripe reaches past the public API of pydantic, httpx (httpcore) and aiohttp in the few
places listed here, each for a reason given beside it. Nothing else in the package touches a
private name of another package (``tests/unit/test_private_access.py`` greps for them), and each
name used here has a guard in ``tests/unit/test_compat.py`` that fails loudly when a new release
of the other package renames or drops it. The versions they hold for are bounded in
``pyproject.toml``.

Nothing here is imported eagerly that its caller would not import anyway: the aiohttp and
httpcore helpers take the objects they work on as arguments.
"""

from __future__ import annotations

import os
from operator import attrgetter
from typing import Any

# --- pydantic ---------------------------------------------------------------------------------

#: Where a pydantic model keeps the set of field names it was given (``model_fields_set``
#: returns this very object; its setter is private). atom_stripe shares one set among the
#: objects of one response that got the same fields (see ``models._base.StripeObject.model_post_init``).
FIELDS_SET = "__pydantic_fields_set__"
#: ``model.__pydantic_fields_set__``, read at C speed (it runs once per parsed object).
fields_set_of = attrgetter(FIELDS_SET)


def skip_post_init(cls: type[Any]) -> None:
    """Make pydantic skip ``model_post_init`` for ``cls``: it calls ``__pydantic_post_init__``
    after every validation when it is not None (set at class creation from ``model_post_init``)."""
    cls.__pydantic_post_init__ = None


# --- httpx ------------------------------------------------------------------------------------


def httpx_transport_lookup() -> Any:
    """httpx's own ``AsyncClient._transport_for_url`` (how a client picks the transport for a
    URL, mounts and proxies included), or None if something replaced it (respx's "httpx" mode
    patches it to mock every client)."""
    import httpx

    found = httpx.AsyncClient.__dict__.get("_transport_for_url")
    return found if getattr(found, "__module__", None) == "httpx._client" else None


def current_transport_lookup(client: Any) -> Any:
    """The ``_transport_for_url`` a client's class has now (patched or not)."""
    return type(client)._transport_for_url


def transport_for_url(client: Any, url: Any) -> Any:
    """The transport ``client`` (an ``httpx.AsyncClient``) sends a request for ``url`` through."""
    return client._transport_for_url(url)


def close_httpx_pool_now(transport: Any) -> None:
    """Close the sockets of an ``httpx.AsyncHTTPTransport``'s pool without awaiting (it was
    made under trio, and we are now in asyncio: its async close cannot run here)."""
    pool: Any = transport._pool
    for connection in list(pool.connections):
        stream = getattr(getattr(connection, "_connection", None), "_network_stream", None)
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            # A trio socket's close() needs its (finished) run: detach the descriptor and close that.
            os.close(sock.detach())
    pool._connections.clear()


# --- aiohttp ----------------------------------------------------------------------------------


def close_aiohttp_connector_now(connector: Any) -> None:
    """Close an ``aiohttp`` connector's pooled connections from outside its event loop,
    without awaiting (aiohttp's own close is a coroutine of that loop).

    A loop that is still open gets each transport aborted (the rest happens if it runs
    again); a closed loop can run nothing, so each socket is closed here, as the transport
    itself would have done, and the transport told so (else it warns when collected).
    """
    loop: Any = connector._loop
    for protocols in list(connector._conns.values()):
        for proto, _ in protocols:
            transport: Any = proto.transport
            if transport is None:
                continue
            if not loop.is_closed():
                transport.abort()
                continue
            sock = getattr(transport, "_sock", None)  # asyncio's selector transports keep it here
            if sock is not None:
                sock.close()
                transport._sock = None
    connector._conns.clear()
    connector._closed = True

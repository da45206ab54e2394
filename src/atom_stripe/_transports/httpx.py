"""httpx's side: a caller's ``httpx.AsyncClient``, httpx's own transports (with the
environment's proxies), and a read ``httpx.Response`` as a :class:`~._transports.Response`.

Proxies come from the environment as httpx reads them (``HTTPS_PROXY``, ``HTTP_PROXY``,
``ALL_PROXY``, ``NO_PROXY``), worked out once per client for its hosts (:func:`env_proxies`).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from . import Outgoing
from .body import read_response

#: A client's proxies: the prefix of each of its hosts (``https://api.stripe.com/``) -> proxy URL.
Proxies = Mapping[str, str]


class HttpxResponse:
    """A read ``httpx.Response`` as a :class:`~._transports.Response` (it is its own ``httpx_response``)."""

    __slots__ = ("content", "headers", "response", "status_code")

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = response.content

    def httpx_response(self, request: httpx.Request) -> httpx.Response:
        return self.response


async def send_through(transport: httpx.AsyncBaseTransport, outgoing: Outgoing) -> HttpxResponse:
    """One attempt through an httpx transport, read within its limits."""
    return HttpxResponse(await read_response(transport.handle_async_request, outgoing.request))


class ClientTransport:
    """A caller's ``httpx.AsyncClient``: its own auth, cookies, event hooks and mounts apply."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, outgoing: Outgoing) -> HttpxResponse:
        return HttpxResponse(await read_response(self._send_streaming, outgoing.request))

    async def _send_streaming(self, request: httpx.Request) -> httpx.Response:
        return await self.client.send(request, stream=True)


def env_proxies(*urls: str) -> dict[str, str]:
    """The proxy the environment names for each of ``urls`` (a client's hosts), keyed by the
    URL's prefix, as httpx reads the environment (``urllib.request.getproxies``): the
    variable of the URL's scheme (``HTTPS_PROXY``, ``HTTP_PROXY``), else ``ALL_PROXY``; none
    for a host ``NO_PROXY`` lists. A proxy without a scheme is ``http://``. Read once, when a
    client is made: never on a call."""
    from urllib.request import getproxies, proxy_bypass

    from .._errors import StripeValueError

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

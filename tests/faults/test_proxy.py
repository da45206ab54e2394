"""The environment's proxies (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY), honoured by both
default transports (aiohttp under asyncio, httpx under trio) as httpx users expect, with
``trust_env=False`` to ignore them; checked against a real loopback proxy that records."""

from __future__ import annotations

import base64
import json
import socketserver
import threading
from collections.abc import Iterator

import pytest

from atom_stripe import APIConnectionError, AsyncStripeClient, StripeValueError

from ..helpers import KEY

BALANCE = json.dumps({"object": "balance", "available": [], "pending": [], "livemode": False}).encode()
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Recorder(socketserver.ThreadingTCPServer):
    """A tiny HTTP proxy and origin in one: it records every request line and its headers,
    answers a plain request (absolute-form through a proxy, origin-form when direct) with a
    balance, and refuses a CONNECT tunnel (after recording where it was asked to go)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Handler(socketserver.StreamRequestHandler):
    server: Recorder

    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1").strip()
        if not line:
            return
        method, target, _ = line.split(" ", 2)
        headers: dict[str, str] = {}
        while (header := self.rfile.readline().decode("latin-1").strip()) != "":
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.rfile.read(int(headers.get("content-length", "0")))
        self.server.seen.append((method, target, headers))
        if method == "CONNECT":
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nRequest-Id: req_recorded\r\n"
            + f"Content-Length: {len(BALANCE)}\r\nConnection: close\r\n\r\n".encode()
            + BALANCE
        )


@pytest.fixture
def proxy() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def origin() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_plain_http_goes_through_the_environments_proxy(
    monkeypatch: pytest.MonkeyPatch, proxy: Recorder, variable: str
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    # stripe.test does not resolve: only a proxy can answer for it.
    async with AsyncStripeClient(KEY, base_url="http://stripe.test", max_retries=0) as client:
        balance = await client.balance.retrieve()
    assert balance.object == "balance"
    [(method, target, headers)] = proxy.seen
    assert (method, target) == ("GET", "http://stripe.test/v1/balance")
    assert headers["authorization"] == f"Bearer {KEY}" and headers["host"] == "stripe.test"


async def test_https_is_tunnelled_through_https_proxy(monkeypatch: pytest.MonkeyPatch, proxy: Recorder) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    async with AsyncStripeClient(KEY, max_retries=0) as client:
        with pytest.raises(APIConnectionError):  # the recorder refuses the tunnel
            await client.balance.retrieve()
    [(method, target, headers)] = proxy.seen
    assert (method, target) == ("CONNECT", "api.stripe.com:443")
    assert "authorization" not in headers  # the key travels only inside the tunnel


async def test_the_files_host_uses_the_proxy_too(monkeypatch: pytest.MonkeyPatch, proxy: Recorder) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    async with AsyncStripeClient(KEY, max_retries=0) as client:
        with pytest.raises(APIConnectionError):
            await client.files.create(file=b"x", purpose="dispute_evidence")
    assert [(m, t) for m, t, _ in proxy.seen] == [("CONNECT", "files.stripe.com:443")]


async def test_no_proxy_hosts_go_direct(monkeypatch: pytest.MonkeyPatch, proxy: Recorder, origin: Recorder) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
    async with AsyncStripeClient(KEY, base_url=origin.url, max_retries=0) as client:
        await client.balance.retrieve()
    assert not proxy.seen
    assert [(m, t) for m, t, _ in origin.seen] == [("GET", "/v1/balance")]


async def test_trust_env_false_ignores_the_environment(
    monkeypatch: pytest.MonkeyPatch, proxy: Recorder, origin: Recorder
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    async with AsyncStripeClient(KEY, base_url=origin.url, max_retries=0, trust_env=False) as client:
        await client.balance.retrieve()
    assert not proxy.seen and len(origin.seen) == 1


async def test_proxy_credentials_are_sent_to_the_proxy(monkeypatch: pytest.MonkeyPatch, proxy: Recorder) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://user:p%40ss@"))
    async with AsyncStripeClient(KEY, base_url="http://stripe.test", max_retries=0) as client:
        await client.balance.retrieve()
    [(_, _, headers)] = proxy.seen
    assert headers["proxy-authorization"] == "Basic " + base64.b64encode(b"user:p@ss").decode()


async def test_the_environment_is_read_when_the_client_is_made(
    monkeypatch: pytest.MonkeyPatch, proxy: Recorder, origin: Recorder
) -> None:
    async with AsyncStripeClient(KEY, base_url=origin.url, max_retries=0) as client:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        await client.balance.retrieve()
        await client.with_options(max_retries=1).balance.retrieve()
    assert not proxy.seen and len(origin.seen) == 2


@pytest.mark.parametrize("value", ["socks5://127.0.0.1:1080", "ftp://proxy:21"])
def test_a_proxy_atom_stripe_cannot_use_is_refused_at_construction(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ALL_PROXY", value)
    with pytest.raises(StripeValueError) as caught:
        AsyncStripeClient(KEY)
    assert caught.value.param == "trust_env" and "trust_env=False" in str(caught.value)
    AsyncStripeClient(KEY, trust_env=False)  # the way out the message names


def test_trust_env_must_be_a_flag() -> None:
    with pytest.raises(StripeValueError) as caught:
        AsyncStripeClient(KEY, trust_env="yes")  # type: ignore[arg-type]
    assert caught.value.param == "trust_env"

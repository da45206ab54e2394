"""Shared fixtures: every async test runs under asyncio and trio; respx and localstripe set-ups."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from atom_stripe import AsyncStripeClient, _retry

from .faultrig import FaultRig
from .helpers import API, KEY, ROOT, Sleeps, examples, fixture_bytes
from .servers import PostgresServer, RedisServer

# The fake Stripe's fixtures (stripe_fake, stripe_client), as an installed atom_stripe registers them
# through its pytest11 entry point (named after the module, so this loads it once either way).
pytest_plugins = ["atom_stripe.testing.pytest_plugin"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def fixtures() -> dict[str, Any]:
    """Stripe's own example object for every resource, by object type."""
    return examples()


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    recorded = Sleeps()

    async def fake_sleep(delay: float) -> None:
        recorded.append(delay)

    monkeypatch.setattr(_retry, "sleep", fake_sleep)
    return recorded


@pytest.fixture
def rig() -> Iterator[FaultRig]:
    """A fault-injecting HTTP server on loopback (tests/faultrig.py); some modules tune their own."""
    server = FaultRig().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """respx routes for Stripe's API host; an unmatched request fails the test."""
    with respx.mock(base_url=API, using="httpx", assert_all_called=False) as router:
        yield router


@pytest.fixture
def sent(api: respx.MockRouter, fixtures: dict[str, Any]) -> list[float]:
    """When each request reached the (mocked) API (a customer answers every retrieve)."""
    times: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        return httpx.Response(200, content=fixture_bytes(fixtures, "customer"))

    api.get(url__regex=r"/v1/customers/.*").mock(side_effect=answer)
    return times


@pytest.fixture
def table() -> str:
    """A fresh table name for a token store."""
    return f"tokens_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def client(api: respx.MockRouter) -> AsyncIterator[AsyncStripeClient]:
    async with AsyncStripeClient(KEY) as stripe:
        yield stripe


# -- localstripe ------------------------------------------------------------------------


@dataclass
class LocalStripe:
    """A localstripe process on 127.0.0.1 (its stderr kept, to say why if it dies)."""

    proc: subprocess.Popen[str]
    url: str
    log: Path

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"localstripe exited with {self.proc.returncode} during the session:\n{tail}")


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """A localstripe server on 127.0.0.1 and a free port, with in-memory state, for the session."""
    log = tmp_path_factory.mktemp("localstripe") / "stderr.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "localstripe_server.py"), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"localstripe did not start: {line!r} {log.read_text(errors='replace')[-2000:]}")
    try:
        yield LocalStripe(proc, f"http://127.0.0.1:{int(line.split()[1])}", log)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.fixture
def localstripe_url(localstripe: LocalStripe) -> str:
    """The session's localstripe, checked to be still running."""
    localstripe.check_alive()
    return localstripe.url


@pytest.fixture
async def local(localstripe_url: str) -> AsyncIterator[AsyncStripeClient]:
    """A client pointed at localstripe."""
    async with AsyncStripeClient("sk_test_local", base_url=localstripe_url, max_retries=0) as stripe:
        yield stripe


# -- real Redis and PostgreSQL (the replica tests) ---------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server on 127.0.0.1 and a free port, for the session."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster on 127.0.0.1 and a free port, for the session."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.remove()

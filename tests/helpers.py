"""Helpers shared by the tests."""

from __future__ import annotations

import functools
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "stripe-fixtures3.json"
API = "https://api.stripe.com"
KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"


@functools.cache
def examples() -> dict[str, Any]:
    """Stripe's example object of every type (``FIXTURES``), read once per process: never change it."""
    data: dict[str, Any] = json.loads(FIXTURES.read_text())["resources"]
    return data


def fixture_bytes(fixtures: dict[str, Any], name: str, **changes: Any) -> bytes:
    """Stripe's example object of type ``name`` as a JSON body, with some fields changed."""
    return json.dumps({**fixtures[name], **changes}).encode()


class Sleeps(list[float]):
    """The retry delays the client asked for (none are really slept)."""


def form(request: httpx.Request) -> list[tuple[str, str]]:
    """The decoded form pairs of a request body (POST) or query string (GET, DELETE)."""
    text = request.content.decode() if request.method == "POST" else request.url.query.decode()
    return parse_qsl(text, keep_blank_values=True)


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 and a free port, in a thread; yield its URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls per answer
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

"""The FastAPI route ``POST /stripe/webhooks`` reads no more than the router's body limit, like
``asgi_app()``: one reader, one limit. Served by uvicorn, fed by a raw socket
that streams a body far larger than the limit and stops as soon as an answer comes back."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from atom_stripe.contrib.fastapi import create_stripe_router
from atom_stripe.webhooks import WebhookRouter, generate_test_header

from ..helpers import serve_asgi

SECRET = "whsec_test_body_limit"
LIMIT = 64 * 1024


def no_client() -> None:
    raise AssertionError("the webhook route needs no Stripe client")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[int, list[str]]]:
    router = WebhookRouter(SECRET, max_body=LIMIT)
    handled: list[str] = []
    router.on("*")(lambda event: handled.append(event.id))
    app = FastAPI()
    app.include_router(create_stripe_router(no_client, webhook_router=router))
    with serve_asgi(app) as url:
        port = urlsplit(url).port
        assert port is not None
        yield port, handled


def read_answer(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of one HTTP answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1]), json.loads(body)


def stream(port: int, headers: str, total: int, chunk: int = 64 * 1024) -> tuple[tuple[int, dict[str, Any]], int]:
    """POST a chunked body of up to ``total`` bytes; stop sending once the server answers.
    Returns the answer's status and how many body bytes were sent by then."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /stripe/webhooks HTTP/1.1\r\nHost: hook\r\nTransfer-Encoding: chunked\r\n{headers}\r\n".encode()
        )
        piece = f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n"
        sent = 0
        while sent < total:
            if select.select([sock], [], [], 0.005)[0]:
                break  # answered while the body was still coming
            try:
                sock.sendall(piece)
            except OSError:  # the server closed after answering
                break
            sent += chunk
        else:
            sock.sendall(b"0\r\n\r\n")
        return read_answer(sock), sent


def test_a_streamed_oversized_body_is_answered_413_before_it_is_all_read(served: tuple[int, list[str]]) -> None:
    port, handled = served
    before = list(handled)
    total = 64 * 1024 * 1024
    (status, answer), sent = stream(port, "Stripe-Signature: t=1,v1=00\r\n", total)
    assert status == 413 and answer == {"received": False, "error": "WebhookBodyError"}
    # The server can hold no more than was sent: a few socket buffers past the 64 KiB limit,
    # nowhere near the 64 MiB on offer (before: all of it was read, then refused as unsigned).
    assert sent < 8 * 1024 * 1024, sent
    assert handled == before  # the module's server is shared: nothing new was handled


def test_a_declared_oversized_body_is_answered_413_unread(served: tuple[int, list[str]]) -> None:
    port, handled = served
    before = list(handled)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /stripe/webhooks HTTP/1.1\r\nHost: hook\r\nContent-Length: 1073741824\r\n"
            b"Stripe-Signature: t=1,v1=00\r\n\r\n"
        )  # and not one byte of the promised gigabyte
        answer = read_answer(sock)
    assert answer == (413, {"received": False, "error": "WebhookBodyError"})
    assert handled == before  # the module's server is shared: nothing new was handled


def test_a_delivery_within_the_limit_is_handled(served: tuple[int, list[str]], fixtures: dict[str, Any]) -> None:
    port, handled = served
    event = {**fixtures["event"], "id": "evt_within", "type": "customer.created"}
    event["data"] = {"object": fixtures["customer"]}
    body = json.dumps(event, indent=2).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /stripe/webhooks HTTP/1.1\r\nHost: hook\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\nStripe-Signature: {generate_test_header(body, SECRET)}\r\n\r\n".encode()
            + body
        )
        answer = read_answer(sock)
    assert answer == (200, {"received": True, "id": "evt_within"}) and handled[-1] == "evt_within"

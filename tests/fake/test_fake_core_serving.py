"""The fake served over HTTP holds up: loopback unless asked, a bad or huge
``Content-Length`` answered at once, and the request log and idempotency cache bounded."""

from __future__ import annotations

import gc
import tracemalloc

import anyio
import pytest

from atom_stripe import StripeValueError
from atom_stripe.testing import FakeStripe

KEY = {"authorization": "Bearer sk_test_bounded"}


async def test_serving_beyond_loopback_must_be_asked_for(stripe_fake: FakeStripe) -> None:
    with pytest.raises(StripeValueError) as refused:
        async with stripe_fake.serve(host="0.0.0.0"):
            pass
    assert refused.value.param == "host" and "allow_external=True" in str(refused.value)
    async with stripe_fake.serve(host="0.0.0.0", allow_external=True) as url:
        assert url.startswith("http://0.0.0.0:")
    async with stripe_fake.serve(host="localhost") as url:
        assert url.startswith("http://localhost:")


async def raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with anyio.fail_after(5):  # a handler that waits for a body that never comes fails here
        async with await anyio.connect_tcp(host, int(port)) as stream:
            await stream.send(request)
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                answer += await stream.receive()
    return answer


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", b"400"), ("abc", b"400"), ("\u00b2", b"400"), ("99999999999", b"413")],
)
async def test_a_bad_content_length_is_answered_not_waited_on(
    stripe_fake: FakeStripe, length: str, status: bytes
) -> None:
    async with stripe_fake.serve() as url:
        head = (
            "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_x\r\n"
            f"Content-Length: {length}\r\n\r\n"
        )
        answer = await raw(url, head.encode("latin-1"))
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b'"invalid_request_error"' in answer
    assert stripe_fake.requests == []


def test_the_request_log_and_idempotency_cache_are_bounded() -> None:
    fake = FakeStripe(max_requests_kept=50, max_idempotency_keys=20)
    with pytest.raises(StripeValueError):
        FakeStripe(max_requests_kept=0)
    for i in range(30):
        headers = {**KEY, "idempotency-key": f"key-{i}", "content-type": "application/x-www-form-urlencoded"}
        fake.handle("POST", "/v1/customers", "", f"email=c{i}%40example.com".encode(), headers)
    for _ in range(2_000):
        fake.handle("GET", "/v1/customers", "limit=1", b"", KEY)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(10_000):
            fake.handle("GET", "/v1/customers", "limit=1", b"", KEY)
        gc.collect()
        grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    finally:
        tracemalloc.stop()
    assert grown < 256 * 1024, f"10,000 GETs grew the fake by {grown} bytes"
    assert len(fake.requests) == 50 and fake.requests[-1]["method"] == "GET"
    # The oldest keys are dropped: key-0 is a new request again, key-29 a replay.
    replay = {**KEY, "idempotency-key": "key-29", "content-type": "application/x-www-form-urlencoded"}
    _, headers, _ = fake.handle("POST", "/v1/customers", "", b"email=c29%40example.com", replay)
    assert headers.get("Idempotent-Replayed") == "true"
    fresh = {**KEY, "idempotency-key": "key-0", "content-type": "application/x-www-form-urlencoded"}
    _, headers, _ = fake.handle("POST", "/v1/customers", "", b"email=other%40example.com", fresh)
    assert "Idempotent-Replayed" not in headers
    fake.close()

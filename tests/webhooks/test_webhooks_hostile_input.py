"""Webhooks under hostile input, and concurrent redeliveries of one event."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atom_stripe import SignatureVerificationError
from atom_stripe import models as m
from atom_stripe.webhooks import (
    Claim,
    EventStoreError,
    InMemoryEventStore,
    WebhookRouter,
    construct_event,
    generate_test_header,
    verify_header,
)

SECRET = "whsec_test_0123456789abcdef"
NOW = 1_800_000_000


def event_body(fixtures: dict[str, Any], event_id: str) -> bytes:
    event = {**fixtures["event"], "id": event_id, "type": "customer.created", "data": {"object": fixtures["customer"]}}
    return json.dumps(event).encode()


def signed(body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": generate_test_header(body, SECRET)}


# -- item 9: garbage in the header or the body --------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "t=²,v1=00",  # a Unicode digit passes str.isdigit()
        "t=١٢٣,v1=00",  # Arabic-Indic digits
        "t=" + "9" * 4301 + ",v1=00",  # past int()'s digit limit
        "t=" + "9" * 40 + ",v1=00",
        f"t={NOW},v1=\udcff",  # a lone surrogate (how undecodable bytes arrive)
        f"t={NOW},v1=é",
        "t=1\x00,v1=00",
        "x" * 100_000,
    ],
)
def test_garbage_headers_are_signature_errors(header: str) -> None:
    with pytest.raises(SignatureVerificationError):
        verify_header(b"{}", header, SECRET, now=NOW)


def test_a_str_payload_that_is_not_utf8_is_a_signature_error() -> None:
    with pytest.raises(SignatureVerificationError):
        construct_event("{\udcff}", f"t={NOW},v1=00", SECRET, now=NOW)


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_deeply_nested_signed_json_is_refused_cleanly(depth: int) -> None:
    body = b'{"object": "event", "data": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(SignatureVerificationError, match="nested"):
        construct_event(body, generate_test_header(body, SECRET, timestamp=NOW), SECRET, now=NOW)


def test_deeply_nested_event_object_is_refused_cleanly(fixtures: dict[str, Any]) -> None:
    inner: Any = {}
    for _ in range(900):  # json.loads copes; the models must not blow the stack either
        inner = {"a": inner}
    event = {**fixtures["event"], "type": "customer.created", "data": {"object": {**fixtures["customer"], "x": inner}}}
    body = json.dumps(event).encode()
    with contextlib.suppress(SignatureVerificationError):  # parsed, or refused: never RecursionError
        construct_event(body, generate_test_header(body, SECRET, timestamp=NOW), SECRET, now=NOW)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.text(max_size=300), body=st.binary(max_size=200))
def test_fuzzed_headers_only_ever_raise_signature_errors(header: str, body: bytes) -> None:
    with pytest.raises(SignatureVerificationError):
        construct_event(body, header, SECRET, now=NOW)


@settings(max_examples=300, deadline=None)
@given(
    timestamp=st.text(alphabet=st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=50),
    junk=st.lists(st.tuples(st.text(max_size=5), st.text(max_size=20)), max_size=4),
)
def test_fuzzed_structured_headers_only_ever_raise_signature_errors(
    timestamp: str, junk: list[tuple[str, str]]
) -> None:
    header = ",".join([f"t={timestamp}", *(f"{k}={v}" for k, v in junk), "v1=" + "0" * 64])
    with pytest.raises(SignatureVerificationError):
        construct_event(b"{}", header, SECRET, now=NOW)


def asgi_client(router: WebhookRouter, **options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=router.asgi_app(**options)), base_url="http://hook")


@pytest.mark.parametrize(
    "header",
    [b"t=\xc2\xb2,v1=00", b"t=" + b"9" * 4400 + b",v1=00", b"t=\xff\xfe,v1=\x80", b"\xff" * 50],
)
async def test_asgi_app_answers_400_to_garbage_headers(fixtures: dict[str, Any], header: bytes) -> None:
    router = WebhookRouter(SECRET)
    body = event_body(fixtures, "evt_garbage")
    async with asgi_client(router) as http:
        answer = await http.post("/", content=body, headers={b"Stripe-Signature": header})
    assert answer.status_code == 400
    assert answer.json() == {"received": False, "error": "SignatureVerificationError"}


async def test_asgi_app_bounds_the_body(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET)
    handled: list[str] = []
    router.on("*")(lambda event: handled.append(event.id))
    body = event_body(fixtures, "evt_size")
    async with asgi_client(router, max_body=len(body)) as http:
        assert (await http.post("/", content=body, headers=signed(body))).status_code == 200
        big = body + b" " * 10
        assert (await http.post("/", content=big, headers=signed(big))).status_code == 413

    assert handled == ["evt_size"]

    # No Content-Length: the body is counted while read, and reading stops at the limit.
    app = router.asgi_app(max_body=64 * 1024)
    reads = 0
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b" " * 1024, "more_body": True}  # endless

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": [(b"stripe-signature", b"t=1,v1=00")]}
    await app(scope, receive, send)
    assert sent[0]["status"] == 413 and reads == 65


def test_a_store_without_the_claim_protocol_is_refused() -> None:
    class SeenAddStore:  # the protocol before claims
        async def seen(self, event_id: str) -> bool:
            return False

        async def add(self, event_id: str) -> None: ...

    with pytest.raises(ValueError, match="claim"):
        WebhookRouter(SECRET, store=SeenAddStore())  # type: ignore[arg-type]


def test_asgi_app_refuses_a_bad_limit() -> None:
    with pytest.raises(ValueError, match="max_body"):
        WebhookRouter(SECRET).asgi_app(max_body=0)


# -- item 10: a redelivery while the first delivery is still running --------------------


async def test_a_concurrent_duplicate_is_told_to_retry_and_runs_after_a_failure(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET)
    started, finish = anyio.Event(), anyio.Event()
    runs: list[str] = []

    @router.on("customer.created")
    async def handler(event: m.CustomerEvent) -> None:
        runs.append(event.id)
        if len(runs) == 1:
            started.set()
            await finish.wait()
            raise RuntimeError("the first delivery fails")

    body = event_body(fixtures, "evt_race")
    first: list[Any] = []
    async with anyio.create_task_group() as tg:

        async def deliver() -> None:
            first.append(await router.handle(body, signed(body)))

        tg.start_soon(deliver)
        await started.wait()
        duplicate = await router.handle(body, signed(body))
        assert duplicate.status_code == 409 and duplicate.duplicate
        assert duplicate.body["received"] is False and "retry later" in duplicate.body["retry"]
        finish.set()
    assert first[0].status_code == 500
    retried = await router.handle(body, signed(body))  # Stripe's retry runs the handler
    assert retried.status_code == 200 and runs == ["evt_race", "evt_race"]
    done = await router.handle(body, signed(body))
    assert done.status_code == 200 and done.duplicate and len(runs) == 2


class SlowStore:
    """An event store whose every call really awaits (as a networked one does)."""

    def __init__(self) -> None:
        self.inner = InMemoryEventStore()

    async def claim(self, event_id: str) -> Claim:
        await anyio.sleep(0.01)
        return await self.inner.claim(event_id)

    async def complete(self, event_id: str, token: str) -> None:
        await anyio.sleep(0.01)
        await self.inner.complete(event_id, token)

    async def release(self, event_id: str, token: str) -> None:
        await anyio.sleep(0.01)
        await self.inner.release(event_id, token)


async def test_an_awaiting_store_never_lets_two_deliveries_both_run(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET, store=SlowStore())
    runs: list[str] = []

    @router.on("customer.created")
    async def handler(event: m.CustomerEvent) -> None:
        runs.append(event.id)
        await anyio.sleep(0.05)

    body = event_body(fixtures, "evt_slow")
    statuses: list[int] = []

    async def deliver() -> None:
        statuses.append((await router.handle(body, signed(body))).status_code)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(deliver)
    assert runs == ["evt_slow"]
    assert sorted(statuses) == [200] + [409] * 9


async def test_a_cancelled_handler_releases_its_claim(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET)

    @router.on("customer.created")
    async def handler(event: m.CustomerEvent) -> None:
        await anyio.sleep(10)

    body = event_body(fixtures, "evt_cancel")
    with anyio.move_on_after(0.05):
        await router.handle(body, signed(body))
    assert (await router.store.claim(router.claim_key("evt_cancel"))).status == "claimed"


class DownStore(SlowStore):
    async def claim(self, event_id: str) -> Claim:
        raise EventStoreError("the event store is down")


async def test_an_unreachable_store_answers_503_and_runs_nothing(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET, store=DownStore())
    runs: list[str] = []
    router.on("*")(lambda event: runs.append(event.id))
    body = event_body(fixtures, "evt_down")
    result = await router.handle(body, signed(body))
    assert result.status_code == 503 and result.body["error"] == "EventStoreError" and runs == []

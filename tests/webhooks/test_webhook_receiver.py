"""The webhook receiver as a host service uses it: secrets (several during rotation, one that
comes later), tolerance, event ids, body limits, and messages that help."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import anyio
import pytest

from atom_stripe import SignatureVerificationError, StripeValueError
from atom_stripe.webhooks import (
    Claim,
    InMemoryEventStore,
    WebhookRouter,
    construct_event,
    generate_test_header,
    verify_header,
)

SECRET = "whsec_test_receiver_0123456789"
OTHER = "whsec_test_receiver_rotated_987"
NOW = 1_800_000_000


def event_body(fixtures: dict[str, Any], **changes: Any) -> bytes:
    event = {**fixtures["event"], "id": "evt_receiver", "type": "customer.created"}
    event["data"] = {"object": fixtures["customer"]}
    event.update(changes)
    # Pretty-printed, as Stripe sends it (a one-line body reads as re-encoded; see the message tests).
    return json.dumps(event, indent=2).encode()


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    return {"Stripe-Signature": generate_test_header(body, secret, timestamp=timestamp)}


def recorder(router: WebhookRouter) -> list[str]:
    runs: list[str] = []
    router.on("*")(lambda event: runs.append(event.id))
    return runs


# -- item 16: tolerance -------------------------------------------------------------------


@pytest.mark.parametrize("tolerance", [0, -1, -300, float("nan"), float("inf"), True, "300"])
def test_a_tolerance_that_would_refuse_everything_is_refused_at_construction(tolerance: Any) -> None:
    with pytest.raises(StripeValueError, match="tolerance") as caught:
        WebhookRouter(SECRET, tolerance=tolerance)
    assert "None" in str(caught.value)  # says how to turn the age check off
    with pytest.raises(StripeValueError, match="tolerance"):
        verify_header(b"{}", f"t={NOW},v1=00", SECRET, tolerance=tolerance, now=NOW)


async def test_tolerance_none_means_no_age_check_as_in_stripe_python(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET, tolerance=None)
    runs = recorder(router)
    body = event_body(fixtures)
    result = await router.handle(body, signed(body, timestamp=NOW - 86_400 * 30))  # a month old
    assert result.status_code == 200 and runs == ["evt_receiver"]
    header = generate_test_header(body, SECRET, timestamp=NOW)
    assert construct_event(body, header, SECRET, tolerance=None, now=NOW + 10**6).id == "evt_receiver"
    with pytest.raises(SignatureVerificationError):  # the signature still counts
        verify_header(body + b" ", header, SECRET, tolerance=None)


def test_a_float_tolerance_is_accepted() -> None:
    body = b'{"a": 1}'
    verify_header(body, generate_test_header(body, SECRET, timestamp=NOW), SECRET, tolerance=0.5, now=NOW + 0.4)


# -- item 17: an event without a usable id ------------------------------------------------


@pytest.mark.parametrize("bad_id", ["missing", None, 123, "", ["evt_1"], {"id": "evt_1"}, "evt\n1", "e" * 300])
async def test_a_signed_event_without_a_string_id_is_a_400(fixtures: dict[str, Any], bad_id: Any) -> None:
    event = {**fixtures["event"], "type": "customer.created", "data": {"object": fixtures["customer"]}}
    if bad_id == "missing":
        del event["id"]
    else:
        event["id"] = bad_id
    body = json.dumps(event, indent=2).encode()
    with pytest.raises(SignatureVerificationError, match="id"):
        construct_event(body, generate_test_header(body, SECRET, timestamp=NOW), SECRET, now=NOW)
    router = WebhookRouter(SECRET)
    runs = recorder(router)
    for _ in range(2):
        result = await router.handle(body, signed(body))
        assert result.status_code == 400 and isinstance(result.error, SignatureVerificationError)
    assert runs == []


# -- item 22: Content-Length parsed strictly ------------------------------------------------


async def call_app(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, dict[str, Any], int]:
    """Run an ASGI app on one request; its status, JSON answer, and how many body chunks it read."""
    reads = 0
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"]), reads


@pytest.mark.parametrize("length", [b"\xc2\xb2", "١٢".encode(), b"12abc", b"-5", b"+5", b"1 2", b"", b"0x10"])
async def test_asgi_app_answers_400_to_a_malformed_content_length(fixtures: dict[str, Any], length: bytes) -> None:
    router = WebhookRouter(SECRET)
    runs = recorder(router)
    body = event_body(fixtures)
    headers = [(b"content-length", length), (b"stripe-signature", generate_test_header(body, SECRET).encode())]
    status, answer, reads = await call_app(router.asgi_app(), headers, body)
    assert (status, answer["received"], reads, runs) == (400, False, 0, [])
    assert "Content-Length" in str(answer["error"]) or answer["error"] == "WebhookBodyError"


async def test_a_huge_well_formed_content_length_is_a_413_unread(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET)
    body = event_body(fixtures)
    for length in (b"99999999999999999999999999", str(8 * 1024 * 1024).encode()):
        status, _, reads = await call_app(router.asgi_app(), [(b"content-length", length)], body)
        assert (status, reads) == (413, 0)


async def test_the_router_carries_its_body_limit(fixtures: dict[str, Any]) -> None:
    body = event_body(fixtures)
    router = WebhookRouter(SECRET, max_body=len(body) - 1)
    headers = [(b"stripe-signature", generate_test_header(body, SECRET).encode())]
    assert (await call_app(router.asgi_app(), headers, body))[0] == 413
    assert (await call_app(router.asgi_app(max_body=len(body)), headers, body))[0] == 200
    with pytest.raises(StripeValueError, match="max_body"):
        WebhookRouter(SECRET, max_body=0)


# -- a secret that comes later, and several during rotation ---------------------------


async def test_a_secret_from_a_callable_is_resolved_at_first_delivery(fixtures: dict[str, Any]) -> None:
    settings: dict[str, Any] = {}
    asked: list[int] = []

    def webhook_secret() -> str:
        asked.append(1)
        return str(settings["secret"])

    router = WebhookRouter(webhook_secret)  # before the settings are loaded
    runs = recorder(router)
    assert asked == []
    body = event_body(fixtures)
    early = await router.handle(body, signed(body))
    assert early.status_code == 500 and runs == []  # not loaded yet: Stripe retries, nothing is lost
    settings["secret"] = SECRET  # the host's start-up loads them
    assert (await router.handle(body, signed(body))).status_code == 200
    other = event_body(fixtures, id="evt_second")
    assert (await router.handle(other, signed(other))).status_code == 200
    assert runs == ["evt_receiver", "evt_second"] and len(asked) == 2  # resolved once it succeeded
    forged = await router.handle(other, signed(other, secret=OTHER))
    assert forged.status_code == 400


async def test_an_async_callable_and_a_list_from_it_work(fixtures: dict[str, Any]) -> None:
    async def load() -> list[str]:
        return [OTHER, SECRET]

    router = WebhookRouter(load)
    runs = recorder(router)
    for secret, event_id in ((SECRET, "evt_old"), (OTHER, "evt_new")):
        body = event_body(fixtures, id=event_id)
        assert (await router.handle(body, signed(body, secret=secret))).status_code == 200
    assert runs == ["evt_old", "evt_new"]


async def test_several_secrets_during_rotation(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter([SECRET, OTHER])
    runs = recorder(router)
    body = event_body(fixtures, id="evt_both")
    both = generate_test_header(body, OTHER) + ",v1=" + generate_test_header(body, SECRET).split("v1=")[1]
    assert (await router.handle(body, {"Stripe-Signature": both})).status_code == 200
    assert runs == ["evt_both"]
    body = event_body(fixtures, id="evt_stranger")
    assert (await router.handle(body, signed(body, secret="whsec_someone_else"))).status_code == 400


@pytest.mark.parametrize("bad", [[], [""], [SECRET, 5], 5, None])
def test_bad_secrets_are_refused_at_construction(bad: Any) -> None:
    with pytest.raises(StripeValueError, match="secret"):
        WebhookRouter(bad)


# -- messages that help -------------------------------------------------------------


def refusal(body: bytes | str, header: str, secret: Any, **options: Any) -> str:
    with pytest.raises(SignatureVerificationError) as caught:
        verify_header(body, header, secret, **options)
    return str(caught.value)


def test_a_secret_that_is_not_a_whsec_is_named_as_such(fixtures: dict[str, Any]) -> None:
    body = event_body(fixtures)
    header = generate_test_header(body, SECRET)
    for wrong in ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "we_1Abc"):
        message = refusal(body, header, wrong)
        assert "whsec_" in message and wrong not in message and wrong[:8] not in message
    assert "1 of the 2" in refusal(body, header, [OTHER, "sk_test_x"])
    assert "whsec_" not in refusal(body, header, OTHER)  # a real-looking secret: no such hint


def test_a_re_encoded_body_is_named_as_such(fixtures: dict[str, Any]) -> None:
    raw = event_body(fixtures)
    header = generate_test_header(raw, SECRET)
    parsed = json.loads(raw)
    for again in (
        json.dumps(parsed),
        json.dumps(parsed, separators=(",", ":")),
        json.dumps(parsed, ensure_ascii=False),
    ):
        message = refusal(again.encode(), header, SECRET)
        assert "raw bytes Stripe sent" in message, message
    assert "raw bytes" not in refusal(raw.replace(b"customer", b"kustomer"), header, SECRET)  # tampered, not re-encoded
    # A parsed body passed instead of the bytes says the same.
    with pytest.raises(SignatureVerificationError, match="raw bytes Stripe sent"):
        verify_header(parsed, header, SECRET)


def test_a_stale_or_early_timestamp_says_how_far_off_and_the_tolerance(fixtures: dict[str, Any]) -> None:
    body = event_body(fixtures)
    header = generate_test_header(body, SECRET, timestamp=NOW)
    old = refusal(body, header, SECRET, now=NOW + 412)
    assert "412 s old" in old and "tolerance of 300 s" in old
    early = refusal(body, header, SECRET, now=NOW - 3_600, tolerance=60)
    assert "3600 s in the future" in early and "tolerance of 60 s" in early and "clock" in early


def test_no_message_holds_the_secret_or_the_expected_signature(fixtures: dict[str, Any]) -> None:
    body = event_body(fixtures)
    raw = json.loads(body)
    secrets = ["sk_live_abcdefghijklmnop", SECRET]
    expected = [generate_test_header(body, s, timestamp=NOW).split("v1=")[1] for s in secrets]
    for payload in (body, json.dumps(raw).encode()):
        for header in (f"t={NOW},v1={'1' * 64}", f"t={NOW - 999},v1={expected[1]}", f"t={NOW + 999},v1={expected[1]}"):
            message = refusal(payload, header, secrets, now=NOW)
            assert not any(s in message for s in secrets + expected), message


# -- item 4: the key space is the endpoint's (and the account's) ------------------------------


async def test_two_endpoints_sharing_a_store_each_handle_the_event(fixtures: dict[str, Any]) -> None:
    store = InMemoryEventStore()
    billing, mail = WebhookRouter(SECRET, store=store), WebhookRouter(OTHER, store=store)
    billing_runs, mail_runs = recorder(billing), recorder(mail)
    body = event_body(fixtures, id="evt_everywhere")
    assert (await billing.handle(body, signed(body))).status_code == 200
    assert (await mail.handle(body, signed(body, secret=OTHER))).status_code == 200
    again = await mail.handle(body, signed(body, secret=OTHER))
    assert again.duplicate and billing_runs == mail_runs == ["evt_everywhere"]
    named = WebhookRouter(OTHER, store=store, endpoint="mail")  # a name, not the secret's hash
    assert (await named.handle(body, signed(body, secret=OTHER))).status_code == 200
    assert SECRET not in repr(store.__dict__) and OTHER not in repr(store.__dict__)


async def test_the_key_names_the_connected_account(fixtures: dict[str, Any]) -> None:
    router = WebhookRouter(SECRET, endpoint="billing")
    assert router.claim_key("evt_1", "acct_1Ex") == "billing:acct_1Ex:evt_1"
    assert router.claim_key("evt_1") == "billing:-:evt_1"
    hashed = WebhookRouter(SECRET).claim_key("evt_1")
    assert hashed.endswith(":-:evt_1") and SECRET not in hashed and hashed != WebhookRouter(OTHER).claim_key("evt_1")
    with pytest.raises(StripeValueError, match="endpoint"):
        WebhookRouter(SECRET, endpoint="a:b")


# -- item 11: claims renewed while the handlers run (the router's part, on both loops) ----------


class ExpiringStore:
    """Claims that expire ``ttl`` seconds after they were taken or last extended, as
    RedisEventStore's do; each call really awaits."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.claims: dict[str, tuple[str, float]] = {}
        self.done: set[str] = set()
        self.extended = 0

    def _held(self, key: str) -> tuple[str, float] | None:
        held = self.claims.get(key)
        return held if held is not None and held[1] > anyio.current_time() else None

    async def claim(self, key: str) -> Claim:
        await anyio.sleep(0.001)
        if key in self.done:
            return Claim("done")
        if self._held(key) is not None:
            return Claim("busy")
        token = uuid.uuid4().hex
        self.claims[key] = (token, anyio.current_time() + self.ttl)
        return Claim("claimed", token, ttl=self.ttl)

    async def extend(self, key: str, token: str) -> bool:
        await anyio.sleep(0.001)
        held = self._held(key)
        if held is None or held[0] != token:
            return False
        self.extended += 1
        self.claims[key] = (token, anyio.current_time() + self.ttl)
        return True

    async def complete(self, key: str, token: str) -> None:
        await anyio.sleep(0.001)
        self.claims.pop(key, None)
        self.done.add(key)

    async def release(self, key: str, token: str) -> None:
        await anyio.sleep(0.001)
        if (held := self.claims.get(key)) is not None and held[0] == token:
            del self.claims[key]


async def test_a_long_handler_keeps_its_claim_while_a_redelivery_comes(fixtures: dict[str, Any]) -> None:
    # Lifetimes long enough that a busy machine (three test workers on two cores) renews in time.
    store = ExpiringStore(ttl=0.6)
    routers = [WebhookRouter(SECRET, store=store) for _ in range(2)]  # two replicas, one store
    runs: list[str] = []

    async def slow(event: Any) -> None:
        runs.append(event.id)
        await anyio.sleep(2.0)  # more than three claim lifetimes

    for router in routers:
        router.on("customer.created")(slow)
    body = event_body(fixtures, id="evt_long")
    meanwhile: list[int] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(routers[0].handle, body, signed(body))
        await anyio.sleep(0.05)
        for _ in range(5):
            meanwhile.append((await routers[1].handle(body, signed(body))).status_code)
            await anyio.sleep(0.3)
    assert runs == ["evt_long"] and meanwhile == [409] * 5 and store.extended >= 3
    assert (await routers[1].handle(body, signed(body))).duplicate
    assert routers[0].lost_claims == 0


async def test_a_lost_claim_is_logged_and_counted(fixtures: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    store = ExpiringStore(ttl=0.3)
    router = WebhookRouter(SECRET, store=store)

    @router.on("customer.created")
    async def handler(event: Any) -> None:
        store.claims.clear()  # the claim vanishes under the handler
        await anyio.sleep(0.3)

    body = event_body(fixtures, id="evt_lost")
    with caplog.at_level(logging.ERROR, logger="atom_stripe"):
        assert (await router.handle(body, signed(body))).status_code == 200
    assert router.lost_claims == 1
    assert [r.levelno for r in caplog.records if "evt_lost" in r.getMessage() and "lost" in r.getMessage()] == [
        logging.ERROR
    ]


async def test_a_failing_long_handler_still_releases_and_answers_500(fixtures: dict[str, Any]) -> None:
    store = ExpiringStore(ttl=0.1)
    router = WebhookRouter(SECRET, store=store)

    @router.on("customer.created")
    async def handler(event: Any) -> None:
        await anyio.sleep(0.25)
        raise RuntimeError("the handler fails after a few renewals")

    body = event_body(fixtures, id="evt_fails")
    result = await router.handle(body, signed(body))
    assert result.status_code == 500 and isinstance(result.error, RuntimeError)  # not an exception group
    assert store.claims == {} and store.extended >= 1


async def test_a_store_whose_extend_breaks_does_not_fail_the_handler(
    fixtures: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(ExpiringStore):
        async def extend(self, key: str, token: str) -> bool:
            raise RuntimeError("a third-party store's bug")

    router = WebhookRouter(SECRET, store=Broken(ttl=0.1))
    runs: list[str] = []

    @router.on("customer.created")
    async def handler(event: Any) -> None:
        await anyio.sleep(0.15)
        runs.append(event.id)

    body = event_body(fixtures, id="evt_broken_extend")
    with caplog.at_level(logging.WARNING, logger="atom_stripe"):
        result = await router.handle(body, signed(body))
    assert result.status_code == 200 and runs == ["evt_broken_extend"]
    assert any("not extended: RuntimeError" in r.getMessage() for r in caplog.records)

"""Hooks, stats, structured logs and OpenTelemetry spans for every call."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from atom_stripe import APITimeoutError, AsyncStripeClient, CardError, NotFoundError
from atom_stripe.contrib.otel import instrument
from atom_stripe.types import CallRecord

from ..helpers import KEY

EMAIL = "jenny.rosen@example.com"
CUSTOMER = {"id": "cus_secretid", "object": "customer", "email": EMAIL, "metadata": {"vip": "METAVALUE"}}


def ok(body: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body or CUSTOMER, headers={"Request-Id": "req_ok"})


def fail(status: int, **error: Any) -> httpx.Response:
    return httpx.Response(
        status,
        json={"error": {"type": "api_error", "message": "boom", **error}},
        headers={"Request-Id": f"req_{status}"},
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, CallRecord]] = []

    def hooks(self) -> dict[str, Any]:
        async def on_request(r: CallRecord) -> None:
            self.events.append(("request", r))

        def on_retry(r: CallRecord) -> None:
            self.events.append(("retry", r))

        async def on_response(r: CallRecord) -> None:
            self.events.append(("response", r))

        def on_error(r: CallRecord) -> None:
            self.events.append(("error", r))

        return {"on_request": on_request, "on_retry": on_retry, "on_response": on_response, "on_error": on_error}


async def test_hook_order_for_a_retried_success(api: respx.MockRouter) -> None:
    api.get("/v1/customers/cus_secretid").mock(side_effect=[fail(500), ok()])
    rec = Recorder()
    async with AsyncStripeClient(KEY, **rec.hooks()) as stripe:
        await stripe.customers.retrieve("cus_secretid", expand=["default_source"])
    assert [(name, r.attempt) for name, r in rec.events] == [
        ("request", 1),
        ("retry", 1),
        ("request", 2),
        ("response", 2),
    ]
    retry, response = rec.events[1][1], rec.events[3][1]
    assert retry.status == 500 and retry.error == "ServerError" and retry.retry_delay is not None
    assert response.status == 200 and response.request_id == "req_ok" and response.error is None
    assert response.duration_ms is not None and response.duration_ms >= 0
    for _, record in rec.events:
        assert record.path == "/v1/customers/{customer}" and record.method == "GET"
        assert "cus_secretid" not in repr(record) and "default_source" not in repr(record)
    assert len({r.call_id for _, r in rec.events}) == 1


async def test_on_error_and_idempotency_key(api: respx.MockRouter) -> None:
    api.post("/v1/payment_intents").mock(return_value=fail(402, type="card_error", code="card_declined"))
    rec = Recorder()
    async with AsyncStripeClient(KEY, **rec.hooks()) as stripe:
        with pytest.raises(CardError):
            await stripe.payments.create(amount=100, currency="usd", idempotency_key="order-1")
    assert [name for name, _ in rec.events] == ["request", "error"]
    error = rec.events[1][1]
    assert error.error == "CardError" and error.status == 402 and error.idempotency_key == "order-1"


async def test_a_failing_hook_never_fails_the_call(api: respx.MockRouter, caplog: pytest.LogCaptureFixture) -> None:
    api.get("/v1/customers/cus_secretid").mock(return_value=ok())

    def broken(record: CallRecord) -> None:
        raise RuntimeError("hook bug")

    async def broken_async(record: CallRecord) -> None:
        raise ValueError("async hook bug")

    async with AsyncStripeClient(KEY, on_request=[broken, broken_async], on_response=broken) as stripe:
        customer = await stripe.customers.retrieve("cus_secretid")
    assert customer.id == "cus_secretid"
    assert sum("hook" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records) == 3


async def test_hooks_are_shared_with_copies_and_can_be_added(api: respx.MockRouter) -> None:
    api.get("/v1/customers/cus_secretid").mock(return_value=ok())
    seen: list[str | None] = []
    async with AsyncStripeClient(KEY) as stripe:
        stripe.add_hook("on_response", lambda r: seen.append(r.stripe_account))
        await stripe.for_account("acct_1").customers.retrieve("cus_secretid")
        with pytest.raises(ValueError):
            stripe.add_hook("on_nothing", lambda r: None)  # type: ignore[arg-type]
    assert seen == ["acct_1"]


async def test_stats(api: respx.MockRouter, client: AsyncStripeClient) -> None:
    api.get("/v1/customers/cus_secretid").mock(
        side_effect=[fail(503), ok(), ok(), fail(404, type="invalid_request_error")]
    )
    for _ in range(2):
        await client.customers.retrieve("cus_secretid")
    with pytest.raises(NotFoundError):
        await client.customers.retrieve("cus_secretid")
    stats = client.stats()
    assert (stats.calls, stats.errors, stats.retries) == (3, 1, 1)
    endpoint = stats.endpoints["GET /v1/customers/{customer}"]
    assert endpoint["by_status"] == {"200": 2, "404": 1}
    assert endpoint["p50_ms"] is not None and endpoint["p99_ms"] is not None
    assert client.with_options(max_retries=0).stats().calls == 3  # copies share the counters
    json.dumps(stats.endpoints)  # serialisable for a metrics endpoint


async def test_log_records_carry_structured_fields(api: respx.MockRouter, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="atom_stripe")
    api.post("/v1/customers").mock(return_value=ok())
    async with AsyncStripeClient(KEY, stripe_account="acct_9") as stripe:
        await stripe.customers.create(email=EMAIL, idempotency_key="k-1")
    record = next(r for r in caplog.records if r.name == "atom_stripe")
    fields = {k: v for k, v in record.__dict__.items() if k.startswith("stripe_")}
    assert fields["stripe_path"] == "/v1/customers" and fields["stripe_status"] == 200
    assert fields["stripe_idempotency_key"] == "k-1" and fields["stripe_account"] == "acct_9"
    assert fields["stripe_request_id"] == "req_ok" and fields["stripe_attempt"] == 1


# -- OpenTelemetry --------------------------------------------------------------------------


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def everything_in(span: ReadableSpan) -> str:
    parts = [span.name, json.dumps(dict(span.attributes or {}), default=str)]
    parts += [e.name + json.dumps(dict(e.attributes or {}), default=str) for e in span.events]
    return " ".join(parts)


async def test_spans_for_success_retry_card_error_and_timeout(
    api: respx.MockRouter, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = spans
    api.get("/v1/customers/cus_secretid").mock(
        side_effect=[ok(), fail(500), ok(), httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow")]
    )
    api.post("/v1/payment_intents").mock(
        return_value=fail(402, type="card_error", code="card_declined", decline_code="insufficient_funds")
    )
    async with AsyncStripeClient(KEY, stripe_account="acct_42", max_retries=1) as stripe:
        instrument(stripe, tracer_provider=provider)
        await stripe.customers.retrieve("cus_secretid")
        await stripe.customers.retrieve("cus_secretid")
        with pytest.raises(CardError):
            await stripe.payments.create(
                amount=2000, currency="usd", metadata={"note": "METAVALUE"}, receipt_email=EMAIL
            )
        with pytest.raises(APITimeoutError):
            await stripe.customers.retrieve("cus_secretid")
    success, retried, declined, timed_out = exporter.get_finished_spans()

    assert success.name == "GET /v1/customers/{customer}" and success.kind == SpanKind.CLIENT
    attrs = dict(success.attributes or {})
    assert attrs["http.request.method"] == "GET" and attrs["url.template"] == "/v1/customers/{customer}"
    assert attrs["server.address"] == "api.stripe.com" and attrs["server.port"] == 443
    assert attrs["http.response.status_code"] == 200 and attrs["stripe.request_id"] == "req_ok"
    assert attrs["stripe.account"] == "acct_42" and attrs["stripe.retry_count"] == 0
    assert success.status.status_code == StatusCode.UNSET

    assert dict(retried.attributes or {})["stripe.retry_count"] == 1
    assert [e.name for e in retried.events] == ["retry"]
    assert dict(retried.events[0].attributes or {})["http.response.status_code"] == 500

    d = dict(declined.attributes or {})
    assert declined.name == "POST /v1/payment_intents"
    assert d["http.response.status_code"] == 402 and d["error.type"] == "CardError"
    assert "stripe.idempotency_key" in d
    assert declined.status.status_code == StatusCode.ERROR

    t = dict(timed_out.attributes or {})
    assert t["error.type"] == "APITimeoutError" and "http.response.status_code" not in t
    assert timed_out.status.status_code == StatusCode.ERROR

    for span in (success, retried, declined, timed_out):
        text = everything_in(span)
        for secret in (KEY, "cus_secretid", EMAIL, "METAVALUE", "insufficient_funds", "2000"):
            assert secret not in text, (secret, text)


async def test_otel_on_the_oauth_helper(
    api: respx.MockRouter, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    from atom_stripe.oauth import StripeOAuth

    provider, exporter = spans
    with respx.mock(base_url="https://connect.stripe.com", using="httpx") as connect:
        connect.post("/oauth/token").mock(
            return_value=httpx.Response(200, json={"stripe_user_id": "acct_1", "access_token": "sk_test_tok"})
        )
        seen: list[str] = []
        async with StripeOAuth("ca_1", "sk_test_platform", on_response=lambda r: seen.append(r.path)) as oauth:
            instrument(oauth, tracer_provider=provider)
            await oauth.exchange_code("ac_1")
    assert seen == ["/oauth/token"]
    (span,) = exporter.get_finished_spans()
    assert span.name == "POST /oauth/token"
    assert "sk_test_tok" not in everything_in(span) and "sk_test_platform" not in everything_in(span)


async def test_a_cancelled_call_closes_its_span(
    api: respx.MockRouter, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    import anyio

    provider, exporter = spans

    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(10)
        return ok()

    api.get("/v1/customers/cus_secretid").mock(side_effect=hang)
    async with AsyncStripeClient(KEY) as stripe:
        tracer = instrument(stripe, tracer_provider=provider)
        with anyio.move_on_after(0.1):
            await stripe.customers.retrieve("cus_secretid")
        assert stripe.stats().endpoints["GET /v1/customers/{customer}"]["by_status"] == {"Cancelled": 1}
    (span,) = exporter.get_finished_spans()
    assert dict(span.attributes or {})["error.type"] == "Cancelled"
    assert tracer._spans == {}


async def test_instrument_uses_only_the_public_add_hook(spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, _ = spans
    added: list[tuple[str, Any]] = []

    class OnlyHooks:
        """Anything with add_hook can be instrumented: instrument reaches into nothing else."""

        def add_hook(self, name: str, hook: Any) -> None:
            added.append((name, hook))

    tracer = instrument(OnlyHooks(), tracer_provider=provider)
    assert added == [
        ("on_request", tracer.on_request),
        ("on_retry", tracer.on_retry),
        ("on_response", tracer.on_response),
        ("on_error", tracer.on_error),
    ]

"""OpenTelemetry tracing for atom_stripe: one client span per call, an event per retry.

Needs the ``otel`` extra (``pip install atom_stripe[otel]``). Enable it in one line::

    from atom_stripe.contrib.otel import instrument
    instrument(stripe)            # an AsyncStripeClient, or a StripeOAuth

Span name ``"{method} {path template}"``, kind CLIENT; attributes follow OpenTelemetry's
HTTP client conventions (``http.request.method``, ``url.template``, ``server.address``,
``server.port``, ``http.response.status_code``, ``error.type``) plus ``stripe.request_id``,
``stripe.idempotency_key``, ``stripe.account`` and ``stripe.retry_count``. Nothing secret or
personal goes into a span: no keys, no ids in paths, no query values, emails, card data or
metadata values. The span's status is ERROR when the call fails for good.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlsplit

from .._extras import needs_extra
from .._hooks import CallRecord, Hook, HookName

with needs_extra("otel"):
    from opentelemetry import trace
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACER_NAME = "atom_stripe"


__all__ = ["StripeTracer", "TRACER_NAME", "instrument"]


class _Instrumentable(Protocol):
    def add_hook(self, name: HookName, hook: Hook) -> None: ...


class StripeTracer:
    """The hooks that turn calls into spans. One per instrumented client."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        from .._version import __version__

        self._tracer = trace.get_tracer(TRACER_NAME, __version__, tracer_provider=tracer_provider)
        self._spans: dict[int, Span] = {}

    def on_request(self, record: CallRecord) -> None:
        if record.attempt != 1:
            return
        parts = urlsplit(record.base_url or "")
        attributes: dict[str, Any] = {
            "http.request.method": record.method,
            "url.template": record.path,
            "server.address": parts.hostname or "",
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
        }
        if record.idempotency_key:
            attributes["stripe.idempotency_key"] = record.idempotency_key
        if record.stripe_account:
            attributes["stripe.account"] = record.stripe_account
        self._spans[record.call_id] = self._tracer.start_span(
            f"{record.method} {record.path}", kind=SpanKind.CLIENT, attributes=attributes
        )

    def on_retry(self, record: CallRecord) -> None:
        span = self._spans.get(record.call_id)
        if span is None:
            return
        event: dict[str, Any] = {"attempt": record.attempt, "retry_delay_s": record.retry_delay or 0.0}
        if record.status is not None:
            event["http.response.status_code"] = record.status
        if record.error:
            event["error.type"] = record.error
        if record.request_id:
            event["stripe.request_id"] = record.request_id
        span.add_event("retry", event)

    def on_response(self, record: CallRecord) -> None:
        self._end(record, failed=False)

    def on_error(self, record: CallRecord) -> None:
        self._end(record, failed=True)

    def _end(self, record: CallRecord, *, failed: bool) -> None:
        span = self._spans.pop(record.call_id, None)
        if span is None:
            return
        span.set_attribute("stripe.retry_count", record.attempt - 1)
        if record.status is not None:
            span.set_attribute("http.response.status_code", record.status)
        if record.request_id:
            span.set_attribute("stripe.request_id", record.request_id)
        if failed:
            span.set_attribute("error.type", record.error or "error")
            span.set_status(Status(StatusCode.ERROR, record.error))
        span.end()


def instrument(client: _Instrumentable, *, tracer_provider: trace.TracerProvider | None = None) -> StripeTracer:
    """Trace every call of ``client`` (and of its ``with_options`` copies)."""
    tracer = StripeTracer(tracer_provider)
    client.add_hook("on_request", tracer.on_request)
    client.add_hook("on_retry", tracer.on_retry)
    client.add_hook("on_response", tracer.on_response)
    client.add_hook("on_error", tracer.on_error)
    return tracer

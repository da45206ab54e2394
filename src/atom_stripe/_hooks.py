"""Event hooks and in-process stats for every Stripe call.

Hooks receive a :class:`CallRecord`, small and free of anything secret or personal: the
path is the template (``/v1/customers/{customer}``), never the id or query values.

- ``on_request``: an attempt is about to be sent (``attempt`` 1, 2, ...).
- ``on_retry``: an attempt failed and another follows after ``retry_delay`` seconds.
- ``on_response``: the call succeeded (its final response).
- ``on_error``: the call failed for good (``error`` names the exception class).

A hook may be a plain or an async callable. A hook that raises is logged and ignored: it
can never break a call. A slow hook slows the call it runs in: that is the caller's choice.
"""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from ._constants import STATS_LATENCIES_KEPT
from ._errors import StripeValueError

logger = logging.getLogger("atom_stripe")

HookName = Literal["on_request", "on_retry", "on_response", "on_error"]
HOOK_NAMES: tuple[HookName, ...] = ("on_request", "on_retry", "on_response", "on_error")


@dataclass(slots=True)
class CallRecord:
    """One moment of one call, as hooks see it (a fresh record for every hook event)."""

    call_id: int
    method: str
    path: str
    attempt: int
    idempotency_key: str | None = None
    stripe_account: str | None = None
    status: int | None = None
    duration_ms: float | None = None
    request_id: str | None = None
    error: str | None = None
    retry_delay: float | None = None
    base_url: str | None = None


Hook = Callable[[CallRecord], Awaitable[None] | None]
Hooks = Hook | Iterable[Hook] | None


class HookSet:
    """The hooks of one client and its copies."""

    def __init__(self) -> None:
        self.on_request: list[Hook] = []
        self.on_retry: list[Hook] = []
        self.on_response: list[Hook] = []
        self.on_error: list[Hook] = []

    @classmethod
    def of(cls, on_request: Hooks, on_retry: Hooks, on_response: Hooks, on_error: Hooks) -> HookSet:
        """A hook set from a client's ``on_*`` arguments."""
        hook_set = cls()
        for name, given in zip(HOOK_NAMES, (on_request, on_retry, on_response, on_error), strict=True):
            hook_set.add(name, given)
        return hook_set

    def add(self, name: HookName, hooks: Hooks) -> None:
        if name not in HOOK_NAMES:
            raise StripeValueError("name", f"must be one of {', '.join(HOOK_NAMES)}")
        if hooks is None:
            return
        items = [hooks] if callable(hooks) else list(hooks)
        for hook in items:
            if not callable(hook):
                raise TypeError(f"{name} hooks must be callables taking a CallRecord")
        getattr(self, name).extend(items)

    def __bool__(self) -> bool:
        return bool(self.on_request or self.on_retry or self.on_response or self.on_error)

    def fire_now(self, hooks: list[Hook], record: CallRecord) -> None:
        """Call hooks without awaiting (for a call being cancelled, which cannot await):
        plain hooks run, async ones are skipped."""
        for hook in hooks:
            try:
                outcome = hook(record)
                if inspect.iscoroutine(outcome):
                    outcome.close()
            except Exception:
                logger.exception("atom_stripe hook %r failed; the call goes on", getattr(hook, "__name__", hook))

    async def fire(self, hooks: list[Hook], record: CallRecord) -> None:
        for hook in hooks:
            try:
                outcome = hook(record)
                if outcome is not None and inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                logger.exception("atom_stripe hook %r failed; the call goes on", getattr(hook, "__name__", hook))


@dataclass
class EndpointStats:
    """Counts and recent latencies of one endpoint template."""

    calls: int = 0
    errors: int = 0
    retries: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_LATENCIES_KEPT))

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class StatsSnapshot:
    """What :meth:`AsyncStripeClient.stats` returns: a copy, safe to keep and to serialise."""

    calls: int
    errors: int
    retries: int
    rate_limit_waits: int
    endpoints: dict[str, dict[str, object]]


class Stats:
    """Always-on, in-process counters: a few dict updates per call."""

    def __init__(self) -> None:
        self.endpoints: dict[str, EndpointStats] = defaultdict(EndpointStats)

    def record(self, method: str, path: str, status: int | None, error: str | None, duration_ms: float | None) -> None:
        """Count one finished call (``duration_ms`` None: a call cut short, left out of latencies)."""
        entry = self.endpoints[f"{method} {path}"]
        entry.calls += 1
        if error is not None:
            entry.errors += 1
        entry.by_status[str(status) if status is not None else (error or "none")] += 1
        if duration_ms is not None:
            entry.latencies_ms.append(duration_ms)

    def retried(self, method: str, path: str) -> None:
        self.endpoints[f"{method} {path}"].retries += 1

    def snapshot(self, rate_limit_waits: int) -> StatsSnapshot:
        endpoints: dict[str, dict[str, object]] = {}
        for key, e in self.endpoints.items():
            endpoints[key] = {
                "calls": e.calls,
                "errors": e.errors,
                "retries": e.retries,
                "by_status": dict(e.by_status),
                "p50_ms": e.percentile(0.50),
                "p95_ms": e.percentile(0.95),
                "p99_ms": e.percentile(0.99),
            }
        return StatsSnapshot(
            calls=sum(e.calls for e in self.endpoints.values()),
            errors=sum(e.errors for e in self.endpoints.values()),
            retries=sum(e.retries for e in self.endpoints.values()),
            rate_limit_waits=rate_limit_waits,
            endpoints=endpoints,
        )

"""``client.health()``: is the API reachable with this key, and how fast?"""

from __future__ import annotations

import json
import time

from pydantic import BaseModel, ConfigDict

from ._errors import StripeError
from ._request import Requester


class HealthStatus(BaseModel):
    """The outcome of one cheap read (``GET /v1/balance``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    ok: bool
    latency_ms: float
    livemode: bool | None = None
    request_id: str | None = None
    error: StripeError | None = None


async def check_health(requester: Requester) -> HealthStatus:
    """One read with no retries; never raises for an unreachable or unauthorized API."""
    once = requester.evolve(max_retries=0)
    started = time.perf_counter()
    try:
        response = await once.send("GET", "/v1/balance")
    except StripeError as exc:
        return HealthStatus(
            ok=False,
            latency_ms=(time.perf_counter() - started) * 1000,
            request_id=getattr(exc, "request_id", None),
            error=exc,
        )
    return HealthStatus(
        ok=True,
        latency_ms=(time.perf_counter() - started) * 1000,
        livemode=_livemode(response.content),
        request_id=response.headers.get("request-id"),
    )


def _livemode(body: bytes) -> bool | None:
    try:
        value = json.loads(body).get("livemode")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, bool) else None

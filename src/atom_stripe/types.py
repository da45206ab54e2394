"""The public types that calls return or take: import them from here, not from the modules
that define them (those are private and may move).

>>> from atom_stripe.types import AsyncPaginator, CallRecord, StatsSnapshot
"""

from __future__ import annotations

from ._health import HealthStatus
from ._hooks import CallRecord, EndpointStats, Hook, HookName, StatsSnapshot
from ._pagination import AsyncPaginator, Page, SearchPage
from ._service import Service

__all__ = [
    "AsyncPaginator",
    "CallRecord",
    "EndpointStats",
    "HealthStatus",
    "Hook",
    "HookName",
    "Page",
    "SearchPage",
    "Service",
    "StatsSnapshot",
]

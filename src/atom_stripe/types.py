"""The public types that calls return or take: import them from here, not from the modules
that define them (those are private and may move).

>>> from atom_stripe.types import AsyncPaginator, CallRecord, StatsSnapshot

``check_params(schema, params)`` and ``fields_of(schema)`` walk a generated params TypedDict
(``atom_stripe.models.params``) the way every call does: the shipped fake and the FastAPI
router check what they are given with them.
"""

from __future__ import annotations

from ._health import HealthStatus
from ._hooks import CallRecord, EndpointStats, Hook, HookName, StatsSnapshot
from ._pagination import AsyncPaginator, Page, SearchPage
from ._service import Service
from ._validation import check_params, fields_of

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
    "check_params",
    "fields_of",
]

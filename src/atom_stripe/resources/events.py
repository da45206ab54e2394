"""``client.events``: ``/v1/events`` (the last 30 days)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page
from ..models.event import Event, event_adapter
from ..params.event import EventListParams
from ._base import Resource


class Events(Resource):
    """What happened in the account, newest first; ``data.object`` parsed into its model."""

    async def retrieve(
        self,
        event: str,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
    ) -> Event:
        """Retrieve an event."""
        return await self._call(
            "GET",
            "/v1/events/{event}",
            event_adapter(),
            ids={"event": event},
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

    def list(
        self,
        *,
        expand: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        stripe_account: str | None = None,
        **params: Unpack[EventListParams],
    ) -> AsyncPaginator[Event, Page[Event]]:
        """List events (``type="charge.*"``, ``types=[...]``, ``created={"gte": ...}``)."""
        return self._paginate(
            "/v1/events",
            Page[Event],
            schema=EventListParams,
            params=params,
            expand=expand,
            extra_params=extra_params,
            stripe_account=stripe_account,
        )

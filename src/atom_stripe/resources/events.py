"""``client.events``: ``/v1/events`` (the last 30 days)."""

from __future__ import annotations

from typing_extensions import Unpack

from .._pagination import AsyncPaginator, Page
from ..models.event import Event, event_adapter
from ..params._options import ReadOptions
from ..params.event import EventListArgs, EventListParams
from ._base import Resource


class Events(Resource):
    """What happened in the account, newest first; ``data.object`` parsed into its model."""

    async def retrieve(self, event: str, **args: Unpack[ReadOptions]) -> Event:
        """Retrieve an event."""
        return await self._call("GET", "/v1/events/{event}", event_adapter(), args, event=event)

    def list(self, **args: Unpack[EventListArgs]) -> AsyncPaginator[Event, Page[Event]]:
        """List events (``type="charge.*"``, ``types=[...]``, ``created={"gte": ...}``)."""
        return self._paginate("/v1/events", Page[Event], EventListParams, args)

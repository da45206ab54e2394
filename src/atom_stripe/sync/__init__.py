"""A local mirror of a Stripe account in DuckDB (``pip install atom_stripe[sync]``) or
PostgreSQL (``Mirror.connect("postgresql://...")``, ``atom_stripe[postgres]``).

::

    from atom_stripe.sync import Mirror

    async with await Mirror.open("stripe.duckdb") as mirror:
        await mirror.backfill(client)        # resumable; concurrent created-ranges
        await mirror.apply(event)            # a webhook event; never overwrites a newer row
        await mirror.catch_up(client)        # events.list since the stored cursor
        frame = await mirror.sql("select id, email from stripe.customer where not deleted")
        report = await mirror.verify(client, sample=50)   # a random sample compared with Stripe
"""

from ._backfill import Progress
from ._errors import EventCursorExpiredError, SyncDatabaseError, SyncError, SyncStateError, SyncStripeError
from ._mirror import Mirror, Status, TypeStatus
from ._schema import DEFAULT_TYPES
from ._verify import TypeReport, VerifyReport

__all__ = [
    "DEFAULT_TYPES",
    "EventCursorExpiredError",
    "Mirror",
    "Progress",
    "SyncDatabaseError",
    "SyncError",
    "SyncStateError",
    "Status",
    "SyncStripeError",
    "TypeReport",
    "TypeStatus",
    "VerifyReport",
]

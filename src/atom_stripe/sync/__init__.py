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

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
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

# Every name is loaded on first use: ``atom-stripe --help`` and the CLI's other commands register
# ``sync``'s arguments without loading the mirror, DuckDB or the event models.
_WHERE = {
    "Progress": "._backfill",
    **dict.fromkeys(
        ("EventCursorExpiredError", "SyncDatabaseError", "SyncError", "SyncStateError", "SyncStripeError"), "._errors"
    ),
    **dict.fromkeys(("Mirror", "Status", "TypeStatus"), "._mirror"),
    "DEFAULT_TYPES": "._schema",
    **dict.fromkeys(("TypeReport", "VerifyReport"), "._verify"),
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)

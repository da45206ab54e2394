"""The mirror's errors: every failure of Stripe or of the database leaves ``atom_stripe.sync`` as a
:class:`SyncError` (a :class:`~atom_stripe.StripeError`), the original kept as ``__cause__``."""

from __future__ import annotations

from .._errors import StripeError


class SyncError(StripeError):
    """A mirror operation failed; the stored range positions and event cursor stay consistent
    (a range moves on only once its rows are committed), so the same call can simply be retried."""


class SyncStripeError(SyncError):
    """Stripe answered with an error (after the client's own retries): ``__cause__`` is the client's error."""


class SyncDatabaseError(SyncError):
    """The database refused a statement or could not be opened: ``__cause__`` is the driver's error."""


class SyncStateError(SyncError):
    """The mirror cannot do this from its stored state, e.g. ``catch_up`` before any ``backfill``."""


class EventCursorExpiredError(SyncStateError):
    """The stored event cursor is older than Stripe keeps events (30 days): events in between are
    gone, so the mirror must be backfilled again (``mirror.backfill(client, restart=True)``)."""

    def __init__(self, message: str, *, cursor: int | None = None) -> None:
        # cursor optional: built like every StripeError from a message alone (tests/unit/test_pickle.py).
        super().__init__(message)
        #: The stored cursor (unix seconds of the last applied event), when known.
        self.cursor = cursor

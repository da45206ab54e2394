"""Where analytics read objects from: a client (list calls to Stripe) or a local mirror."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..sync import Mirror


def mirror_of(source: Any) -> Mirror | None:
    """``source`` when it is a :class:`~atom_stripe.sync.Mirror`, else None (a client)."""
    # By module, so that analytics on a client never imports the sync package.
    if not type(source).__module__.startswith("atom_stripe.sync"):
        return None
    from ..sync import Mirror

    return source if isinstance(source, Mirror) else None

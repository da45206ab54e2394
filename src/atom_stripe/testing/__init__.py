"""A testing kit for services that use atom_stripe (``pip install atom_stripe[testing]``).

:class:`FakeStripe` is an in-process, stateful Stripe built from the table of endpoints and
Stripe's example objects: every operation answers, requests are checked against the same typed
parameters the client uses, objects are kept, events are recorded and webhooks delivered.
The pytest plugin (registered by the package's ``pytest11`` entry point) gives the fixtures
``stripe_fake`` and ``stripe_client``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._fake import FAKE_KEY, FakeStripe, FakeTransport
    from ._payments import CARDS
    from ._webhooks import Delivery

__all__ = ["CARDS", "FAKE_KEY", "Delivery", "FakeStripe", "FakeTransport"]

# Loaded on first use: the pytest plugin (a submodule, loaded by every pytest run where
# atom_stripe is installed) must not pay for the fake by importing this package.
_WHERE = {"CARDS": "._payments", "FAKE_KEY": "._fake", "Delivery": "._webhooks", "FakeStripe": "._fake"}
_WHERE["FakeTransport"] = "._fake"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)

"""pytest fixtures for a fake Stripe: ``stripe_fake`` (a fresh :class:`FakeStripe` per test) and
``stripe_client`` (an ``AsyncStripeClient`` on it).

Both are plain (synchronous) fixtures: they need no event loop to set up or tear down, so they
work the same under pytest-asyncio, anyio's plugin (asyncio or trio) and any other runner.
Registered through the ``pytest11`` entry point of ``atom_stripe``; nothing to configure.

The entry point loads this module into every pytest run wherever atom_stripe is installed, so
it imports nothing of the fake or the client itself: the fixtures do, when a test first uses
one (tests/fake/test_fake_plugin.py holds it to that).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .._client import AsyncStripeClient
    from ._fake import FakeStripe


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    """A fresh, empty fake Stripe for one test."""
    from ._fake import FakeStripe

    fake = FakeStripe()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def stripe_client(stripe_fake: FakeStripe) -> AsyncStripeClient:
    """An ``AsyncStripeClient`` wired to ``stripe_fake`` (no sockets, no key needed)."""
    return stripe_fake.client()

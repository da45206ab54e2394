"""Optional parts: the one way an import that fails for want of an extra says which ``pip install`` to run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._errors import MissingExtraError

__all__ = ["needs_extra"]


@contextmanager
def needs_extra(extra: str) -> Iterator[None]:
    """Wrap an optional part's imports (at module level or inside the call that needs them): a
    missing module raises :class:`MissingExtraError` naming ``pip install 'atom_stripe[extra]'``
    (still an ``ImportError``). Only a missing module counts: an installed package that fails
    to import is a broken install, and its own error says more than ours would."""
    try:
        yield
    except ModuleNotFoundError as exc:
        raise MissingExtraError(extra, exc.name and exc.name.partition(".")[0]) from exc

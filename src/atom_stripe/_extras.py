"""Optional parts: an import that fails for want of an extra says which ``pip install`` to run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._errors import MissingExtraError


@contextmanager
def needs_extra(extra: str) -> Iterator[None]:
    """Wrap an optional part's imports: a missing module raises :class:`MissingExtraError`
    naming ``pip install 'atom_stripe[extra]'`` (still an ``ImportError``)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        raise MissingExtraError(extra, exc.name) from exc

"""The optional packages analytics needs, imported only when a function needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from .._errors import MissingExtraError

__all__ = ["MissingExtraError", "need"]


def need(module: str, extra: str = "analytics") -> ModuleType:
    """Import ``module`` or say which ``pip install`` brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(extra, module.split(".")[0]) from None

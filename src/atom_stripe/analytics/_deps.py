"""The optional packages analytics needs, imported only when a function needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from .._errors import StripeError


class MissingExtraError(StripeError, ImportError):
    """An optional package is not installed; the message names the extra that brings it."""


def need(module: str, extra: str = "analytics") -> ModuleType:
    """Import ``module`` or say which ``pip install`` brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise MissingExtraError(f"this needs the {package!r} package: pip install 'atom_stripe[{extra}]'") from None

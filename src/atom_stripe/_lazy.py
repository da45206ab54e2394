"""Names a package exports but loads on first use (PEP 562): importing the package, or any of
its submodules, loads none of the modules behind them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, where: Mapping[str, str], names: Collection[str], default: str | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: each of ``names`` read from the module
    ``where`` gives it (relative to the package; ``default`` for the rest), then kept in the
    package so the next read is a plain one."""

    def __getattr__(name: str) -> Any:
        module = where.get(name, default) if name in names else None
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        vars(sys.modules[package])[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__

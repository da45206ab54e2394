"""Import-time savings that change nothing a program can see.

``import httpx`` also imports httpx's command-line tool (``httpx._main``: click, rich and
pygments, about 70 modules and 35 ms) whenever those happen to be installed, only to
export ``httpx.main``. Before httpx is first imported, a stand-in takes ``httpx._main``'s
place: ``httpx.main()`` and any attribute of ``httpx._main`` load the real module on
first use, so the tool still works, and a program that never runs it never pays for it.
Nothing is done when httpx is already imported.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import Any

_NAME = "httpx._main"


class _DeferredMain(types.ModuleType):
    """``httpx._main`` until something uses it; then the real module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system asks for __path__ and the like: not a use
            raise AttributeError(name)
        return getattr(_load(), name)


def _load() -> types.ModuleType:
    if isinstance(sys.modules.get(_NAME), _DeferredMain):
        del sys.modules[_NAME]
    real = import_module(_NAME)
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(getattr(httpx, "_main", None), _DeferredMain):
        httpx._main = real  # type: ignore[attr-defined]
    return real


def main(*args: Any, **kwargs: Any) -> Any:
    """httpx's command-line entry point, loaded when called."""
    return _load().main(*args, **kwargs)


def defer_httpx_cli() -> None:
    if "httpx" in sys.modules or _NAME in sys.modules:
        return
    stand_in = _DeferredMain(_NAME, "httpx's command-line tool, loaded on first use (see atom_stripe._lighter)")
    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in


defer_httpx_cli()

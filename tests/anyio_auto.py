"""``anyio_mode = "auto"`` for anyio releases older than 4.11 (which ignore that option): every
coroutine test is marked ``anyio``, so the lowest-versions lane (scripts/test-lowest.sh) runs the
same tests, on asyncio and trio, with the anyio the package's floor allows. Loaded with
``-p tests.anyio_auto``."""

from __future__ import annotations

import inspect
from typing import Any

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> None:
    inner = obj.hypothesis.inner_test if hasattr(obj, "hypothesis") else obj
    if collector.istestfunction(obj, name) and inspect.iscoroutinefunction(inner):  # type: ignore[attr-defined]
        # What anyio's own hook does for a marked test (it may run before this one).
        pytest.mark.anyio(obj)
        pytest.mark.usefixtures("anyio_backend")(obj)

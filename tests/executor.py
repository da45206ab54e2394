"""Run notebook cells or documentation samples top to bottom, as Jupyter would: top-level ``await``
allowed, one namespace shared by the cells, the last expression of a cell displayed."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from typing import Any

import anyio


async def run_cells(
    cells: list[tuple[str, str]], namespace: dict[str, Any], show: Callable[[Any], Any] | None = None
) -> list[Any]:
    """Run (name, source) cells in order; return what each cell's last expression displayed
    (``show`` turns the value into that; default: its HTML or its repr)."""
    shown: list[Any] = []
    for name, source in cells:
        tree = ast.parse(source, filename=name)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            final = tree.body.pop()
            assert isinstance(final, ast.Expr)
            last = ast.Expression(final.value)
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        code = compile(tree, name, "exec", flags=flags)
        if code.co_flags & inspect.CO_COROUTINE:
            await eval(code, namespace)
        else:
            # A cell with no await runs in a worker thread, so it may start an event loop itself.
            await anyio.to_thread.run_sync(eval, code, namespace)
        value = None
        if last is not None:
            value = eval(compile(last, name, "eval", flags=flags), namespace)
            if inspect.iscoroutine(value):
                value = await value
        shown.append((show or display)(value))
    return shown


def display(value: Any) -> Any:
    """What a notebook would render: the HTML representation when there is one."""
    if value is None:
        return None
    html = getattr(value, "_repr_html_", None)
    return html() if callable(html) else repr(value)

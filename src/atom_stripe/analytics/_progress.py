"""A live count of objects fetched, for long pulls (the CLI's export, ``to_frame`` in a notebook)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

#: Seconds between two updates of a notebook's display (each one is a message to the browser).
NOTEBOOK_EVERY = 0.25


def notebook_display() -> Callable[..., Any] | None:
    """IPython's ``display`` when running in a Jupyter kernel, else None."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "kernel"):
        return None
    # Imported by name: IPython is there whenever a kernel runs, and is no dependency of ours.
    display: Callable[..., Any] = getattr(import_module("IPython.display"), "display")
    return display


class Progress:
    """A live count: in a Jupyter notebook, one output line updated in place (no ipywidgets
    needed, nothing on stderr); elsewhere, on standard error, rich's progress display when
    installed (the ``cli`` extra), else a plain counter every 1,000. Stripe lists carry no
    total, so it counts, with the elapsed time."""

    def __init__(self, kind: str, *, verb: str = "fetched") -> None:
        self.kind = kind
        self.verb = verb
        self.count = 0
        self._rich: Any = None
        self._cell: Any = None
        self._started = self._shown = time.monotonic()
        display = notebook_display()
        if display is not None:
            # rich's display needs ipywidgets in Jupyter (and warns without it): a plain line does not.
            self._cell = display({"text/plain": self._line()}, raw=True, display_id=True)
            return
        try:
            from rich.console import Console
            from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        except ImportError:
            return
        self._rich = Progress(
            SpinnerColumn(),
            TextColumn(f"{verb} {{task.description}}"),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._rich.add_task(kind, total=None)
        self._rich.start()

    def _line(self, elapsed: float | None = None) -> str:
        took = f" in {elapsed:.1f} s" if elapsed is not None else ""
        return f"{self.verb} {self.count} {self.kind}{took}"

    def advance(self, n: int = 1) -> None:
        before, self.count = self.count, self.count + n
        if self._cell is not None:
            now = time.monotonic()
            if now - self._shown >= NOTEBOOK_EVERY:
                self._shown = now
                self._cell.update({"text/plain": self._line()}, raw=True)
        elif self._rich is not None:
            self._rich.update(self._task, completed=self.count)
        elif self.count // 1000 > before // 1000:
            print(f"\r{self._line()}", end="", file=sys.stderr, flush=True)

    def abandon(self) -> None:
        """Stop a live display without its final count (the run failed; its error says why)."""
        if self._rich is not None:
            self._rich.stop()

    def close(self) -> None:
        if self._cell is not None:
            self._cell.update({"text/plain": self._line(time.monotonic() - self._started)}, raw=True)
            return
        if self._rich is not None:
            self._rich.stop()
        print(f"\r{self._line()}", file=sys.stderr)

"""A live count of objects fetched, for long pulls (the CLI's export, ``to_frame`` in a notebook)."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """A live count on standard error: rich's progress display when installed (the ``cli``
    extra), else a plain counter every 1,000. Stripe lists carry no total, so it counts,
    with the elapsed time."""

    def __init__(self, kind: str, *, verb: str = "fetched") -> None:
        self.kind = kind
        self.verb = verb
        self.count = 0
        self._rich: Any = None
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

    def advance(self, n: int = 1) -> None:
        before, self.count = self.count, self.count + n
        if self._rich is not None:
            self._rich.update(self._task, completed=self.count)
        elif self.count // 1000 > before // 1000:
            print(f"\r{self.verb} {self.count} {self.kind}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        print(f"\r{self.verb} {self.count} {self.kind}", file=sys.stderr)

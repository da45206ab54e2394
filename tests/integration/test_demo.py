"""The README's first command: the demo runs the full flow against a localstripe it starts itself."""

from __future__ import annotations

import subprocess
import sys

from ..helpers import ROOT


def test_demo_runs_the_whole_flow_and_exits_0() -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "demo.py")], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for line in (
        "product",
        "payment (pm_card_visa)",
        "partial refund",
        "declined card",
        "CardError 402",
        "auto-paginated",
        "events recorded",
        "webhook delivered + verified",
        "health",
    ):
        assert line in done.stdout, line

"""The committed "what the fake simulates" page is exactly what tools/fake_simulated.py writes from
the code today (no hand edits, no drift), and the principle is stated where users read it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ..helpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import fake_simulated


def test_the_simulated_page_matches_the_code() -> None:
    committed = fake_simulated.PAGE.read_text()
    assert committed == fake_simulated.render(), "docs/fake-simulated.md is stale: run tools/fake_simulated.py"


def test_the_principle_is_in_the_testing_docs_and_the_nav() -> None:
    testing = (ROOT / "docs" / "testing.md").read_text()
    assert "fake_not_simulated" in testing and "fake-simulated.md" in testing
    assert "fake-simulated.md" in (ROOT / "mkdocs.yml").read_text()


def worked_example() -> str:
    """The code of docs/testing.md's worked example (the service, then its tests), as written."""
    text = (ROOT / "docs" / "testing.md").read_text()
    section = text.split("## A worked example", 1)[1].split("\n## ", 1)[0]
    return "\n\n".join(re.findall(r"^```python\n(.*?)^```", section, re.S | re.M))


def test_the_worked_example_runs_as_written(tmp_path: Path) -> None:
    """The example as a test module of its own, under pytest-asyncio's ``asyncio_mode = auto``
    as the docs say: every test passes, and the webhook was handled once."""
    (tmp_path / "test_shop.py").write_text(worked_example())
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 passed" in done.stdout

"""The committed "what the fake simulates" page is exactly what tools/fake_simulated.py writes from
the code today (no hand edits, no drift), and the principle is stated where users read it."""

from __future__ import annotations

import sys

from .helpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import fake_simulated


def test_the_simulated_page_matches_the_code() -> None:
    committed = fake_simulated.PAGE.read_text()
    assert committed == fake_simulated.render(), "docs/fake-simulated.md is stale: run tools/fake_simulated.py"


def test_the_principle_is_in_the_testing_docs_and_the_nav() -> None:
    testing = (ROOT / "docs" / "testing.md").read_text()
    assert "fake_not_simulated" in testing and "fake-simulated.md" in testing
    assert "fake-simulated.md" in (ROOT / "mkdocs.yml").read_text()

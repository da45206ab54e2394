"""Every ```python sample in docs/ runs, page by page, against a respx stand-in for Stripe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from ..executor import run_cells
from ..fakestripe import FakeStripe
from ..helpers import ROOT

DOCS = ROOT / "docs"
SAMPLE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = sorted(p for p in DOCS.glob("*.md") if SAMPLE.search(p.read_text()))


@pytest.fixture
def fake_stripe(page: Path) -> Iterator[FakeStripe]:
    fake = FakeStripe()
    if "respx.mock(" in page.read_text():  # the page mocks Stripe itself (respx routers do not nest)
        yield fake
        return
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.route(host="api.stripe.com").mock(side_effect=fake.answer)
        router.route(host="connect.stripe.com").mock(side_effect=fake.answer)
        yield fake


def test_every_page_with_samples_is_covered() -> None:
    assert len(PAGES) >= 15


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
async def test_samples_run(
    page: Path, fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_docs")
    monkeypatch.delenv("STRIPE_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    cells = [(f"{page.name} sample {i}", m.group(1)) for i, m in enumerate(SAMPLE.finditer(page.read_text()))]
    await run_cells(cells, {"__name__": f"docs_{page.stem}"})
    if page.stem not in {"money", "webhooks", "cli", "fastapi", "testing"}:
        assert fake_stripe.requests, "the samples of this page made no request"

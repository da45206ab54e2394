"""Every ```python sample in docs/ runs, page by page, against the shipped fake Stripe (through respx)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import respx

from atom_stripe.testing import FakeStripe, FakeTransport

from ..executor import run_cells
from ..helpers import ROOT, examples, form

DOCS = ROOT / "docs"
SAMPLE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
OBJECT_ID = re.compile(r"\b([a-z]+)_([A-Za-z0-9]{3,})\b")
#: Accounts a page acts for (``stripe_account=``, ``stripe_context=``, ``for_account``), short ids included.
ACCOUNT_ID = re.compile(r"\bacct_[A-Za-z0-9]+\b")


def _kinds() -> dict[str, str]:
    """Id prefix -> object type, from Stripe's example objects; of the types sharing a prefix, the
    one it abbreviates (``cus``: customer, not deleted_customer; ``sub``: subscription)."""
    found: dict[str, list[str]] = {}
    for kind, example in examples().items():
        prefix, _, rest = str(example.get("id")).partition("_")
        if rest and not kind.startswith("deleted_"):
            found.setdefault(prefix, []).append(kind)
    return {p: min(kinds, key=lambda k: (not k.startswith(p), len(k))) for p, kinds in found.items()}


KINDS = _kinds()
REFUNDED_INTENT, REFUNDED_CHARGE = "pi_3MtwBwLkdIwHu7ix28a3tqPa", "ch_3MtwBwLkdIwHu7ix28a3tqPa"
CHARGE = "ch_3MmlLrLkdIwHu7ix0snN0B15"
ACCOUNT = "acct_1Nv0FGQ9RKHgCVdK"
PAGES = sorted(p for p in DOCS.glob("*.md") if SAMPLE.search(p.read_text()))


async def scene(fake: FakeStripe, page: Path) -> None:
    """What a page's samples find on Stripe before they run: the objects they name by the ids of
    Stripe's API reference (``cus_NffrFeUfNV2Hib``; ``cus_doesnotexist`` stays missing, a sample's
    404), and for some pages the history they read."""
    text = page.read_text()
    if page.stem == "refunds":  # payments with 2,000 cents left to refund
        fake.add("charge", id=REFUNDED_CHARGE, amount=2000, amount_captured=2000, amount_refunded=0, refunded=False)
        fake.add("payment_intent", id=REFUNDED_INTENT, amount=2000, status="succeeded", latest_charge=REFUNDED_CHARGE)
        fake.add("charge", id=CHARGE, amount=2000, amount_captured=2000, amount_refunded=0, refunded=False)
    if page.stem == "analytics":  # payments to tabulate
        async with fake.client() as stripe:
            for amount in (1200, 3400, 560):
                await stripe.payment_intents.create(
                    amount=amount, currency="usd", payment_method="pm_card_visa", confirm=True
                )
    accounts = sorted(set(ACCOUNT_ID.findall(text)))
    for account in accounts:  # connected accounts of the platform, each seeing the page's objects too
        fake.add("account", id=account)
    if page.stem == "v2":  # the meter its meter events are for (v2's create validates them against it)
        fake.add(
            "billing.meter",
            event_name="api_call",
            status="active",
            customer_mapping={"type": "by_id", "event_payload_key": "stripe_customer_id"},
        )
    if page.stem == "thin-events":  # the meter its notification names (``mtr`` is also a summary's prefix)
        for account in (None, *accounts):
            fake.add("billing.meter", id="mtr_123", stripe_account=account)
    for prefix, name in OBJECT_ID.findall(text):
        if prefix in KINDS and prefix != "acct" and name != "doesnotexist" and fake.get(f"{prefix}_{name}") is None:
            for account in (None, *accounts):
                fake.add(KINDS[prefix], id=f"{prefix}_{name}", stripe_account=account)
    fake.requests.clear()


#: Pages whose samples run on the shipped fake alone (its OAuth included): nothing to stand in for.
SHIPPED_FAKE_ONLY = {"testing-connect", "testing-v2"}


def connect(request: httpx.Request) -> httpx.Response:
    """Connect's OAuth host (``connect.stripe.com``), which the fake does not play: a grant, a deauthorization."""
    if request.url.path == "/oauth/deauthorize":
        return httpx.Response(200, json={"stripe_user_id": dict(form(request))["stripe_user_id"]})
    token = {"access_token": "sk_test_connected_docs", "refresh_token": "rt_docs", "token_type": "bearer"}
    return httpx.Response(200, json={**token, "scope": "read_write", "livemode": False, "stripe_user_id": ACCOUNT})


@pytest.fixture
async def stripe_calls(page: Path) -> AsyncIterator[Callable[[], int]]:
    """How many requests the page's samples have sent to Stripe (the fake) and to Connect."""
    fake = FakeStripe()
    await scene(fake, page)
    # The page mocks Stripe itself (respx routers do not nest), or runs on the shipped fake alone.
    if "respx.mock(" in page.read_text() or page.stem in SHIPPED_FAKE_ONLY:
        yield lambda: len(fake.requests)
        return
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.route(host="api.stripe.com").mock(side_effect=FakeTransport(fake).handle_async_request)
        router.route(host="meter-events.stripe.com").mock(side_effect=FakeTransport(fake).handle_async_request)
        connect_route = router.route(host="connect.stripe.com").mock(side_effect=connect)
        yield lambda: len(fake.requests) + connect_route.call_count


def test_every_page_with_samples_is_covered() -> None:
    assert len(PAGES) >= 15


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
async def test_samples_run(
    page: Path, stripe_calls: Callable[[], int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_docs")
    monkeypatch.delenv("STRIPE_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    cells = [(f"{page.name} sample {i}", m.group(1)) for i, m in enumerate(SAMPLE.finditer(page.read_text()))]
    await run_cells(cells, {"__name__": f"docs_{page.stem}"})
    if page.stem not in {"money", "webhooks", "cli", "fastapi", "testing", *SHIPPED_FAKE_ONLY}:
        assert stripe_calls(), "the samples of this page made no request"

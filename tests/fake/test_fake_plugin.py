"""The pytest plugin as a service's suite meets it: registered by the entry point declared in
pyproject.toml, its fixtures working under pytest-asyncio, anyio's plugin on asyncio and on trio."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from atom_stripe import AsyncStripeClient
from atom_stripe.testing import FakeStripe

from ..helpers import ROOT

SERVICE_TESTS = """
import pytest
import pytest_asyncio

from atom_stripe import CardError


async def flow(stripe_fake, stripe_client):
    customer = await stripe_client.customers.create(email="a@example.com")
    assert stripe_fake.get(customer.id)["email"] == "a@example.com"
    with pytest.raises(CardError) as declined:
        await stripe_client.payments.create(
            amount=500, currency="usd", payment_method="pm_card_visa_chargeDeclined", confirm=True
        )
    assert declined.value.code == "card_declined"
    assert [r["path"] for r in stripe_fake.requests] == ["/v1/customers", "/v1/payment_intents"]


@pytest_asyncio.fixture
async def customer(stripe_client):
    return await stripe_client.customers.create(name="from an async fixture")


@pytest.mark.asyncio
async def test_pytest_asyncio(stripe_fake, stripe_client, customer):
    assert stripe_fake.get(customer.id)["name"] == "from an async fixture"
    stripe_fake.requests.clear()
    await flow(stripe_fake, stripe_client)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_anyio(stripe_fake, stripe_client, anyio_backend):
    await flow(stripe_fake, stripe_client)


def test_each_test_gets_a_fresh_fake(stripe_fake):
    assert stripe_fake.requests == [] and stripe_fake.events() == []
"""


def entry_point_dist(where: Path) -> Path:
    """A distribution's metadata declaring pyproject.toml's pytest11 entry points (what pip writes)."""
    section = (ROOT / "pyproject.toml").read_text().split("[project.entry-points.pytest11]\n")[1].split("\n[")[0]
    points = dict(re.findall(r'^"?([\w.]+)"? = "([\w.:]+)"$', section, re.M))
    assert points == {"atom_stripe.testing.pytest_plugin": "atom_stripe.testing.pytest_plugin"}
    dist = where / "atom_stripe_entry_points-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: atom-stripe-entry-points\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))
    return where


def test_fixtures_under_pytest_asyncio_anyio_and_trio(tmp_path: Path) -> None:
    spec = importlib.util.find_spec("pytest_asyncio")  # a dev dependency: the runner ATOM services use
    assert spec is not None and spec.origin is not None, "pytest-asyncio is not installed (pip install -e '.[dev]')"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_service.py").write_text(SERVICE_TESTS)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    site = entry_point_dist(tmp_path / "site")
    paths = [str(site), str(ROOT / "src"), str(Path(spec.origin).parent.parent)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTEST_ADDOPTS": ""}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout


def test_the_project_suite_gets_the_fixtures(stripe_fake: FakeStripe, stripe_client: AsyncStripeClient) -> None:
    assert stripe_client.http_client is stripe_fake._clients[-1]


def test_the_plugin_costs_nothing_until_a_fixture_is_used() -> None:
    """The entry point loads the plugin into every pytest run wherever atom_stripe is installed:
    importing it loads nothing of the fake or the client, and takes well under 20 ms."""
    code = (
        "import sys, pytest; import atom_stripe.testing.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith('atom_stripe')))"
    )
    # The best of a few fresh processes: a busy machine (the suite runs three workers on two
    # cores) can stall one import; the cost itself is what the best run shows.
    timings: list[str] = []
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == str(
            [
                "atom_stripe",
                "atom_stripe._lazy",  # the packages' load-on-first-use helper: the standard library only
                "atom_stripe._version",
                "atom_stripe.testing",
                "atom_stripe.testing.pytest_plugin",
            ]
        )
        line = next(li for li in done.stderr.splitlines() if li.endswith("| atom_stripe.testing.pytest_plugin"))
        timings.append(line)
        if int(line.split("|")[1]) < 20_000:
            break
    cumulative_us = min(int(line.split("|")[1]) for line in timings)
    assert cumulative_us < 20_000, timings


def test_a_fixture_still_brings_the_fake_and_the_client(
    stripe_fake: FakeStripe, stripe_client: AsyncStripeClient
) -> None:
    assert isinstance(stripe_fake, FakeStripe) and isinstance(stripe_client, AsyncStripeClient)
    assert "atom_stripe.testing._fake" in sys.modules and "atom_stripe._client" in sys.modules

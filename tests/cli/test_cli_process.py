"""``atom-stripe`` as a new user runs it: a child process against the shipped fake on loopback."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from atom_stripe.cli import EXIT_CONNECTION, EXIT_OK, EXIT_USAGE, PREFIXES
from atom_stripe.testing import FakeStripe
from atom_stripe.webhooks import generate_test_header

from ..helpers import ROOT

KEY = "sk_test_cli_process"


async def seed(fake: FakeStripe) -> dict[str, str]:
    """One object of each kind ``get`` is asked for, and customers to filter."""
    async with fake.client() as stripe:
        jenny = await stripe.customers.create(email="jenny@example.com", name="Jenny Rosen", address={"city": "Paris"})
        other = await stripe.customers.create(email="other@example.com")
        price = await stripe.prices.create(
            currency="usd", unit_amount=1000, recurring={"interval": "month"}, product_data={"name": "Pro"}
        )
        sub = await stripe.subscriptions.create(customer=jenny.id, items=[{"price": price.id}])
        await stripe.subscriptions.cancel(sub.id)
        live = await stripe.subscriptions.create(customer=other.id, items=[{"price": price.id}])
        pm = await stripe.payment_methods.create(type="card", card={"token": "tok_visa"})
        seti = await stripe.setup_intents.create(customer=jenny.id)
        cs = await stripe.checkout.sessions.create(
            mode="payment",
            success_url="https://example.com/ok",
            line_items=[{"price": price.id, "quantity": 1}],
        )
        invoice = await stripe.invoices.create(customer=jenny.id)
        return {
            "jenny": jenny.id,
            "other": other.id,
            "canceled": sub.id,
            "live": live.id,
            "in_": invoice.id,
            "pm_": pm.id,
            "si_": live.items.data[0].id,
            "seti_": seti.id,
            "cs_": cs.id,
        }


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, dict[str, str]]]:
    fake = FakeStripe()
    with start_blocking_portal() as portal:
        ids = portal.call(seed, fake)
        with portal.wrap_async_context_manager(fake.serve()) as url:
            yield url, ids
    fake.close()


def cli(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console entry point in a child process, with only the environment given."""
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "atom_stripe.cli", *args],
        input=stdin.decode(),
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src"), "STRIPE_API_KEY": KEY, **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("prefix", ["in_", "pm_", "si_", "seti_", "cs_"])
def test_get_knows_every_prefix_and_shows_every_field(served: tuple[str, dict[str, str]], prefix: str) -> None:
    url, ids = served
    done = cli("--base-url", url, "get", ids[prefix])
    assert done.returncode == EXIT_OK, done.stderr
    as_json = cli("--base-url", url, "get", ids[prefix], "--json")
    obj = json.loads(as_json.stdout)
    shown = done.stdout
    # A detail view: one `field: value` line per top-level field, nested ones indented.
    for field, value in obj.items():
        assert f"\n{field}:" in "\n" + shown, f"{field} missing from\n{shown}"
        if isinstance(value, (str, int)) and not isinstance(value, bool) and field != "created":
            assert f"{field}: {value}" in shown
    assert "created: " in shown and "Z" in shown.split("created: ", 1)[1].splitlines()[0]


def test_get_prefixes_come_from_stripe_s_examples() -> None:
    assert {"cus_": "customers", "in_": "invoices", "pm_": "payment_methods", "si_": "subscription_items"}.items() <= (
        PREFIXES.items()
    )
    assert PREFIXES["seti_"] == "setup_intents" and PREFIXES["cs_"] == "checkout.sessions"
    assert PREFIXES["sub_sched_"] == "subscription_schedules" and PREFIXES["sub_"] == "subscriptions"
    assert len(PREFIXES) > 60


def test_get_nests_what_is_nested(served: tuple[str, dict[str, str]]) -> None:
    url, ids = served
    shown = cli("--base-url", url, "get", ids["jenny"]).stdout
    assert "address:\n  city: Paris" in shown


def test_list_filters_by_any_list_parameter(served: tuple[str, dict[str, str]]) -> None:
    url, ids = served

    def listed(*args: str) -> list[str]:
        done = cli("--base-url", url, "subscriptions", "list", "--json", *args)
        assert done.returncode == EXIT_OK, done.stderr
        return [s["id"] for s in json.loads(done.stdout)]

    assert listed() == [ids["live"]]  # Stripe's default: not the canceled ones
    assert set(listed("--status", "all")) == {ids["live"], ids["canceled"]}
    assert listed("--status", "all", "--customer", ids["jenny"]) == [ids["canceled"]]
    assert listed("--param", f"customer={ids['other']}") == [ids["live"]]
    assert set(listed("--status", "all", "--created-gte", "2020-01-01")) == {ids["live"], ids["canceled"]}
    assert listed("--status", "all", "--created-lt", "2020-01-01") == []


def test_a_filter_is_checked_before_anything_is_sent(served: tuple[str, dict[str, str]]) -> None:
    url, _ = served
    done = cli("--base-url", url, "subscriptions", "list", "--custmer", "cus_1")
    assert done.returncode == EXIT_USAGE
    assert "custmer" in done.stderr and "did you mean" in done.stderr and "customer" in done.stderr
    done = cli("--base-url", url, "subscriptions", "list", "--created-gte", "yesterday")
    assert done.returncode == EXIT_USAGE and "created[gte]" in done.stderr and "2026-01-01" in done.stderr
    done = cli("--base-url", url, "customers", "list", "--param", "email")
    assert done.returncode == EXIT_USAGE and "key=value" in done.stderr


def test_export_takes_the_same_filters(served: tuple[str, dict[str, str]], tmp_path: Any) -> None:
    url, ids = served
    out = tmp_path / "subs.jsonl"
    done = cli("--base-url", url, "export", "subscriptions", "--out", str(out), "--status", "all")
    assert done.returncode == EXIT_OK, done.stderr
    assert {json.loads(line)["id"] for line in out.read_text().splitlines()} == {ids["live"], ids["canceled"]}


def test_tables_show_iso_dates(served: tuple[str, dict[str, str]]) -> None:
    url, _ = served
    done = cli("--base-url", url, "customers", "list")
    rows = done.stdout.splitlines()
    created = rows[1].split()[2]
    assert datetime.fromisoformat(created.replace("Z", "+00:00")).tzinfo == timezone.utc


def test_a_misspelt_resource_gets_a_suggestion(served: tuple[str, dict[str, str]]) -> None:
    url, _ = served
    done = cli("--base-url", url, "customer", "list")
    assert done.returncode == EXIT_USAGE
    assert "did you mean 'customers'" in done.stderr
    assert len(done.stderr) < 600  # not the list of a hundred resources
    done = cli("--base-url", url, "subscription_item", "list")
    assert "'subscription_items'" in done.stderr


def test_webhook_verify_reads_the_secret_from_the_environment() -> None:
    body = json.dumps({"id": "evt_env", "object": "event", "type": "customer.created", "data": {"object": {}}})
    header = generate_test_header(body.encode(), "whsec_from_env")
    done = cli(
        "webhook", "verify", "--signature", header, stdin=body.encode(), env={"STRIPE_WEBHOOK_SECRET": "whsec_from_env"}
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.strip() == "verified evt_env customer.created"
    assert "whsec_from_env" not in done.stderr + done.stdout
    done = cli("webhook", "verify", "--signature", header, stdin=body.encode())
    assert done.returncode == EXIT_USAGE and "STRIPE_WEBHOOK_SECRET" in done.stderr


def test_an_unreachable_host_is_named() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        done = cli("--base-url", f"http://127.0.0.1:{port}", "customers", "list")
    assert done.returncode == EXIT_CONNECTION
    assert f"127.0.0.1:{port}" in done.stderr


def test_a_long_all_pull_shows_progress_on_stderr(served: tuple[str, dict[str, str]]) -> None:
    url, ids = served
    done = cli("--base-url", url, "customers", "list", "--all", "--json")
    assert done.returncode == EXIT_OK, done.stderr
    assert {c["id"] for c in json.loads(done.stdout)} >= {ids["jenny"], ids["other"]}
    assert re.search(r"fetched \d+ customers", done.stderr)  # the analytics counter's last line


def test_the_parser_loads_nothing_of_the_mirror() -> None:
    """Every command registers ``sync``'s arguments; only ``sync`` itself loads the mirror (its
    event models, DuckDB): ``atom-stripe --help`` or a list call starts without them."""
    code = (
        "import sys; from atom_stripe.cli import parser; parser().parse_args(['customers', 'list']); "
        "watched = ('atom_stripe.sync', 'duckdb', 'atom_stripe.models.event'); "
        "print(sorted(m for m in sys.modules if m.startswith(watched)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        done.stdout.strip()
        == "['atom_stripe.sync', 'atom_stripe.sync._cli', 'atom_stripe.sync._errors', 'atom_stripe.sync._schema']"
    )

"""``atom-stripe`` against localstripe: tables, JSON, get by id, export, webhook verify, exit codes."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import anyio
import pytest

from atom_stripe import AsyncStripeClient
from atom_stripe.cli import EXIT_API, EXIT_CONNECTION, EXIT_OK, EXIT_SIGNATURE, EXIT_USAGE, main
from atom_stripe.webhooks import generate_test_header

from ..conftest import LocalStripe


@pytest.fixture(autouse=True)
def key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_cli")  # as the docs advise, not --api-key


def run(localstripe_url: str, *args: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--base-url", localstripe_url, *args], stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def customer_ids(localstripe: LocalStripe) -> list[str]:
    async def make() -> list[str]:
        async with AsyncStripeClient("sk_test_cli", base_url=localstripe.url) as stripe:
            tag = uuid.uuid4().hex[:6]
            return [
                (await stripe.customers.create(email=f"cli-{tag}-{i}@example.com", name=f"CLI {i}")).id
                for i in range(3)
            ]

    return anyio.run(make)


def test_list_as_a_table_and_as_json(localstripe_url: str, customer_ids: list[str]) -> None:
    code, table = run(localstripe_url, "customers", "list", "--limit", "5")
    assert code == EXIT_OK
    header = table.splitlines()[0]
    assert header.split()[:2] == ["ID", "OBJECT"] and "EMAIL" in header
    code, text = run(localstripe_url, "customers", "list", "--all", "--json")
    assert code == EXIT_OK
    ids = [c["id"] for c in json.loads(text)]
    assert set(customer_ids) <= set(ids)


def test_get_by_id(localstripe_url: str, customer_ids: list[str]) -> None:
    code, text = run(localstripe_url, "--json", "get", customer_ids[0])
    assert code == EXIT_OK and json.loads(text)["id"] == customer_ids[0]
    assert run(localstripe_url, "get", "cus_doesnotexist")[0] == EXIT_API
    assert run(localstripe_url, "get", "xyz_123")[0] == EXIT_USAGE


def test_export(localstripe_url: str, customer_ids: list[str], tmp_path: Path) -> None:
    out = tmp_path / "customers.jsonl"
    code, _ = run(localstripe_url, "export", "customers", "--out", str(out))
    assert code == EXIT_OK
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(customer_ids) <= {c["id"] for c in lines}


def test_webhook_verify(localstripe_url: str, fixtures: dict[str, object]) -> None:
    body = json.dumps(fixtures["event"])
    header = generate_test_header(body, "whsec_cli")
    code, text = run(localstripe_url, "webhook", "verify", "--secret", "whsec_cli", "--signature", header, stdin=body)
    assert code == EXIT_OK and text.startswith("verified evt_")
    code, _ = run(localstripe_url, "webhook", "verify", "--secret", "whsec_other", "--signature", header, stdin=body)
    assert code == EXIT_SIGNATURE


def test_unreachable_server_and_bad_usage() -> None:
    code = main(
        ["--api-key", "sk_test_cli", "--base-url", "http://127.0.0.1:9", "customers", "list"], stdout=io.StringIO()
    )
    assert code == EXIT_CONNECTION
    with pytest.raises(SystemExit) as info:
        main(["customers", "delete-everything"])
    assert info.value.code == EXIT_USAGE

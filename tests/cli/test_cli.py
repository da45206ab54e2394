"""``atom-stripe`` against the loopback ledger: JSON shapes, export formats, the key, webhook bytes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from atom_stripe.cli import EXIT_OK, EXIT_SIGNATURE, EXIT_USAGE, LISTABLE, main
from atom_stripe.webhooks import generate_test_header

from ..analytics_data import TRANSACTIONS, ledger
from ..helpers import ROOT, serve_asgi


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_asgi(ledger().app()) as base:
        yield base


@pytest.fixture(autouse=True)
def key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_cli_env")


def run(url: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--base-url", url, *args], stdout=out)
    return code, out.getvalue()


def cli(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The real console entry point in a child process, fed raw bytes on standard input."""
    return subprocess.run(
        [sys.executable, "-m", "atom_stripe.cli", *args],
        input=stdin,
        capture_output=True,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        timeout=60,
        check=False,
    )


def test_list_json_is_an_array_even_for_one_item(url: str) -> None:
    code, text = run(url, "customers", "list", "--json")
    assert code == EXIT_OK
    assert isinstance(json.loads(text), list) and json.loads(text)[0]["id"] == "cus_one"
    code, text = run(url, "--json", "get", "cus_one")  # get shows the one object it retrieves
    assert code == EXIT_OK and json.loads(text)["id"] == "cus_one"


def test_every_listable_resource_comes_from_the_table_of_endpoints(url: str, tmp_path: Path) -> None:
    assert {"customers", "payments", "payouts", "billing.meters", "subscription_items"} <= set(LISTABLE)
    assert not {"accounts.persons", "customers.balance_transactions"} & set(LISTABLE)  # need a path id
    code, text = run(url, "payouts", "list", "--json")  # a namespace only the generated surface has
    assert code == EXIT_OK and [p["id"] for p in json.loads(text)] == ["po_one"]
    out = tmp_path / "payouts.csv"
    assert run(url, "export", "payouts", "--out", str(out))[0] == EXIT_OK
    assert out.read_text().splitlines()[1].startswith("po_one,")


def test_webhook_verify_checks_the_raw_bytes_so_crlf_payloads_verify(fixtures: dict[str, Any]) -> None:
    event = {**fixtures["event"], "id": "evt_crlf", "type": "charge.succeeded", "description": "Café"}
    body = json.dumps(event, indent=2, ensure_ascii=False).replace("\n", "\r\n").encode() + b"\r\n"
    header = generate_test_header(body, "whsec_crlf")
    args = ["webhook", "verify", "--secret", "whsec_crlf", "--signature", header]
    # A text layer may translate line ends (universal newlines, as Windows' stdin does) or
    # decode with another encoding (a Latin-1 locale): the signature is over the bytes sent.
    windows_like = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8")
    out = io.StringIO()
    assert main(args, stdin=windows_like, stdout=out) == EXIT_OK
    assert out.getvalue().strip() == "verified evt_crlf charge.succeeded"
    done = cli(*args, stdin=body, env={"PYTHONIOENCODING": "latin-1"})
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.decode().strip() == "verified evt_crlf charge.succeeded"
    done = cli(*args, stdin=body.replace(b"\r\n", b"\n"))
    assert done.returncode == EXIT_SIGNATURE


def test_api_key_on_the_command_line_warns_and_the_environment_is_preferred(url: str) -> None:
    done = cli("--api-key", "sk_test_visible_in_ps", "--base-url", url, "customers", "list")
    assert done.returncode == EXIT_OK
    warning = done.stderr.decode()
    assert "--api-key" in warning and "STRIPE_API_KEY" in warning and "ps" in warning
    assert "sk_test_visible_in_ps" not in warning
    done = cli("--base-url", url, "customers", "list", env={"STRIPE_API_KEY": "sk_test_env"})
    assert done.returncode == EXIT_OK and done.stderr == b""
    assert b"cus_one" in done.stdout


# -- export ---------------------------------------------------------------------------------


def test_export_csv_has_the_to_frame_columns(url: str, tmp_path: Path) -> None:
    out = tmp_path / "txns.csv"
    code, _ = run(url, "export", "balance_transactions", "--format", "csv", "--out", str(out))
    assert code == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == len(TRANSACTIONS)
    first = next(r for r in rows if r["id"] == "txn_j1")
    assert first["amount"] == "12345" and first["currency"] == "jpy"
    assert first["created"] == "2026-03-01T08:00:00Z"
    assert json.loads(first["fee_details"])[0]["amount"] == 444  # nested values as JSON text
    assert next(iter(rows[0])) == "id"


def test_export_parquet_round_trips_exact_types(url: str, tmp_path: Path) -> None:
    out = tmp_path / "subs.parquet"
    code, _ = run(url, "export", "subscriptions", "--out", str(out))  # the format from the file's suffix
    assert code == EXIT_OK
    frame = pd.read_parquet(out)
    assert len(frame) == 11  # Stripe's default list: every subscription but the 5 canceled ones
    assert str(frame["created"].dt.tz) == "UTC" and frame["metadata.plan"].notna().all()
    assert json.loads(frame.set_index("id").loc["sub_s1", "items"])[0]["quantity"] == 3


def test_export_jsonl_has_the_columns_of_to_frame(url: str, tmp_path: Path) -> None:
    out = tmp_path / "txns.jsonl"
    code, _ = run(url, "export", "balance_transactions", "--format", "jsonl", "--out", str(out))
    assert code == EXIT_OK
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {t["id"] for t in lines} == {t["id"] for t in TRANSACTIONS}
    csv_out = tmp_path / "txns.csv"
    assert run(url, "export", "balance_transactions", "--out", str(csv_out))[0] == EXIT_OK
    header = csv_out.read_text().splitlines()[0].split(",")
    assert list(lines[0]) == header  # the same columns, in the same order, as CSV and to_frame
    assert lines[0]["created"].endswith("Z") or "T" in lines[0]["created"]  # ISO 8601 timestamps


def test_export_format_is_what_is_asked_or_an_error(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    assert run(url, "export", "customers", "--format", "parquet", "--out", str(out))[0] == EXIT_USAGE
    assert "csv" in capsys.readouterr().err and not out.exists()
    assert run(url, "export", "customers", "--out", str(tmp_path / "x.txt"))[0] == EXIT_USAGE
    assert "--format" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["export", "customers", "--format", "xml", "--out", str(out)])
    assert info.value.code == EXIT_USAGE
    code, text = run(url, "export", "customers", "--format", "csv", "--out", "-")
    assert code == EXIT_OK and text.splitlines()[0].startswith("id,")

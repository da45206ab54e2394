"""A plain install works: the wheel alone, in a fresh venv, with its dependencies from the index."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .faultrig import FaultRig
from .helpers import ROOT

pytestmark = pytest.mark.install

CALL = """
import asyncio, sys
import atom_stripe
from atom_stripe import AsyncStripeClient, StripeError
import atom_stripe.models, atom_stripe.webhooks, atom_stripe.money

async def main() -> None:
    async with AsyncStripeClient("sk_test_install", base_url=sys.argv[1], max_retries=0) as stripe:
        customer = await stripe.customers.retrieve("cus_installed")
        print(customer.id)
    try:
        import atom_stripe.contrib.otel  # noqa: F401 - the extra is not installed
    except ImportError as exc:
        print("otel:", isinstance(exc, StripeError) and "pip install 'atom_stripe[otel]'" in str(exc))

asyncio.run(main())
"""


def run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_alone_installs_imports_and_calls(tmp_path: Path, rig: FaultRig) -> None:
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
        "-w", wheels, ROOT)  # fmt: skip
    (wheel,) = wheels.glob("atom_stripe-*.whl")
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    out = run(python, "-W", "error", "-c", CALL, rig.url, cwd=tmp_path).splitlines()
    assert out == ["cus_installed", "otel: True"]
    assert [path for _, path, _ in rig.requests] == ["/v1/customers/cus_installed"]

"""A plain install works: the wheel alone, in a fresh venv, with its dependencies from the index."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from ..faultrig import FaultRig
from ..helpers import ROOT

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


CHECKOUT = "/path/to/atom_stripe"
GIT_URL = "git+https://<git host>/<owner>/atom_stripe.git"

EXTRAS = """
import atom_stripe.contrib.otel, fastapi  # the [fastapi,otel] extras came along
from atom_stripe.contrib.fastapi import create_stripe_router
print("extras", create_stripe_router.__name__)
"""


def readme_install_lines() -> list[list[str]]:
    """The ``pip install`` lines of the README's Install section, split as a shell would."""
    import shlex

    section = (ROOT / "README.md").read_text().split("## Install", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.startswith("pip install")]


def test_the_readme_s_install_lines_work_as_written(tmp_path: Path) -> None:
    lines = readme_install_lines()
    assert len(lines) >= 3 and any("[" in arg for line in lines for arg in line)
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    for line in lines:
        # The checkout is this one; the git host is this checkout's own repository (pip 23 wants a host).
        args = [arg.replace(GIT_URL, f"git+file://localhost{ROOT}").replace(CHECKOUT, str(ROOT)) for arg in line]
        assert args[:2] == ["pip", "install"]
        run(python, "-m", "pip", "install", "--quiet", *args[2:], cwd=tmp_path)
    assert run(python, "-W", "error", "-c", EXTRAS, cwd=tmp_path).split() == ["extras", "create_stripe_router"]

"""Every optional part, used without its package, raises ``MissingExtraError`` naming its extra.

Each case runs in a child process with the package replaced by ``None`` in ``sys.modules`` (so
importing it fails as if it were not installed) without disturbing this process's imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ..helpers import ROOT

HARNESS = """\
import sys
sys.modules[{module!r}] = None
from atom_stripe import MissingExtraError, StripeError
try:
{code}
except MissingExtraError as exc:
    print(exc.extra, exc.name, isinstance(exc, StripeError) and isinstance(exc, ImportError), sep="\\n")
    print(exc)
else:
    print("nothing raised")
"""

CASES = {
    "otel": ("opentelemetry", "import atom_stripe.contrib.otel"),
    "fastapi": ("fastapi", "import atom_stripe.contrib.fastapi"),
    "redis": ("redis", "import atom_stripe.contrib.redis"),
    "oauth": (
        "cryptography",
        "from atom_stripe.oauth import SQLiteTokenStore\nSQLiteTokenStore('tokens.db', key=b'k' * 44)",
    ),
    "postgres": (
        "asyncpg",
        "import functools, anyio\n"
        "from atom_stripe.oauth import PostgresTokenStore\n"
        "anyio.run(functools.partial(PostgresTokenStore.connect, 'postgresql://localhost/none', key=b'k' * 44))",
    ),
    "analytics to_frame": (
        "pandas",
        "import anyio\nfrom atom_stripe import analytics\nanyio.run(analytics.to_frame, [])",
    ),
    "analytics parquet": (
        "pyarrow",
        "import pandas as pd\nfrom atom_stripe import analytics\n"
        "analytics.write_frame(pd.DataFrame({'a': [1]}), 'out.parquet', 'parquet')",
    ),
    "sync": (
        "duckdb",
        "import anyio\nfrom atom_stripe.sync import Mirror\nanyio.run(Mirror.open, 'stripe.duckdb')",
    ),
    "analytics charts": (
        "matplotlib",
        "import pandas as pd\nfrom atom_stripe import analytics\n"
        "index = pd.MultiIndex.from_arrays([[], []], names=['period', 'currency'])\n"
        "analytics.plot_revenue(pd.DataFrame(columns=['gross', 'refunds', 'fees', 'net'], index=index))",
    ),
}


def child(code: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=environ, timeout=120
    )


@pytest.mark.parametrize("case", list(CASES))
def test_a_missing_package_raises_missing_extra_error_naming_the_pip_install(case: str, tmp_path: Path) -> None:
    module, code = CASES[case]
    extra = case.split()[0]
    done = child(HARNESS.format(module=module, code=textwrap.indent(code, "    ")), tmp_path)
    assert done.returncode == 0, done.stderr
    said_extra, said_module, is_both, message = done.stdout.splitlines()[:4]
    assert (said_extra, said_module, is_both) == (extra, module, "True"), done.stdout
    assert f"pip install 'atom_stripe[{extra}]'" in message
    assert list(tmp_path.iterdir()) == []  # stopped before writing anything


def test_the_cli_export_without_pandas_exits_with_usage_naming_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys\nsys.modules['pandas'] = None\n"
        "from atom_stripe.cli import main\n"
        "sys.exit(main(['--base-url', 'http://127.0.0.1:9', 'export', 'customers', '--out', 'out.csv']))"
    )
    done = child(code, tmp_path, {"STRIPE_API_KEY": "sk_test_missing_extra"})
    assert done.returncode == 2, done.stderr  # EXIT_USAGE, before any request (port 9 is unreachable)
    assert "pip install 'atom_stripe[analytics]'" in done.stderr
    assert "sk_test_missing_extra" not in done.stderr
    assert list(tmp_path.iterdir()) == []


#: Extras whose absence is not an error, and why: nothing of atom_stripe fails without them.
NOT_REQUIRED = {
    "cli": "rich only draws progress; without it the CLI prints plain lines",
    "trio": "anyio imports trio only when the caller runs on trio",
    "testing": "pytest loads the plugin itself; the fake runs without pytest",
    "dev": "the project's own tools",
}


def test_every_extra_is_covered_here_or_says_why_it_is_never_missed() -> None:
    # A new extra in pyproject.toml needs a case above (its missing package raises
    # MissingExtraError naming the pip install) or a reason in NOT_REQUIRED.
    section = (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]\n", 1)[1].split("\n[", 1)[0]
    extras = {line.split("=", 1)[0].strip() for line in section.splitlines() if "= [" in line}
    covered = {case.split()[0] for case in CASES}
    assert extras - covered == set(NOT_REQUIRED), extras - covered
    assert covered <= extras, covered - extras

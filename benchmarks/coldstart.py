"""Cold start: a fresh process that imports, builds a client, retrieves one customer and lists
one 100-item page, against nginx on loopback (the same canned Stripe JSON as ``run.py``).

    .venv/bin/python benchmarks/coldstart.py [--rounds 15] [--before REV ...]

Variants, each in fresh processes, rounds alternating, medians:

- ``atom_stripe``: this checkout (``src/``);
- ``atom_stripe@REV``: the package as it was at git revision REV (``--before REV``, e.g. the
  last commit before the generated surface), exported to a temporary folder;
- ``stripe-python``: the pinned stripe 16.1.0 (``StripeClient`` with its async httpx client).

Columns: the whole process (wall, from the parent: interpreter start included), ``import``
(the library's import), ``client`` (building it), ``first calls`` (retrieve + list, after
import), and ``modules`` (how many ``atom_stripe`` / ``stripe`` modules the process loaded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from run import start_nginx  # noqa: E402

KEY = "sk_test_coldstart"

ATOM = """
import time, sys
t0 = time.perf_counter()
from atom_stripe import AsyncStripeClient  # what a program writes: the client and what it needs
t1 = time.perf_counter()
client = AsyncStripeClient({key!r}, base_url={url!r}, max_retries=0)
t2 = time.perf_counter()
import asyncio
async def main():
    async with client:
        customer = await client.customers.retrieve("cus_bench")
        page = await client.customers.list(limit=100)
        assert customer.id == "cus_bench" and len(page.data) == 100
asyncio.run(main())
t3 = time.perf_counter()
mods = sum(1 for m in sys.modules if m == "atom_stripe" or m.startswith("atom_stripe."))
print({{"import": t1 - t0, "client": t2 - t1, "calls": t3 - t2, "modules": mods}})
"""

STRIPE = """
import time, sys
t0 = time.perf_counter()
import stripe
t1 = time.perf_counter()
client = stripe.StripeClient({key!r}, base_addresses={{"api": {url!r}}}, http_client=stripe.HTTPXClient(),
                             max_network_retries=0)
t2 = time.perf_counter()
import asyncio
async def main():
    customer = await client.v1.customers.retrieve_async("cus_bench")
    page = await client.v1.customers.list_async({{"limit": 100}})
    assert customer.id == "cus_bench" and len(page.data) == 100
asyncio.run(main())
t3 = time.perf_counter()
mods = sum(1 for m in sys.modules if m == "stripe" or m.startswith("stripe."))
print({{"import": t1 - t0, "client": t2 - t1, "calls": t3 - t2, "modules": mods}})
"""


def export(rev: str, into: Path) -> Path:
    """The ``src/`` tree of ``rev``, unpacked into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def once(code: str, src: Path | None) -> dict[str, float]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "0"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"a cold-start run failed:\n{out.stderr[-2000:]}")
    result: dict[str, float] = eval(out.stdout.strip().splitlines()[-1])  # a dict this script printed
    result["process"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--before", action="append", default=[], help="a git revision to compare with")
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args()
    medians = measure(args.rounds, args.before)
    print(render(medians, args.rounds))
    if args.json:
        args.json.write_text(json.dumps(medians, indent=2))


def measure(rounds: int, before: list[str]) -> dict[str, dict[str, float]]:
    """Medians per variant (see the module's docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "nginx").mkdir()
        Path(tmp).chmod(0o755)
        proc, url = start_nginx(Path(tmp) / "nginx")
        try:
            variants: dict[str, tuple[str, Path | None]] = {"atom_stripe": (ATOM, ROOT / "src")}
            for rev in before:
                tree = Path(tmp) / f"rev-{rev}"
                tree.mkdir()
                variants[f"atom_stripe@{rev}"] = (ATOM, export(rev, tree))
            variants["stripe-python"] = (STRIPE, None)
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
            for code, src in variants.values():  # warm the bytecode caches once
                once(code.format(key=KEY, url=url), src)
            for _ in range(rounds):
                for name, (code, src) in variants.items():
                    runs[name].append(once(code.format(key=KEY, url=url), src))
        finally:
            proc.terminate()
            proc.wait()
    return {name: {k: statistics.median(r[k] for r in results) for k in results[0]} for name, results in runs.items()}


def render(medians: dict[str, dict[str, Any]], rounds: int) -> str:
    base = medians["stripe-python"]
    lines = [
        f"Cold start, medians of {rounds} fresh processes per variant (rounds alternating), ms:",
        "",
        "| variant | whole process | import | client | first calls | after import | modules "
        "| process vs stripe | after import vs stripe |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in medians.items():
        after = m["client"] + m["calls"]
        base_after = base["client"] + base["calls"]
        lines.append(
            f"| {name} | {m['process'] * 1000:.0f} | {m['import'] * 1000:.0f} | {m['client'] * 1000:.1f} "
            f"| {m['calls'] * 1000:.0f} | {after * 1000:.0f} | {m['modules']:.0f} "
            f"| {m['process'] / base['process']:.2f}x | {after / base_after:.2f}x |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

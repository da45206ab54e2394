"""Side-by-side benchmark of atom_stripe and other ways to call Stripe, against nginx on loopback.

    .venv/bin/python benchmarks/run.py [--rounds 3] [--quick] [--write-docs]

nginx (Debian's; installed with apt-get when missing) serves canned Stripe JSON built from
``tests/data/stripe-fixtures3.json`` (Stripe's own examples): one worker process, so the other core is the
client's. Every (client, operation) runs in a process of its own; rounds alternate the
clients; the table shows medians over the rounds of client CPU per request
(``time.process_time``), requests per second, and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURES = ROOT / "tests" / "data" / "stripe-fixtures3.json"
PYTHON = sys.executable
#: Workers import this checkout's atom_stripe (``src/``), not whichever one the venv has installed.
WORKER_ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

CLIENTS = [
    "atom_stripe",
    "atom_stripe-hooks",
    "atom_stripe-trio",
    "httpx",
    "httpx-aiohttp",
    "aiohttp",
    "aiohttp+json",
    "aiohttp+pydantic",
    "stripe-python",
]
#: operation -> (requests per run, concurrency)
OPS = {"retrieve": (6000, 32), "create": (6000, 32), "list100": (600, 8), "paginate10k": (3, 1)}
#: Calls in the memory soak (atom_stripe and stripe-python, retrieves at 32 concurrent).
SOAK_CALLS = 10_000
#: The floor: raw aiohttp, body bytes into ``json.loads``; and the typed floor (into the same models).
FLOOR, TYPED_FLOOR = "aiohttp+json", "aiohttp+pydantic"
PAGES, PAGE_SIZE = 100, 100


def build_site(site: Path) -> None:
    resources = json.loads(FIXTURES.read_text())["resources"]
    customer, intent = resources["customer"], resources["payment_intent"]
    (site / "customers").mkdir(parents=True)
    (site / "lists").mkdir()
    (site / "customers" / "cus_bench.json").write_text(json.dumps({**customer, "id": "cus_bench"}))
    for page in range(PAGES):
        ids = [f"cus_{page * PAGE_SIZE + i:05d}" for i in range(PAGE_SIZE)]
        body = {
            "object": "list",
            "url": "/v1/customers",
            "has_more": page < PAGES - 1,
            "data": [{**customer, "id": cid} for cid in ids],
        }
        after = "" if page == 0 else f"cus_{page * PAGE_SIZE - 1:05d}"
        (site / "lists" / f"after_{after}.json").write_text(json.dumps(body))
    (site / "payment_intent.json").write_text(json.dumps(intent))


def nginx_conf(workdir: Path, port: int) -> str:
    intent = (workdir / "www" / "payment_intent.json").read_text()
    assert "$" not in intent
    inline = intent.replace("\\", "\\\\").replace("'", "\\'")
    temp = workdir / "tmp"
    return f"""
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    default_type application/json;
    server {{
        listen 127.0.0.1:{port};
        root {workdir}/www;
        location = /v1/customers {{ try_files /lists/after_$arg_starting_after.json =404; }}
        location = /v1/payment_intents {{ return 200 '{inline}'; }}
        location ~ ^/v1/customers/([a-z0-9_]+)$ {{ try_files /customers/$1.json =404; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    print("nginx is missing: installing Debian's nginx-light ...", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], check=True)
    return shutil.which("nginx") or "/usr/sbin/nginx"


def start_nginx(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    workdir.chmod(0o755)  # nginx's workers run as an unprivileged user
    build_site(workdir / "www")
    (workdir / "tmp").mkdir()
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_conf(workdir, port))
    proc = subprocess.Popen([ensure_nginx(), "-c", str(conf), "-p", str(workdir)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("nginx did not start")


def run_worker(client: str, op: str, url: str, requests: int, concurrency: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            PYTHON,
            str(HERE / "worker.py"),
            client,
            op,
            url,
            "--requests",
            str(requests),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=WORKER_ENV,
    )
    if out.returncode != 0:
        raise SystemExit(f"{client} {op} failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


IMPORT_CODE = {
    "atom_stripe": "import atom_stripe; atom_stripe.AsyncStripeClient('sk_test_x')",
    "stripe-python": "import stripe; stripe.StripeClient('sk_test_x')",
    "httpx + pydantic": "import httpx, pydantic",
}


def import_time(name: str) -> float:
    code = f"import time; t = time.perf_counter(); {IMPORT_CODE[name]}; print(time.perf_counter() - t)"
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True, env=WORKER_ENV)
    return float(out.stdout.strip()) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer requests, for a smoke run")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md and its plot")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--coldstart-rounds", type=int, default=15, help="fresh processes per cold-start variant")
    args = parser.parse_args()
    clients = args.clients.split(",")
    ops = args.ops.split(",")

    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_nginx(Path(tmp))
        try:
            for round_no in range(args.rounds):
                order = clients[round_no % len(clients) :] + clients[: round_no % len(clients)]
                for op in ops:
                    requests, concurrency = OPS[op]
                    if args.quick:
                        requests = max(1, requests // 5)
                    for client in order:
                        result = run_worker(client, op, url, requests, concurrency)
                        samples.setdefault((client, op), []).append(result)
                        cpu, rps = result["cpu_ms_per_request"], result["requests_per_second"]
                        line = f"round {round_no + 1} {op:<12} {client:<17} {cpu:8.3f} ms CPU/req {rps:9.0f} req/s"
                        print(line, file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait(10)

    imports: dict[str, list[float]] = {}
    for _ in range(max(5, args.rounds * 2)):
        for name in IMPORT_CODE:
            imports.setdefault(name, []).append(import_time(name))
    import_medians = {name: statistics.median(times) for name, times in imports.items()}

    from overlap import measure as measure_overlap

    overlap = measure_overlap()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_nginx(Path(tmp))
        try:
            soak = {name: run_worker(name, "soak", url, SOAK_CALLS, 32) for name in ("atom_stripe", "stripe-python")}
            page_memory = {name: run_worker(name, "pagemem", url, 1, 1) for name in ("atom_stripe", "stripe-python")}
        finally:
            proc.terminate()
            proc.wait(10)
    from coldstart import measure as measure_coldstart
    from coldstart import render as render_coldstart

    coldstart = measure_coldstart(args.coldstart_rounds, [])

    rows = []
    for (client, op), runs in samples.items():
        rows.append(
            {
                "client": client,
                "op": op,
                "cpu_ms_per_request": statistics.median(r["cpu_ms_per_request"] for r in runs),
                "requests_per_second": statistics.median(r["requests_per_second"] for r in runs),
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
                "gc_share": statistics.median(r["gc_share"] for r in runs),
                "rounds": len(runs),
            }
        )
    results = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "rows": rows,
        "import_ms": import_medians,
        "overlap": overlap,
        "soak": soak,
        "page_memory": page_memory,
        "coldstart": coldstart,
        "coldstart_rounds": args.coldstart_rounds,
        "rounds": args.rounds,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(results, indent=2))
    table = render_table(results) + "\n\n### cold start\n\n" + render_coldstart(coldstart, args.coldstart_rounds)
    print(table)
    if args.write_docs:
        from report import write_docs

        write_docs(results, table)


def render_table(results: dict[str, Any]) -> str:
    rows = results["rows"]
    by = {(r["client"], r["op"]): r for r in rows}
    ops = list(dict.fromkeys(r["op"] for r in rows))
    clients = list(dict.fromkeys(r["client"] for r in rows))
    unit = {"retrieve": "request", "create": "request", "list100": "100-item page", "paginate10k": "10,000 objects"}
    lines = []
    for op in ops:
        lines.append(f"\n### {op} (CPU per {unit[op]})\n")
        floor = by.get((FLOOR, op))
        lines.append(f"| client | CPU ms | vs {FLOOR} | req/s | peak MB | in GC |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for client in clients:
            r = by.get((client, op))
            if r:
                ratio = f"{r['cpu_ms_per_request'] / floor['cpu_ms_per_request']:.2f}x" if floor else "-"
                lines.append(
                    f"| {client} | {r['cpu_ms_per_request']:.3f} | {ratio} | {r['requests_per_second']:.0f} | "
                    f"{r['peak_rss_mb']:.0f} | {r['gc_share'] * 100:.0f}% |"
                )
    lines.append("\n### import + client construction (ms, median)\n")
    lines.append("| what | ms |")
    lines.append("|---|---:|")
    for name, ms in results["import_ms"].items():
        lines.append(f"| {name} | {ms:.0f} |")
    o = results["overlap"]
    lines.append("\n### auto-pagination overlap (20 pages, 50 ms server + 50 ms consumer per page)\n")
    lines.append(
        f"serial {o['serial_s']:.2f} s, atom_stripe {o['atom_s']:.2f} s "
        f"(ratio {o['ratio']:.2f}), at most {o['max_ahead']} page(s) fetched ahead"
    )
    lines.append("\n### memory\n")
    lines.append(
        f"| client | parsed 100-item page vs its JSON | peak RSS after each tenth of {SOAK_CALLS:,} retrieves (MB) |"
    )
    lines.append("|---|---:|---|")
    for name, soak in results["soak"].items():
        page = results["page_memory"][name]
        rss = ", ".join(f"{m:.0f}" for m in soak["rss_mb"])
        lines.append(f"| {name} | {page['ratio']:.1f}x ({page['parsed_bytes'] / 1024:.0f} KB) | {rss} |")
    lines.append("\n### the goals, as ratios of this run\n")
    lines.extend(goal_lines(by, results))
    return "\n".join(lines)


def goal_lines(by: dict[tuple[str, str], dict[str, Any]], results: dict[str, Any]) -> list[str]:
    """Issue 15's goals, each a ratio of this run's medians."""

    def cpu(client: str, op: str) -> float | None:
        row = by.get((client, op))
        return row["cpu_ms_per_request"] if row else None

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}x" if a is not None and b else "not measured"

    out = ["| goal | target | this run |", "|---|---:|---:|"]
    for op, target in (("retrieve", "1.3x"), ("create", "1.3x"), ("list100", "1.8x")):
        out.append(
            f"| atom_stripe {op} CPU vs {FLOOR} | at most {target} | {ratio(cpu('atom_stripe', op), cpu(FLOOR, op))} |"
        )
        out.append(
            f"| atom_stripe {op} CPU vs {TYPED_FLOOR} (same models) | - | "
            f"{ratio(cpu('atom_stripe', op), cpu(TYPED_FLOOR, op))} |"
        )
    for op, target in (("retrieve", "8x"), ("list100", "15x")):
        out.append(
            f"| stripe-python {op} CPU vs atom_stripe | at least {target} | "
            f"{ratio(cpu('stripe-python', op), cpu('atom_stripe', op))} |"
        )
    out.append(
        "| atom_stripe-trio retrieve CPU vs atom_stripe | (reported) | "
        f"{ratio(cpu('atom_stripe-trio', 'retrieve'), cpu('atom_stripe', 'retrieve'))} |"
    )
    page = results["page_memory"]["atom_stripe"]["ratio"]
    out.append(f"| a parsed 100-item page vs its JSON | at most 5x | {page:.1f}x |")
    soak = results["soak"]
    out.append(
        f"| RSS after {SOAK_CALLS:,} retrieves vs stripe-python's | at most 1.0x | "
        f"{ratio(soak['atom_stripe']['rss_mb'][-1], soak['stripe-python']['rss_mb'][-1])} |"
    )
    share = by.get(("atom_stripe", "paginate10k"), {}).get("gc_share")
    if share is not None:
        out.append(f"| share of paginate10k CPU in the garbage collector | not dominant | {share * 100:.0f}% |")
    cold = results["coldstart"]
    atom, base = cold["atom_stripe"], cold["stripe-python"]
    out.append(
        f"| cold start, whole process vs stripe-python's | at most 0.8x | {ratio(atom['process'], base['process'])} |"
    )
    out.append(
        "| cold start after import vs stripe-python's | at most 1.0x | "
        f"{ratio(atom['client'] + atom['calls'], base['client'] + base['calls'])} |"
    )
    return out


if __name__ == "__main__":
    sys.path[:0] = [str(HERE), str(ROOT / "src")]
    main()

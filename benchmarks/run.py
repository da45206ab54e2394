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
OPS = {"retrieve": (2000, 32), "create": (2000, 32), "list100": (300, 8), "paginate10k": (3, 1)}
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
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip()) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer requests, for a smoke run")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md and its plot")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--ops", default=",".join(OPS))
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
            soak = run_worker("atom_stripe", "soak", url, 10_000 if args.quick else 50_000, 32)
        finally:
            proc.terminate()
            proc.wait(10)

    rows = []
    for (client, op), runs in samples.items():
        rows.append(
            {
                "client": client,
                "op": op,
                "cpu_ms_per_request": statistics.median(r["cpu_ms_per_request"] for r in runs),
                "requests_per_second": statistics.median(r["requests_per_second"] for r in runs),
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
                "rounds": len(runs),
            }
        )
    results = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "rows": rows,
        "import_ms": import_medians,
        "overlap": overlap,
        "soak": soak,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(results, indent=2))
    table = render_table(results)
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
        lines.append("| client | CPU ms | req/s | peak MB |")
        lines.append("|---|---:|---:|---:|")
        for client in clients:
            r = by.get((client, op))
            if r:
                lines.append(
                    f"| {client} | {r['cpu_ms_per_request']:.3f} | {r['requests_per_second']:.0f} | "
                    f"{r['peak_rss_mb']:.0f} |"
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
    soak = results["soak"]
    rss = soak["rss_mb"]
    lines.append(f"\n### memory over {soak['requests']:,} retrieves (atom_stripe)\n")
    lines.append(
        f"peak RSS after each tenth: {', '.join(f'{m:.1f}' for m in rss)} MB "
        f"(growth over the last nine tenths: {rss[-1] - rss[0]:.1f} MB)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()

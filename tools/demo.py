"""Start localstripe on 127.0.0.1 and run examples/quickstart.py against it.

With ``STRIPE_API_KEY`` set to a test key (``sk_test_...``), the quickstart runs
against Stripe's test mode instead and no local server is started. The server
this starts is stopped on success, failure and Ctrl-C alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    quickstart = [sys.executable, str(ROOT / "examples" / "quickstart.py")]
    key = os.environ.get("STRIPE_API_KEY")
    if key:
        if not key.startswith("sk_test_"):
            print("STRIPE_API_KEY must be a test key (sk_test_...) for the demo.", file=sys.stderr)
            return 2
        return subprocess.call(quickstart)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "localstripe_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("PORT "):
            print(f"localstripe did not start: {line!r}", file=sys.stderr)
            return 1
        base_url = f"http://127.0.0.1:{int(line.split()[1])}"
        print(f"localstripe is listening on {base_url}")
        env = {**os.environ, "STRIPE_BASE_URL": base_url, "STRIPE_API_KEY": "sk_test_localstripe"}
        return subprocess.call(quickstart, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        if server.stdout is not None:
            server.stdout.close()


if __name__ == "__main__":
    sys.exit(main())

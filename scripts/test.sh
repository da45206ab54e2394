#!/usr/bin/env bash
# The whole suite: pytest (asyncio and trio), the load runs, the lowest-versions lane, mypy --strict,
# ruff, deptry and the docs build, laid out so that both cores stay busy (CONTRIBUTING.md,
# "How the test command spends its time").
source "$(dirname "$0")/_venv.sh"
source scripts/_servers.sh
export NO_MKDOCS_2_WARNING=1
logs=$(mktemp -d)
status=0

# .venv-lowest is made (pip, mostly waiting on the index) while the main run below uses the cores.
bash scripts/test-lowest.sh --prepare >"$logs/lowest-venv.log" 2>&1 &
prepare=$!

# The main run: three pytest-xdist workers on two cores, because much of the suite waits (servers,
# subprocesses, timeouts) rather than computes; worksteal hands a finished worker the rest of a
# busy one's queue, so the run does not end on one long test file. Coverage of the package (not
# _generated/) is measured here and must stay above [tool.coverage.report] fail_under.
.venv/bin/python -m pytest -n 3 --dist worksteal --cov --cov-report= "$@" || status=1

if ! wait "$prepare"; then cat "$logs/lowest-venv.log"; status=1; fi

# Then two lanes side by side: the load runs (2,000 creates through the fault rig; 500
# rate-limited calls: they mostly wait on the clock and use one core), and everything else.
.venv/bin/python -m pytest -m load "$@" >"$logs/load.log" 2>&1 &
load=$!
{
  # The core unit tests again, on the oldest releases pyproject.toml allows (.venv-lowest).
  bash scripts/test-lowest.sh || echo "FAILED: lowest-versions lane"
  .venv/bin/python -m mypy || echo "FAILED: mypy"
  .venv/bin/python -m ruff check . || echo "FAILED: ruff check"
  .venv/bin/python -m ruff format --check . || echo "FAILED: ruff format"
  # Declared dependencies against what the package imports (a plain install must import).
  .venv/bin/python -m deptry src || echo "FAILED: deptry"
  .venv/bin/python -m mkdocs build --strict --quiet --site-dir "$(mktemp -d)" || echo "FAILED: mkdocs"
} >"$logs/checks.log" 2>&1
wait "$load" || echo "FAILED: load runs" >>"$logs/load.log"
echo "== load runs"; cat "$logs/load.log"
echo "== lowest versions, mypy, ruff, deptry, mkdocs"; cat "$logs/checks.log"
if grep -q '^FAILED: ' "$logs/load.log" "$logs/checks.log"; then status=1; fi
if [ "$status" -ne 0 ]; then echo "FAILED: see above"; fi
exit "$status"

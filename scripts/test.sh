#!/usr/bin/env bash
# The whole suite: pytest (asyncio and trio), mypy --strict, ruff, and the docs build.
source "$(dirname "$0")/_venv.sh"
source scripts/_servers.sh
export NO_MKDOCS_2_WARNING=1
status=0
# Both cores: pytest-xdist runs the tests in two worker processes (each starts its own servers).
# Coverage of the package (not _generated/) is measured here and must stay above the floor
# [tool.coverage.report] fail_under sets in pyproject.toml.
.venv/bin/python -m pytest -n 2 --cov --cov-report= "$@" || status=1
# The load runs (2,000 creates through the fault rig; 500 rate-limited calls): slow, so kept apart.
.venv/bin/python -m pytest -m load "$@" || status=1
# The core unit tests again, on the oldest releases pyproject.toml allows (.venv-lowest).
bash scripts/test-lowest.sh || status=1
.venv/bin/python -m mypy || status=1
.venv/bin/python -m ruff check . || status=1
.venv/bin/python -m ruff format --check . || status=1
# Declared dependencies against what the package imports (a plain install must import).
.venv/bin/python -m deptry src || status=1
.venv/bin/python -m mkdocs build --strict --quiet --site-dir "$(mktemp -d)" || status=1
if [ "$status" -ne 0 ]; then echo "FAILED: see above"; fi
exit "$status"

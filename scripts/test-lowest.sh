#!/usr/bin/env bash
# The lowest-versions lane: the core unit tests (asyncio and trio) in a second venv,
# .venv-lowest, whose runtime dependencies are the oldest releases pyproject.toml allows
# (each floor ">=X.Y" installed as "==X.Y.*"), so a floor that no longer holds fails here.
# Made again only when pyproject.toml changed since the last install. With --prepare, only made.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
venv=.venv-lowest
if [ ! -x "$venv/bin/python" ]; then
  "$PYTHON" -m venv "$venv"
  echo "*" >"$venv/.gitignore"  # keeps git, ruff and deptry out of it
fi
stamp=$venv/.atom_stripe-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # The floors of the runtime dependencies and of the extras the unit tests use, read from
  # pyproject.toml (Python 3.10 has no tomllib: the venv's pip vendors tomli).
  mapfile -t floors < <("$venv/bin/python" scripts/floors.py pyproject.toml trio oauth otel fastapi redis postgres cli analytics)
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e . --no-deps
  # The test tools at whatever release fits the floors (pip resolves them against the pins).
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${floors[@]}" \
    pytest respx hypothesis uvicorn "stripe==16.1.0" opentelemetry-sdk
  touch "$stamp"
fi
if [ "${1:-}" = "--prepare" ]; then exit 0; fi
"$venv/bin/python" -m pip list --disable-pip-version-check 2>/dev/null |
  grep -iE '^(httpx|pydantic|anyio|aiohttp|backoff|sniffio|typing_extensions|trio) ' | tr -s ' ' | paste -sd ',' |
  sed 's/^/lowest versions: /'
# anyio before 4.11 knows no anyio_mode: tests/anyio_auto.py marks the coroutine tests instead.
# matplotlib 3.8 (the analytics floor) calls names today's pyparsing deprecates: a warning to its
# users, not a failure of ours (matplotlib 3.10.9 avoids them; 3.10.6 does not).
exec "$venv/bin/python" -m pytest -p no:cacheprovider -p tests.anyio_auto -W ignore::pytest.PytestConfigWarning \
  -W ignore::pyparsing.warnings.PyparsingDeprecationWarning tests/unit tests/webhooks "$@"

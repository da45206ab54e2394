#!/usr/bin/env bash
# The main job: start localstripe on 127.0.0.1 and run examples/quickstart.py against it.
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python tools/demo.py "$@"

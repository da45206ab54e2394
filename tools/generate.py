"""Regenerate ``src/atom_stripe/_generated/`` and ``docs/namespaces.md`` from stripe-python
(the generator itself is the ``generator`` package beside this file)::

    .venv/bin/python tools/generate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generator import generate, main, write
from generator.stripe_reader import add_design_names, all_services, read_service

# Other tools and tests read stripe-python's services through this entry point too.
__all__ = ["add_design_names", "all_services", "generate", "main", "read_service", "write"]

if __name__ == "__main__":
    main(sys.argv)

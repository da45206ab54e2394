"""The generator of atom_stripe's whole v1 surface, from stripe-python 16.1.0.

stripe-python (MIT licensed, itself generated from Stripe's OpenAPI spec) is a pinned
development dependency and the only source of per-endpoint facts: its services give every
operation (service path, method name, verb, path, path ids, params type, result type), its
params TypedDicts give the parameters, its resource annotations give the models. This script
reads them (atom_stripe never imports ``stripe``) and writes everything under
``src/atom_stripe/_generated/``:

- ``endpoints.py``: the one table of endpoints, one row per operation;
- ``params/<operation>.py``: the typed parameters of one operation (``...Params``) and what its
  method takes (``...Args``: the parameters plus the call options);
- ``models/<object>.py``: one pydantic model per Stripe object type, with its nested objects;
  references to other object types resolve lazily, on first validation;
- ``models/__init__.py``: the index of every model (lazy ``__getattr__``);
- ``services/<service>.py``: the namespaces, one class per stripe-python service;
- ``namespaces.py``: the client's top-level namespaces.

Run it after bumping the pinned stripe version (``tests/generation/test_generated.py`` fails on any
difference between the generator's output and the committed tree)::

    .venv/bin/python tools/generate.py

Modules, one job each: ``names`` (where a stripe class lands, constants), ``stripe_reader``
(stripe-python's services, operations and resource classes), ``params``, ``models``,
``services`` (namespaces), ``table`` (the endpoints table), ``docs`` (the namespace reference),
``output`` (formatting with ruff, writing), ``main`` (the run).
"""

from __future__ import annotations

from .main import generate, main
from .output import write

__all__ = ["generate", "main", "write"]

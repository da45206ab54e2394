"""Micro-timings of a call's pre-send path on ``payment_intents.create`` (``worker.CREATE``).

    PYTHONPATH=src:benchmarks python benchmarks/params_micro.py [--number 20000] [--repeat 3]

Prints microseconds per call (the minimum of ``--repeat`` runs of ``--number`` calls) for each
step: the value checks, the type check, ``wire_params`` (both checks and the merge), splitting
the options off, ``Service._checked`` (all of the above and the path), ``flatten`` and
``urlencode``, and the whole path ``Service._call`` takes before handing the body over.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from typing import Any

from worker import CREATE

from atom_stripe._encoding import flatten, urlencode
from atom_stripe._generated.endpoints import ENDPOINTS
from atom_stripe._service import Service, split_options
from atom_stripe._validation import check_one_of, check_values, wire_params
from atom_stripe.types import check_params


def steps() -> dict[str, Callable[[], Any]]:
    endpoint = ENDPOINTS["payment_intents.create"]
    schema = endpoint.params_type
    assert schema is not None
    merged = wire_params(schema, CREATE)
    pairs = flatten(merged)
    args = {**CREATE, "idempotency_key": "k_1", "stripe_account": None}

    service = Service(None)  # type: ignore[arg-type]  # _checked never reaches the requester

    def pre_send() -> str:  # what Service._call does before handing the body to the requester
        _, merged, _, _ = service._checked(endpoint, args, ())
        check_one_of(endpoint.method, endpoint.path, merged)
        return urlencode(flatten(merged))

    return {
        "check_values": lambda: check_values(CREATE),
        "check_params": lambda: check_params(schema, CREATE),
        "wire_params": lambda: wire_params(schema, CREATE),
        "split_options": lambda: split_options(args),
        "_checked": lambda: service._checked(endpoint, args, ()),
        "flatten": lambda: flatten(merged),
        "urlencode": lambda: urlencode(pairs),
        "flatten+urlencode": lambda: urlencode(flatten(merged)),
        "pre-send (all)": pre_send,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, step in steps().items():
        step()  # warm: annotations resolved, checkers built
        best = min(timeit.repeat(step, number=args.number, repeat=args.repeat)) / args.number
        print(f"{name:18} {best * 1e6:6.2f} us")


if __name__ == "__main__":
    main()

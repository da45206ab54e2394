"""The table of endpoints (``_generated/endpoints.py``): one row per operation."""

from __future__ import annotations

from .names import BANNER
from .stripe_reader import Op


def table_row(op: Op, spec: str, module: str, params: str) -> str:
    kind, _, result = spec.partition(":")
    params_ref = f"{module}:{params}" if params else ""
    return (
        f'    "{op.name}": E("{op.verb}", "{op.path}", {tuple(op.ids)!r}, "{params_ref}", '
        f'"{kind}", "{result}", "{op.host}"),'
    )


def render_table(rows: list[str]) -> str:
    return "\n".join(
        [
            BANNER,
            '"""The one table of endpoints: every v1 and v2 operation of stripe-python, one row each.',
            "",
            "Key: the namespace path and method name (``customers.balance_transactions.list``).",
            "Row: verb, path template, path ids in order, params (``module:Class`` under",
            "``_generated.params``, empty for none), kind (``object``, ``list``, ``search``, ``bytes``),",
            "result model name (see ``_generated.models.MODULES``; ``A | B`` by the ``object`` field), host.",
            '"""',
            "",
            "from .._endpoint import Endpoint as E",
            "",
            "ENDPOINTS: dict[str, E] = {",
            *rows,
            "}",
            "",
        ]
    )

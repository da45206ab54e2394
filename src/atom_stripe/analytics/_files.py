"""Frames written to CSV or Parquet, with nested values as JSON text."""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

from .._errors import StripeValueError
from .._extras import needs_extra

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "jsonl", "parquet")


def for_files(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where nested values (dicts, lists) are JSON text and Decimals are exact strings,
    so every column has one type a file format can hold."""
    out: pd.DataFrame = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = [
                None
                if v is None
                else json.dumps(v, default=str)
                if isinstance(v, (dict, list))
                else str(v)
                if not isinstance(v, str)
                else v
                for v in out[name]
            ]
    return out


def write_frame(frame: pd.DataFrame, target: str | IO[Any], fmt: str) -> None:
    """Write ``frame`` as ``csv`` or ``jsonl`` (timestamps in ISO 8601, UTC) or ``parquet`` (needs pyarrow)."""
    if fmt == "csv":
        for_files(frame).to_csv(target, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    elif fmt == "parquet":
        with needs_extra("analytics"):
            import pyarrow  # noqa: F401 - pandas imports it itself; this names the extra when missing
        for_files(frame).to_parquet(target, index=False)
    elif fmt == "jsonl":
        for_files(frame).to_json(target, orient="records", lines=True, date_format="iso", date_unit="s")
        if not isinstance(target, str):
            target.write("\n")
    else:
        raise StripeValueError("format", f"must be csv, jsonl or parquet, not {fmt!r}")

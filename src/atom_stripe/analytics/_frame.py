"""``to_frame``: Stripe objects as a pandas DataFrame, one row per object."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from .._errors import StripeValueError
from .._extras import needs_extra
from .._pagination import AsyncPaginator, Page, SearchPage
from ..models._base import StripeObject
from ._progress import Progress

if TYPE_CHECKING:
    import pandas as pd

#: Integer fields that are Unix timestamps (besides names ending in ``_at``, ``_date`` or ``_on``).
TIMESTAMP_NAMES = frozenset(
    {
        "created",
        "billing_cycle_anchor",
        "current_period_start",
        "current_period_end",
        "trial_start",
        "trial_end",
        "period.start",
        "period.end",
        "next_payment_attempt",
        "date",
    }
)


def is_timestamp(column: str) -> bool:
    """Whether an integer column holds Unix timestamps, by its (dotted) name."""
    last = column.rsplit(".", 1)[-1]
    return column in TIMESTAMP_NAMES or last in TIMESTAMP_NAMES or last.endswith(("_at", "_date", "_on"))


def plain(obj: Any) -> dict[str, Any]:
    """An object as a plain dict: every field, extras included (a model's typed values kept)."""
    if isinstance(obj, StripeObject):
        data: dict[str, Any] = obj.model_dump(mode="python", by_alias=True)
        return data
    if isinstance(obj, Mapping):
        return dict(obj)
    raise StripeValueError("source", f"holds a {type(obj).__name__}, not a Stripe object or a dict")


def flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """One row: ``metadata`` as ``metadata.<key>``; nested objects one level deep as dotted
    columns (``billing_details.email``), deeper values left as they are; an embedded list
    (``items`` of a subscription) as the list of its objects."""
    row: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            if value.get("object") == "list" and isinstance(value.get("data"), list):
                row[key] = value["data"]
                continue
            for inner, inner_value in value.items():
                row[f"{key}.{inner}"] = inner_value
        else:
            row[key] = value
    return row


async def each(source: Any, *, progress: bool | None = None) -> AsyncGenerator[Any, None]:
    """Every object of a paginator (page after page), a page, an async iterable or an iterable,
    one at a time, with a live count on standard error (default: for a paginator)."""
    if isinstance(source, (Page, SearchPage)):
        for obj in source.data:
            yield obj
        return
    if isinstance(source, (str, bytes, Mapping)) or not isinstance(source, (AsyncIterable, Iterable)):
        raise StripeValueError("source", f"must be a paginator, a page or objects, not a {type(source).__name__}")
    if not isinstance(source, AsyncIterable):
        for obj in source:
            yield obj
        return
    show = progress if progress is not None else isinstance(source, AsyncPaginator)
    counter: Progress | None = None
    try:
        async for obj in source:
            if show and counter is None:
                counter = Progress(f"{getattr(obj, 'object', None) or 'object'}s")
            yield obj
            if counter is not None:
                counter.advance()
    finally:
        if counter is not None:
            counter.close()


async def objects(source: Any, *, progress: bool | None = None) -> list[Any]:
    """Every object of ``source`` (see :func:`each`) in a list."""
    async with aclosing(each(source, progress=progress)) as found:
        return [obj async for obj in found]


def build(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows of flattened objects as a DataFrame with exact dtypes: integers stay integers
    (nullable ``Int64`` where a value is missing), timestamps become UTC datetimes."""
    with needs_extra("analytics"):
        import pandas as pd

    names: dict[str, None] = {"id": None} if any("id" in r for r in rows) else {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {name: column(name, [r.get(name) for r in rows]) for name in names}
    frame: pd.DataFrame = pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))
    return frame


def column(name: str, values: list[Any]) -> Any:
    """One column with the dtype its values call for."""
    with needs_extra("analytics"):
        import pandas as pd

    present = [v for v in values if v is not None]
    missing = len(present) < len(values)
    if present and all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean") if missing else pd.array(values, dtype=bool)
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        ints = pd.array(values, dtype="Int64" if missing else "int64")
        if is_timestamp(name):
            return pd.to_datetime(pd.Series(ints), unit="s", utc=True)
        return ints
    if present and all(isinstance(v, str) for v in present):
        return pd.Series(values)  # pandas' string dtype where it has one
    if present and all(isinstance(v, float) for v in present):
        return pd.array([float("nan") if v is None else v for v in values], dtype="float64")
    return pd.Series(values, dtype=object)


async def to_frame(source: Any, *, progress: bool | None = None) -> pd.DataFrame:
    """A pandas DataFrame, one row per object, from a paginator (every page), a page, any async
    iterable or a list of models or dicts.

    Scalar fields are columns; Unix timestamps (``created``, ``available_on``, ``canceled_at``,
    period fields, ...) become timezone-aware UTC datetimes; amounts stay exact integers in
    minor units next to their ``currency``; ``metadata`` becomes ``metadata.<key>`` columns;
    nested objects become dotted columns one level deep (``billing_details.email``) and
    anything wider stays a Python object. ``progress`` shows a live count on standard error
    (default: on for a paginator).
    """
    with needs_extra("analytics"):
        import pandas  # noqa: F401 - the missing extra is told before any page is fetched
    async with aclosing(each(source, progress=progress)) as found:
        rows = [flatten(plain(obj)) async for obj in found]  # a row per object as it comes, not the models
    return build(rows)

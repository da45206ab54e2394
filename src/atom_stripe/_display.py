"""How pages look in a notebook: an HTML table of their items."""

from __future__ import annotations

from html import escape
from typing import Any

from .models._base import SECRET_FIELDS

#: Columns shown for a page's items, when the items have them.
COLUMNS = ("id", "object", "created", "email", "name", "amount", "currency", "status", "type", "description")


def page_html(page: Any) -> str:
    items = list(page.data)
    columns = [c for c in COLUMNS if any(getattr(item, c, None) is not None for item in items)]
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = []
    for item in items:
        cells = []
        for column in columns:
            value = getattr(item, column, None)
            text = "••••" if column in SECRET_FIELDS else ("" if value is None else str(value))
            cells.append(f"<td>{escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    more = "more pages follow" if page.has_more else "last page"
    return (
        f"<div><strong>{escape(type(page).__name__)}</strong>: {len(items)} item(s), {more}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )

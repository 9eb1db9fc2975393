"""Table rows as passages that keep their header: "Year: 2023; Revenue: 4.2M"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from qa_app.ingest.build import DocumentBuilder

MAX_CELL_CHARS = 2000  # a cell longer than this is prose pasted into a table; keep its start


def cell_text(value: object) -> str:
    """Return a cell as text: dates without a midnight time, whole floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, bool):
        value = "yes" if value else "no"
    text = " ".join(str(value).split())
    return text[:MAX_CELL_CHARS]


def _is_label(text: str) -> bool:
    if not text:
        return True
    try:
        float(text.replace(",", "").replace("%", ""))
    except ValueError:
        return True
    return False


def looks_like_header(row: Sequence[str]) -> bool:
    """Return True when a first row names columns: two or more labels, none of them a number."""
    filled = [cell for cell in row if cell]
    return (
        len(filled) >= 2
        and all(_is_label(cell) for cell in row)
        and len(set(filled)) == len(filled)
    )


def row_text(header: Sequence[str] | None, row: Sequence[str]) -> str:
    """Return one row as "Header: value; Header: value" (empty cells left out); without a
    header, the values joined by " | "."""
    if header is None:
        return " | ".join(cell for cell in row if cell)
    parts = []
    for number, cell in enumerate(row):
        if not cell:
            continue
        label = header[number] if number < len(header) else ""
        parts.append(f"{label}: {cell}" if label else cell)
    return "; ".join(parts)


def add_table(
    builder: DocumentBuilder,
    rows: Iterable[Sequence[object]],
    *,
    name: str | None = None,
    page: int | None = None,
    header: bool | None = None,
) -> int:
    """Add a table to ``builder``: its ``name`` as a heading, then one block per non-empty row
    with the header's labels (the first non-empty row, when it looks like one or ``header``
    says so). Return how many rows were added."""
    first: list[str] | None = None
    labels: list[str] | None = None
    added = 0
    for raw in rows:
        row = [cell_text(value) for value in raw]
        while row and not row[-1]:
            row.pop()
        if not row:
            continue
        if first is None:
            first = row
            if name:
                builder.add(name, "heading", page=page)
            if header if header is not None else looks_like_header(row):
                labels = row
                continue
        builder.add(row_text(labels, row), "row", page=page)
        added += 1
    if first is not None and added == 0:  # a header and nothing else is still text
        builder.add(" | ".join(cell for cell in first if cell), "row", page=page)
        added = 1
    return added

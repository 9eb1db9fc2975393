"""Table rows as passages that keep their label and header: "Year: 2023; Revenue: 4.2M"."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator, Sequence

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.limits import MAX_TABLE_ROWS

log = logging.getLogger(__name__)

MAX_CELL_CHARS = 2000  # a cell longer than this is prose pasted into a table; keep its start
IDENTICAL_ROWS = "identical rows collapsed"
ROWS_PAST_LIMIT = "table rows past the limit for one file"


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


_GENERIC = re.compile(r"^(?:col(?:umn)?|field|f)\s?\d+$|^[a-z]$", re.IGNORECASE)


def is_generic_header(row: Sequence[str]) -> bool:
    """Return True for a header that names nothing ("Col1 | Col2", "A | B | C"): the table's
    own labels are then in its first data row."""
    filled = [cell for cell in row if cell]
    return len(filled) >= 2 and all(_GENERIC.match(cell) for cell in filled)


def row_text(header: Sequence[str] | None, row: Sequence[str]) -> str:
    """Return one row as "Header: value; Header: value" (empty cells left out); without a
    header, the values joined by " | ". Its first non-empty cell, the row's label, comes first
    either way."""
    if header is None:
        return " | ".join(cell for cell in row if cell)
    parts = []
    for number, cell in enumerate(row):
        if not cell:
            continue
        label = header[number] if number < len(header) else ""
        parts.append(f"{label}: {cell}" if label and label != cell else cell)
    return "; ".join(parts)


def table_rows(rows: Iterable[Sequence[str]], *, header: bool | None = None) -> list[str]:
    """Return the passages of a table given as cell texts: one per non-empty row, each with
    the column headers (the first row, when it looks like a header or ``header`` says so; a
    header that names nothing gives way to the first data row's labels)."""
    return [text for text, _ in _row_texts(((row, 1) for row in rows), header)]


def _row_texts(
    rows: Iterable[tuple[Sequence[str], int]], header: bool | None
) -> Iterator[tuple[str, int]]:
    """Yield (passage, times repeated) for every non-empty row; a header row on its own only
    when it would otherwise be lost (a header that names nothing, or only a header)."""
    first: list[str] | None = None
    labels: list[str] | None = None
    generic = False
    added = 0
    used: set[int] = set()  # columns with a value under the header
    for raw, times in rows:
        row = list(raw)
        while row and not row[-1]:
            row.pop()
        if not row:
            continue
        if first is None:
            first = row
            if header if header is not None else looks_like_header(row):
                labels = row
                generic = is_generic_header(row)
                if generic:
                    yield " | ".join(cell for cell in row if cell), 1
                    added += 1
                continue
        elif generic and added == 1 and looks_like_header(row):
            # "Col1 | Col2 | Col3" then "Name | Anton | Antich": the data's own labels, so that
            # the next row reads "Name: Age; Anton: 23" and "How old is Anton?" finds it.
            yield " | ".join(cell for cell in row if cell), times
            labels, generic = row, False
            added += 1
            continue
        if labels is not None:
            used.update(i for i, cell in enumerate(row) if cell)
        yield row_text(labels, row), times
        added += 1
    if labels is not None and any(c and i not in used for i, c in enumerate(labels)):
        # A header whose columns hold nothing below it (or a header and nothing else) is still
        # text of the table: it stands on its own.
        yield " | ".join(cell for cell in labels if cell), 1
    elif first is not None and added == 0:
        yield " | ".join(cell for cell in first if cell), 1


def add_table(
    builder: DocumentBuilder,
    rows: Iterable[Sequence[object]],
    *,
    name: str | None = None,
    page: int | None = None,
    header: bool | None = None,
    repeats: Iterable[int] | None = None,
) -> int:
    """Add a table to ``builder``: its ``name`` as a heading, then one block per non-empty row
    with the header's labels (see :func:`table_rows`). A run of identical rows is stored once,
    saying how many there were, and the rest counted as left out; rows past MAX_TABLE_ROWS in
    one file are left out and counted. ``repeats`` gives how often each row stands in the
    file (an OpenDocument row written once with number-rows-repeated). Return how many rows
    were added."""
    counts = iter(repeats) if repeats is not None else None
    sized = (
        ([cell_text(value) for value in raw], next(counts, 1) if counts is not None else 1)
        for raw in rows
    )
    added = 0
    previous: str | None = None
    run = 0
    for number, (text, times) in enumerate(_row_texts(sized, header)):
        if number == 0 and name:
            builder.add(name, "heading", page=page)
        if text == previous:
            run += times
            continue
        _close_run(builder, previous, run, page)
        previous, run = None, 0
        if builder.rows >= MAX_TABLE_ROWS:
            builder.leave_out(ROWS_PAST_LIMIT, text, times)
            continue
        previous, run = text, times
        added += 1
    _close_run(builder, previous, run, page)
    return added


def _close_run(builder: DocumentBuilder, text: str | None, run: int, page: int | None) -> None:
    if text is None:
        return
    if run > 1:
        builder.add(f"{text} (the same row {run:,} times in a row)", "row", page=page)
        builder.leave_out(IDENTICAL_ROWS, text, run - 1)
    else:
        builder.add(text, "row", page=page)


def warn_left_out(builder: DocumentBuilder) -> None:
    """Log a warning for every kind of row left out of the table(s) read so far."""
    for left in builder.left_out:
        if left.rule in (IDENTICAL_ROWS, ROWS_PAST_LIMIT):
            log.warning(
                "%s: %s rows left out (%s), first: %s",
                builder.path, f"{left.count:,}", left.rule, left.example[:80],
            )  # fmt: skip

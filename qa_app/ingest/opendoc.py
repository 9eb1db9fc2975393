"""OpenDocument (.odt text, .ods spreadsheet) via odfpy: headings, paragraphs, lists, tables;
a spreadsheet's rows keep their header and its sheet number is the page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.limits import MAX_REPEATED_CELLS
from qa_app.ingest.packages import check_package
from qa_app.ingest.tables import add_table, table_rows, warn_left_out
from qa_app.records import Document

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
MAX_REPEAT = 1000  # spreadsheets repeat empty cells and rows to the sheet's edge (a million)


def _open(path: Path, what: str) -> Any:
    from odf.opendocument import load

    data = read_bytes(path)
    check_package(data, path, what)
    try:
        return load(io.BytesIO(data))
    except Exception as exc:  # odfpy raises KeyError, XML errors... on damaged packages
        raise IngestError(path, f"corrupt or damaged {what} ({exc})") from None


def _name(element: Any) -> tuple[str, str] | None:
    return getattr(element, "qname", None)


def _text(element: Any) -> str:
    from odf import teletype

    return str(teletype.extractText(element))


def _repeat(element: Any, attribute: str) -> int:
    value = element.getAttrNS(TABLE, attribute)
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def _rows(table: Any, counted: list[int] | None = None) -> Iterator[list[str]]:
    """Yield the rows of a table:table as cell texts. A row written once and repeated
    (number-rows-repeated, up to a billion times in a crafted file) is yielded once, its count
    appended to ``counted``; a cell repeated along its row is expanded up to
    MAX_REPEATED_CELLS times."""
    for row in _descendants(table, (TABLE, "table-row")):
        cells: list[str] = []
        for cell in row.childNodes:
            if _name(cell) not in ((TABLE, "table-cell"), (TABLE, "covered-table-cell")):
                continue
            text = " ".join(_text(p) for p in cell.childNodes if _name(p) == (TEXT, "p"))
            repeat = _repeat(cell, "number-columns-repeated")
            cells += [text] * min(repeat, MAX_REPEATED_CELLS if text.strip() else MAX_REPEAT)
        if any(c.strip() for c in cells):
            times = _repeat(row, "number-rows-repeated")
            if counted is not None:
                counted.append(times)
                yield cells
            else:
                for _ in range(min(times, MAX_REPEAT)):
                    yield cells


def _each(counts: list[int]) -> Iterator[int]:
    """Yield the counts ``_rows`` appends, as add_table reads the rows (one behind the other)."""
    position = 0
    while True:
        yield counts[position] if position < len(counts) else 1
        position += 1


def _descendants(element: Any, name: tuple[str, str]) -> Iterator[Any]:
    for child in element.childNodes:
        if _name(child) == name:
            yield child
        elif _name(child) not in ((TABLE, "table"),):  # nested tables are their own tables
            yield from _descendants(child, name)


def _blocks(element: Any) -> Iterator[tuple[str, str]]:
    for child in element.childNodes:
        name = _name(child)
        if name == (TEXT, "h"):
            yield _text(child), "heading"
        elif name == (TEXT, "p"):
            yield _text(child), "paragraph"
        elif name == (TEXT, "list-item"):
            yield "\n".join(text for text, _ in _blocks(child)), "item"
        elif name == (TABLE, "table"):
            for text in table_rows(_rows(child)):  # one passage per row, with its headers
                yield text, "row"
        elif name is not None:
            yield from _blocks(child)  # sections, lists, frames


def _title(document: Any) -> str | None:
    from odf import dc

    titles = document.meta.getElementsByType(dc.Title) if document.meta else []
    return _text(titles[0]) if titles else None


def load_odt(path: Path) -> Document:
    """Return the Document for an .odt text document; raises IngestError for damaged files."""
    document = _open(path, "an OpenDocument text")
    builder = DocumentBuilder(path, "odt")
    for text, kind in _blocks(document.text):
        builder.add(text, kind)
    return builder.build(_title(document))


def load_ods(path: Path) -> Document:
    """Return the Document for an .ods spreadsheet (rows keep the header; sheet = page)."""
    document = _open(path, "an OpenDocument spreadsheet")
    builder = DocumentBuilder(path, "ods")
    sheets = [c for c in document.spreadsheet.childNodes if _name(c) == (TABLE, "table")]
    for number, sheet in enumerate(sheets, 1):
        name = sheet.getAttrNS(TABLE, "name") if len(sheets) > 1 else None
        counts: list[int] = []
        add_table(builder, _rows(sheet, counts), name=name, page=number, repeats=_each(counts))
    warn_left_out(builder)
    return builder.build(_title(document) or path.stem, pages=len(sheets))

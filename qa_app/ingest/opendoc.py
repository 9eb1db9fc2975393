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
from qa_app.ingest.packages import check_package
from qa_app.ingest.tables import add_table
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


def _rows(table: Any) -> Iterator[list[str]]:
    """Yield the rows of a table:table as cell texts, repeated cells and rows expanded."""
    for row in _descendants(table, (TABLE, "table-row")):
        cells: list[str] = []
        for cell in row.childNodes:
            if _name(cell) not in ((TABLE, "table-cell"), (TABLE, "covered-table-cell")):
                continue
            text = " ".join(_text(p) for p in cell.childNodes if _name(p) == (TEXT, "p"))
            cells += [text] * min(_repeat(cell, "number-columns-repeated"), MAX_REPEAT)
        if any(c.strip() for c in cells):
            for _ in range(min(_repeat(row, "number-rows-repeated"), MAX_REPEAT)):
                yield cells


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
            yield (
                "\n".join(" | ".join(c for c in row if c.strip()) for row in _rows(child)),
                "table",
            )
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
        add_table(builder, _rows(sheet), name=name, page=number)
    return builder.build(_title(document) or path.stem, pages=len(sheets))

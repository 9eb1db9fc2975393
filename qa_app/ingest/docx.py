"""Word (.docx): paragraphs and tables in reading order via python-docx; headings marked."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.limits import check_zip
from qa_app.ingest.tables import table_rows
from qa_app.records import Document

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: Word 97-2003, or an encrypted .docx


def _open(data: bytes, path: Path) -> Any:
    import docx

    if data.startswith(_OLE):
        raise IngestError(
            path,
            "password-protected, or an old Word 97-2003 document renamed to .docx; "
            "save it as an unprotected .docx",
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(path, "corrupt or not a Word document (a .docx is a ZIP package)")
    check_zip(data, path)  # before python-docx unzips and parses anything
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx/lxml raise many kinds on damaged packages
        raise IngestError(path, f"corrupt or damaged Word document ({exc})") from None


def _kind(paragraph: Any) -> str:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title" or style.startswith("Heading"):
        return "heading"
    p_pr = paragraph._p.pPr
    if style.startswith("List") or (p_pr is not None and p_pr.numPr is not None):
        return "item"
    return "paragraph"


def _cell_text(cell: Any) -> str:
    parts = [p.text for p in cell.paragraphs]
    parts += [_table_text(table) for table in cell.tables]
    return " ".join(" ".join(parts).split())


def _grid(table: Any) -> list[list[str]]:
    """Return a table's rows as cell texts, a merged cell once (in its first column)."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                cells.append("")  # a merged cell is repeated once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell))
        rows.append(cells)
    return rows


def _table_text(table: Any) -> str:
    """Return a table nested in a cell as one line per row, cells joined by " | "."""
    rows = (" | ".join(cell for cell in row if cell) for row in _grid(table))
    return "\n".join(row for row in rows if row)


def _blocks(document: Any) -> Iterator[tuple[str, str]]:
    from docx.table import Table

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            # One passage per row, each with its label and the column headers.
            for text in table_rows(_grid(item)):
                yield text, "row"
        else:
            yield item.text, _kind(item)


def load_docx(path: Path) -> Document:
    """Return the Document for a .docx file; raises IngestError for damaged or locked files."""
    document = _open(read_bytes(path), path)
    builder = DocumentBuilder(path, "docx")
    try:
        for text, kind in _blocks(document):
            builder.add(text, kind)
        title = document.core_properties.title
    except Exception as exc:  # damaged XML inside an otherwise valid package
        raise IngestError(path, f"corrupt or damaged Word document ({exc})") from None
    return builder.build(title or None)

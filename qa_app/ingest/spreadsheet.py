"""Excel (.xlsx): every sheet's rows as passages keeping the header (openpyxl, read-only, values
not formulas); the sheet's number is the page."""

from __future__ import annotations

import io
from pathlib import Path

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.packages import check_package
from qa_app.ingest.tables import add_table, warn_left_out
from qa_app.records import Document


def load_xlsx(path: Path) -> Document:
    """Return the Document for an .xlsx workbook; raises IngestError for damaged, locked or
    empty workbooks."""
    import openpyxl

    data = read_bytes(path)
    check_package(data, path, "an Excel workbook")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, InvalidFileException, lxml errors...
        raise IngestError(path, f"corrupt or damaged Excel workbook ({exc})") from None
    builder = DocumentBuilder(path, "xlsx")
    try:
        sheets = book.worksheets
        for number, sheet in enumerate(sheets, 1):
            # The dimension a file declares may be the sheet's edge (a million rows of
            # nothing); reading the rows the file holds is what bounds the work.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(values_only=True)
            name = sheet.title if len(sheets) > 1 else None
            add_table(builder, rows, name=name, page=number)
        title = book.properties.title if book.properties is not None else None
    finally:
        book.close()
    warn_left_out(builder)
    return builder.build(title=title or path.stem, pages=len(sheets))

"""CSV (.csv): the dialect sniffed, each row a passage keeping the header's labels."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.decoding import decode
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.normalize import normalize_lines
from qa_app.ingest.tables import add_table
from qa_app.records import Document

SNIFF_CHARS = 64_000
DELIMITERS = ",;\t|"


def load_csv(path: Path) -> Document:
    """Return the Document for a CSV file; raises IngestError for unusable files."""
    text = normalize_lines(decode(read_bytes(path), path))
    if not text.strip():
        raise IngestError(path, "contains no text (only blank space)")
    sample = text[:SNIFF_CHARS]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, DELIMITERS)
    except csv.Error:
        dialect = csv.excel  # one column, or too irregular to tell: commas
    try:
        header = csv.Sniffer().has_header(sample)
    except csv.Error:
        header = None
    csv.field_size_limit(10_000_000)
    builder = DocumentBuilder(path, "csv")
    try:
        add_table(
            builder, csv.reader(io.StringIO(text, newline=""), dialect), header=header or None
        )
    except csv.Error as exc:
        raise IngestError(path, f"not readable as CSV ({exc})") from None
    return builder.build(title=path.stem)

"""Rich Text Format (.rtf): text via striprtf, then paragraphs like plain text."""

from __future__ import annotations

from pathlib import Path

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.normalize import clean
from qa_app.ingest.plaintext import add_text
from qa_app.records import Document


def load_rtf(path: Path) -> Document:
    """Return the Document for an RTF file; raises IngestError for files that are not RTF."""
    from striprtf.striprtf import rtf_to_text

    data = read_bytes(path)
    if not data.lstrip().startswith(b"{\\rtf"):
        raise IngestError(path, "not an RTF file (it does not start with {\\rtf)")
    # RTF is 7-bit ASCII with escapes for everything else; \\ansicpg names the code page that
    # striprtf uses for \\'hh escapes.
    markup = data.decode("latin-1")
    text = clean(rtf_to_text(markup, errors="replace"))
    if not text:
        raise IngestError(path, "no extractable text")
    builder = DocumentBuilder(path, "rtf")
    add_text(builder, text)
    return builder.build()

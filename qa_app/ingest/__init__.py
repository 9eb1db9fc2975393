"""Document loading: one loader per format, each returning a clean Document or raising IngestError."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import MAX_FILE_BYTES, check_file
from qa_app.records import Document

__all__ = ["FORMATS", "MAX_FILE_BYTES", "SUPPORTED_SUFFIXES", "IngestError", "load"]

log = logging.getLogger(__name__)

FORMATS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUPPORTED_SUFFIXES = frozenset(FORMATS)
_NAMES = {"txt": "text", "md": "Markdown", "html": "HTML", "pdf": "PDF", "docx": "Word"}


def _loader(fmt: str) -> Callable[[Path], Document]:
    # Imported on demand: pypdfium2, python-docx and trafilatura are only paid for when needed.
    if fmt == "txt":
        from qa_app.ingest.plaintext import load_text

        return load_text
    if fmt == "md":
        from qa_app.ingest.markdown import load_markdown

        return load_markdown
    if fmt == "html":
        from qa_app.ingest.html import load_html

        return load_html
    if fmt == "pdf":
        from qa_app.ingest.pdf import load_pdf

        return load_pdf
    from qa_app.ingest.docx import load_docx

    return load_docx


def load(path: str | Path) -> Document:
    """Return the Document for the file at ``path``, chosen by its suffix.

    Raises IngestError (with ``.path`` and a ``.reason`` for people) for an unsupported format,
    a missing/unreadable/empty/too large file, a broken link, binary or undecodable content,
    a damaged or encrypted file, a file with no extractable text, or one that expands past the
    limits of :mod:`qa_app.ingest.limits` (a decompression bomb, too many characters or pages).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        what = f"'{suffix}'" if suffix else "without a file extension"
        raise IngestError(path, f"unsupported format {what} (supported: {supported})")
    check_file(path)
    try:
        return _loader(fmt)(path)
    except IngestError:
        raise
    except RecursionError:
        raise IngestError(path, f"too deeply nested to read as {_NAMES[fmt]}") from None
    except Exception as exc:  # a library failing on odd input is still the file's problem
        log.debug("loading %s failed", path, exc_info=True)
        raise IngestError(
            path, f"could not be read as {_NAMES[fmt]} ({type(exc).__name__}: {exc})"
        ) from None

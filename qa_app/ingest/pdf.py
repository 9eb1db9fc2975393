"""PDF (.pdf): page-aware text via pypdf; wrapped lines joined, running headers and footers dropped."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

from qa_app.ingest import boilerplate
from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.normalize import clean
from qa_app.ingest.options import LoadOptions
from qa_app.ingest.paragraphs import is_item, looks_like_heading, paragraphs, wrap_width
from qa_app.records import Document

log = logging.getLogger(__name__)

# Producer leftovers that are not a title: "Microsoft Word - draft3.docx", "untitled".
_JUNK_TITLE = re.compile(
    r"^(?:untitled|document\d*|microsoft word - .*|.*\.(?:docx?|pdf|rtf|odt|tex|indd))$",
    re.IGNORECASE,
)


def _open(data: bytes, path: Path) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    if b"%PDF-" not in data[:1024]:
        raise IngestError(path, "not a PDF file (it has no PDF header; is the file name wrong?)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many PDFs only restrict printing or copying
            except (DependencyError, NotImplementedError):
                raise IngestError(
                    path, "encrypted PDF using a method this app cannot open"
                ) from None
            if not opened:
                raise IngestError(
                    path, "encrypted PDF: it needs a password to open; save a copy without one"
                )
        len(reader.pages)  # walks the page tree: a damaged file fails here, not later
    except IngestError:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise IngestError(path, f"corrupt or damaged PDF ({_brief(exc)})") from None
    return reader


def _brief(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def _metadata_title(reader: Any) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # broken /Info dictionaries are common and harmless
        return None
    title = clean(str(title)) if title else ""
    return title if title and not _JUNK_TITLE.match(title) else None


def _page_lines(reader: Any, path: Path) -> list[list[str]]:
    pages: list[list[str]] = []
    failures = 0
    for number, page in enumerate(reader.pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # one bad page should not cost the whole document
            log.warning("%s: page %d could not be read (%s)", path, number, _brief(exc))
            failures += 1
            text = ""
        pages.append(clean(text).split("\n"))
    if failures and failures == len(pages):
        raise IngestError(path, "corrupt or damaged PDF (no page could be read)")
    return pages


def load_pdf(path: Path, options: LoadOptions | None = None) -> Document:
    """Return the Document for a PDF; blocks carry 1-based pages.

    Pages without a text layer are OCRed (unless ``options.ocr`` is off) and their blocks
    marked ``ocr``; pages with one never are. Raises IngestError for damaged or encrypted
    PDFs and for PDFs with no text at all; LoadCancelled when asked to stop during OCR.
    """
    options = options or LoadOptions()
    data = read_bytes(path)
    reader = _open(data, path)
    pages = boilerplate.strip_running(_page_lines(reader, path))
    scanned: dict[int, list[str]] = {}
    empty = [number for number, lines in enumerate(pages, 1) if not any(lines)]
    if empty and options.ocr:
        from qa_app.ingest.pdf_ocr import ocr_pages

        scanned = ocr_pages(data, empty, path, options)
    if not any(line for page in pages for line in page) and not any(scanned.values()):
        reason = (
            "no extractable text: the pages are images in which OCR found no text"
            if options.ocr
            else "no extractable text: the pages are probably scanned images (OCR is switched "
            "off for this library)"
        )
        raise IngestError(path, reason)
    width = wrap_width([line for page in pages for line in page], max_width=None)
    builder = DocumentBuilder(path, "pdf")
    for number, lines in enumerate(pages, 1):
        for paragraph in scanned.get(number, []):
            builder.add(paragraph, kind_of(paragraph), page=number, ocr=True)
        for paragraph in paragraphs(lines, width):
            builder.add(paragraph, kind_of(paragraph), page=number)
    return builder.build(_metadata_title(reader), pages=len(pages))


def kind_of(paragraph: str) -> str:
    """Return "item", "heading" or "paragraph" for one paragraph of a page."""
    kind = "item" if is_item(paragraph) else "paragraph"
    if kind == "paragraph" and looks_like_heading(paragraph):
        kind = "heading"
    return kind

"""PDF (.pdf): page text via PDFium (pypdfium2); lines joined into paragraphs, running headers
dropped, pages that are only images (with at most a watermark) counted as scanned and OCRed."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_app.ingest import boilerplate
from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.limits import check_pages, check_pdf_streams, check_text
from qa_app.ingest.normalize import clean
from qa_app.ingest.options import LoadOptions
from qa_app.ingest.paragraphs import is_item, looks_like_heading, paragraphs, wrap_width
from qa_app.ingest.pdfium_lock import PDFIUM
from qa_app.ingest.reporting import captured_warnings
from qa_app.records import Document

log = logging.getLogger(__name__)

_LOCK = PDFIUM  # PDFium is not thread-safe: the process-wide lock (pdfium_lock)

# Producer leftovers that are not a title: "Microsoft Word - draft3.docx", "untitled".
_JUNK_TITLE = re.compile(
    r"^(?:untitled|document\d*|microsoft word - .*|.*\.(?:docx?|pdf|rtf|odt|tex|indd))$",
    re.IGNORECASE,
)
# PDFium marks a hyphen that ends a line with U+0002 and joins the two lines itself.
_SOFT_HYPHEN = re.compile(r"\x02(?:\r?\n)?(?=(.?))", re.DOTALL)
_IMAGE_PAGE_WORDS = 25  # an image page with at most this many words has no text of its own
_WATERMARK = re.compile(
    r"\b(?:trial|evaluation|unregistered|demo)\s+(?:version|copy|only)\b|\b(?:produced|created|"
    r"generated|converted)\s+(?:with|by|using)\b|\bwww\.|https?://",
    re.IGNORECASE,
)
NO_TEXT = "no extractable text: the pages are probably scanned images (run OCR on it first)"
NO_TEXT_OCR_OFF = (
    "no extractable text: the pages are probably scanned images (OCR is switched off for this "
    "library)"
)
NO_TEXT_AFTER_OCR = "no extractable text: the pages are images in which OCR found no text"


@dataclass(frozen=True)
class Page:
    """The text lines of one page, and whether it is an image with little or no text."""

    lines: list[str]
    scanned: bool = False


def _brief(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def _open(data: bytes, path: Path) -> Any:
    import pypdfium2 as pdfium

    if b"%PDF-" not in data[:1024]:
        raise IngestError(path, "not a PDF file (it has no PDF header; is the file name wrong?)")
    check_pdf_streams(data, path)  # PDFium would inflate a bomb in memory, for minutes
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise IngestError(
                path, "encrypted PDF: it needs a password to open; save a copy without one"
            ) from None
        if "security" in message:
            raise IngestError(path, "encrypted PDF using a method this app cannot open") from None
        raise IngestError(path, f"corrupt or damaged PDF ({_brief(exc)})") from None
    check_pages(len(document), path)
    return document


def _metadata_title(document: Any) -> str | None:
    try:
        title = document.get_metadata_dict().get("Title")
    except Exception:  # broken /Info dictionaries are common and harmless
        return None
    title = clean(str(title)) if title else ""
    return title if title and not _JUNK_TITLE.match(title) else None


def _unhyphenate(text: str) -> str:
    # "Übungsauf\x02gaben" is one word; "Schwarz\x02Weiß" keeps its hyphen.
    return _SOFT_HYPHEN.sub(lambda m: "" if m.group(1).islower() else "-", text)


def _watermark(text: str) -> bool:
    """Return True for a short line that is a vendor's stamp ("Trial version", a web address)."""
    return len(text.split()) <= _IMAGE_PAGE_WORDS and _WATERMARK.search(text) is not None


def _has_images(page: Any) -> bool:
    import pypdfium2.raw as pdfium_c

    objects = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3)
    return next(iter(objects), None) is not None


def _page(page: Any) -> Page:
    textpage = page.get_textpage()
    try:
        text = clean(_unhyphenate(textpage.get_text_bounded()))
    finally:
        textpage.close()
    lines = text.split("\n")
    if len(text.split()) <= _IMAGE_PAGE_WORDS and _has_images(page):
        # A picture with a few words on it: a scan, or a vendor's watermark on one.
        return Page([] if _WATERMARK.search(text) else lines, scanned=True)
    return Page(lines)


def read_pages(data: bytes, path: Path) -> tuple[list[Page], str | None]:
    """Return the pages of the PDF ``data`` and its metadata title.

    Raises IngestError for a file that is not a PDF, damaged, encrypted with a password, over
    the page or character limits, or of which no page could be read.
    """
    with _LOCK:
        document = _open(data, path)
        try:
            pages: list[Page] = []
            failures = length = 0
            for number in range(1, len(document) + 1):
                try:
                    page = document[number - 1]
                    try:
                        pages.append(_page(page))
                    finally:
                        page.close()
                except Exception as exc:  # one bad page should not cost the whole document
                    log.warning("%s: page %d could not be read (%s)", path, number, _brief(exc))
                    failures += 1
                    pages.append(Page([]))
                length += sum(len(line) + 1 for line in pages[-1].lines)
                check_text(length, path)
            if failures and failures == len(pages):
                raise IngestError(path, "corrupt or damaged PDF (no page could be read)")
            return pages, _metadata_title(document)
        finally:
            document.close()


def _has_text(page: Page) -> bool:
    return not page.scanned and any(line.strip() for line in page.lines)


def build_document(
    path: Path,
    pages: Sequence[Page],
    title: str | None,
    ocr: dict[int, list[str]] | None = None,
    *,
    no_text: str = NO_TEXT,
) -> Document:
    """Return the Document made of ``pages``: running lines stripped, lines joined into
    paragraphs, blocks with 1-based pages. ``ocr`` maps page numbers that were OCRed to their
    paragraphs (their blocks are marked ``ocr``; their own few words are left out). Raises
    IngestError (``no_text``) when no page has real text."""
    ocr = ocr or {}
    if not any(_has_text(page) for page in pages) and not any(ocr.values()):
        raise IngestError(path, no_text)
    lines, removed = boilerplate.strip_running_counted(
        [[] if number in ocr else page.lines for number, page in enumerate(pages, 1)]
    )
    scanned = [n for n, page in enumerate(pages, 1) if page.scanned and not ocr.get(n)]
    if scanned:
        what = "in which OCR found no text" if ocr else "with no text of their own"
        advice = "" if ocr else " (scanned? run OCR on them)"
        log.warning(
            "%s: %d of %d pages are images %s%s", path, len(scanned), len(pages), what, advice
        )
    width = wrap_width([line for page in lines for line in page], max_width=None)
    builder = DocumentBuilder(path, "pdf")
    for rule, line in removed:
        builder.leave_out(rule, line)
    for number, page_lines in enumerate(lines, 1):
        for paragraph in ocr.get(number, []):
            builder.add(paragraph, kind_of(paragraph), page=number, ocr=True)
        for paragraph in paragraphs(page_lines, width, join_broken=True):
            builder.add(paragraph, kind_of(paragraph), page=number)
    return builder.build(title, pages=len(pages))


def kind_of(paragraph: str) -> str:
    """Return "item", "heading" or "paragraph" for one paragraph of a page."""
    kind = "item" if is_item(paragraph) else "paragraph"
    if kind == "paragraph" and looks_like_heading(paragraph):
        kind = "heading"
    return kind


def load_pdf(path: Path, options: LoadOptions | None = None) -> Document:
    """Return the Document for a PDF; blocks carry 1-based pages.

    Pages without text of their own (scans) are OCRed, unless ``options.ocr`` is off, and
    their blocks marked ``ocr``; pages with a text layer never are. Raises IngestError for
    damaged, encrypted or text-less PDFs; LoadCancelled when asked to stop during OCR. What the
    PDF library complains about on the way is summarised in one warning for the file.
    """
    options = options or LoadOptions()
    data = read_bytes(path)
    with captured_warnings(path):
        pages, title = read_pages(data, path)
        wanted = [n for n, page in enumerate(pages, 1) if not _has_text(page)]
        scans: dict[int, list[str]] = {}
        if wanted and options.ocr:
            from qa_app.ingest.pdf_ocr import ocr_pages

            scans = {
                number: [p for p in found if not _watermark(p)]
                for number, found in ocr_pages(data, wanted, path, options).items()
            }
    if not options.ocr:
        no_text = NO_TEXT_OCR_OFF if wanted else NO_TEXT
    else:
        no_text = NO_TEXT_AFTER_OCR if wanted else NO_TEXT
    return build_document(path, pages, title, scans, no_text=no_text)

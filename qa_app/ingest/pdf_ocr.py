"""OCR of a PDF's image-only pages: each rendered with pypdfium2, then read by qa_app.ingest.ocr."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa_app.ingest.errors import IngestError
from qa_app.ingest.ocr import OcrUnavailable, recognise
from qa_app.ingest.options import LoadOptions

log = logging.getLogger(__name__)

DPI = 150  # bench/ocr.py: at 150 dpi text of 9 pt and up reads as well as at 200, faster
BLANK = 250  # a rendered page whose darkest pixel is lighter than this has nothing to read


def ocr_pages(
    data: bytes, numbers: Sequence[int], path: Path, options: LoadOptions
) -> dict[int, list[str]]:
    """Return {1-based page number: paragraphs} for the given pages, OCRed one by one.

    Pages that render blank are not OCRed (no paragraphs). ``options.progress(done, total)`` follows
    every page and ``options.cancel`` is asked before each (LoadCancelled); a page read before
    (``options.cache``, by the PDF's SHA-256) is not rendered or OCRed again. Raises IngestError
    when the PDF cannot be rendered or the OCR engine is missing.
    """
    import pypdfium2 as pdfium

    from qa_app.ingest.pdfium_lock import PDFIUM as _LOCK  # one PDFium call at a time

    try:
        with _LOCK:
            document = pdfium.PdfDocument(data, password="")
    except pdfium.PdfiumError as exc:
        raise IngestError(path, f"cannot render the scanned pages for OCR ({exc})") from None
    found: dict[int, list[str]] = {}
    digest = hashlib.sha256(data).hexdigest() if options.cache is not None else ""
    options.report(0, len(numbers))
    try:
        for done, number in enumerate(numbers, 1):
            options.check_cancel()
            found[number] = options.recognised(
                digest,
                number,
                functools.partial(_read_page, document, number, path),
                f"; {DPI} dpi",
            )
            options.report(done, len(numbers))
    finally:
        with _LOCK:
            document.close()
    return found


def _read_page(document: Any, number: int, path: Path) -> list[str]:
    """Return the paragraphs OCR finds on page ``number`` ([] for a blank or unrenderable one)."""
    import pypdfium2 as pdfium

    from qa_app.ingest.pdfium_lock import PDFIUM as _LOCK

    try:
        with _LOCK:
            page = document[number - 1]
            image = page.render(scale=DPI / 72, grayscale=True).to_pil()
            page.close()
    except (pdfium.PdfiumError, IndexError, ValueError) as exc:
        log.warning("%s: page %d could not be rendered (%s)", path, number, exc)
        return []
    darkest, _ = image.convert("L").getextrema()
    if darkest >= BLANK:
        return []
    try:
        return recognise(image)
    except OcrUnavailable as exc:
        raise IngestError(path, f"scanned pages, and OCR cannot run: {exc}") from None

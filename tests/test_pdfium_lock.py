"""One PDFium lock for the process: a PDF citation's page view waits while a PDF is being indexed
(PDFium is not thread-safe), and both finish with the right result."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from pathlib import Path
from typing import Any

import pytest
from test_gui_pdf import make_pdf

from qa_app.gui import pdf_page
from qa_app.ingest import load, pdf, pdf_ocr
from qa_app.ingest.pdfium_lock import PDFIUM

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not pdf_page.available(), reason="pypdfium2 is not installed"),
]


def test_ingestion_ocr_and_the_page_view_share_one_lock() -> None:
    assert pdf._LOCK is PDFIUM
    source = Path(pdf_ocr.__file__).read_text(encoding="utf-8")
    assert "PDFIUM as _LOCK" in source and "from qa_app.ingest.pdf import _LOCK" not in source


def test_a_citation_page_opened_while_a_pdf_is_indexed_waits_for_it(
    qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed, cited = tmp_path / "indexed.pdf", tmp_path / "cited.pdf"
    make_pdf(indexed)
    make_pdf(cited)
    inside, go_on = threading.Event(), threading.Event()
    read_page = pdf._page

    def slow_page(page: Any) -> Any:  # indexing, stopped inside PDFium until told to go on
        inside.set()
        assert go_on.wait(10)
        return read_page(page)

    monkeypatch.setattr(pdf, "_page", slow_page)
    documents: list[Any] = []
    indexing = threading.Thread(target=lambda: documents.append(load(str(indexed))))
    indexing.start()
    assert inside.wait(10)

    rendered: list[Any] = []
    finished = threading.Event()

    def open_citation() -> None:
        pages = pdf_page.PdfPages(str(cited))
        try:
            rendered.append(pages.render(1, 1.0))
            rendered.append(
                pages.find(1, "NIGHTJAR", "The final codename was NIGHTJAR in the report.")
            )
        finally:
            pages.close()
            finished.set()

    viewing = threading.Thread(target=open_citation)
    viewing.start()
    assert not finished.wait(0.5)  # PDFium is busy indexing: the page view waits its turn
    go_on.set()
    indexing.join(10)
    viewing.join(10)
    assert finished.is_set() and not indexing.is_alive()
    assert "NIGHTJAR" in documents[0].text
    image, _ = rendered[0]
    assert not image.isNull() and image.width() > 100
    assert rendered[1] is not None

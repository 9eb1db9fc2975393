"""The window shows where text came from: read by OCR (with what that means), or from an
e-mail attachment (named with its message); the library's OCR switch and OCR page progress."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace

import pytest
from gui_fakes import FakeBackend
from PySide6.QtCore import Qt
from test_gui_library import add_folder
from test_gui_pdf import make_pdf
from test_gui_units import _result
from test_gui_window import make_folder, open_window

from qa_app.gui.answer_card import AnswerView, sentence_html
from qa_app.gui.context_menus import citation_text
from qa_app.gui.models import (
    OCR_TIP,
    DocumentTableModel,
    SourceListModel,
    TitleRole,
    source_rows,
)
from qa_app.gui.progress import IndexProgress
from qa_app.gui.viewer import DocumentViewer
from qa_app.records import DocumentInfo, Progress
from qa_app.render import clipboard_text

pytestmark = pytest.mark.gui


def _scanned_attachment_result():
    result = _result()
    answer = result.answer
    assert answer is not None
    cite = replace(answer.citations[0], path="/mail/pump.eml", title="004.txt", ocr=True,
                   attachment="004.txt")  # fmt: skip
    passage = replace(result.passages[0], path="/mail/pump.eml", ocr=True, attachment="004.txt")
    return replace(result, answer=replace(answer, citations=(cite,)), alternatives=(),
                   passages=(passage,))  # fmt: skip


def test_sources_say_ocr_and_the_message_an_attachment_came_with(qtbot) -> None:
    result = _scanned_attachment_result()
    model = SourceListModel()
    model.set_rows(source_rows(result))
    index = model.index(0, 0)
    assert index.data(TitleRole) == "004.txt (attached to pump.eml), page 2 · read by OCR"
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "/mail/pump.eml" in tip and "attachment: 004.txt" in tip and OCR_TIP in tip

    card = AnswerView()
    qtbot.addWidget(card)
    card.show_result(result)
    assert "004.txt (attached to pump.eml), page 2 · read by OCR" in sentence_html(result)
    assert card.sentence.toolTip() == OCR_TIP
    assert "(attached to pump.eml)" in clipboard_text(result)
    assert "read by OCR" in clipboard_text(result)
    assert "004.txt (attached to pump.eml), page 2 (read by OCR)" in citation_text(
        source_rows(result)[0]
    )
    card.show_result(_result())  # an ordinary source: no OCR note
    assert card.sentence.toolTip() == "" and "OCR" not in sentence_html(_result())


def test_the_viewer_names_the_attachment_and_never_draws_the_message_as_a_pdf(qtbot) -> None:
    from qa_app.gui.models import SourceRow

    viewer = DocumentViewer()
    qtbot.addWidget(viewer)
    text = "Header.\n\nThe crack is in the north pump housing."
    start = text.index("north")
    row = SourceRow(
        kind="answer", doc_id=7, path="/mail/pump.eml", title="report.pdf", page=1,
        passage=text[9:], passage_start=9, score=0.9, answer_text="north pump housing",
        answer_start=start, answer_end=start + 18, sentence_start=9, sentence_end=len(text),
        ocr=True, attachment="report.pdf",
    )  # fmt: skip
    viewer.show_source(row, text)
    assert "report.pdf (attached to pump.eml)" in viewer.location.text()
    assert "read by OCR" in viewer.location.text()
    assert not viewer.is_paged()  # a PDF attachment is shown as its text
    assert viewer.text.textCursor().selectedText() == "north pump housing"


def test_the_document_list_shows_the_link() -> None:
    def info(**kw) -> DocumentInfo:
        base = dict(id=1, path="/mail/pump.eml", title="Pump report", format="eml", size=1,
                    mtime=0.0, content_hash="x", pages=None, chunks=2)  # fmt: skip
        return DocumentInfo(**{**base, **kw})

    model = DocumentTableModel()
    model.set_documents([
        info(),
        info(id=2, title="Quarterly figures", format="pdf", attachment="report.pdf", parent_id=1),
        info(id=-1, title="broken.docx", format="docx", status="failed", attachment="broken.docx",
             parent_id=1, error="attachment broken.docx: corrupt"),
    ])  # fmt: skip
    titles = [model.index(r, 0).data() for r in range(3)]
    assert titles == [
        "broken.docx (attached to pump.eml)",
        "Pump report",
        "Quarterly figures — report.pdf (attached to pump.eml)",
    ]
    assert "removing it removes the message" in model.index(2, 0).data(Qt.ItemDataRole.ToolTipRole)


def test_progress_names_the_ocr_page(qtbot) -> None:
    strip = IndexProgress()
    qtbot.addWidget(strip)
    strip.start("Adding")
    strip.update_progress(Progress(0, 3, "index", "/d/scan.pdf"))
    strip.update_progress(Progress(2, 40, "ocr", "/d/scan.pdf"))
    assert strip.label.text() == "OCR page 3 of 40: scan.pdf"
    assert strip.counts.text() == "0 of 3 files read (0%)"  # the files' count goes on


def test_the_ocr_checkbox_switches_the_library_and_rereads(qtbot, monkeypatch, tmp_path) -> None:
    backend = FakeBackend()
    window = open_window(qtbot, backend)
    panel = window.library_panel
    assert panel.ocr.isChecked()
    folder = make_folder(tmp_path, 2)
    make_pdf(folder / "scan.pdf")
    add_folder(qtbot, window, monkeypatch, folder)
    engine = window.session.library.engine
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000) as finished:
        panel.ocr.click()
    # Off: no text here was read by OCR, so nothing is read again (as the real library).
    assert not engine.ocr and not panel.ocr.isChecked() and finished.args[0] is None
    qtbot.waitUntil(lambda: not window.session.runner.is_busy(), timeout=10000)
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000) as finished:
        panel.ocr.click()
    # On: the PDF is read again (its scanned pages would be OCRed), the text files are not.
    report = finished.args[0]
    assert engine.ocr and report is not None and report.updated == (str(folder / "scan.pdf"),)
    qtbot.waitUntil(lambda: not window.session.runner.is_busy(), timeout=10000)
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        panel.ocr.click()
    qtbot.waitUntil(lambda: not window.session.runner.is_busy(), timeout=10000)
    # Reopening the library shows its stored setting.
    panel.set_ocr(True)
    window.session.library.open(engine.name)
    qtbot.waitUntil(lambda: window.session.library.engine is not engine, timeout=10000)
    qtbot.waitUntil(lambda: not panel.ocr.isChecked(), timeout=10000)

"""A PDF citation opens its page as an image with the answer's words marked on them."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from gui_fakes import FakeBackend
from PySide6.QtCore import QMarginsF, QPointF, QRectF
from PySide6.QtGui import QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPdfWriter
from test_gui_window import add_with_dialog, ask, open_window

from qa_app.gui import pdf_page

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not pdf_page.available(), reason="pypdfium2 is not installed"),
]
PAGES = [
    ["Page one mentions the harbour only.", "Nothing else is said here."],
    [
        "The NIGHTJAR project started in spring.",  # the same word, not the cited one
        "Later the name was changed twice.",
        "The final codename was NIGHTJAR in the report.",
    ],
    ["Page three closes the file."],
]
CITED = "The final codename was NIGHTJAR in the report."


def make_pdf(path: Path) -> QRectF:
    """Write PAGES to ``path``; return where the cited NIGHTJAR was drawn (points, top-left)."""
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setResolution(72)  # one device unit is one point
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Point)
    painter = QPainter(writer)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(12)
    painter.setFont(font)
    metrics = QFontMetricsF(font, writer)
    drawn = QRectF()
    for number, lines in enumerate(PAGES):
        if number:
            writer.newPage()
        y = 100.0
        for line in lines:
            painter.drawText(QPointF(72, y), line)
            if line == CITED:
                x = 72 + metrics.horizontalAdvance(line[: line.index("NIGHTJAR")])
                drawn = QRectF(
                    x, y - metrics.ascent(), metrics.horizontalAdvance("NIGHTJAR"), metrics.height()
                )
            y += 40
    painter.end()
    return drawn


def contains(outer: list[QRectF], inner: QRectF, slack: float = 0.75) -> bool:
    return any(o.adjusted(-slack, -slack, slack, slack).contains(inner) for o in outer)


def test_a_pdf_citation_opens_its_page_with_the_answer_marked(qtbot, monkeypatch, tmp_path):
    pdf = tmp_path / "report.pdf"
    drawn = make_pdf(pdf)
    window = open_window(qtbot, FakeBackend())
    report = add_with_dialog(qtbot, window, monkeypatch, [str(pdf)])
    assert report.added == (str(pdf),)
    ask(qtbot, window, "What was the final codename in the report?")
    assert window.ask_panel.answer.answer.text() == "NIGHTJAR"
    viewer, pages = window.viewer, window.viewer.page_view
    qtbot.waitUntil(lambda: viewer.showing_page() and pages.shown_page() == 2, timeout=5000)
    assert viewer.mode_button.isVisible() and viewer.mode_button.isChecked()
    assert "page 2" in viewer.location.text()

    # The marks are on the cited occurrence (line three), not the first NIGHTJAR of the page.
    boxes = pages.highlight_boxes()
    assert len(boxes) == 1
    assert boxes[0].intersects(drawn) and abs(boxes[0].center().y() - drawn.center().y()) < 6
    match = pages.match()
    glyphs = pages.document().glyph_boxes(1, match.start, match.end)
    assert len(glyphs) == len("NIGHTJAR")
    assert all(contains(boxes, g) for g in glyphs)
    # ... and they are drawn on the image: the middle of the word is tinted, not white paper.
    image = pages.image.pixmap().toImage()
    scale = image.width() / pages.document().size(1)[0]
    centre = boxes[0].center() * scale
    tinted = image.pixelColor(int(centre.x()), int(centre.y()))
    assert tinted.name() != "#ffffff"

    # Page navigation and zoom; the highlight is only on the cited page.
    pages.next.click()
    qtbot.waitUntil(lambda: pages.shown_page() == 3)
    assert not pages.next.isEnabled() and not pages.mark_pixels()
    pages.previous.click()
    qtbot.waitUntil(lambda: pages.shown_page() == 2)
    before = pages.image.pixmap().width()
    pages.zoom_in.click()
    qtbot.waitUntil(lambda: pages.image.pixmap().width() > before)
    assert pages.zoom_label.text().endswith("%")
    pages.page_spin.setValue(1)
    qtbot.waitUntil(lambda: pages.shown_page() == 1)

    # Plain text is one click away, with the answer highlighted there; and back.
    viewer.mode_button.click()
    assert not viewer.showing_page()
    answer = viewer.highlights()["answer"]
    assert viewer.text.toPlainText()[answer[0] : answer[1]] == "NIGHTJAR"
    viewer.mode_button.click()
    assert viewer.showing_page()
    qtbot.waitUntil(lambda: pages.shown_page() == 2)


def test_choosing_the_occurrence_the_citation_means():
    text = "NIGHTJAR began. Later, more. The final codename was NIGHTJAR in the report."
    sentence = "The final codename was NIGHTJAR in the report."
    start = pdf_page.choose(text, "nightjar", sentence)
    assert start == (text.rindex("NIGHTJAR"), text.rindex("NIGHTJAR") + 8)
    near = pdf_page.relative_position(text, sentence, sentence.index("NIGHTJAR"))
    assert near is not None and abs(near - text.rindex("NIGHTJAR") / len(text)) < 0.01
    # Across a line break the words are still found (the marks then take one box per line).
    assert pdf_page.choose("earlier this\r\nmonth", "earlier this month") == (0, 19)
    assert pdf_page.choose("earlier this-\r\nmonth", "earlier this month") == (0, 20)
    assert pdf_page.choose("nothing here", "NIGHTJAR") is None


def test_line_boxes_join_characters_per_line():
    chars = [(0, 0, 5, 10), (5, 0, 10, 10), (0, 0, 0, 0), (0, 20, 6, 30), (6, 20, 12, 30)]
    boxes = pdf_page.line_boxes(chars)
    assert [(b.left(), b.top(), b.right(), b.bottom()) for b in boxes] == [
        (0, 0, 10, 10),
        (0, 20, 12, 30),
    ]


def test_marks_land_on_the_words_of_a_rotated_page(qtbot, tmp_path):
    from pypdf import PdfReader, PdfWriter

    from qa_app.gui.page_view import PageView

    plain = tmp_path / "plain.pdf"
    make_pdf(plain)
    writer = PdfWriter()
    for number, page in enumerate(PdfReader(plain).pages):
        writer.add_page(page.rotate(90) if number == 1 else page)
    rotated = tmp_path / "rotated.pdf"
    with rotated.open("wb") as out:
        writer.write(out)
    view = PageView()
    qtbot.addWidget(view)
    view.show_citation(str(rotated), 2, "NIGHTJAR", CITED, CITED.index("NIGHTJAR"))
    qtbot.waitUntil(lambda: view.shown_page() == 2)
    [rect] = view.mark_pixels()
    image = view.image.pixmap().toImage()
    assert image.width() > image.height()  # the page is shown turned, as a reader shows it
    assert rect.height() > rect.width()  # so is the word, and its mark with it
    # Under the mark is print (dark pixels), not empty paper.
    dark = sum(
        image.pixelColor(int(rect.center().x()), y).lightness() < 100
        for y in range(int(rect.top()), int(rect.bottom()))
    )
    assert dark >= 3
    view.shutdown()


def test_a_pdf_that_cannot_be_drawn_falls_back_to_its_text(qtbot, tmp_path):
    from qa_app.gui.models import SourceRow
    from qa_app.gui.viewer import DocumentViewer

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 then nothing a PDF needs")
    text = "Intro.\n\nThe final codename was NIGHTJAR in the report."
    a = text.index("NIGHTJAR")
    row = SourceRow(
        "answer", 1, str(broken), "Broken", 1, text[8:], 8, 0.9, "NIGHTJAR", a, a + 8, 8, len(text)
    )
    viewer = DocumentViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.open_failed, timeout=5000) as failed:
        viewer.show_source(row, text)
    assert "broken.pdf" in failed.args[0]
    assert not viewer.showing_page() and not viewer.mode_button.isVisible()
    assert viewer.highlights()["answer"] == (a, a + 8)
    viewer.page_view.shutdown()

"""Document and user text is data: markup in a title, file name, answer, sentence or question is
shown literally by every widget and escaped in every export, and nothing it names is loaded."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json

import pytest
from gui_fakes import FakeBackend
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QAbstractItemView, QLabel, QWidget
from test_gui_window import open_window

from qa_app import render
from qa_app.gui.ask_panel import SourceDelegate
from qa_app.gui.models import SourceRow
from qa_app.records import (
    Answer,
    Citation,
    DocumentInfo,
    FileError,
    Passage,
    Progress,
    Result,
    SyncReport,
)

pytestmark = pytest.mark.gui
IMG = '<img src="probe.png">'
LINK = '<a href="http://example.invalid/x">link</a>'
BOLD = "<b>NIGHTJAR"
TITLE = f"Report {LINK} {IMG}"
NAME = f"{IMG} scan.txt"  # a legal file name on every desktop system but Windows
QUESTION = f"What is the codename {IMG}?"
SENTENCE = f"The codename was {BOLD} and {LINK} then {IMG} ended."
MARKUP = (IMG, LINK, BOLD)


def _markup_result(tmp_path) -> tuple[Result, str]:
    path = str(tmp_path / NAME)
    text = f"Intro line.\n{SENTENCE}\n"
    s0 = text.index("The codename")
    a0 = text.index(BOLD)
    cite = Citation(
        1, path, TITLE, None, a0, a0 + len(BOLD), s0, s0 + len(SENTENCE), SENTENCE,
        s0, s0 + len(SENTENCE), SENTENCE, 0.9,
    )  # fmt: skip
    passage = Passage(1, 1, path, TITLE, None, s0, s0 + len(SENTENCE), SENTENCE, 0.8)
    alt = Answer(f"{IMG} other", 0.4, (cite,))
    result = Result(QUESTION, Answer(BOLD, 0.9, (cite,)), (alt,), (passage,), "fake", 0.5, {}, None)
    return result, text


def shown(label: QLabel) -> str:
    """Return what a label displays, as plain text (rich text rendered the way Qt renders it)."""
    text = label.text()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)
    )
    if not rich:
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    assert_inert(doc)
    return doc.toPlainText()


def assert_inert(doc: QTextDocument) -> None:
    """Fail when a rich text document holds an image (which Qt would load) or a link."""
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            assert not fmt.isImageFormat(), f"an image in {doc.toPlainText()!r}"
            assert not fmt.isAnchor(), f"a link in {doc.toPlainText()!r}"
            it += 1
        block = block.next()


def shown_tooltip(tip: str) -> str:
    if not GuiQt.mightBeRichText(tip):
        return tip
    doc = QTextDocument()
    doc.setHtml(tip)
    assert_inert(doc)
    return doc.toPlainText()


def check_everything_literal(root: QWidget) -> int:
    """Check every label, tooltip and item view under ``root``; return how many showed markup."""
    literal = 0
    for label in root.findChildren(QLabel):
        text = shown(label)
        if "probe.png" in text or "NIGHTJAR" in text or "example.invalid" in text:
            assert any(m in text for m in MARKUP) or "<img" in text, (label.objectName(), text)
            literal += 1
    for widget in [root, *root.findChildren(QWidget)]:
        tip = shown_tooltip(widget.toolTip())
        if "probe.png" in tip:
            assert "<img" in tip, tip
    for view in root.findChildren(QAbstractItemView):
        model = view.model()
        if model is None:
            continue
        for r in range(model.rowCount(QModelIndex())):
            for c in range(model.columnCount() if isinstance(model, QAbstractTableModel) else 1):
                index = model.index(r, c, QModelIndex())
                for role in (Qt.ItemDataRole.ToolTipRole,):
                    tip = index.data(role)
                    if isinstance(tip, str) and "probe.png" in tip:
                        assert "<img" in shown_tooltip(tip), tip
                        literal += 1
    return literal


def test_markup_in_document_and_question_is_shown_literally_everywhere(
    qtbot, tmp_path, monkeypatch
):
    window = open_window(qtbot, FakeBackend())
    result, text = _markup_result(tmp_path)
    path = result.answer.citations[0].path
    window.session.asking.last_result = result
    window.session.asking.result_ready.emit(result)
    # The viewer: the first source opens; give it the document's text directly.
    row = window.ask_panel.model.rows()[0]
    window._wanted = row
    window.session.texts.document_ready.emit(row, text)
    assert window.viewer.title.text() == TITLE
    window.library_panel.set_documents(
        [
            DocumentInfo(1, path, TITLE, "txt", 1, 0.0, "x", None, 1),
            DocumentInfo(0, str(tmp_path / f"{BOLD}.txt"), BOLD, "txt", 0, 0.0, "", None, 0,
                         "failed", f"bad {IMG}"),
        ]
    )  # fmt: skip
    window.library_panel.finish_indexing(SyncReport(failed=(FileError(path, f"why {LINK}"),)))
    window.library_panel.start_indexing("Adding")
    window.library_panel.update_progress(Progress(0, 2, "index", path))
    window.show_error(f"Could not open {path}")
    qtbot.waitUntil(lambda: window.banner.isVisible())

    card = window.ask_panel.answer
    assert card.answer.text() == BOLD and shown(card.answer) == BOLD
    assert QUESTION in shown(card.heading)
    assert SENTENCE in shown(card.sentence) and TITLE in shown(card.sentence)
    assert any(b.text().startswith(IMG) for b in card.alternative_buttons)
    assert NAME in shown(window.viewer.location) and BOLD in shown(window.viewer.location)
    assert NAME in shown(window.library_panel.progress.label)
    assert NAME in window.banner.text()
    assert check_everything_literal(window) >= 8

    # The sources list draws rich text: every piece escaped, nothing loadable in it.
    delegate = window.ask_panel.sources.itemDelegate()
    assert isinstance(delegate, SourceDelegate)
    index = window.ask_panel.model.index(0)
    doc = delegate._document(index, 400)
    assert_inert(doc)
    assert TITLE in doc.toPlainText() and BOLD in doc.toPlainText()

    # Rendering the whole window loads nothing either (probe.png exists where it would be looked up).
    (tmp_path / "probe.png").write_bytes(b"not an image")
    monkeypatch.chdir(tmp_path)
    window.grab()
    not_found = Result(QUESTION, None, (), result.passages, "fake", 0.5, {}, result.answer)
    window.session.asking.result_ready.emit(not_found)
    assert BOLD in shown(card.meta) and card.state == "not-found"
    assert check_everything_literal(window) >= 4


def test_exports_escape_markup(tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    result, _text = _markup_result(tmp_path)
    md = render.to_markdown(result)
    rendered = markdown_it.MarkdownIt("commonmark").render(md)
    for tag in ("<img", "<a ", "<b>"):
        assert tag not in rendered, (tag, rendered)
    # ... and the reader still sees the text as written.
    assert (
        "&lt;img src=&quot;probe.png&quot;&gt;" in rendered
        or '&lt;img src="probe.png"&gt;' in rendered
    )
    assert "&lt;b&gt;NIGHTJAR" in rendered and "](" not in md
    linky = Result(
        "q ![x](http://example.invalid/p.png) [y](http://example.invalid)",
        None, (), result.passages, "fake", 0.5, {}, None,
    )  # fmt: skip
    html = markdown_it.MarkdownIt("commonmark").render(render.to_markdown(linky))
    assert "<img" not in html and "<a " not in html and "![x]" in html
    data = json.loads(render.to_json(result))
    assert data["answer"]["text"] == BOLD and data["question"] == QUESTION
    assert BOLD in render.clipboard_text(result)


def test_source_row_snippet_is_plain():
    row = SourceRow("passage", 1, "/x", TITLE, None, SENTENCE, 0, 0.5)
    assert IMG in "".join(row.snippet())

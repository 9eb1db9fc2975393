"""Browsing the library in the window: open any document, filter and sort the list, search mode,
a question scoped to a folder or a format, keyboard reach to every pane, titles of untitled
documents."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from gui_fakes import FakeBackend
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_gui_window import EXAMPLE, SEED, ask, open_window

from qa_app.contracts import Scope
from qa_app.gui import dialogs
from qa_app.gui.models import RowRole, first_sentence_title, natural_key
from qa_app.gui.searching import hit_rows, query_terms
from qa_app.gui.viewer import passage_lead
from qa_app.records import Passage

pytestmark = pytest.mark.gui


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def window(qtbot, backend):
    return open_window(qtbot, backend)


def add_folder(qtbot, window, monkeypatch, folder: Path) -> None:
    monkeypatch.setattr(dialogs, "pick_folder", lambda parent: str(folder))
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        window.add_folder_action.trigger()
    qtbot.waitUntil(lambda: not window.session.runner.is_busy(), timeout=10000)


def parts_folder(tmp_path: Path) -> Path:
    """Files whose titles hold numbers: part 1, part 2, part 10 (and a headline-less one)."""
    folder = tmp_path / "case"
    folder.mkdir()
    for n in (1, 2, 10, 11):
        (folder / f"part{n}.txt").write_text(
            f"Report part {n}\n\nThe harbour log {n} names Captain Ahab.\n", encoding="utf-8"
        )
    return folder


def focus(qtbot, widget) -> None:
    widget.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def test_natural_key_sorts_numbers_by_value():
    titles = ["part 10", "Part 2", "part 1", "part 11"]
    assert sorted(titles, key=natural_key) == ["part 1", "Part 2", "part 10", "part 11"]


def test_first_sentence_title():
    text = (
        "LONDON — Iran has sent short-range ballistic missiles to Russia, Secretary of State said."
    )
    title = first_sentence_title(text)
    assert title.startswith("LONDON — Iran has sent") and title.endswith("…") and len(title) <= 70
    assert first_sentence_title("Short one. Second.") == "Short one"


def test_a_document_opens_from_the_list_by_enter_double_click_and_menu(qtbot, window):
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 5, timeout=5000)
    qtbot.waitUntil(lambda: not any(t.endswith(".txt") for t in panel.shown_titles()))
    table = panel.table
    focus(qtbot, table)
    table.setCurrentIndex(panel.proxy.index(0, 0))
    first = panel.proxy.index(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_Return)
    doc = first.data(Qt.ItemDataRole.UserRole + 10)
    qtbot.waitUntil(lambda: window.viewer.doc_id == doc.id, timeout=5000)
    text = window.viewer.text.toPlainText()
    assert text and window.viewer.highlights() == {}  # the whole document, nothing marked
    assert window.viewer.selection() == (0, 0)
    # Double-click another row.
    second = panel.proxy.index(1, 0)
    other = second.data(Qt.ItemDataRole.UserRole + 10)
    rect = table.visualRect(second)
    # As a real double-click: a press first, then the double-click event.
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.viewer.doc_id == other.id, timeout=5000)
    # "Show in the viewer" in the row's menu.
    table.selectRow(2)
    table.setCurrentIndex(panel.proxy.index(2, 0))
    menu = window.context_menus.document_menu()
    show = menu.actions()[0]
    assert show.text().replace("&", "") == "Show in the viewer" and menu.defaultAction() is show
    third = panel.proxy.index(2, 0).data(Qt.ItemDataRole.UserRole + 10)
    show.trigger()
    qtbot.waitUntil(lambda: window.viewer.doc_id == third.id, timeout=5000)
    assert os.path.basename(third.path) in window.viewer.location.text()


def test_filter_box_and_natural_sorting(qtbot, window, monkeypatch, tmp_path):
    add_folder(qtbot, window, monkeypatch, parts_folder(tmp_path))
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 9, timeout=5000)
    titles = panel.shown_titles()
    parts = [t for t in titles if t.startswith("Report part")]
    assert parts == ["Report part 1", "Report part 2", "Report part 10", "Report part 11"]
    # Clicking the header sorts; again, the other way.
    header = panel.table.horizontalHeader()
    header.sectionClicked.emit(0)
    panel.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    parts = [t for t in panel.shown_titles() if t.startswith("Report part")]
    assert parts == ["Report part 11", "Report part 10", "Report part 2", "Report part 1"]
    panel.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)  # passages, by number
    counts = [int(panel.proxy.index(r, 3).data()) for r in range(panel.proxy.rowCount())]
    assert counts == sorted(counts)
    # The filter: by words of the title, the folder, the file name or the format.
    panel.filter.setText("part 1")
    assert sorted(panel.shown_titles()) == ["Report part 1", "Report part 10", "Report part 11"]
    panel.filter.setText("case txt")  # the folder's name and the format
    assert panel.proxy.rowCount() == 4
    panel.filter.setText(SEED[:8])  # a file name
    assert panel.proxy.rowCount() == 1
    panel.filter.setText("nothing like this")
    assert panel.proxy.rowCount() == 0
    # The keyboard path: Ctrl+Shift+F, words, Enter opens the first match in the viewer.
    window.named_actions["filter_documents"].trigger()
    assert panel.filter.hasFocus() or QApplication.focusWidget() is panel.filter
    panel.filter.setText("part 10")
    qtbot.keyClick(panel.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.viewer.title.text() == "Report part 10", timeout=5000)
    assert panel.table.hasFocus()


def test_tab_reaches_every_pane(qtbot, window):
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 5, timeout=5000)
    ask(qtbot, window, EXAMPLE)
    qtbot.waitUntil(lambda: window.viewer.doc_id is not None, timeout=5000)
    focus(qtbot, window.ask_panel.question)
    reached = []
    for _ in range(40):
        widget = QApplication.focusWidget()
        reached.append(widget)
        if widget is panel.table:
            break
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    wanted = [
        window.ask_panel.mode,
        window.ask_panel.scope,
        window.ask_panel.sources,
        window.viewer.text,
        panel.filter,
        panel.table,
    ]
    assert all(w in reached for w in wanted), [type(w).__name__ for w in reached]


def test_search_mode_lists_ranked_passages_with_the_words_marked(qtbot, window):
    panel = window.ask_panel
    window.named_actions["search_mode"].trigger()  # Ctrl+K
    assert panel.searching() and panel.ask_button.text() == "Se&arch"
    assert not panel.answer.isVisibleTo(window)
    field = panel.question
    field.clear()
    qtbot.keyClicks(field, "first shipment")
    with qtbot.waitSignal(window.session.searching.hits_ready, timeout=5000):
        qtbot.keyClick(field, Qt.Key.Key_Return)
    rows = [panel.model.index(i).data(RowRole) for i in range(panel.model.rowCount())]
    assert rows and all(r.kind == "match" for r in rows)
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1))
    assert panel.sources_label.text() == f"&Passages ({len(rows)})"
    top = rows[0]
    marked = [top.passage[a - top.passage_start : b - top.passage_start] for a, b in top.marks]
    assert {w.lower() for w in marked} >= {"first", "shipment"}
    assert "#1" in panel.model.index(0).data(Qt.ItemDataRole.DisplayRole) or top.rank == 1
    # The first hit opens in the viewer with the matched words marked.
    qtbot.waitUntil(lambda: window.viewer.doc_id == top.doc_id, timeout=5000)
    qtbot.waitUntil(lambda: window.viewer.marks() == list(top.marks), timeout=5000)
    text = window.viewer.text.toPlainText()
    assert all(text[a:b].lower() in ("first", "shipment") for a, b in window.viewer.marks())
    assert "passage #1" in window.viewer.location.text()
    # Back to asking: the card returns and answers as before.
    window.named_actions["search_mode"].trigger()
    assert not panel.searching() and panel.answer.isVisibleTo(window)
    ask(qtbot, window, EXAMPLE)
    assert panel.answer.state == "answer"


def test_a_question_scoped_to_a_folder_or_format(qtbot, window, backend, monkeypatch, tmp_path):
    add_folder(qtbot, window, monkeypatch, parts_folder(tmp_path))
    scope = window.ask_panel.scope
    items = [scope.itemText(i) for i in range(scope.count())]
    assert items[0] == "All documents" and "Folder case" in items and "TXT files" in items
    scope.setCurrentIndex(items.index("Folder case"))
    ask(qtbot, window, "Who does the harbour log name?")
    engine = backend.engines[-1]
    assert engine.asked_scopes[-1] == Scope(folder=str(tmp_path / "case"))
    rows = [window.ask_panel.model.index(i).data(RowRole) for i in range(3)]
    assert rows and all(r.path.startswith(str(tmp_path / "case")) for r in rows if r)
    # A format scope in search mode: only PDF passages (there are none here).
    (tmp_path / "case" / "x.pdf").write_bytes(b"%PDF-1.4 broken")
    scope.setCurrentIndex(items.index("TXT files"))
    window.ask_panel.set_searching(True)
    with qtbot.waitSignal(window.session.searching.hits_ready, timeout=5000) as hits:
        window.ask("harbour")
    assert hits.args[1] and all(r.path.endswith(".txt") for r in hits.args[1])
    assert backend.engines[-1].search("harbour", scope=Scope(formats=("pdf",))) == []


def test_scope_admits_folders_and_formats():
    scope = Scope(folder="/cases/a", formats=("pdf",))
    assert scope.admits("/cases/a/x/report.PDF")
    assert not scope.admits("/cases/ab/report.pdf")  # another folder that starts the same
    assert not scope.admits("/cases/a/notes.txt")
    assert Scope(formats=("pdf",)).admits("/m/mail.eml", attachment="scan.pdf")
    assert not Scope() and Scope().describe() == ""
    assert scope.describe() == "PDF files in /cases/a"


def test_untitled_documents_are_named_by_their_first_sentence(qtbot, window):
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 5, timeout=5000)
    qtbot.waitUntil(lambda: not any(t.endswith(".txt") for t in panel.shown_titles()))
    row = panel.row_of(next(d.path for d in panel.model.documents() if d.path.endswith(SEED)))
    title = panel.shown_titles()[row]
    assert title.startswith("LONDON") and title.endswith("…")
    tip = panel.proxy.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert SEED in tip  # the file name stays in the tooltip
    ask(qtbot, window, EXAMPLE)
    source = window.ask_panel.model.index(0).data(RowRole)
    assert source.title == title  # the same title in the sources
    qtbot.waitUntil(lambda: window.viewer.title.text() == title, timeout=5000)
    assert SEED in window.viewer.location.text()  # and the file name in the viewer's header


def test_the_placeholder_names_no_library_question(window):
    text = window.ask_panel.question.placeholderText()
    assert "Russia" not in text and "question" in text
    window.ask_panel.set_searching(True)
    assert "Russia" not in window.ask_panel.question.placeholderText()


def test_search_marks_and_snippet_segments():
    passage = Passage(
        1, 7, "/d/a.txt", "a", None, 100, 160, "Ships shipped the first shipment.", 0.5
    )
    [row] = hit_rows("the first shipments", [passage])
    marked = [passage.text[a - 100 : b - 100] for a, b in row.marks]
    assert marked == ["first", "shipment"]  # "the" is a function word; plurals match
    pieces = row.segments()
    assert "".join(t for t, _ in pieces) == passage.text
    assert [t for t, m in pieces if m] == ["first", "shipment"]
    assert query_terms("the of") == ["the", "of"]  # only function words: still searched


def test_a_closest_passage_on_a_pdf_page_is_marked_by_its_first_sentence():
    text = "Depot 12 found 340 crates in good order. Inspector Maria Lindqvist signed it."
    assert passage_lead(text) == "Depot 12 found 340 crates in good order."
    assert len(passage_lead("word " * 100)) <= 120

"""The window by keyboard: shortcuts from the question field, Esc only where the focus is, Tab that
never gets stuck, Find in the document, context menus, the list of shortcuts."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading

import pytest
from gui_fakes import FakeBackend
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication
from test_gui_window import EXAMPLE, SEED, ask, open_window

from qa_app.gui import dialogs
from qa_app.gui.context_menus import citation_text
from qa_app.gui.models import RowRole

pytestmark = pytest.mark.gui


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def window(qtbot, backend):
    return open_window(qtbot, backend)


def focus(qtbot, widget) -> None:
    widget.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def test_ctrl_e_exports_from_the_question_field(qtbot, window, monkeypatch, tmp_path):
    ask(qtbot, window, EXAMPLE)
    target = tmp_path / "from-keys.md"
    asked = []
    monkeypatch.setattr(dialogs, "save_file", lambda *args: asked.append(args) or str(target))
    field = window.ask_panel.question
    focus(qtbot, field)
    # Under X11 key bindings a line edit claims Ctrl+E (end of line) before shortcuts see it; the
    # question field lets the window's shortcuts through and keeps its own keys (Ctrl+A).
    for key, kept in ((Qt.Key.Key_E, False), (Qt.Key.Key_A, True)):
        override = QKeyEvent(QEvent.Type.ShortcutOverride, key, Qt.KeyboardModifier.ControlModifier)
        QApplication.sendEvent(field, override)
        assert override.isAccepted() == kept, key
    qtbot.keyClick(field, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(target.exists, timeout=5000)
    assert asked and "earlier this month" in target.read_text(encoding="utf-8")
    assert field.hasFocus() and field.text() == EXAMPLE  # the field kept its text
    # Ctrl+Shift+C copies, also from the field.
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(
        field, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: "earlier this month" in QGuiApplication.clipboard().text())


def test_esc_cancels_indexing_only_from_the_library_panel(
    qtbot, window, backend, monkeypatch, tmp_path
):
    files = []
    for i in range(4):
        f = tmp_path / f"doc{i}.txt"
        f.write_text(f"Document {i} says hello.", encoding="utf-8")
        files.append(str(f))
    backend.gate = threading.Event()  # hold indexing at the first file
    monkeypatch.setattr(dialogs, "pick_files", lambda parent: files)
    window.add_files_action.trigger()
    qtbot.waitUntil(lambda: window.session.indexing.running, timeout=5000)
    field = window.ask_panel.question
    focus(qtbot, field)
    qtbot.keyClicks(field, "half a question")
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert field.text() == ""  # Esc in the question field clears it ...
    assert window.session.indexing.running  # ... and cancels nothing
    assert all(not t.is_cancelled() for t in window.session.runner.tasks())
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000) as finished:
        focus(qtbot, window.library_panel.table)
        qtbot.keyClick(window.library_panel.table, Qt.Key.Key_Escape)
    backend.gate.set()
    assert finished.args[0] is None or finished.args[0].cancelled


def test_tab_walks_out_of_the_documents_table(qtbot, window):
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.model.rowCount() >= 3)  # the list is read in the background
    assert not panel.table.tabKeyNavigation()
    focus(qtbot, panel.table)
    panel.table.setCurrentIndex(panel.proxy.index(0, 0))
    qtbot.keyClick(panel.table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is panel.errors or not panel.table.hasFocus()
    # From the question field, Tab reaches the Ask button, the mode, Look in, then the sources.
    focus(qtbot, window.ask_panel.question)
    qtbot.keyClick(window.ask_panel.question, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is window.ask_panel.ask_button
    for widget in (window.ask_panel.mode, window.ask_panel.scope, window.ask_panel.sources):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is widget


def test_find_in_the_document_with_next_and_previous(qtbot, window):
    ask(qtbot, window, EXAMPLE)
    viewer = window.viewer
    qtbot.waitUntil(lambda: "answer" in viewer.highlights(), timeout=5000)
    text = viewer.text.toPlainText()
    needle = "Russia"
    starts = [i for i in range(len(text)) if text.startswith(needle, i)]
    assert len(starts) >= 3
    focus(qtbot, window.ask_panel.question)
    qtbot.keyClick(window.ask_panel.question, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = viewer.find_bar
    qtbot.waitUntil(bar.field.hasFocus)
    qtbot.keyClicks(bar.field, needle)
    first = viewer.find_match()
    assert first is not None and text[first[0] : first[1]] == needle
    assert bar.count.text().endswith(f"of {len(starts)}")
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)  # next
    second = viewer.find_match()
    assert second[0] == starts[(starts.index(first[0]) + 1) % len(starts)]
    bar.find_previous()
    assert viewer.find_match() == first
    qtbot.keyClick(window, Qt.Key.Key_F3)  # F3: next, from anywhere in the window
    assert viewer.find_match() == second
    # The answer highlight is still there; Esc closes the bar and drops the match.
    assert "answer" in viewer.highlights()
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible() and viewer.find_match() is None
    qtbot.keyClicks(bar.field, "zzzz-not-there")
    assert bar.count.text() == "No matches"


def test_context_menus_on_sources_and_documents(qtbot, window, monkeypatch):
    ask(qtbot, window, EXAMPLE)
    menus = window.context_menus
    sources = window.ask_panel.sources
    sources.setCurrentIndex(window.ask_panel.model.index(0))
    row = sources.currentIndex().data(RowRole)
    menu = menus.source_menu()
    texts = [a.text().replace("&", "") for a in menu.actions() if a.text()]
    assert texts == [
        "Show in the viewer",
        "Open original",
        "Open containing folder",
        "Copy path",
        "Copy citation",
        "Remove this document from the library",
    ]
    by_name = {a.text().replace("&", ""): a for a in menu.actions()}
    by_name["Copy citation"].trigger()
    assert QGuiApplication.clipboard().text() == citation_text(row)
    assert "earlier this month" in citation_text(row) and SEED in citation_text(row)
    opened = []
    from qa_app.gui import context_menus

    monkeypatch.setattr(context_menus, "open_containing_folder", lambda p: opened.append(p) or True)
    by_name["Open containing folder"].trigger()
    assert opened == [row.path]
    # The documents table: the selected rows' menu, with removal.
    table = window.library_panel.table
    table.selectRow(0)
    first = window.library_panel.selected_paths()[0]
    menu = menus.document_menu()
    by_name = {a.text().replace("&", ""): a for a in menu.actions()}
    by_name["Copy path"].trigger()
    assert QGuiApplication.clipboard().text() == first
    monkeypatch.setattr(dialogs, "confirm_once", lambda *a: (True, False))
    with qtbot.waitSignal(window.session.indexing.documents_changed, timeout=5000):
        by_name["Remove document from the library"].trigger()
    # A seed lies in an added folder: removed, it stays listed as excluded (as in the library).
    shown = window.library_panel.model.documents
    qtbot.waitUntil(lambda: {d.path: d.status for d in shown()}.get(first) == "excluded")
    # The keyboard opens the same menu (Menu key / Shift+F10 send a context-menu request).
    assert sources.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu


def test_help_lists_the_keyboard_shortcuts(qtbot, window):
    with qtbot.waitExposed(window):
        pass
    qtbot.keyClick(window.ask_panel.question, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.findChild(type(window.show_shortcuts())) is not None)
    dialogs_open = [
        d for d in QApplication.topLevelWidgets() if d.windowTitle() == "Keyboard shortcuts"
    ]
    assert dialogs_open
    table = dialogs_open[0].table
    rows = {table.item(r, 1).text(): table.item(r, 0).text() for r in range(table.rowCount())}
    assert rows["Export result"] == "Ctrl+E" and rows["Find in document"] == "Ctrl+F"
    assert any("Esc" in keys for keys in rows.values())
    for d in dialogs_open:
        d.close()


def test_tooltips_on_the_main_controls(window):
    for widget in (
        window.ask_panel.question,
        window.ask_panel.ask_button,
        window.ask_panel.sources,
        window.viewer.text,
        window.viewer.open_button,
        window.library_panel.combo,
        window.library_panel.add_files,
        window.library_panel.remove,
        window.library_panel.manage,
    ):
        assert widget.toolTip(), widget.accessibleName()

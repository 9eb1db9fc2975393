"""Library management that sticks: remove a folder, exclude a file for good, problems per library,
errors in a banner; a new question clears the old sources; honest progress; the live theme."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading

import pytest
from gui_fakes import FakeBackend
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication
from test_gui_window import EXAMPLE, add_with_dialog, ask, listed, make_folder, open_window

from qa_app.gui import dialogs
from qa_app.gui.progress import IndexProgress
from qa_app.records import Progress

pytestmark = pytest.mark.gui


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def window(qtbot, backend):
    return open_window(qtbot, backend)


def add_folder(qtbot, window, monkeypatch, folder) -> None:
    monkeypatch.setattr(dialogs, "pick_folder", lambda parent: str(folder))
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        window.add_folder_action.trigger()
    qtbot.waitUntil(lambda: not window.session.runner.is_busy(), timeout=10000)


def resync(qtbot, window) -> None:
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        window.resync_action.trigger()
    qtbot.waitUntil(lambda: not window.session.runner.is_busy(), timeout=10000)


def select(window, name: str) -> None:
    panel = window.library_panel
    for doc in panel.model.documents():
        if os.path.basename(doc.path) == name:
            panel.table.selectRow(panel.row_of(doc.path))
            return
    raise AssertionError(f"{name} is not listed")


def test_an_excluded_file_stays_out_after_resync(qtbot, window, monkeypatch, tmp_path):
    folder = make_folder(tmp_path, 3)
    add_folder(qtbot, window, monkeypatch, folder)
    qtbot.waitUntil(lambda: "note001.txt" in listed(window), timeout=5000)
    panel = window.library_panel
    assert str(folder) in panel.folders and panel.can_exclude
    select(window, "note001.txt")
    menu = window.context_menus.document_menu()
    exclude = next(a for a in menu.actions() if a.text().startswith("E&xclude"))
    assert exclude.isEnabled()
    exclude.trigger()
    qtbot.waitUntil(lambda: listed(window).get("note001.txt") == "excluded", timeout=5000)
    resync(qtbot, window)
    assert (
        listed(window)["note001.txt"] == "excluded" and listed(window)["note002.txt"] == "indexed"
    )
    assert "1 excluded" in panel.summary.text()
    # ... until it is included again.
    select(window, "note001.txt")
    menu = window.context_menus.document_menu()
    include = next(a for a in menu.actions() if a.text().startswith("&Include again"))
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        include.trigger()
    qtbot.waitUntil(lambda: listed(window).get("note001.txt") == "indexed", timeout=5000)


def test_a_removed_folder_and_its_documents_are_gone_for_good(qtbot, window, monkeypatch, tmp_path):
    folder = make_folder(tmp_path, 3)
    add_folder(qtbot, window, monkeypatch, folder)
    qtbot.waitUntil(lambda: "note000.txt" in listed(window), timeout=5000)
    panel = window.library_panel
    [action] = [a for a in panel.folders_menu.actions() if a.text() == str(folder)]
    monkeypatch.setattr(dialogs, "confirm_once", lambda *a: (True, False))
    action.trigger()
    qtbot.waitUntil(lambda: not any(n.startswith("note") for n in listed(window)), timeout=5000)
    qtbot.waitUntil(lambda: str(folder) not in panel.folders, timeout=5000)
    resync(qtbot, window)
    assert not any(n.startswith("note") for n in listed(window))
    assert len(listed(window)) == 5  # the seed documents stay


def test_problems_belong_to_their_library(qtbot, window, monkeypatch, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"this is not a pdf")
    add_with_dialog(qtbot, window, monkeypatch, [str(bad), str(tmp_path / "missing.txt")])
    panel = window.library_panel
    assert panel.errors.isVisibleTo(window) and panel.error_model.rowCount() == 2
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "Other")
    window.new_library()
    qtbot.waitUntil(
        lambda: window.session.library.name == "Other" and window.session.library.ready,
        timeout=5000,
    )
    assert panel.error_model.rowCount() == 0 and not panel.errors.isVisibleTo(window)
    window.session.library.open("seeds")
    qtbot.waitUntil(
        lambda: window.session.library.name == "seeds" and panel.model.rowCount() == 6, timeout=5000
    )
    # Back in the first library its stored failure is listed again (the missing path was a
    # one-off problem of that run, not part of the library).
    qtbot.waitUntil(lambda: panel.error_model.rowCount() == 1, timeout=5000)
    assert panel.error_model.errors()[0].path == str(bad)


def test_errors_stay_in_a_banner_until_dismissed(qtbot, window, monkeypatch, tmp_path):
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "bad/name")
    window.new_library()
    banner = window.banner
    assert banner.isVisible() and "invalid library name" in banner.text()
    window.statusBar().clearMessage()  # the status bar moves on; the banner stays
    assert "invalid library name" in banner.text()
    window.add_paths([str(tmp_path / "gone.pdf")])
    assert "gone.pdf" in banner.text()
    banner.close_button.click()
    assert not banner.isVisible() and banner.text() == ""


def test_documents_are_listed_as_they_are_read_not_when_the_run_ends(
    qtbot, window, backend, monkeypatch, tmp_path
):
    folder = make_folder(tmp_path, 3)
    backend.finish_gate = threading.Event()  # the run stays busy after reading its files
    monkeypatch.setattr(dialogs, "pick_folder", lambda parent: str(folder))
    try:
        window.add_folder_action.trigger()
        qtbot.waitUntil(lambda: "note002.txt" in listed(window), timeout=5000)
        assert window.session.indexing.running  # listed while the run is still going
    finally:
        backend.finish_gate.set()
    qtbot.waitUntil(lambda: not window.session.indexing.running, timeout=5000)


def test_a_new_question_clears_the_old_sources(qtbot, window, backend):
    ask(qtbot, window, EXAMPLE)
    assert window.ask_panel.model.rowCount() > 0 and window.export_action.isEnabled()
    backend.warm_gate = None
    gate = threading.Event()
    engine = window.session.library.engine
    real_ask = engine.ask
    engine.ask = lambda *a, **k: (gate.wait(10), real_ask(*a, **k))[1]
    try:
        field = window.ask_panel.question
        field.setText("Who is the Kremlin spokesman?")
        field.returnPressed.emit()
        assert window.ask_panel.answer.state == "waiting"
        assert window.ask_panel.model.rowCount() == 0 and not window.export_action.isEnabled()
    finally:
        gate.set()
    qtbot.waitUntil(lambda: window.ask_panel.answer.state != "waiting", timeout=5000)


def test_progress_names_the_file_it_counts_and_estimates_only_when_it_can(qtbot):
    now = [0.0]
    strip = IndexProgress(clock=lambda: now[0])
    qtbot.addWidget(strip)
    strip.start("Adding")
    strip.update_progress(Progress(0, 10, "index", "/d/a.txt"))
    assert strip.label.text() == "Indexing file 1 of 10: a.txt"
    assert strip.counts.text() == "0 of 10 files read (0%)"
    now[0] = 0.5
    strip.update_progress(Progress(1, 10, "index", "/d/b.txt"))
    assert (
        strip.label.text() == "Indexing file 2 of 10: b.txt" and "left" not in strip.counts.text()
    )
    now[0] = 4.0
    strip.update_progress(Progress(4, 10, "index", "/d/e.txt"))
    assert strip.counts.text() == "4 of 10 files read (40%) · a few seconds left"
    now[0] = 40.0
    strip.update_progress(Progress(5, 10, "index", "/d/f.txt"))
    assert strip.counts.text() == "5 of 10 files read (50%) · about 40 s left"


def test_progress_says_the_model_loads_and_counts_passages_when_embedding(qtbot):
    strip = IndexProgress(clock=lambda: 0.0)
    qtbot.addWidget(strip)
    strip.start("Adding")
    strip.show()
    strip.update_progress(Progress(0, 1, "model"))
    # Said once loading takes a moment (MODEL_NOTE_MS); a loaded model passes unsaid.
    qtbot.waitUntil(lambda: strip.label.text() == "Loading the embedding model…")
    assert strip.bar.maximum() == 0 and strip.counts.text() == ""  # busy, nothing counted
    strip.update_progress(Progress(1, 1, "model"))
    assert "files" not in strip.counts.text()
    strip.update_progress(Progress(0, 70, "embed"))
    strip.update_progress(Progress(64, 70, "embed", ""))
    assert strip.label.text() == "Embedding passages…"
    assert strip.counts.text() == "64 of 70 passages embedded (91%)"
    assert strip.bar.maximum() == 70


def _card_background(window) -> QColor:
    card = window.ask_panel.answer
    image = card.grab().toImage()
    return image.pixelColor(QPoint(image.width() // 2, image.height() - 4))


def test_the_answer_card_follows_a_live_light_dark_change(qtbot, window):
    ask(qtbot, window, EXAMPLE)
    app = QApplication.instance()
    old = app.palette()
    assert _card_background(window).lightness() > 128
    dark = QPalette(old)
    for role, colour in (
        (QPalette.ColorRole.Window, "#202020"),
        (QPalette.ColorRole.Base, "#181818"),
        (QPalette.ColorRole.Text, "#eeeeee"),
        (QPalette.ColorRole.WindowText, "#eeeeee"),
    ):
        dark.setColor(role, QColor(colour))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: _card_background(window).lightness() < 64, timeout=3000)
        # The system's colour-scheme signal (a live theme switch) re-applies the same way.
        QGuiApplication.styleHints().colorSchemeChanged.emit(
            QGuiApplication.styleHints().colorScheme()
        )
        assert _card_background(window).lightness() < 64
    finally:
        app.setPalette(old)
    qtbot.waitUntil(lambda: _card_background(window).lightness() > 128, timeout=3000)

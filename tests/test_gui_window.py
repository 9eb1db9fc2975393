"""The desktop window driven offscreen over the fake engine: ask, sources, library, settings, never freezing."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import threading
import time
from pathlib import Path

import pytest
from clocks import UnstarvedClock
from gui_fakes import FakeBackend
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDropEvent, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHeaderView,
    QLineEdit,
)

from qa_app import paths
from qa_app.gui import dialogs, theme, viewer
from qa_app.gui.main_window import MainWindow
from qa_app.gui.models import RowRole
from qa_app.gui.settings import AppSettings

pytestmark = pytest.mark.gui
EXAMPLE = "When did Russia receive the first shipment?"
SEED = "004_71c8a87dcccb59d2.txt"
UNANSWERABLE = "What did Blinken eat for breakfast in Tehran?"


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


def open_window(qtbot, backend: FakeBackend, *, wait: bool = True) -> MainWindow:
    window = MainWindow(backend)
    # pytest-qt closes and deletes its widgets before fixtures are torn down: close the way a
    # user does first, waiting for the background work to stop, so nothing outlives the test.
    qtbot.addWidget(window, before_close_func=lambda w: close(qtbot, w))
    window.show()
    if wait:
        # Ready, and the work that follows opening (the document list, read in the background)
        # done too, so a test starts from what a person sees a moment after the window opens.
        qtbot.waitUntil(
            lambda: (
                window.session.library.ready
                and not window.session.indexing.running
                and not window.session.runner.is_busy()
            ),
            timeout=10000,
        )
    return window


@pytest.fixture
def window(qtbot, backend):
    return open_window(qtbot, backend)


def close(qtbot, w: MainWindow) -> None:
    """Close like a user and check the exit was clean: no work left, every engine closed."""
    if not w.session.runner.closed:
        with qtbot.waitSignal(w.closed, timeout=10000):
            w.close()
    assert not w.isVisible() and not w.session.runner.is_busy()
    assert w.session.library.engine is None
    assert all(engine.closed for engine in w.session.backend.engines)


def ask(qtbot, w: MainWindow, question: str) -> None:
    field = w.ask_panel.question
    field.clear()
    qtbot.keyClicks(field, question)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: w.ask_panel.answer.state in ("answer", "possible", "not-found", "error"),
        timeout=10000,
    )


def add_with_dialog(qtbot, w, monkeypatch, files: list[str]):
    monkeypatch.setattr(dialogs, "pick_files", lambda parent: files)
    with qtbot.waitSignal(w.session.indexing.finished, timeout=10000) as finished:
        w.add_files_action.trigger()
    qtbot.waitUntil(lambda: not w.session.runner.is_busy(), timeout=10000)
    return finished.args[0]


def listed(w: MainWindow) -> dict[str, str]:
    return {Path(d.path).name: d.status for d in w.library_panel.model.documents()}


def test_example_question_shows_the_answer_and_opens_its_source(qtbot, window):
    ask(qtbot, window, EXAMPLE)
    card = window.ask_panel.answer
    assert card.state == "answer"
    assert card.answer.text() == "earlier this month"
    assert "Confidence 0.95, almost certain" in card.meta.text()
    assert "found in 1 document" in card.meta.text()
    assert (
        "earlier this month" in card.sentence.text() and "background-color" in card.sentence.text()
    )
    row = window.ask_panel.model.index(0).data(RowRole)
    assert Path(row.path).name == SEED and row.kind == "answer"
    assert "earlier this month" in window.ask_panel.model.index(0).data()
    # The first source opens by itself, scrolled to the answer with answer and sentence highlighted.
    qtbot.waitUntil(lambda: window.viewer.doc_id == row.doc_id, timeout=5000)
    assert window.viewer.selection() == (row.answer_start, row.answer_end)
    assert window.viewer.highlights() == {
        "sentence": (row.sentence_start, row.sentence_end),
        "answer": (row.answer_start, row.answer_end),
    }
    assert window.viewer.selected_text() == "earlier this month"
    # A document with no headline is named by its first sentence; the file name is in the header.
    assert window.viewer.title.text().startswith("LONDON — Iran has sent")
    assert SEED in window.viewer.location.text()
    assert window.viewer.text.textCursor().block().isVisible()


def test_activating_a_citation_highlights_its_offsets(qtbot, window):
    ask(qtbot, window, EXAMPLE)
    view, model = window.ask_panel.sources, window.ask_panel.model
    assert model.rowCount() >= 2  # the answer and an alternative
    index = model.index(model.rowCount() - 1)
    row = index.data(RowRole)
    view.activated.emit(index)
    qtbot.waitUntil(
        lambda: window.viewer.selection() == (row.answer_start, row.answer_end), timeout=5000
    )
    text = window.viewer.text.toPlainText()
    assert text[row.answer_start : row.answer_end] == row.answer_text
    assert window.viewer.highlights()["sentence"] == (row.sentence_start, row.sentence_end)


def test_unanswerable_question_shows_not_found_with_closest_passages(qtbot, window):
    ask(qtbot, window, UNANSWERABLE)
    card = window.ask_panel.answer
    assert card.state == "not-found"
    assert card.answer.text() == "Not found in your documents"
    model = window.ask_panel.model
    assert model.rowCount() > 0
    assert {model.index(i).data(RowRole).kind for i in range(model.rowCount())} == {"passage"}
    assert "Closest" in window.ask_panel.sources_label.text()
    row = model.index(0).data(RowRole)
    qtbot.waitUntil(lambda: window.viewer.doc_id == row.doc_id, timeout=5000)
    assert window.viewer.highlights() == {
        "passage": (row.passage_start, row.passage_start + len(row.passage))
    }


def test_added_document_is_listed_and_searchable(qtbot, window, monkeypatch, tmp_path):
    doc = tmp_path / "zebra.txt"
    doc.write_text(
        "Field notes.\nThe zebra code word is PINEAPPLE, said the keeper.\n", encoding="utf-8"
    )
    report = add_with_dialog(qtbot, window, monkeypatch, [str(doc)])
    assert report.added == (str(doc),)
    qtbot.waitUntil(lambda: "zebra.txt" in listed(window), timeout=5000)
    assert "6 documents" in window.library_panel.summary.text()
    ask(qtbot, window, "What is the zebra code word?")
    assert window.ask_panel.answer.answer.text() == "PINEAPPLE"


def test_bad_files_are_listed_with_their_reasons(qtbot, window, monkeypatch, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"this is not a pdf")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    report = add_with_dialog(qtbot, window, monkeypatch, [str(bad), str(empty)])
    assert len(report.failed) == 2
    panel = window.library_panel
    assert panel.errors.isVisibleTo(window) and panel.errors_label.text() == "&Problems (2)"
    lines = [panel.error_model.index(i).data() for i in range(panel.error_model.rowCount())]
    assert "broken.pdf: not a PDF file (it has no PDF header; is the file name wrong?)" in lines
    assert "empty.txt: contains no text (only blank space)" in lines  # the loaders' own reasons
    qtbot.waitUntil(lambda: listed(window).get("broken.pdf") == "failed", timeout=5000)
    assert "2 could not be read" in panel.summary.text()


def make_folder(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(n):
        (folder / f"note{i:03}.txt").write_text(
            f"Note {i}.\nThe harbour number {i} is {i * 7}.\n", encoding="utf-8"
        )
    return folder


def test_cancel_stops_indexing_and_keeps_what_was_done(
    qtbot, window, backend, monkeypatch, tmp_path
):
    folder = make_folder(tmp_path, 10)
    backend.gate = threading.Event()  # each file waits here until released or cancelled
    monkeypatch.setattr(dialogs, "pick_folder", lambda parent: str(folder))
    with qtbot.waitSignal(window.session.indexing.progress, timeout=5000):
        window.add_folder_action.trigger()
    progress = window.library_panel.progress
    assert progress.isVisibleTo(window) and progress.cancel_button.isEnabled()
    assert window.cancel_action.isEnabled()
    assert "note000.txt" in progress.label.text() and "0 of 10 files" in progress.counts.text()
    with qtbot.waitSignal(window.session.indexing.finished, timeout=5000) as finished:
        qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
    report = finished.args[0]
    assert report.cancelled and not report.added
    assert not progress.isVisibleTo(window)
    assert "Cancelled" in window.library_panel.summary.text()
    backend.gate = None
    qtbot.waitUntil(lambda: not window.session.runner.is_busy(), timeout=5000)
    with qtbot.waitSignal(window.session.indexing.finished, timeout=5000):
        window.resync_action.trigger()
    qtbot.waitUntil(lambda: "note009.txt" in listed(window), timeout=5000)


def test_the_event_loop_never_stalls_while_indexing(qtbot, window, backend, monkeypatch, tmp_path):
    folder = make_folder(tmp_path, 150)
    backend.file_delay = 0.01
    ticks: list[tuple[float, float]] = []  # (wall time, time less waiting for a CPU)
    clock = UnstarvedClock()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append((time.perf_counter(), clock())))
    timer.start()
    monkeypatch.setattr(dialogs, "pick_folder", lambda parent: str(folder))
    with qtbot.waitSignal(window.session.indexing.finished, timeout=30000) as finished:
        window.add_folder_action.trigger()
    timer.stop()
    assert len(finished.args[0].added) == 150
    walls = [b[0] - a[0] for a, b in zip(ticks, ticks[1:], strict=False)]
    gaps = [b[1] - a[1] for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 50, "indexing should have taken a while"
    print(
        f"event loop: {len(ticks)} ticks, max gap {max(gaps) * 1000:.1f} ms "
        f"({max(walls) * 1000:.1f} ms with the time the machine gave no CPU)"
    )
    assert max(gaps) < 0.2  # the UI thread was never busy or blocked for longer
    engine = window.session.library.engine
    assert engine.threads and threading.main_thread().name not in engine.threads


def test_closing_during_indexing_cancels_and_waits(qtbot, backend, monkeypatch, tmp_path):
    w = open_window(qtbot, backend)
    folder = make_folder(tmp_path, 5)
    backend.gate = threading.Event()
    monkeypatch.setattr(dialogs, "pick_folder", lambda parent: str(folder))
    with qtbot.waitSignal(w.session.indexing.progress, timeout=5000):
        w.add_folder_action.trigger()
    engine = w.session.library.engine
    with qtbot.waitSignal(w.closed, timeout=10000):
        w.close()
    assert not w.isVisible()
    assert not w.session.runner.is_busy() and w.session.runner.closed
    assert engine.closed
    assert not any(p.endswith("note000.txt") for p in engine.lib.docs)  # stopped at the gate


def loading(w: MainWindow) -> bool:
    return any(t.name.startswith("Opening ") for t in w.session.runner.tasks())


def test_closing_while_a_document_loads_waits_for_it_then_closes(qtbot, backend):
    w = open_window(qtbot, backend)
    backend.text_gate = threading.Event()
    ask(qtbot, w, EXAMPLE)  # the answer's source starts loading and is held at the gate
    qtbot.waitUntil(lambda: loading(w), timeout=5000)
    engine = w.session.library.engine
    w.close()
    assert not w.isVisible() and not engine.closed  # hidden now; the engine waits for its worker
    with qtbot.waitSignal(w.closed, timeout=10000):
        backend.text_gate.set()
    assert engine.closed and not w.session.runner.is_busy()
    assert w.viewer.doc_id is None  # the text came back for a window that was going away


def test_closing_while_the_library_opens_starts_nothing_more(qtbot, backend):
    backend.open_gate = threading.Event()
    w = open_window(qtbot, backend, wait=False)
    qtbot.waitUntil(
        lambda: [t.name for t in w.session.runner.tasks()] == ["Opening the library"], timeout=5000
    )
    w.close()
    with qtbot.waitSignal(w.closed, timeout=10000):
        backend.open_gate.set()
    [engine] = backend.engines
    assert engine.closed
    assert not engine.threads and not engine.lib.docs  # no model loading, no seeding after close


def test_closing_while_another_library_opens_closes_both(qtbot, backend):
    w = open_window(qtbot, backend)
    backend.open_gate = threading.Event()
    w.session.library.open("Work")  # the old library is closed, the new one is being opened
    qtbot.waitUntil(lambda: len(backend.engines) == 1 and backend.engines[0].closed, timeout=5000)
    with qtbot.waitSignal(w.closed, timeout=10000):
        w.close()
        backend.open_gate.set()  # the new engine arrives for a window that is going away
    assert [e.name for e in backend.engines] == ["seeds", "Work"]
    assert all(e.closed for e in backend.engines) and not backend.engines[1].threads


def test_closing_before_a_queued_switch_runs_still_closes_the_old_library(qtbot, backend):
    w = open_window(qtbot, backend)
    release = threading.Event()
    w.session.runner.submit(lambda ctx: release.wait(10), writer=True)  # a slow write ahead
    w.session.library.open("Work")  # queued behind it; it would close the old engine first
    with qtbot.waitSignal(w.closed, timeout=10000):
        w.close()  # the queued switch is cancelled before it starts
        release.set()
    assert [e.name for e in backend.engines] == ["seeds"] and backend.engines[0].closed


def test_a_window_deleted_with_work_running_drops_its_results(qtbot, backend):
    import shiboken6
    from PySide6.QtCore import QCoreApplication

    w = MainWindow(backend)  # not closed first, deleted as a parent or a harness might
    w.show()
    qtbot.waitUntil(
        lambda: w.session.library.ready and not w.session.indexing.running, timeout=10000
    )
    backend.text_gate = threading.Event()
    ask(qtbot, w, EXAMPLE)
    qtbot.waitUntil(lambda: loading(w), timeout=5000)
    threading.Timer(0.2, backend.text_gate.set).start()
    w.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(w), timeout=10000)  # waits for the worker
    QCoreApplication.sendPostedEvents()  # the worker's text arrives now, for a window that is gone
    QCoreApplication.processEvents()  # pytest-qt fails the test on any exception raised here


def test_question_asked_while_loading_is_answered_when_ready(qtbot, backend):
    backend.warm_gate = threading.Event()
    w = open_window(qtbot, backend, wait=False)
    assert w.isVisible() and w.model_label.text() in ("Starting…", "Loading models…")
    ask_field = w.ask_panel.question
    qtbot.keyClicks(ask_field, EXAMPLE)
    qtbot.keyClick(ask_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.ask_panel.answer.state == "waiting", timeout=5000)
    assert "as soon as the models are loaded" in w.ask_panel.answer.heading.text()
    backend.warm_gate.set()
    qtbot.waitUntil(lambda: w.ask_panel.answer.state == "answer", timeout=10000)
    assert w.ask_panel.answer.answer.text() == "earlier this month"
    # The preparing task reports its end after the library is ready: under load the (instant) fake
    # answer can arrive first, and the label says "Ready" once that end is in.
    qtbot.waitUntil(lambda: w.model_label.text() == "Ready", timeout=5000)
    close(qtbot, w)


def test_history_settings_and_layout_persist(qtbot, backend):
    w = open_window(qtbot, backend)
    assert w.settings.qsettings.fileName() == str(paths.config_dir() / "qa-app.ini")
    ask(qtbot, w, EXAMPLE)
    ask(qtbot, w, UNANSWERABLE)
    field = w.ask_panel.question
    field.clear()
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == UNANSWERABLE
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == EXAMPLE
    qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Down)
    assert field.text() == ""
    w.resize(790, 560)  # inside the 800x600 offscreen screen, so restoring does not clamp it
    qtbot.waitUntil(lambda: w.splitter.width() > 700, timeout=2000)
    w.splitter.setSizes([300, w.splitter.width() - 300 - w.splitter.handleWidth()])
    close(qtbot, w)
    sizes = w.splitter.sizes()  # as saved on closing
    assert abs(sizes[0] - 300) < 60

    again = open_window(qtbot, backend)
    assert again.ask_panel.question.history() == [EXAMPLE, UNANSWERABLE]
    assert again.size().width() == 790
    # Restored within a few pixels (the panels' minimum sizes can nudge it).
    qtbot.waitUntil(lambda: abs(again.splitter.sizes()[0] - sizes[0]) <= 10, timeout=2000)
    close(qtbot, again)


def test_settings_dialog_saves_and_the_engine_gets_them(qtbot, window):
    dialog = window.settings_dialog()
    assert [dialog.reader_combo.itemText(i) for i in range(dialog.reader_combo.count())] == [
        "Default (fake)",
        "fake",
        "sentence",
    ]
    assert dialog.reader_combo.currentIndex() == 0
    # The threshold shown is the one the default reader really uses, and each reader is explained.
    assert dialog.threshold_spin.value() == 0.45 and not dialog.threshold_spin.isEnabled()
    assert "0.45" in dialog.threshold_note.text() and "fake" in dialog.threshold_note.text()
    assert "Sentence:" in dialog.reader_help.text()
    dialog.k_spin.setValue(3)
    dialog.default_threshold.setChecked(False)
    dialog.threshold_spin.setValue(0.99)
    dialog.reader_combo.setCurrentIndex(2)
    dialog.accept()
    stored = AppSettings()
    assert (stored.k, stored.threshold, stored.reader) == (3, 0.99, "sentence")
    ask(qtbot, window, EXAMPLE)
    result = window.session.asking.last_result
    assert result.reader == "sentence" and result.threshold == 0.99 and len(result.passages) <= 3
    assert window.ask_panel.answer.state == "not-found"  # 0.95 is below the 0.99 threshold
    # A saved reader the dialog does not know (yet) is kept, not silently reset to the default.
    window.settings.reader = "neural"
    dialog = window.settings_dialog()
    assert dialog.reader_combo.currentText() == "neural"
    dialog.accept()
    assert AppSettings().reader == "neural"


def test_libraries_create_rename_switch_delete(qtbot, window, monkeypatch):
    session, panel = window.session, window.library_panel
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "Work")
    window.new_library()
    qtbot.waitUntil(
        lambda: (
            session.library.name == "Work"
            and session.library.ready
            and not session.indexing.running
        ),
        timeout=5000,
    )
    qtbot.waitUntil(
        lambda: panel.combo.currentText() == "Work" and panel.combo.count() == 2, timeout=5000
    )
    assert panel.model.rowCount() == 0 and window.windowTitle().startswith("Work")
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "Project")
    window.rename_library()
    qtbot.waitUntil(
        lambda: session.library.name == "Project" and session.library.ready, timeout=5000
    )
    qtbot.waitUntil(
        lambda: (
            sorted(panel.combo.itemText(i) for i in range(panel.combo.count()))
            == ["Project", "seeds"]
        ),
        timeout=5000,
    )
    panel.combo.setCurrentIndex(panel.combo.findText("seeds"))
    panel.combo.activated.emit(panel.combo.currentIndex())
    qtbot.waitUntil(
        lambda: (
            session.library.name == "seeds"
            and session.library.ready
            and panel.model.rowCount() == 5
        ),
        timeout=5000,
    )
    monkeypatch.setattr(dialogs, "confirm", lambda *a: False)
    session.library.open("Project")
    qtbot.waitUntil(
        lambda: session.library.name == "Project" and session.library.ready, timeout=5000
    )
    window.delete_library()
    assert "Project" in window.session.backend.libraries()
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    window.delete_library()
    qtbot.waitUntil(lambda: session.library.name == "seeds" and session.library.ready, timeout=5000)
    qtbot.waitUntil(lambda: panel.combo.count() == 1, timeout=5000)
    assert session.backend.libraries() == ["seeds"]
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "bad/name")
    window.new_library()
    assert "invalid library name" in window.last_error


def test_drop_files_onto_the_window_adds_them(qtbot, window, tmp_path):
    doc = tmp_path / "dropped.md"
    doc.write_text("# Dropped\nThe dropped file mentions a walrus.\n", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(doc))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.session.indexing.finished, timeout=5000):
        window.dropEvent(event)
    qtbot.waitUntil(lambda: "dropped.md" in listed(window), timeout=5000)


def test_files_named_at_start_are_added_once_the_library_is_open(qtbot, backend, tmp_path):
    """`qa-app-gui FILE...` (a file manager's "Open with"): the files are added to the library
    the window opens, even though they arrive before it is open; a missing one is named."""
    doc = tmp_path / "opened.md"
    doc.write_text("# Opened\nThe opened file mentions a narwhal.\n", encoding="utf-8")
    window = open_window(qtbot, backend, wait=False)
    assert window.session.library.engine is None  # the library opens after the window is on screen
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        window.add_paths([str(doc), str(tmp_path / "gone.pdf")])
    assert "gone.pdf" in window.last_error and "no such file" in window.last_error
    qtbot.waitUntil(lambda: "opened.md" in listed(window), timeout=5000)


def test_files_named_when_the_library_is_open_are_added_at_once(qtbot, window, tmp_path):
    doc = tmp_path / "later.md"
    doc.write_text("# Later\nThe later file mentions an okapi.\n", encoding="utf-8")
    with qtbot.waitSignal(window.session.indexing.finished, timeout=5000):
        window.add_paths([str(doc)])
    qtbot.waitUntil(lambda: "later.md" in listed(window), timeout=5000)
    assert not window.last_error


def test_watched_folder_is_resynced_when_files_change(qtbot, window, monkeypatch, tmp_path):
    folder = make_folder(tmp_path, 2)
    window.session.indexing.watcher._timer.setInterval(50)
    monkeypatch.setattr(dialogs, "pick_folder", lambda parent: str(folder))
    with qtbot.waitSignal(window.session.indexing.finished, timeout=5000):
        window.add_folder_action.trigger()
    qtbot.waitUntil(lambda: str(folder) in window.session.indexing.watcher.watched(), timeout=5000)
    (folder / "late.txt").write_text("A late arrival about otters.\n", encoding="utf-8")
    qtbot.waitUntil(lambda: "late.txt" in listed(window), timeout=10000)
    (folder / "note000.txt").unlink()
    qtbot.waitUntil(lambda: "note000.txt" not in listed(window), timeout=10000)


def test_remove_selected_documents(qtbot, window, monkeypatch):
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.model.rowCount() == 5, timeout=5000)
    panel.table.selectRow(0)
    name = Path(panel.selected_paths()[0]).name
    asked = []
    monkeypatch.setattr(dialogs, "confirm_once", lambda *a: asked.append(a) or (True, False))
    qtbot.mouseClick(panel.remove, Qt.MouseButton.LeftButton)
    # A seed lies in an added folder: removed, it stays listed as excluded (as in the library).
    qtbot.waitUntil(lambda: listed(window).get(name) == "excluded", timeout=5000)
    assert list(listed(window).values()).count("indexed") == 4
    assert len(asked) == 1  # removal asks first


def test_copy_export_and_open_original(qtbot, window, monkeypatch, tmp_path):
    assert not window.copy_action.isEnabled()
    ask(qtbot, window, EXAMPLE)
    window.copy_action.trigger()
    copied = QGuiApplication.clipboard().text()
    assert "A: earlier this month" in copied and SEED in copied
    assert "Russia received the first shipment earlier this month" in copied
    for name in ("answer.md", "answer.json"):
        target = tmp_path / name
        monkeypatch.setattr(dialogs, "save_file", lambda *a, t=target: str(t))
        window.export_action.trigger()
        qtbot.waitUntil(target.exists, timeout=5000)  # written whole, under its name at the end
    assert "**earlier this month**" in (tmp_path / "answer.md").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "answer.json").read_text(encoding="utf-8"))
    assert data["answer"]["text"] == "earlier this month" and data["found"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answer.json", "answer.md"]
    opened = []
    monkeypatch.setattr(viewer, "open_external", lambda path: opened.append(path) or True)
    qtbot.waitUntil(window.open_original_action.isEnabled, timeout=5000)
    window.open_original_action.trigger()
    assert Path(opened[0]).name == SEED


def test_other_answers_are_reached_and_chosen_with_the_keyboard(qtbot, window):
    ask(qtbot, window, EXAMPLE)
    card = window.ask_panel.answer
    assert card.alternatives.isVisibleTo(window)
    [button] = [b for b in card.alternative_buttons if b.text().startswith("has now")]
    # Tab from the Look-in box (after Ask and the mode) walks through the other answers
    # before the sources.
    window.ask_panel.scope.setFocus()
    qtbot.waitUntil(window.ask_panel.scope.hasFocus)
    seen = []
    for _ in range(len(card.alternative_buttons)):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == card.alternative_buttons
    button.setFocus()
    qtbot.keyClick(button, Qt.Key.Key_Space)
    row = window.ask_panel.sources.currentIndex().data(RowRole)
    assert row.kind == "alternative" and row.answer_text == "has now"


def test_every_control_has_an_accessible_name_and_main_actions_have_shortcuts(window):
    unnamed = [
        w
        for kind in (QAbstractButton, QLineEdit, QAbstractItemView, QComboBox)
        for w in window.findChildren(kind)
        if w.isVisibleTo(window)
        and not isinstance(w, QHeaderView)  # part of its table, which is named
        and not w.accessibleName()
        and not getattr(w, "text", lambda: "")()
    ]
    assert not unnamed, [type(w).__name__ for w in unnamed]
    for action in (
        window.add_files_action,
        window.add_folder_action,
        window.export_action,
        window.copy_action,
        window.resync_action,
        window.cancel_action,
        window.settings_action,
        window.open_original_action,
    ):
        assert not action.shortcut().isEmpty(), action.text()


def test_highlights_follow_a_dark_palette(qtbot, window):
    ask(qtbot, window, EXAMPLE)
    qtbot.waitUntil(lambda: "answer" in window.viewer.highlights(), timeout=5000)
    light = theme.answer_colour()
    app = QGuiApplication.instance()
    old = app.palette()
    dark = QPalette(old)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202020"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#181818"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: theme.is_dark(), timeout=2000)
        assert theme.answer_colour() != light

        def answer_background() -> QColor:
            selections = window.viewer.text.extraSelections()  # keep them alive while reading
            return QColor(selections[-1].format.background().color())

        qtbot.waitUntil(lambda: answer_background() == theme.answer_colour(), timeout=2000)
    finally:
        app.setPalette(old)


def test_viewer_offsets_survive_emoji_and_crlf(qtbot):
    from qa_app.gui.models import SourceRow

    text = "Intro 😀 line.\r\nThe 🚀 launch was on Tuesday morning.\r\nEnd."
    start = text.index("Tuesday")
    sentence = text.index("The 🚀")
    row = SourceRow(
        "answer",
        1,
        "/x.txt",
        "x.txt",
        None,
        text[sentence:],
        sentence,
        0.9,
        "Tuesday",
        start,
        start + 7,
        sentence,
        text.index("morning.") + 8,
    )
    view = viewer.DocumentViewer()
    qtbot.addWidget(view)
    view.show_source(row, text)
    assert view.selection() == (start, start + 7)
    assert view.selected_text() == "Tuesday"
    assert view.highlights()["sentence"] == (row.sentence_start, row.sentence_end)


def test_window_shows_before_the_engine_is_imported(tmp_path):
    import subprocess
    import sys

    code = (
        "import os, sys, time; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
        "t=time.perf_counter()\n"
        "from qa_app.gui.app import make_application\n"
        "from qa_app.gui.main_window import MainWindow\n"
        "app=make_application([]); w=MainWindow(); w.show()\n"
        "heavy = 'torch' in sys.modules, 'qa_app.engine' in sys.modules\n"
        "app.processEvents()  # paints the window; only now does the engine start loading\n"
        "print(round(time.perf_counter()-t, 2), *heavy)\n"
        "w.session.runner.shutdown(0)\n"
        "os._exit(0)\n"
    )
    env = {**os.environ, "QA_APP_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    seconds, torch_loaded, engine_loaded = out.stdout.split()
    print(f"window shown after {seconds} s")
    assert torch_loaded == "False" and engine_loaded == "False"
    assert float(seconds) < 5


def test_models_that_fail_to_load_are_reported_not_waited_for(qtbot, backend, monkeypatch):
    from gui_fakes import FakeEngine

    from qa_app.models.weights import ModelError

    def broken(self):
        raise ModelError("reader.safetensors: weights are missing")

    monkeypatch.setattr(FakeEngine, "warm_up", broken)
    w = open_window(qtbot, backend, wait=False)
    qtbot.waitUntil(lambda: w.model_label.text() == "Models unavailable", timeout=5000)
    assert "reader.safetensors: weights are missing" in w.last_error
    ask(qtbot, w, EXAMPLE)
    assert w.ask_panel.answer.state == "error"
    assert "weights are missing" in w.ask_panel.answer.meta.text()
    close(qtbot, w)


def test_a_damaged_library_offers_repair_in_the_banner(qtbot, backend: FakeBackend) -> None:
    from gui_fakes import FakeLibrary

    backend.libs["seeds"] = FakeLibrary("seeds", damaged=True, seeded=True)
    w = open_window(qtbot, backend, wait=False)
    qtbot.waitUntil(lambda: w.banner.action_button.isVisible(), timeout=10000)
    assert "damaged" in w.banner.text()
    assert w.banner.action_button.text() == "&Repair library"
    w.banner.action_button.click()
    qtbot.waitUntil(lambda: w.session.library.ready, timeout=10000)
    assert backend.repaired == ["seeds"]
    assert w.banner.text().startswith("Repaired:")  # what was done, where the user looks
    assert not w.banner.action_button.isVisible()

"""Honest progress and safe deletes in the window: what is still pending is always counted, the
status bar says what runs, the bar moves within an embedding batch, removals ask once, excluded
documents keep their title, and "Answered in" counts from Enter; dialogs and columns fit."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from gui_fakes import FakeBackend
from PySide6.QtCore import Qt
from test_gui_window import EXAMPLE, make_folder, open_window

from qa_app.gui import asking, dialogs
from qa_app.gui.progress import IndexProgress, report_text
from qa_app.records import Progress, SyncReport

pytestmark = pytest.mark.gui


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def window(qtbot, backend):
    return open_window(qtbot, backend)


def add_folder(qtbot, window, monkeypatch, folder: Path):
    monkeypatch.setattr(dialogs, "pick_folder", lambda parent: str(folder))
    window.add_folder_action.trigger()


def test_report_text_says_what_waits_and_what_was_finished():
    run = SyncReport(added=tuple(f"f{i}" for i in range(300)), cancelled=True, seconds=30.4)
    assert report_text(run, 20, 20) == (
        "Cancelled: 280 of 300 ready; 20 wait for embedding (Re-sync finishes them) (30.4 s)."
    )
    resync = SyncReport(unchanged=300, chunks_embedded=85, seconds=3.0)
    assert report_text(resync, 0, 0, 20) == (
        "Done: 300 unchanged, finished embedding 20 documents (85 passages) (3.0 s)."
    )
    assert report_text(None, 3) == "3 documents wait for embedding (Re-sync finishes them)."


def test_cancel_counts_the_documents_waiting_and_resync_finishes_them(
    qtbot, window, backend, monkeypatch, tmp_path
):
    backend.embeds, backend.embed_allow = True, 2
    folder = make_folder(tmp_path, 5)
    progress = []
    window.session.indexing.progress.connect(progress.append)
    add_folder(qtbot, window, monkeypatch, folder)
    # Two documents are embedded, then the stage holds: cancel there.
    lib = backend.libs[window.session.library.name]
    qtbot.waitUntil(lambda: len(lib.pending) == 3 and bool(progress), timeout=5000)
    assert "Embedding" in window.model_label.text() or "Adding" in window.model_label.text()
    assert window.model_label.text() != "Ready"  # the status bar says what runs
    panel = window.library_panel
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        qtbot.mouseClick(panel.progress.cancel_button, Qt.MouseButton.LeftButton)
    message = panel.progress.label.text()
    assert message.startswith(
        "Cancelled: 2 of 5 ready; 3 wait for embedding (Re-sync finishes them)"
    ), message
    assert "(3 waiting for embedding)" in panel.summary.text()
    assert window.model_label.text() == "Ready"
    # Re-sync finishes them and says so.
    backend.embed_allow = None
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        window.resync_action.trigger()
    message = panel.progress.label.text()
    assert "finished embedding 3 documents (6 passages)" in message, message
    assert "wait" not in message and "waiting" not in panel.summary.text()


def test_the_bar_moves_between_embedding_batches(qtbot):
    now = [0.0]
    strip = IndexProgress(clock=lambda: now[0])
    qtbot.addWidget(strip)
    strip.start("Adding notes")
    strip.update_progress(Progress(0, 320, "embed"))
    assert strip.bar.maximum() == 0  # moving (busy) until the first batch tells the rate
    now[0] = 6.4
    strip.update_progress(Progress(64, 320, "embed"))
    assert strip.bar.value() == 64 and "64 of 320 passages embedded (20%)" in strip.counts.text()
    values = []
    for t in (7.4, 8.4, 9.4, 13.0, 20.0):  # a tick every second of the next batch
        now[0] = t
        strip._advance()
        values.append(strip.bar.value())
    assert values[0] > 64 and values[1] > values[0] and values[2] > values[1]
    assert max(values) == 127  # never at or past the next batch before it is committed
    assert not strip.bar.isTextVisible()  # the percentage is in the counts line, readable


def test_model_stage_is_quiet_when_the_model_is_already_loaded(qtbot):
    strip = IndexProgress()
    qtbot.addWidget(strip)
    strip.show()
    strip.start("Adding notes")
    strip.update_progress(Progress(0, 1, "model"))
    strip.update_progress(Progress(1, 1, "model"))  # loaded at once: the window's model
    strip._say_loading_model()  # what the MODEL_NOTE_MS timer runs
    assert "Loading the embedding model" not in strip.label.text()
    strip.update_progress(Progress(0, 1, "model"))  # a model that takes its time is said
    strip._say_loading_model()
    assert strip.label.text() == "Loading the embedding model…"


def status(panel, path: str) -> str | None:
    """Return the status the documents table shows for ``path`` (None: not listed)."""
    return {d.path: d.status for d in panel.model.documents()}.get(path)


def test_removal_asks_once_and_dont_ask_again_sticks(qtbot, window, monkeypatch):
    panel = window.library_panel
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 5, timeout=5000)
    answers = [(False, False), (True, True)]
    asked = []
    monkeypatch.setattr(dialogs, "confirm_once", lambda *a: asked.append(a) or answers.pop(0))
    panel.table.selectRow(0)
    first = panel.selected_paths()[0]
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert len(asked) == 1 and "Remove" in asked[0][2]
    assert first in [d.path for d in panel.model.documents()]  # No: nothing removed
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)  # Yes, and don't ask again
    # A seed lies in an added folder: removed, it stays listed as excluded (as in the library).
    qtbot.waitUntil(lambda: status(panel, first) == "excluded", timeout=5000)
    assert not window.settings.confirm_removal
    panel.table.selectRow(0)
    if panel.selected_paths() == [first]:
        panel.table.selectRow(1)
    second = panel.selected_paths()[0]
    assert second != first
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: status(panel, second) == "excluded", timeout=5000)
    assert len(asked) == 2  # not asked the third time


def test_an_excluded_document_keeps_its_title(qtbot, window, monkeypatch, tmp_path):
    folder = make_folder(tmp_path, 3)
    with qtbot.waitSignal(window.session.indexing.finished, timeout=10000):
        add_folder(qtbot, window, monkeypatch, folder)
    panel = window.library_panel
    path = str(folder / "note001.txt")
    qtbot.waitUntil(
        lambda: panel.row_of(path) >= 0 and panel.shown_titles()[panel.row_of(path)] == "Note 1",
        timeout=5000,
    )
    panel.table.selectRow(panel.row_of(path))
    panel.exclude_selected()
    qtbot.waitUntil(
        lambda: any(d.status == "excluded" for d in panel.model.documents()), timeout=5000
    )
    row = panel.row_of(path)
    assert panel.shown_titles()[row] == "Note 1"
    assert panel.proxy.index(row, 4).data() == "Excluded"
    # The status column is wide enough for the word (not cut to "Exclu…").
    width = panel.table.columnWidth(4)
    assert width >= panel.table.fontMetrics().horizontalAdvance("Excluded") + 8


def test_answered_in_counts_from_pressing_enter(qtbot, backend, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(asking, "_clock", lambda: clock[0])
    backend.warm_gate = threading.Event()  # the models take a while to load
    window = open_window(qtbot, backend, wait=False)
    field = window.ask_panel.question
    qtbot.keyClicks(field, EXAMPLE)
    qtbot.keyClick(field, Qt.Key.Key_Return)  # pressed at 100.0
    clock[0] = 111.3  # the models took 11 s; the answer comes after them
    statuses = []
    window.session.messages.status.connect(statuses.append)
    backend.warm_gate.set()
    qtbot.waitUntil(lambda: any(s.startswith("Answered in") for s in statuses), timeout=10000)
    assert "Answered in 11.3 s." in statuses


SIZES_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, "tests")
    from gui_fakes import FakeBackend
    from PySide6.QtCore import QPoint
    from qa_app.gui.app import make_application
    from qa_app.gui.main_window import MainWindow
    app = make_application(["x"])
    w = MainWindow(FakeBackend())
    w.resize(*map(int, sys.argv[1:3]))
    w.show()
    panel = w.library_panel
    end = time.monotonic() + 60
    while time.monotonic() < end and (
        panel.proxy.rowCount() < 5 or any(t.endswith(".txt") for t in panel.shown_titles())
    ):
        app.processEvents()
    for _ in range(20):
        app.processEvents()
    metrics = panel.table.fontMetrics()
    need = {
        c: max(
            [metrics.horizontalAdvance(panel.proxy.index(r, c).data() or "") for r in range(5)]
            + [metrics.horizontalAdvance(panel.model.COLUMNS[c])]
        )
        for c in (1, 2, 3, 4)
    }
    panel.show_manage_menu()
    app.processEvents()
    out = {
        "window": [w.width(), w.height()],
        "widths": {c: panel.table.columnWidth(c) for c in range(6)},
        "need": need,
        "title": panel.table.columnWidth(0),
        "menu_right": panel.menu.geometry().right(),
        "button_right": panel.manage.mapToGlobal(QPoint(panel.manage.width(), 0)).x(),
        "screen_right": w.screen().availableGeometry().right(),
    }
    panel.menu.hide()
    print(json.dumps(out))
    w.session.stop()
    """
)


@pytest.mark.parametrize("size", [(1024, 640), (1280, 720), (1440, 900)])
def test_nothing_is_cut_at_common_sizes(tmp_path, size):
    """A fresh process on a screen of ``size`` (the window fills it): no column of the documents
    list is cut, titles keep room, and the Manage menu opens under its button."""
    config = tmp_path / "screen.json"
    screen = {"name": "S", "x": 0, "y": 0, "width": size[0], "height": size[1],
              "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}  # fmt: skip
    config.write_text(json.dumps({"screens": [screen]}))
    env = dict(
        os.environ, QA_APP_HOME=str(tmp_path), QT_QPA_PLATFORM=f"offscreen:configfile={config}"
    )
    out = subprocess.run(
        [sys.executable, "-c", SIZES_SCRIPT, *map(str, size)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    for column, need in got["need"].items():  # format, pages, passages, status: never cut
        assert got["widths"][column] >= need, (size, column, got)
    assert got["title"] >= 160, got  # titles keep room to be read
    assert got["menu_right"] <= got["button_right"] + 1, got
    assert got["menu_right"] <= got["screen_right"], got


def test_the_new_library_dialog_shows_its_whole_title(qtbot, window):
    dialog = dialogs.text_dialog(window, "New library", "Name of the new library:")
    qtbot.addWidget(dialog)
    dialog.show()
    title = f"New library — {window.windowTitle()}"
    assert dialog.width() >= dialog.fontMetrics().horizontalAdvance(title) + 120
    dialog.close()

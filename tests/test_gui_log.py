"""The window and the log file: Help ▸ Open log folder, and unexpected errors written to the log."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sqlite3
import sys
from pathlib import Path

import pytest
from gui_fakes import FakeBackend
from PySide6.QtCore import QUrl

from qa_app import logfile
from qa_app.gui import app as gui_app
from qa_app.gui import window_actions
from qa_app.gui.main_window import MainWindow
from qa_app.gui.messages import message
from qa_app.index.database import StoreMissing

pytestmark = pytest.mark.gui


def open_window(qtbot) -> MainWindow:
    window = MainWindow(FakeBackend())

    def close(w: MainWindow) -> None:
        if not w.session.runner.closed:
            with qtbot.waitSignal(w.closed, timeout=10000):
                w.close()

    qtbot.addWidget(window, before_close_func=close)
    window.show()
    qtbot.waitUntil(
        lambda: window.session.library.ready and not window.session.runner.is_busy(),
        timeout=10000,
    )
    return window


def test_help_opens_the_log_folder(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(window_actions.QDesktopServices, "openUrl", open_url)
    w = open_window(qtbot)
    action = w.named_actions["log_folder"]
    assert action.text() == "Open &log folder"
    help_menu = next(m for m in w.menuBar().actions() if m.text() == "&Help").menu()
    assert action in help_menu.actions()
    action.trigger()
    folder = logfile.log_file().parent
    assert [url.toLocalFile() for url in opened] == [str(folder)]
    assert folder.is_dir() and w.last_error == ""


def test_a_log_folder_that_cannot_be_made_is_said_in_the_banner(
    qtbot, qa_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(window_actions.QDesktopServices, "openUrl", opened.append)
    (qa_home / "logs").write_text("not a folder")
    w = open_window(qtbot)
    assert w.open_log_folder() is False
    assert opened == [] and w.last_error.startswith("Could not open the log folder")


def test_an_expected_error_is_its_sentence_and_a_bug_goes_to_the_log() -> None:
    logfile.install()
    assert message(StoreMissing("there is no library called 'x'")) == (
        "there is no library called 'x'"
    )
    assert message(FileNotFoundError(2, "No such file or directory")).endswith("directory")
    assert message(sqlite3.OperationalError("database is locked")) == "database is locked"
    assert not logfile.log_file().exists()  # expected failures: nothing to report
    try:
        {}["x"]
    except KeyError as exc:
        text = message(exc)
        assert message(exc) == text  # said twice, logged once
    assert text == "x (an unexpected error; details: Help ▸ Open log folder)"
    log = logfile.log_file().read_text(encoding="utf-8")
    assert log.count("Traceback (most recent call last)") == 1
    assert "while working in the window: KeyError: x" in log and '{}["x"]' in log


def test_the_window_writes_uncaught_errors_to_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    printed: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: printed.append(exc))
    logfile.install()
    gui_app._log_uncaught_errors()
    try:
        raise RuntimeError("a slot failed")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert [str(e) for e in printed] == ["a slot failed"]  # the previous hook still runs
    log = logfile.log_file().read_text(encoding="utf-8")
    assert "while running the window: RuntimeError: a slot failed" in log and "Traceback" in log

"""Quitting is prompt: the process ends at once when nothing is writing to a library, even while
the models are still loading; an indexing run is stopped after its current file first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.gui

SCRIPT = textwrap.dedent(
    """
    import sys, threading
    sys.path.insert(0, "tests")
    from gui_fakes import FakeBackend
    from PySide6.QtCore import QTimer
    from qa_app.gui.app import make_application, run
    from qa_app.gui.main_window import MainWindow
    app = make_application(["x"])
    backend = FakeBackend()
    backend.warm_gate = threading.Event()  # the models never finish loading
    window = MainWindow(backend)
    window.show()
    def close_when_open():
        if window.session.library.engine is None or window.session.indexing.running:
            QTimer.singleShot(20, close_when_open)
        else:
            print("CLOSING", flush=True)
            window.close()
    QTimer.singleShot(20, close_when_open)
    run(app, window)
    print("NOT REACHED: run() returned", flush=True)
    """
)


def test_quit_while_the_models_load_ends_the_process_at_once(tmp_path):
    env = dict(os.environ, QA_APP_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "CLOSING" in done.stdout and "NOT REACHED" not in done.stdout
    # The warm-up would hold the process for 30 s if quitting waited for it.
    assert took < 25, took

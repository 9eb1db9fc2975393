"""Starts the desktop window: a QApplication, the style that follows the system, the main window."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from qa_app import APP_DISPLAY_NAME, APP_ID, APP_NAME, APP_ORG, __version__
from qa_app.models import threads


def make_application(argv: Sequence[str] | None = None):  # noqa: ANN201 - QApplication
    """Return the running QApplication, creating and styling it on first call."""
    from PySide6.QtWidgets import QApplication

    from qa_app.gui import theme

    existing = QApplication.instance()
    app = (
        existing
        if isinstance(existing, QApplication)
        else QApplication(list(argv if argv is not None else sys.argv))
    )
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_DISPLAY_NAME)
    app.setOrganizationName(APP_ORG)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(theme.app_icon())
    app.setStyleSheet(theme.style_sheet())
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window and run until it is closed; return the exit status.

    ``qa-app-gui [FILE_OR_FOLDER ...]`` also adds those to the library it opens (the desktop
    entry passes the files of "Open with").
    """
    from qa_app.cli_support import no_display

    reason = no_display()
    if reason is not None:  # Qt would abort with a raw "xcb" error and status 134
        print(f"qa-app-gui: {reason}", file=sys.stderr)
        return 2
    threads.configure()  # before anything loads torch: worker threads sleep instead of spinning
    app = make_application(argv)
    from qa_app.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    paths = app.arguments()[1:]  # Qt has taken out its own options (-style, -platform, ...)
    if paths:
        window.add_paths(paths)
    return run(app, window)


def run(app, window) -> int:  # noqa: ANN001 - QApplication, MainWindow
    """Run the event loop until ``window`` is closed; then end the process promptly.

    Closing waits for work that writes to a library (indexing stops after its current file);
    work that only reads (loading the models, answering) is not waited for.
    """
    window.closed.connect(app.quit)
    window.closing.connect(lambda: _quit_once_nothing_writes(window))
    status = int(app.exec())
    if window.session.library.engine is None and not window.session.runner.is_busy():
        quit_now(status)
    return status


def _quit_once_nothing_writes(window) -> None:  # noqa: ANN001 - MainWindow
    from PySide6.QtCore import QTimer

    def check() -> None:
        if not window.session.runner.has_writers():
            quit_now(0)  # what is left only reads: stopping it loses nothing

    timer = QTimer(window)
    timer.setInterval(50)
    timer.timeout.connect(check)
    timer.start()
    check()


def quit_now(status: int) -> None:
    """End the process at once, skipping the interpreter's clean-up of torch, FAISS and Qt.

    Called only after the window closed cleanly: every library is closed (SQLite committed) and
    no background work is left, so nothing is lost; the settings file is written on every change.
    That clean-up takes seconds once the models are loaded (about 4 s on a busy 2-core machine)
    and achieves nothing a process exit does not.
    """
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, or none at all
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())

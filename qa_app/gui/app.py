"""Starts the desktop window: a QApplication, the style that follows the system, the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from qa_app import APP_DISPLAY_NAME, APP_ID, APP_NAME, APP_ORG, __version__


def make_application(argv: Sequence[str] | None = None):  # noqa: ANN201 - QApplication
    """Return the running QApplication, creating and styling it on first call."""
    from PySide6.QtWidgets import QApplication

    from qa_app.gui import theme

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv if argv is not None else sys.argv))
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
    app = make_application(argv)
    from qa_app.gui.main_window import MainWindow

    window = MainWindow()
    window.closed.connect(app.quit)
    window.show()
    paths = app.arguments()[1:]  # Qt has taken out its own options (-style, -platform, ...)
    if paths:
        window.add_paths(paths)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

"""Starts the desktop window: a QApplication, the style that follows the system, the main window."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from types import TracebackType

from qa_app import APP_DISPLAY_NAME, APP_ID, APP_NAME, APP_ORG, __version__, logfile
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


# The libraries Qt's X11 platform plugin loads that a fresh Linux desktop may lack, by the
# Debian/Ubuntu package that installs each (the same names on most distributions).
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def missing_from_ldd(output: str) -> list[str]:
    """Return the libraries ``ldd`` says are "not found", in its order, once each."""
    names = [line.split()[0] for line in output.splitlines() if "=> not found" in line]
    return list(dict.fromkeys(names))


def no_display() -> str | None:
    """Return why no window can open here (Linux without a display server), else None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
        "use the commands instead (qa-app --help), or set QT_QPA_PLATFORM=offscreen"
    )


def missing_qt_libraries() -> str | None:
    """Return a one-line message naming the packages to install when Qt's X11 plugin cannot
    load here (Qt would abort with its raw message and status 134), else None."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or (platform and not platform.startswith("xcb")):
        return None
    if not platform and os.environ.get("WAYLAND_DISPLAY"):
        return None  # Qt takes its Wayland plugin
    import ctypes
    import importlib.util
    import subprocess

    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    qt = os.path.join(os.path.dirname(spec.origin), "Qt")
    qpa = os.path.join(qt, "lib", "libQt6XcbQpa.so.6")
    if not os.path.exists(qpa):
        return None
    try:
        ctypes.CDLL(qpa)  # the fast path: one load the plugin makes anyway
        return None
    except OSError as exc:
        first = str(exc)
    try:
        plugin = os.path.join(qt, "plugins", "platforms", "libqxcb.so")
        listed = subprocess.run(["ldd", plugin], capture_output=True, text=True, timeout=20)
        missing = missing_from_ldd(listed.stdout)
    except (OSError, subprocess.SubprocessError):
        missing = []
    if not missing:
        return f"the window cannot start: Qt's X11 plugin cannot load ({first})"
    packages = " ".join(dict.fromkeys(XCB_PACKAGES.get(name, name) for name in missing))
    return (
        f"the window needs system libraries that are missing here ({', '.join(missing)}); "
        f"install them (Debian/Ubuntu: sudo apt-get install {packages}) and start it again"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window and run until it is closed; return the exit status.

    ``qa-app-gui [FILE_OR_FOLDER ...]`` also adds those to the library it opens (the desktop
    entry passes the files of "Open with").
    """
    reason = no_display()
    if reason is not None:  # Qt would abort with a raw "xcb" error and status 134
        print(f"qa-app-gui: {reason}", file=sys.stderr)
        return 2
    reason = missing_qt_libraries()
    if reason is not None:  # the same: Qt's raw message and status 134 otherwise
        print(f"qa-app-gui: {reason}", file=sys.stderr)
        return 2
    threads.configure()  # before anything loads torch: worker threads sleep instead of spinning
    logfile.install()  # a desktop launcher shows no stderr: problems go to the log file
    _log_uncaught_errors()
    app = make_application(argv)
    from qa_app.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    paths = app.arguments()[1:]  # Qt has taken out its own options (-style, -platform, ...)
    if paths:
        window.add_paths(paths)
    return run(app, window)


def _log_uncaught_errors() -> None:
    """Write an exception nothing caught (a Qt slot that raised) to the log with its traceback,
    then let the previous hook print it as before."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not isinstance(exc, KeyboardInterrupt):
            logfile.log_bug(exc, "running the window")
        previous(kind, exc, tb)

    sys.excepthook = hook


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

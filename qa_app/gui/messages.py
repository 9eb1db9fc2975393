"""What the session's parts tell the person: status lines and problems, on one object the window listens to."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from qa_app import logfile


class Messages(QObject):
    """The session's parts emit here; the window shows ``status`` in its status bar and ``error``
    in its banner."""

    status = Signal(str)
    error = Signal(str)


def message(exc: BaseException) -> str:
    """Return an exception as a sentence for a person. One that is not an expected failure (a
    QaAppError, an operating-system error) is a bug: it is written to the log with its traceback
    and the sentence says where to find it."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    text = text or type(exc).__name__
    if logfile.is_bug(exc):
        logged = logfile.log_bug(exc, "working in the window")
        where = "Help ▸ Open log folder" if logged else "no log file could be written"
        text = f"{text} (an unexpected error; details: {where})"
    return text

"""What the session's parts tell the person: status lines and problems, on one object the window listens to."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Messages(QObject):
    """The session's parts emit here; the window shows ``status`` in its status bar and ``error``
    in its banner."""

    status = Signal(str)
    error = Signal(str)


def message(exc: BaseException) -> str:
    """Return an exception as a sentence for a person."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def plural(n: int, word: str) -> str:
    """Return ``n word`` with an s when n is not 1."""
    return f"{n} {word}{'' if n == 1 else 's'}"

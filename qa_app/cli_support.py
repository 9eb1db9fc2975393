"""Small pieces of the ``qa-app`` command: argument types, counts in words, terminal-safe text,
the display check."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from typing import Any

from qa_app.errors import QaAppError

# What a terminal may act on instead of showing: C0 controls (ESC starts OSC 52 clipboard
# writes and screen clears), DEL, C1 controls (U+009B is CSI on some terminals), the line and
# paragraph separators, and lone surrogates (the bytes of a file name that is not UTF-8).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_UNSAFE_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")  # json escapes C0


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, lines: bool = False) -> str:
    """Return ``text`` (a name or text from outside) with every control character shown escaped
    ("\\x1b", "\\u2028"; a file name's byte that is not UTF-8 as "\\xe9"), so printing it
    can neither drive the terminal nor break a one-line layout. With ``lines``, newlines and
    tabs are kept (a document's text)."""
    return (_UNSAFE_IN_LINES if lines else _UNSAFE).sub(_escaped, text)


def json_text(value: Any) -> str:
    """Return ``value`` as indented JSON that is exact (it parses back to the same strings) and
    terminal-safe: controls, separators and lone surrogates written as \\u escapes."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class UsageError(QaAppError):
    """A command line that cannot be run as given (exit status 2)."""


def positive_int(text: str) -> int:
    """Return ``text`` as a whole number of 1 or more; ArgumentTypeError otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def unit_float(text: str) -> float:
    """Return ``text`` as a number from 0 to 1; ArgumentTypeError otherwise (nan included)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


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


class _Stderr(logging.Handler):
    """Prints the app's warnings as "warning: …" lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "log_only", False):  # a bug's traceback: the command says it itself
            return
        label = "warning" if record.levelno < logging.ERROR else "error"
        print(f"{label}: {terminal_safe(record.getMessage())}", file=sys.stderr)


def show_warnings(quiet: bool) -> None:
    # Per-file notes (a page that could not be read, a PDF library's complaints summed up)
    # go to stderr once each; -q keeps only errors (the log file, if any, keeps its own level).
    logger = logging.getLogger("qa_app")
    handler = next((h for h in logger.handlers if isinstance(h, _Stderr)), None)
    if handler is None:
        handler = _Stderr()
        logger.addHandler(handler)
    handler.setLevel(logging.ERROR if quiet else logging.WARNING)
    logger.setLevel(min((h.level for h in logger.handlers if h.level), default=logging.WARNING))

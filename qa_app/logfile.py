"""The app's log file: a rotating file in the data folder that a person can attach to a bug report."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from qa_app import paths
from qa_app.errors import QaAppError
from qa_app.safe_text import terminal_safe

__all__ = [
    "LEVEL_ENV",
    "bug_message",
    "install",
    "is_bug",
    "log_bug",
    "log_file",
    "log_level",
]

LEVEL_ENV = "QA_APP_LOG_LEVEL"  # DEBUG, INFO, WARNING (the default) or ERROR
LOG_NAME = "qa-app.log"
MAX_BYTES = 1_000_000  # about 1 MB a file, the current one and three older: a small attachment
BACKUPS = 3
DEFAULT_LEVEL = logging.WARNING
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d %(threadName)s] %(message)s"

_root = logging.getLogger("qa_app")


def log_file() -> Path:
    """Return the path of the log file (it may not exist yet: it is made by the first record)."""
    return paths.log_dir() / LOG_NAME


def log_level(verbose: bool = False) -> int:
    """Return the level the log file records: DEBUG with ``verbose``, else $QA_APP_LOG_LEVEL
    (a level name or number) if it is one, else WARNING."""
    if verbose:
        return logging.DEBUG
    raw = os.environ.get(LEVEL_ENV, "").strip()
    if raw.isdigit():
        return max(int(raw), logging.DEBUG)
    level = logging.getLevelName(raw.upper()) if raw else None
    if not isinstance(level, int) or level < logging.DEBUG:  # an unknown name: the default
        return DEFAULT_LEVEL
    return level


class _SafeFormatter(logging.Formatter):
    """Writes document text as data: a message on one line with every control character escaped
    (a file name cannot forge a log line or drive the terminal that shows the log); tracebacks
    keep their line breaks, with anything else escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = terminal_safe(record.message)
        return super().formatMessage(record)

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        return terminal_safe(super().formatException(ei), lines=True)

    def formatStack(self, stack_info: str) -> str:
        return terminal_safe(super().formatStack(stack_info), lines=True)


class _LogFile(logging.handlers.RotatingFileHandler):
    """A rotating log file that never fails the app: a folder that cannot be written (a read-only
    home, a full disk) means no log, silently (logging's default prints to stderr instead)."""

    def __init__(self, path: Path) -> None:
        # delay: nothing is created until there is something to record
        super().__init__(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
        self.failed = False  # the last record could not be written

    def _open(self) -> Any:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def emit(self, record: logging.LogRecord) -> None:
        self.failed = False
        super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed = True
        if self.stream is not None:  # reopen on the next record (the disk may have room again)
            with contextlib.suppress(Exception):  # a stream that cannot even close: dropped
                self.stream.close()
            self.stream = None


def _handler() -> _LogFile | None:
    return next((h for h in _root.handlers if isinstance(h, _LogFile)), None)


def install(verbose: bool = False) -> Path | None:
    """Record the app's log messages (logger ``qa_app``) in the log file from now on; return its
    path, or None when there can be none (no data folder). Called again, it may only add detail."""
    handler, level = _handler(), log_level(verbose)
    try:
        path = log_file()
    except Exception:  # noqa: BLE001 - the app runs without a log rather than not at all
        return None
    if handler is not None and handler.baseFilename != os.path.abspath(path):
        _root.removeHandler(handler)  # QA_APP_HOME moved (tests): the log moves with it
        handler.close()
        handler = None
    if handler is None:
        try:
            handler = _LogFile(path)
        except Exception:  # noqa: BLE001 - as above
            return None
        handler.setFormatter(_SafeFormatter(_FORMAT))
        _root.addHandler(handler)
    elif handler.level:  # installed already ('qa-app gui -v', then the window): never less detail
        level = min(level, handler.level)
    handler.setLevel(level)
    # The logger lets through what its most talkative handler wants (each handler filters).
    _root.setLevel(min((h.level for h in _root.handlers if h.level), default=DEFAULT_LEVEL))
    return Path(handler.baseFilename)


def is_bug(exc: BaseException) -> bool:
    """Return whether ``exc`` is a bug rather than an expected failure said in one line: neither
    a QaAppError, nor an operating-system error (a full disk, a file that cannot be read), nor a
    database error the store did not translate (locked by another program, a disk I/O error)."""
    return not isinstance(exc, QaAppError | OSError | sqlite3.Error | KeyboardInterrupt)


def log_bug(exc: BaseException, doing: str) -> bool:
    """Write ``exc`` with its traceback to the log (once per exception); return whether the log
    file holds it now."""
    if getattr(exc, "_qa_app_logged", False):
        return True
    _root.error(
        "unexpected error while %s: %s",
        doing,
        _describe(exc),
        exc_info=exc,
        extra={"log_only": True},  # not also on stderr: the caller says it in one line
    )
    handler = _handler()
    written = handler is not None and not handler.failed and handler.stream is not None
    if written:
        with contextlib.suppress(AttributeError, TypeError):  # a type that takes no attributes
            exc._qa_app_logged = True  # type: ignore[attr-defined]
    return written


def bug_message(exc: BaseException, *, logged: bool) -> str:
    """Return the one line that says an unexpected error happened and where its details are."""
    where = f"the details are in {log_file()}" if logged else "no log file could be written"
    return f"an unexpected error (a bug in qa-app): {_describe(exc)}; {where}"


def _describe(exc: BaseException) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

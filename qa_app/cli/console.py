"""The command's terminal: Ctrl-C that stops cleanly, progress bars, warnings on stderr."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from qa_app.render import ocr_text
from qa_app.safe_text import terminal_safe

if TYPE_CHECKING:
    from qa_app.records import Progress

__all__ = ["Interrupt", "ProgressBar", "show_warnings"]


class Interrupt:
    """First Ctrl-C asks the running core call to stop cleanly; a second one aborts."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._previous: Any = None

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested.is_set():
            raise KeyboardInterrupt
        self.requested.set()
        print(
            "\nstopping after the current file or OCR page… (Ctrl-C again to abort)",
            file=sys.stderr,
        )

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def __call__(self) -> bool:
        return self.requested.is_set()


class ProgressBar:
    """Turns core Progress ticks into tqdm bars on stderr: one bar per stage, counted as it moves
    (rate and ETA measured from the stage's own start)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._bar: Any = None
        self._stage = ""

    UNITS = {
        "index": ("file", "reading files"),
        "rechunk": ("document", "re-chunking"),
        "model": ("model", "loading the model"),
        "embed": ("passage", "embedding"),
    }

    def __call__(self, tick: Progress) -> None:
        if self.quiet:
            return
        if tick.stage == "ocr":  # pages of the file being read: said beside the files' bar
            if self._bar is not None and self._stage == "index":
                self._bar.set_postfix_str(terminal_safe(ocr_text(tick)), refresh=True)
            return
        if tick.stage not in self.UNITS:
            return
        if self._bar is not None and (self._stage != tick.stage or tick.done < self._bar.n):
            self.close()
        if self._bar is None:
            from tqdm import tqdm

            unit, desc = self.UNITS[tick.stage]
            self._stage = tick.stage
            self._bar = tqdm(
                total=tick.total,
                initial=tick.done,  # work done before this bar appeared does not count as rate
                unit=unit,
                desc=desc,
                file=sys.stderr,
                dynamic_ncols=True,
            )
        self._bar.total = tick.total
        if tick.item:
            name = terminal_safe(tick.item.rsplit("/", 1)[-1])[-40:]  # a file name: data
            self._bar.set_postfix_str(name, refresh=False)
        self._bar.update(tick.done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class _Stderr(logging.Handler):
    """Prints the app's warnings as "warning: …" lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "log_only", False):  # a bug's traceback: the command says it itself
            return
        label = "warning" if record.levelno < logging.ERROR else "error"
        print(f"{label}: {terminal_safe(record.getMessage())}", file=sys.stderr)


def show_warnings(quiet: bool) -> None:
    """Print the app's warnings and errors on stderr as they are logged (errors only if ``quiet``)."""
    # Per-file notes (a page that could not be read, a PDF library's complaints summed up)
    # go to stderr once each; -q keeps only errors (the log file, if any, keeps its own level).
    logger = logging.getLogger("qa_app")
    handler = next((h for h in logger.handlers if isinstance(h, _Stderr)), None)
    if handler is None:
        handler = _Stderr()
        logger.addHandler(handler)
    handler.setLevel(logging.ERROR if quiet else logging.WARNING)
    logger.setLevel(min((h.level for h in logger.handlers if h.level), default=logging.WARNING))

"""What document libraries complain about while reading a file, summarised once for that file."""

# pypdf once printed 1,412 "fontTools is required…" lines for one PDF. Loaders read a file inside
# captured_warnings(): the libraries' warnings (Python warnings and their loggers' records) are
# counted there and reported as one line naming the file, through this package's logger, which
# the CLI silences under -q.

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("qa_app.ingest")

LIBRARY_LOGGERS = ("pypdf", "pypdfium2", "pdfminer", "docx", "trafilatura", "htmldate", "PIL")
_SHOWN = 160


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a badly formatted library message is still one message
            self.messages.append(str(record.msg))


def summary(path: str | Path, messages: Sequence[str]) -> str | None:
    """Return the one line that reports ``messages`` for ``path``, or None when there are none."""
    if not messages:
        return None
    first = " ".join(messages[0].split())
    first = first if len(first) <= _SHOWN else first[: _SHOWN - 1] + "…"
    count = len(messages)
    what = "1 warning" if count == 1 else f"{count:,} warnings"
    return f"{path}: {what} from the document library while reading it (first: {first})"


@contextmanager
def captured_warnings(
    path: str | Path, loggers: Sequence[str] = LIBRARY_LOGGERS
) -> Iterator[list[str]]:
    """Collect the warnings libraries raise or log inside the block; on leaving, log one summary
    line for ``path`` (at WARNING level on the ``qa_app.ingest`` logger). Yields the list that
    collects the messages."""
    collector = _Collector()
    caught: list[warnings.WarningMessage] = []
    saved = []
    for name in loggers:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate))
        logger.addHandler(collector)
        logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            caught = recorded
            yield collector.messages
    finally:
        for logger, propagate in saved:
            logger.removeHandler(collector)
            logger.propagate = propagate
        collector.messages.extend(str(w.message) for w in caught)
        line = summary(path, collector.messages)
        if line:
            log.warning("%s", line)

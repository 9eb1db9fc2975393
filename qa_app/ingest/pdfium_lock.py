"""The one lock every PDFium call in this process takes (PDFium is not thread-safe)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# pypdfium2's documentation: concurrent calls into PDFium, even on different documents, may
# crash or corrupt the process. Ingestion, OCR rendering and the window's page view run on
# different threads, so each takes this lock around its calls. Re-entrant: a holder may call
# a helper that takes it again.
PDFIUM = threading.RLock()


def pdfium_call(function: Callable[P, R]) -> Callable[P, R]:
    """Return ``function`` run while holding the PDFium lock (for methods that call PDFium)."""

    @functools.wraps(function)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        with PDFIUM:
            return function(*args, **kwargs)

    return locked

"""How a file is loaded: OCR on or off, page-by-page progress and cancel for slow (OCR) work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class LoadCancelled(Exception):
    """Raised by a loader between two slow steps (OCR pages) when ``LoadOptions.cancel`` says so."""


@dataclass(frozen=True)
class LoadOptions:
    """Per-load settings. ``progress(done, total)`` is called after each OCRed page, and
    ``cancel()`` is asked before each one; ``depth`` counts e-mails nested in e-mails."""

    ocr: bool = True
    progress: Callable[[int, int], None] | None = None
    cancel: Callable[[], bool] | None = None
    depth: int = 0

    def check_cancel(self) -> None:
        """Raise LoadCancelled when the caller asked to stop."""
        if self.cancel is not None and self.cancel():
            raise LoadCancelled


DEFAULT = LoadOptions()

"""How a file is loaded: OCR on or off, page-by-page progress and cancel for slow (OCR) work,
and a cache of pages already OCRed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class LoadCancelled(Exception):
    """Raised by a loader between two slow steps (OCR pages) when ``LoadOptions.cancel`` says so."""


class PageCache(Protocol):
    """Where OCR text of finished pages is kept (see qa_app.ingest.ocr_cache.OcrCache)."""

    def get(self, content_hash: str, page: int, engine: str) -> list[str] | None: ...

    def put(self, content_hash: str, page: int, engine: str, paragraphs: list[str]) -> None: ...


@dataclass(frozen=True)
class LoadOptions:
    """Per-load settings. ``progress(done, total)`` is called after each OCRed page, and
    ``cancel()`` is asked before each one; ``cache`` keeps the text of OCRed pages (a cancelled
    run resumes where it stopped); ``depth`` counts e-mails nested in e-mails."""

    ocr: bool = True
    progress: Callable[[int, int], None] | None = None
    cancel: Callable[[], bool] | None = None
    depth: int = 0
    cache: PageCache | None = None

    def check_cancel(self) -> None:
        """Raise LoadCancelled when the caller asked to stop."""
        if self.cancel is not None and self.cancel():
            raise LoadCancelled

    def report(self, done: int, total: int) -> None:
        """Tell the caller ``done`` of ``total`` pages are finished."""
        if self.progress is not None:
            self.progress(done, total)

    def recognised(
        self, content_hash: str, page: int, read: Callable[[], list[str]], settings: str = ""
    ) -> list[str]:
        """Return the OCR paragraphs of ``page`` of the bytes whose SHA-256 is ``content_hash``:
        from the cache when this engine (with these ``settings``: how the page was rendered)
        read that page before, else ``read()``, then cached."""
        if self.cache is None:
            return read()
        from qa_app.ingest.ocr import engine_id

        engine = engine_id() + settings
        found = self.cache.get(content_hash, page, engine)
        if found is None:
            found = read()
            self.cache.put(content_hash, page, engine, found)
        return found


DEFAULT = LoadOptions()

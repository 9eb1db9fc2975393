"""The typed contract between the front ends (window, CLI, evaluation) and an open library."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qa_app.records import DocumentInfo, Passage, Result, SyncReport

if TYPE_CHECKING:
    from qa_app.index.indexing import CancelFn, ProgressFn

DEFAULT_K = 10  # passages retrieved and read per question, unless the caller says otherwise


@dataclass(frozen=True)
class Scope:
    """Where a question or a search looks: inside one folder and/or files of some formats."""

    folder: str | None = None  # an absolute folder; documents below it (at any depth)
    formats: tuple[str, ...] = ()  # lower-case suffixes without the dot ("pdf"); () means any

    def __bool__(self) -> bool:
        return bool(self.folder or self.formats)

    def admits(self, path: str, attachment: str | None = None) -> bool:
        """Return True when the document at ``path`` (an e-mail ``attachment`` of it) is in scope."""
        if self.folder and not path.startswith(self.folder.rstrip(os.sep) + os.sep):
            return False
        if self.formats:
            suffix = os.path.splitext(attachment or path)[1].lstrip(".").lower()
            return suffix in self.formats
        return True

    def describe(self) -> str:
        """Return the scope in words, e.g. "PDF files in /cases/a" ("" when it is everything)."""
        kinds = " or ".join(f.upper() for f in self.formats)
        what = f"{kinds} files" if kinds else "documents"
        return f"{what} in {self.folder}" if self.folder else (what if kinds else "")


class Engine(Protocol):
    """What the window, the ``qa-app`` command and evaluation call on an open library.

    ``qa_app.engine.Engine`` is the implementation (mypy checks it conforms, see engine.py); the
    window's tests drive an in-memory fake that tests/test_contracts.py checks against this.
    Every method may be slow (models, disk): front ends call them off their UI thread.
    """

    @property
    def name(self) -> str:
        """The library's name."""
        ...

    @property
    def notices(self) -> list[str]:
        """Messages about rebuilds the user should hear about."""
        ...

    def ensure_ready(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport | None:
        """Build the default library on first use and finish pending embeddings (None: nothing done)."""
        ...

    def warm_up(self) -> None:
        """Load the models now, so the first question does not pay for it."""
        ...

    def add(
        self,
        items: Sequence[str | Path],
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> SyncReport:
        """Add files and folders to the library and index them."""
        ...

    def remove(self, items: Sequence[str | Path]) -> list[str]:
        """Remove files or folders from the library; return the removed document paths."""
        ...

    def sync(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Re-read added files and folders; index changes, drop deleted files."""
        ...

    @property
    def ocr(self) -> bool:
        """Whether the library reads scanned pages and images by OCR."""
        ...

    def set_ocr(self, enabled: bool) -> int:
        """Switch OCR on or off for the library; return how many files the next sync reads again."""
        ...

    def folders(self) -> list[str]:
        """Return the folders added to the library."""
        ...

    def documents(self) -> list[DocumentInfo]:
        """Return every document (and every file that failed) in the library."""
        ...

    def document_text(self, doc_id: int) -> str:
        """Return a document's stored text (all offsets point into it); KeyError if unknown."""
        ...

    def search(
        self, query: str, k: int = DEFAULT_K, *, scope: Scope | None = None
    ) -> list[Passage]:
        """Return up to ``k`` passages for ``query`` (only from documents in ``scope``), best first."""
        ...

    def ask(
        self,
        question: str,
        k: int = DEFAULT_K,
        *,
        reader: str | None = None,
        threshold: float | None = None,
        scope: Scope | None = None,
    ) -> Result:
        """Return the answer to ``question`` (from documents in ``scope``), or a not-found Result."""
        ...

    def close(self) -> None:
        """Close the library; the engine is not used afterwards."""
        ...

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
    from qa_app.index.repair import RepairReport
    from qa_app.reader.base import Reader

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
    window's tests drive an in-memory fake (tests/gui_fakes.py). tests/engine_contract.py holds the
    behaviour both must show, and runs against each. Front ends call nothing else on an engine.
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

    @property
    def needs_seeding(self) -> bool:
        """Whether this is the default library before it was built from the bundled seeds."""
        ...

    def pending(self) -> int:
        """Return how many passages wait for their embedding (keyword search finds them already)."""
        ...

    def seed(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Build the default library from the bundled seeds."""
        ...

    def rebuild(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Repair a manifest mismatch and finish what waits (a sync with progress and cancel)."""
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

    def exclude(self, items: Sequence[str | Path]) -> list[str]:
        """Remove files or folders inside added folders and keep them out of later syncs; return
        the removed document paths."""
        ...

    def include(self, items: Sequence[str | Path]) -> None:
        """Stop excluding files or folders (the next sync indexes them again)."""
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

    def reader(self, name: str | None = None) -> Reader:
        """Return the reader called ``name`` (None: the engine's default); its ``name`` and
        ``threshold`` say what ``ask`` with it means by "not found"."""
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

    def __enter__(self) -> Engine:
        """Return the engine itself; leaving the ``with`` block closes it."""
        ...

    def __exit__(self, *exc: object) -> None:
        """Close the engine."""
        ...


class LibraryAdmin(Protocol):
    """What the front ends call on the libraries as a whole, with none of them open.

    The class ``qa_app.engine.Engine`` implements it with static methods (mypy checks it, see
    engine.py); ``qa_app.engine.library_admin()`` returns it typed as this.
    """

    def libraries(self) -> list[str]:
        """Return the names of every library (local, and team libraries remembered), sorted."""
        ...

    def rename_library(self, old: str, new: str) -> None:
        """Rename a library; NotFound if absent, AlreadyExists if ``new`` is taken."""
        ...

    def delete_library(self, name: str, *, server: str | None = None) -> None:
        """Delete a library (with ``server``: the team library there); NotFound if absent."""
        ...

    def repair_library(
        self,
        name: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> RepairReport:
        """Rebuild a damaged library's database from its added files and folders."""
        ...

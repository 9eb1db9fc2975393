"""The one facade used by the window, the command line and evaluation: open, sync, search, ask."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa_app import contracts, paths
from qa_app.contracts import DEFAULT_K
from qa_app.embedding import Embedder, SentenceTransformerEmbedder
from qa_app.library import DB_FILE, CancelFn, Library, ProgressFn
from qa_app.locking import WriterLock
from qa_app.reader.base import Reader
from qa_app.records import DocumentInfo, Passage, Result, SyncReport
from qa_app.retrieval import Retriever

SEEDED_KEY = "seeded_from"


class Engine:
    """A library opened for use: everything above storage and models goes through here."""

    def __init__(
        self,
        library: str | None = None,
        *,
        embedder: Embedder | None = None,
        reader: str | None = None,
    ) -> None:
        self.name = paths.check_library_name(library or paths.DEFAULT_LIBRARY)
        self.is_default = library is None or library == paths.DEFAULT_LIBRARY
        self.embedder: Embedder = embedder or SentenceTransformerEmbedder()
        self.reader_name = reader
        self.library = Library(paths.library_dir(self.name), self.embedder, name=self.name)
        self.retriever = Retriever(self.library, self.embedder)
        self._readers: dict[str, Reader] = {}
        self._reader_lock = threading.Lock()

    # -- libraries --------------------------------------------------------------------------

    @staticmethod
    def libraries() -> list[str]:
        """Return the names of every library on disk, sorted."""
        root = paths.libraries_dir()
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / DB_FILE).is_file())

    @staticmethod
    def delete_library(name: str) -> None:
        """Delete a library's folder; raise LibraryBusy if it is being written, KeyError if absent."""
        directory = paths.library_dir(name)
        if not (directory / DB_FILE).is_file():
            raise KeyError(f"there is no library called '{name}'")
        with WriterLock(directory / "write.lock", name):
            shutil.rmtree(directory / "tmp", ignore_errors=True)
            for child in directory.iterdir():
                if child.name != "write.lock":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.rmtree(directory, ignore_errors=True)

    @staticmethod
    def rename_library(old: str, new: str) -> None:
        """Rename a library; raise KeyError if absent, FileExistsError if ``new`` is taken."""
        source, target = paths.library_dir(old), paths.library_dir(new)
        if not (source / DB_FILE).is_file():
            raise KeyError(f"there is no library called '{old}'")
        if target.exists():
            raise FileExistsError(f"a library called '{new}' already exists")
        with WriterLock(source / "write.lock", old):
            source.rename(target)

    # -- setup ------------------------------------------------------------------------------

    @property
    def notices(self) -> list[str]:
        """Return messages about rebuilds the user should hear about (manifest mismatches)."""
        return self.library.notices

    def ensure_ready(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport | None:
        """Build the default library from the bundled seeds on first use; finish pending embeddings.

        Returns the report of the work done, or None when there was nothing to do.
        """
        store = self.library.store
        if self.is_default and SEEDED_KEY not in store.meta():
            report = self.library.add([paths.seeds_dir()], progress, cancel)
            if not report.cancelled:
                with store.transaction() as db:
                    store.set_meta(db, **{SEEDED_KEY: str(paths.seeds_dir())})
            return report
        if store.counts()[2]:
            started = time.monotonic()
            embedded = self.library.embed_pending(progress, cancel)
            return SyncReport(chunks_embedded=embedded, seconds=time.monotonic() - started)
        return None

    def warm_up(self) -> None:
        """Load the embedding model and the reader now (slow; call it off the UI thread)."""
        self.embedder.encode(["warm up"])
        chosen = self.reader()
        load = getattr(chosen, "warm_up", None)
        if load is not None:
            load()

    # -- documents --------------------------------------------------------------------------

    def add(
        self,
        items: Sequence[str | Path],
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> SyncReport:
        """Add files and folders to the library and index them."""
        return self.library.add(items, progress, cancel)

    def remove(self, items: Sequence[str | Path]) -> list[str]:
        """Remove files or folders from the library; return the removed document paths."""
        return self.library.remove(items)

    def sync(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Re-read added files and folders; index changes, drop deleted files."""
        return self.library.sync(progress, cancel)

    def folders(self) -> list[str]:
        """Return the folders added to this library."""
        return [p for p, kind in self.library.store.roots() if kind == "folder"]

    def documents(self) -> list[DocumentInfo]:
        """Return every document (and every file that failed) in the library."""
        return self.library.store.documents()

    def document_text(self, doc_id: int) -> str:
        """Return a document's stored text (all offsets point into it); KeyError if unknown."""
        return self.library.store.document_text(doc_id)

    # -- questions --------------------------------------------------------------------------

    def search(self, query: str, k: int = DEFAULT_K) -> list[Passage]:
        """Return up to ``k`` passages for ``query``, dense and keyword results fused."""
        return self.retriever.search(query, k)

    def reader(self, name: str | None = None) -> Reader:
        """Return the reader called ``name`` (default: the engine's), created once."""
        from qa_app.reader import DEFAULT_READER, get_reader

        name = name or self.reader_name or DEFAULT_READER
        with self._reader_lock:
            if name not in self._readers:
                self._readers[name] = get_reader(name, self.embedder)
            return self._readers[name]

    def ask(
        self,
        question: str,
        k: int = DEFAULT_K,
        *,
        reader: str | None = None,
        threshold: float | None = None,
    ) -> Result:
        """Return the answer to ``question`` from this library, or a not-found Result."""
        from qa_app.answers import assemble

        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        chosen = self.reader(reader)
        started = time.perf_counter()
        passages = self.search(question, k)
        searched = time.perf_counter()
        spans = chosen.read(question, passages)
        read = time.perf_counter()
        limit = threshold if threshold is not None else float(getattr(chosen, "threshold", 0.5))
        make_scorer = getattr(chosen, "scorer", None)
        scorer = make_scorer() if make_scorer is not None else None
        result = assemble(
            question, passages, spans, threshold=limit, reader=chosen.name, scorer=scorer
        )
        timings = {
            "retrieve_ms": (searched - started) * 1e3,
            "read_ms": (read - searched) * 1e3,
            "total_ms": (time.perf_counter() - started) * 1e3,
        }
        result.timings.update(timings)
        return result

    def close(self) -> None:
        """Close the library."""
        self.library.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:

    def _conforms(engine: Engine) -> contracts.Engine:
        """mypy checks here that Engine implements what the front ends call (contracts.Engine)."""
        return engine

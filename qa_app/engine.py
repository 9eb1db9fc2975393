"""The one facade used by the window, the command line and evaluation: open, sync, search, ask."""

from __future__ import annotations

import difflib
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa_app import contracts, paths
from qa_app.contracts import DEFAULT_K, Scope
from qa_app.errors import AlreadyExists, InvalidInput, NotFound
from qa_app.index.database import StoreMissing
from qa_app.index.indexing import CancelFn, ProgressFn
from qa_app.index.library import DB_FILE, Library
from qa_app.index.locking import WriterLock
from qa_app.index.repair import RepairReport
from qa_app.models.embedding import Embedder, MiniLMEmbedder
from qa_app.reader.base import Reader
from qa_app.records import DocumentInfo, Passage, Result, SyncReport
from qa_app.retrieval import Retriever
from qa_app.server.saved import saved_server, saved_servers

SEEDED_KEY = "seeded_from"


class Engine:
    """A library opened for use: everything above storage and models goes through here."""

    def __init__(
        self,
        library: str | None = None,
        *,
        embedder: Embedder | None = None,
        reader: str | None = None,
        create: bool = True,
        server: str | None = None,
    ) -> None:
        """Open a library for reading (nothing is written by opening).

        ``create``: make the library if it does not exist; otherwise a missing library raises
        StoreMissing, with the closest existing names. The default library is always created
        (it is built from the bundled seeds by ``ensure_ready``). ``server``: a PostgreSQL
        connection string; the library lives there (a team library). Without it, a server
        remembered for this library's name is used (``qa_app.server.saved``).
        """
        self.name = paths.check_library_name(library or paths.DEFAULT_LIBRARY)
        self.is_default = library is None or library == paths.DEFAULT_LIBRARY
        self.server = server or saved_server(self.name)
        directory = paths.library_dir(self.name)
        if (
            self.server is None
            and not create
            and not self.is_default
            and not (directory / DB_FILE).is_file()
        ):
            raise StoreMissing(missing_library_message(self.name))
        self.embedder: Embedder = embedder or MiniLMEmbedder()
        self.reader_name = reader
        if self.server is not None:
            from qa_app.server.library import ServerLibrary  # needs psycopg: only for a server
            from qa_app.server.retrieval import ServerRetriever

            server_library = ServerLibrary(
                self.server, self.embedder, name=self.name, create=create
            )
            self.library: Library = server_library
            self.retriever: Retriever = ServerRetriever(server_library, self.embedder)
        else:
            self.library = Library(directory, self.embedder, name=self.name)
            self.retriever = Retriever(self.library, self.embedder)
        self._ocr = self.library.ocr  # read once here (off the UI thread); set_ocr keeps it
        self._readers: dict[str, Reader] = {}
        self._reader_lock = threading.Lock()

    # -- libraries --------------------------------------------------------------------------

    @staticmethod
    def libraries() -> list[str]:
        """Return the names of every library on disk and every team library remembered with its
        server, sorted."""
        root = paths.libraries_dir()
        local = [p.name for p in root.iterdir() if (p / DB_FILE).is_file()] if root.is_dir() else []
        return sorted({*local, *saved_servers()})

    @staticmethod
    def delete_library(name: str, *, server: str | None = None) -> None:
        """Delete a library's folder; raise LibraryBusy if it is being written, NotFound (a
        KeyError) if absent.

        With ``server``, the team library of that name is deleted on the server. A team library
        known only by its remembered server is forgotten here and kept on the server (the team
        still uses it).
        """
        if server is not None:
            from qa_app.server.manage import delete_library

            delete_library(server, name)
            return
        if saved_server(name) is not None:
            from qa_app.server.saved import forget

            forget(name)
            return
        directory = paths.library_dir(name)
        if not (directory / DB_FILE).is_file():
            raise NotFound(f"there is no library called '{name}'")
        with WriterLock(directory / "write.lock", name):
            shutil.rmtree(directory / "tmp", ignore_errors=True)
            for child in directory.iterdir():
                if child.name != "write.lock":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.rmtree(directory, ignore_errors=True)

    @staticmethod
    def rename_library(old: str, new: str) -> None:
        """Rename a library; raise NotFound (a KeyError) if absent, AlreadyExists (a
        FileExistsError) if ``new`` is taken."""
        if saved_server(old) is not None:
            raise InvalidInput(f"'{old}' is a team library on a server; it keeps its name")
        source, target = paths.library_dir(old), paths.library_dir(new)
        if not (source / DB_FILE).is_file():
            raise NotFound(f"there is no library called '{old}'")
        if target.exists():
            raise AlreadyExists(f"a library called '{new}' already exists")
        with WriterLock(source / "write.lock", old):
            source.rename(target)

    @staticmethod
    def repair_library(
        name: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        *,
        embedder: Embedder | None = None,
    ) -> RepairReport:
        """Rebuild a damaged library's database from its added files and folders, keeping the
        damaged file renamed beside it; return what was recovered and what was not.

        Raises StoreMissing if there is no such library, LibraryBusy if it is being written.
        """
        from qa_app.index.repair import repair

        name = paths.check_library_name(name or paths.DEFAULT_LIBRARY)
        directory = paths.library_dir(name)
        if not (directory / DB_FILE).is_file():
            raise StoreMissing(missing_library_message(name))
        chosen = embedder or MiniLMEmbedder()
        return repair(directory, chosen, name=name, progress=progress, cancel=cancel)

    # -- setup ------------------------------------------------------------------------------

    @property
    def notices(self) -> list[str]:
        """Return messages about rebuilds the user should hear about (manifest mismatches)."""
        return self.library.notices

    @property
    def needs_seeding(self) -> bool:
        """Return True for the default library before it was built from the bundled seeds."""
        return self.is_default and SEEDED_KEY not in self.library.store.meta()

    @property
    def needs_rebuild(self) -> str | None:
        """Return what changed since the index was built ("schema", "model", "chunking"), or None.

        Reading still works meanwhile (keyword-only after a model change); ``rebuild`` repairs it.
        """
        return self.library.needs_rebuild

    def pending(self) -> int:
        """Return how many passages wait for their embedding (keyword search finds them already)."""
        return self.library.pending()

    def seed(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Build the default library from the bundled seeds (takes the writer lock)."""
        store = self.library.store
        report = self.library.add([paths.seeds_dir()], progress, cancel)
        if not report.cancelled:
            with store.transaction() as db:
                store.set_meta(db, **{SEEDED_KEY: str(paths.seeds_dir())})
        return report

    def rebuild(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Repair a manifest mismatch and finish what waits: a locked sync with progress/cancel."""
        return self.library.rebuild(progress, cancel)

    def ensure_ready(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport | None:
        """The explicit write step after opening: seed the default library on first use, repair a
        manifest mismatch, finish pending embeddings. Takes the writer lock only when there is
        work (raises LibraryBusy if another process holds it).

        Returns the report of the work done, or None when there was nothing to do.
        """
        if self.needs_seeding:
            return self.seed(progress, cancel)
        if self.needs_rebuild is not None:
            return self.rebuild(progress, cancel)
        if self.pending():
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

    @property
    def ocr(self) -> bool:
        """Return whether this library reads scanned pages and images by OCR (default on)."""
        return self._ocr

    def set_ocr(self, enabled: bool) -> int:
        """Switch OCR on or off for this library (remembered); return how many files the next
        ``sync`` reads again because of it. Takes the writer lock (LibraryBusy when held)."""
        changed = self.library.set_ocr(enabled)
        self._ocr = enabled
        return changed

    def sync(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Re-read added files and folders; index changes, drop deleted files."""
        return self.library.sync(progress, cancel)

    def exclude(self, items: Sequence[str | Path]) -> list[str]:
        """Remove files or folders that lie inside added folders so sync leaves them out
        (the same as ``remove``; undone by ``include`` or ``add``)."""
        return self.library.remove(items)

    def include(self, items: Sequence[str | Path]) -> None:
        """Stop excluding files or folders inside added folders (the next sync indexes them)."""
        self.library.include(items)

    def exclusions(self) -> list[str]:
        """Return the files and folders excluded from inside added folders."""
        return self.library.exclusions()

    def folders(self) -> list[str]:
        """Return the folders added to this library."""
        if not self.library.readable:
            return []
        return [r.path for r in self.library.store.roots() if r.kind == "folder"]

    def documents(self) -> list[DocumentInfo]:
        """Return every document, every file that failed and every exclusion in the library."""
        if not self.library.readable:
            return []
        return self.library.store.documents()

    def document_text(self, doc_id: int) -> str:
        """Return a document's stored text (all offsets point into it); NotFound (a
        KeyError) if unknown."""
        return self.library.store.document_text(doc_id)

    # -- questions --------------------------------------------------------------------------

    def search(
        self, query: str, k: int = DEFAULT_K, *, scope: Scope | None = None
    ) -> list[Passage]:
        """Return up to ``k`` passages for ``query``, dense and keyword results fused (only from
        documents in ``scope``, when given)."""
        if not self.library.readable:
            return []
        return self.retriever.search(query, k, scope=scope)

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
        scope: Scope | None = None,
    ) -> Result:
        """Return the answer to ``question`` from this library (from documents in ``scope``, when
        given), or a not-found Result."""
        from qa_app.answers import answer_rule, assemble

        question = question.strip()
        if not question:
            raise InvalidInput("the question is empty")
        chosen = self.reader(reader)
        started = time.perf_counter()
        passages = self.search(question, k, scope=scope)
        searched = time.perf_counter()
        spans = chosen.read(question, passages)
        read = time.perf_counter()
        limit, scorer = answer_rule(chosen, threshold)
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


def library_admin() -> contracts.LibraryAdmin:
    """Return what lists, renames, deletes and repairs libraries (the Engine class itself), as the
    front ends see it; mypy checks here that the class implements contracts.LibraryAdmin."""
    return Engine


def missing_library_message(name: str) -> str:
    """Return "there is no library called …", with the closest existing names if any."""
    close = difflib.get_close_matches(name, Engine.libraries(), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return (
        f"there is no library called '{name}'{hint}; 'qa-app libraries' lists them, "
        "'qa-app add --library NAME PATH' makes one"
    )


if TYPE_CHECKING:

    def _conforms(engine: Engine) -> contracts.Engine:
        """mypy checks here that Engine implements what the front ends call (contracts.Engine)."""
        return engine

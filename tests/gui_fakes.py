"""A fast in-memory stand-in for qa_app.engine.Engine that returns real records (GUI tests only)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from fake_reading import FakeDoc, FakeReader, answer, keyword_search

from qa_app import paths
from qa_app.contracts import Scope
from qa_app.errors import AlreadyExists, InvalidInput, NotFound
from qa_app.index.scan import is_hidden
from qa_app.ingest import IngestError, load
from qa_app.records import (
    DocumentInfo,
    FileError,
    Passage,
    Progress,
    Result,
    SyncReport,
)

SUFFIXES = {".txt", ".md", ".pdf"}


def _within(path: str, tops: set[str] | dict[str, str]) -> bool:
    """Return True when ``path`` is one of ``tops`` or lies below one of them."""
    return any(path == top or path.startswith(top + os.sep) for top in tops)


@dataclass
class FakeLibrary:
    name: str
    docs: dict[str, FakeDoc] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    seeded: bool = False
    next_id: int = 1
    ocr: bool = True
    pending: set[str] = field(default_factory=set)  # documents waiting for their "embedding"
    damaged: bool = False  # opening raises StoreDamaged until repair_library


class FakeBackend:
    """Libraries in memory. ``file_delay`` slows each file; ``gate`` (if set) holds each file until set.

    ``open_gate``, ``warm_gate`` and ``text_gate`` (if set) hold opening a library, loading the
    models and fetching a document's text the same way.
    """

    def __init__(self, *, file_delay: float = 0.0) -> None:
        self.libs: dict[str, FakeLibrary] = {}
        self.file_delay = file_delay
        self.gate: threading.Event | None = None
        self.warm_gate: threading.Event | None = None
        self.open_gate: threading.Event | None = None
        self.text_gate: threading.Event | None = None
        self.finish_gate: threading.Event | None = None  # holds a run after its files are read
        # With ``embeds`` on (the default), read documents wait for an "embedding" stage after
        # the files are read, as in the real library; ``embed_allow`` documents embed, then the
        # stage waits (until cancelled or ``embed_allow`` is raised or set to None).
        self.embeds = True
        self.embed_allow: int | None = None
        self.engines: list[FakeEngine] = []

    def open(self, library: str | None) -> FakeEngine:
        if self.open_gate is not None:
            self.open_gate.wait(30)
        name = paths.check_library_name(library or paths.DEFAULT_LIBRARY)
        lib = self.libs.setdefault(name, FakeLibrary(name))
        if lib.damaged:
            from qa_app.index.database import StoreDamaged

            raise StoreDamaged(f"/libraries/{name}/library.db: the library database is damaged")
        engine = FakeEngine(self, lib)
        self.engines.append(engine)
        return engine

    def libraries(self) -> list[str]:
        return sorted(self.libs)

    def rename_library(self, old: str, new: str) -> None:
        if old not in self.libs:
            raise NotFound(f"there is no library called '{old}'")
        if new in self.libs:
            raise AlreadyExists(f"a library called '{new}' already exists")
        lib = self.libs.pop(old)
        lib.name = new
        self.libs[new] = lib

    def delete_library(self, name: str) -> None:
        if name not in self.libs:
            raise NotFound(f"there is no library called '{name}'")
        del self.libs[name]

    def repair_library(self, name: str | None) -> str:
        lib = self.libs[paths.check_library_name(name or paths.DEFAULT_LIBRARY)]
        lib.damaged = False
        self.repaired = [*getattr(self, "repaired", []), lib.name]
        return f"Repaired: {len(lib.roots)} added files or folders read again."

    def readers(self) -> list[str]:
        return ["fake", "sentence"]

    def default_reader(self) -> str:
        return "fake"


class FakeEngine:
    """The Engine API over a FakeLibrary: keyword search and a word-overlap "reader"."""

    def __init__(self, backend: FakeBackend, lib: FakeLibrary) -> None:
        self.backend = backend
        self.lib = lib
        self.name = lib.name
        self.notices: list[str] = []
        self.closed = False
        self.threads: set[str] = set()  # names of the threads that called in (never the UI thread)
        self.asked_scopes: list[Scope | None] = []  # the scope of every question asked

    def _enter(self) -> None:
        if self.closed:
            raise RuntimeError("the engine is closed")
        self.threads.add(threading.current_thread().name)

    # -- setup
    @property
    def needs_seeding(self) -> bool:
        return self.lib.name == paths.DEFAULT_LIBRARY and not self.lib.seeded

    def pending(self) -> int:
        self._enter()
        docs = [self.lib.docs.get(path) for path in self.lib.pending]
        return sum(len(doc.chunks) for doc in docs if doc is not None)

    def seed(self, progress: Callable | None = None, cancel: Callable | None = None) -> SyncReport:
        self._enter()
        report = self.add([paths.seeds_dir()], progress, cancel)
        self.lib.seeded = not report.cancelled
        return report

    def rebuild(
        self, progress: Callable | None = None, cancel: Callable | None = None
    ) -> SyncReport:
        self._enter()
        return self.sync(progress, cancel)

    def ensure_ready(
        self, progress: Callable | None = None, cancel: Callable | None = None
    ) -> SyncReport | None:
        self._enter()
        if self.needs_seeding:
            return self.seed(progress, cancel)
        if self.lib.pending:  # as the real engine: finish the embeddings a cancelled run left
            started = time.monotonic()
            embedded, _cancelled = self._embed(progress, cancel)
            return SyncReport(chunks_embedded=embedded, seconds=time.monotonic() - started)
        return None

    def warm_up(self) -> None:
        self._enter()
        if self.backend.warm_gate is not None:
            self.backend.warm_gate.wait(30)

    # -- documents
    def _scan(self, roots: dict[str, str], failed: list[FileError]) -> list[str]:
        found: list[str] = []
        for root, kind in roots.items():
            if kind == "file":
                found.append(root)
            elif not os.path.isdir(root):
                failed.append(FileError(root, "folder no longer exists or cannot be opened"))
            else:
                for folder, dirs, files in os.walk(root):
                    dirs[:] = sorted(d for d in dirs if not is_hidden(d))  # as the real scan
                    found += [
                        os.path.join(folder, f)
                        for f in sorted(files)
                        if Path(f).suffix.lower() in SUFFIXES
                        and not is_hidden(f)
                        and not _within(os.path.join(folder, f), self.lib.excluded)
                    ]
        return found

    def _index(self, files: list[str], failed: list[FileError], progress, cancel) -> SyncReport:
        started = time.monotonic()
        added, updated, unchanged, cancelled = [], [], 0, False
        for done, path in enumerate(files):
            if cancel is not None and cancel():
                cancelled = True
                break
            if progress is not None:
                progress(Progress(done, len(files), "index", path))
            if self.backend.gate is not None:
                while not self.backend.gate.wait(0.005):
                    if cancel is not None and cancel():
                        break
                if cancel is not None and cancel():
                    cancelled = True
                    break
            if self.backend.file_delay:
                time.sleep(self.backend.file_delay)  # simulated parsing and embedding work
            st = os.stat(path)
            have = self.lib.docs.get(path)
            if have is not None and have.mtime == st.st_mtime and have.size == st.st_size:
                unchanged += 1
                continue
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            if have is not None and have.content_hash == digest:  # touched, not changed
                have.mtime, have.size = st.st_mtime, st.st_size
                unchanged += 1
                continue
            try:  # the real loader: text, title, blocks (the fake's passages) and pages
                loaded = load(Path(path))
            except IngestError as exc:
                failed.append(FileError(path, exc.reason))
                self.lib.failed[path] = exc.reason
                continue
            doc_id = have.id if have else self.lib.next_id
            doc = FakeDoc(doc_id, path, loaded.text, st.st_size, st.st_mtime, loaded.title, digest)
            doc.pages = loaded.pages
            for block in loaded.blocks:
                doc.chunks.append((block.start, block.end))
                doc.chunk_pages.append(block.page)
            self.lib.next_id += have is None
            self.lib.docs[path] = doc
            self.lib.failed.pop(path, None)
            (updated if have else added).append(path)
        if progress is not None and not cancelled:
            progress(Progress(len(files), len(files), "index", ""))
        if self.backend.finish_gate is not None:  # like embedding the last passages
            self.backend.finish_gate.wait(30)
        embedded = 0
        if self.backend.embeds:
            self.lib.pending |= set(added) | set(updated)
            if not cancelled:
                embedded, cancelled = self._embed(progress, cancel)
        return SyncReport(
            added=tuple(added),
            updated=tuple(updated),
            unchanged=unchanged,
            failed=tuple(failed),
            cancelled=cancelled,
            chunks_embedded=embedded,
            seconds=time.monotonic() - started,
        )

    def _embed(self, progress, cancel) -> tuple[int, bool]:
        """Embed the waiting documents one by one; return (passages embedded, cancelled)."""
        waiting = sorted(self.lib.pending)
        passages = 0
        for done, path in enumerate(waiting):
            while self.backend.embed_allow is not None and done >= self.backend.embed_allow:
                if cancel is not None and cancel():
                    return passages, True
                time.sleep(0.005)
            if cancel is not None and cancel():
                return passages, True
            if progress is not None:
                progress(Progress(done, len(waiting), "embed"))
            self.lib.pending.discard(path)
            doc = self.lib.docs.get(path)
            passages += len(doc.chunks) if doc is not None else 0
        if progress is not None and waiting:
            progress(Progress(len(waiting), len(waiting), "embed"))
        return passages, False

    def add(self, items: Sequence[str | Path], progress=None, cancel=None) -> SyncReport:
        self._enter()
        roots, failed = {}, []
        for raw in items:
            path = os.path.abspath(str(raw))
            if os.path.isdir(path):
                roots[path] = "folder"
            elif os.path.isfile(path):
                roots[path] = "file"
            else:
                failed.append(FileError(path, "no such file or folder"))
        self.lib.roots.update(roots)
        # As the real library: a path removed earlier from inside an added folder is included again.
        self.lib.excluded = {x for x in self.lib.excluded if not _within(x, roots)}
        return self._index(self._scan(roots, failed), failed, progress, cancel)

    def sync(self, progress=None, cancel=None) -> SyncReport:
        self._enter()
        notices = []
        for root, kind in list(self.lib.roots.items()):
            if kind == "file" and not os.path.lexists(root):  # as the real library: not a failure
                del self.lib.roots[root]
                notices.append(f"{root} no longer exists; removed from the library")
        failed: list[FileError] = []
        files = self._scan(self.lib.roots, failed)
        present = set(files) | {f.path for f in failed}
        gone = sorted(p for p in [*self.lib.docs, *self.lib.failed] if p not in present)
        for p in gone:
            self.lib.docs.pop(p, None)
            self.lib.failed.pop(p, None)
            self.lib.pending.discard(p)
        report = self._index(files, failed, progress, cancel)
        return replace(report, removed=tuple(gone), notices=tuple(notices))

    def remove(self, items: Sequence[str | Path]) -> list[str]:
        """Forget files and folders, as the real library: an added one is no longer added; one that
        lies inside an added folder is excluded, so re-syncing the folder leaves it out."""
        self._enter()
        wanted = {os.path.abspath(str(i)) for i in items}
        for root in [r for r in self.lib.roots if _within(r, wanted)]:
            del self.lib.roots[root]
        folders = {r for r, kind in self.lib.roots.items() if kind == "folder"}
        self.lib.excluded = {x for x in self.lib.excluded if _within(x, folders)}
        new = {w for w in wanted if _within(w, folders)} - self.lib.excluded
        self.lib.excluded |= new
        removed = {p for p in [*self.lib.docs, *self.lib.failed] if _within(p, wanted)}
        for p in removed:
            self.lib.docs.pop(p, None)
            self.lib.failed.pop(p, None)
            self.lib.pending.discard(p)
        # A new exclusion that removed no document is named too (as the real library does).
        return sorted(removed | {e for e in new if not any(_within(r, {e}) for r in removed)})

    def exclude(self, items: Sequence[str | Path]) -> list[str]:
        """The same as ``remove``, as Engine.exclude (undone by ``include`` or ``add``)."""
        return self.remove(items)

    @property
    def ocr(self) -> bool:
        return self.lib.ocr

    def set_ocr(self, enabled: bool) -> int:
        """Switch the library's OCR, as Engine.set_ocr: switched on, PDFs are read again and
        failed files tried again; switched off, nothing (the fake reads no text by OCR)."""
        self._enter()
        if enabled == self.lib.ocr:
            return 0
        self.lib.ocr = enabled
        if not enabled:
            return 0
        again = [d for d in self.lib.docs.values() if d.path.lower().endswith(".pdf")]
        for doc in again:
            doc.mtime, doc.content_hash = -1.0, ""
        tried = len(self.lib.failed)
        self.lib.failed.clear()
        return len(again) + tried

    def include(self, items: Sequence[str | Path]) -> None:
        """Stop excluding ``items`` (the next sync indexes them), as Engine.include."""
        self._enter()
        self.lib.excluded -= {os.path.abspath(str(i)) for i in items}

    def folders(self) -> list[str]:
        self._enter()
        return [p for p, kind in self.lib.roots.items() if kind == "folder"]

    def documents(self) -> list[DocumentInfo]:
        self._enter()
        out = [
            DocumentInfo(
                d.id,
                d.path,
                d.title,
                Path(d.path).suffix[1:],
                d.size,
                d.mtime,
                d.content_hash,
                d.pages,
                len(d.chunks),
                "pending" if d.path in self.lib.pending else "indexed",
            )
            for d in self.lib.docs.values()
        ]
        out += [
            DocumentInfo(
                0, p, os.path.basename(p), Path(p).suffix[1:], 0, 0.0, "", None, 0, "failed", reason
            )
            for p, reason in self.lib.failed.items()
        ]
        out += [  # the store lists exclusions as rows of their own
            DocumentInfo(
                0, p, os.path.basename(p), Path(p).suffix[1:], 0, 0.0, "", None, 0, "excluded"
            )
            for p in sorted(self.lib.excluded)
        ]
        return sorted(out, key=lambda d: d.path)  # as the store: by path

    def _doc(self, doc_id: int) -> FakeDoc:
        for doc in self.lib.docs.values():
            if doc.id == doc_id:
                return doc
        raise NotFound(f"no document with id {doc_id}")

    def document_text(self, doc_id: int) -> str:
        self._enter()
        if self.backend.text_gate is not None:
            self.backend.text_gate.wait(30)
        return self._doc(doc_id).text

    # -- questions
    def reader(self, name: str | None = None) -> FakeReader:
        self._enter()
        name = name or self.backend.default_reader()
        if name not in self.backend.readers():
            raise InvalidInput(f"unknown reader {name!r}")
        return FakeReader(name, 0.45 if name == "fake" else 0.1)

    def search(self, query: str, k: int = 10, *, scope: Scope | None = None) -> list[Passage]:
        self._enter()
        return keyword_search(self.lib.docs.values(), query, k, scope)

    def ask(
        self,
        question: str,
        k: int = 10,
        *,
        reader: str | None = None,
        threshold: float | None = None,
        scope: Scope | None = None,
    ) -> Result:
        self._enter()
        self.asked_scopes.append(scope)
        question = question.strip()
        if not question:
            raise InvalidInput("the question is empty")
        chosen = self.reader(reader)
        threshold = chosen.threshold if threshold is None else threshold
        return answer(question, self.search(question, k, scope=scope), chosen, threshold)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

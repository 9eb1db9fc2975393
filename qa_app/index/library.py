"""A persisted library: add, remove and sync documents; one writer; a manifest that must match."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa_app import __version__
from qa_app.chunking import ChunkSettings, chunk_document
from qa_app.index.database import StoreError, describe_os_error
from qa_app.index.indexing import CancelFn, Indexer, ProgressFn, Run
from qa_app.index.locking import WriterLock
from qa_app.index.scan import absolute, covered, under
from qa_app.index.schema import SCHEMA_VERSION
from qa_app.index.store import Store
from qa_app.index.vectors import FaissIndex, VectorCache, empty_index
from qa_app.models.embedding import Embedder
from qa_app.records import Progress, SyncReport

if TYPE_CHECKING:
    import numpy as np

    from qa_app.ingest import LoadOptions
    from qa_app.ingest.ocr_cache import OcrCache

DB_FILE = "library.db"
MANIFEST_FILE = "manifest.json"
# A readable copy of what was added to the library (files, folders, exclusions, the OCR setting),
# rewritten by every change to them: `qa-app repair` reads it when the damaged database cannot
# give them back (the database stays the truth; this is only ever read by repair).
ROOTS_FILE = "roots.json"
OCR_CACHE_FILE = "ocr-cache.db"  # OCR text of finished pages, so a stopped run resumes
OCR_KEY = "ocr"  # meta: "on" (the default) or "off"
# What OCR may change: scanned PDF pages, images, and e-mails (their attached scans).
OCR_FORMATS = ("pdf", "image", "eml", "msg", "mbox")


class Library:
    """One named library on disk: ``library.db`` (truth), ``vectors.faiss`` (cache), manifest.

    Opening reads only: a manifest mismatch is reported in ``notices`` and ``needs_rebuild``, and
    repaired by the next writing call (``add``, ``sync``, ``embed_pending``, ``rebuild``).
    Raises StoreMissing when there is no library and ``create`` is false.
    """

    def __init__(
        self,
        directory: Path,
        embedder: Embedder,
        *,
        name: str | None = None,
        chunking: ChunkSettings | None = None,
        create: bool = True,
    ) -> None:
        self.directory = directory
        self.name = name or directory.name
        self.embedder = embedder
        self.chunking = chunking or ChunkSettings()
        self.notices: list[str] = []  # manifest mismatches, said once to the user
        self.store = Store(directory / DB_FILE, create=create)
        self.vectors = VectorCache(directory, embedder.dimension, embedder.weights_hash)
        self._empty: FaissIndex | None = None
        self._ocr_cache: OcrCache | None = None  # opened by the first file read (a write)
        self.needs_rebuild: str | None = self._check_manifest()

    # -- manifest ---------------------------------------------------------------------------

    def manifest(self) -> dict[str, object]:
        """Return what this library's index is built with (the manifest)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "model_name": self.embedder.name,
            "model_hash": self.embedder.weights_hash,
            "dimension": self.embedder.dimension,
            "chunking": self.chunking.as_dict(),
            "app_version": __version__,
        }

    def _check_manifest(self) -> str | None:
        """Compare the stored manifest with this app's (reads only); return what must be rebuilt."""
        meta = self.store.meta()
        want = self.manifest()
        # An older schema is no mismatch: the first writer migrates it in place (``schema``).
        if "schema_version" in meta and int(meta["schema_version"]) > SCHEMA_VERSION:
            self.notices.append(
                f"library '{self.name}' was written by a newer, incompatible version (schema "
                f"{meta['schema_version']}, this app knows {SCHEMA_VERSION}); update qa-app, or "
                "rebuild it from its documents (sync it, or rebuild it in the window)"
            )
            return "schema"
        if "model_hash" in meta and (
            meta.get("model_hash") != want["model_hash"]
            or int(meta.get("dimension", 0)) != want["dimension"]
        ):
            self.notices.append(
                f"library '{self.name}' was embedded with another model "
                f"({meta.get('model_name')}, {meta.get('model_hash', '')[:12]}…); searching uses "
                "keywords only until its embeddings are rebuilt (sync it, or rebuild it in the window)"
            )
            return "model"
        if "chunking" in meta and json.loads(meta["chunking"]) != want["chunking"]:
            self.notices.append(
                f"library '{self.name}' was chunked with other settings; its old passages are "
                "used until it is re-chunked (sync it, or rebuild it in the window)"
            )
            return "chunking"
        return None

    @property
    def readable(self) -> bool:
        """Return False when the stored schema is not this app's (nothing can be read)."""
        return self.needs_rebuild != "schema"

    def _prepare(self, run: Run, progress: ProgressFn | None, cancel: CancelFn | None) -> bool:
        """Repair a manifest mismatch (under the writer lock); return False if cancelled."""
        kind = self.needs_rebuild
        if kind == "schema":
            self._rebuild_store()
        elif kind == "model":
            self.store.clear_embeddings()
            self.vectors.invalidate()
        elif kind == "chunking":
            ids = self.store.document_ids()
            for done, doc_id in enumerate(ids):
                if cancel is not None and cancel():
                    run.cancelled = True
                    return False
                if progress is not None:
                    progress(Progress(done, len(ids), "rechunk"))
                self.store.rechunk(
                    doc_id, chunk_document(self.store.document(doc_id), self.chunking)
                )
            if progress is not None:
                progress(Progress(len(ids), len(ids), "rechunk"))
        if kind is not None:
            run.notices.append(f"library '{self.name}' rebuilt ({kind} changed)")
        self.needs_rebuild = None
        self._write_manifest()
        return True

    def _rebuild_store(self) -> None:
        roots = self.store.roots()
        exclusions = self.store.exclusions()
        ocr = self.store.meta().get(OCR_KEY)  # a setting of the library, not of its index
        self.store.close()
        stale = self.directory / DB_FILE
        backup = stale.with_name(f"{DB_FILE}.old-{int(time.time())}")
        try:
            os.replace(stale, backup)
            for suffix in ("-wal", "-shm"):
                Path(str(stale) + suffix).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(describe_os_error(exc, self.directory)) from exc
        self.store = Store(stale, create=True)
        for root in roots:
            self.store.add_root(root.path, root.kind)
        self.store.set_excluded(exclusions, True)
        if ocr is not None:
            with self.store.transaction() as db:
                self.store.set_meta(db, **{OCR_KEY: ocr})
        self.vectors.invalidate()

    def _write_manifest(self) -> None:
        """Record the manifest in the database (what is checked) and in manifest.json (a copy)."""
        want = self.manifest()
        values = {
            "schema_version": str(SCHEMA_VERSION),
            "model_name": str(want["model_name"]),
            "model_hash": str(want["model_hash"]),
            "dimension": str(want["dimension"]),
            "chunking": json.dumps(want["chunking"], sort_keys=True),
        }
        meta = self.store.meta()
        if any(meta.get(k) != v for k, v in values.items()):
            with self.store.transaction() as db:
                self.store.set_meta(db, **values)
        path = self.directory / MANIFEST_FILE
        text = json.dumps(want, indent=2, sort_keys=True)
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8") == text:
                return
        write_atomically(path, text)

    def _write_roots(self) -> None:
        """Refresh roots.json from the database (best effort: a full disk must not fail an add)."""
        record = {
            "roots": [[r.path, r.kind] for r in self.store.roots()],
            "exclusions": list(self.store.exclusions()),
            OCR_KEY: "on" if self.ocr else "off",
        }
        with contextlib.suppress(StoreError, OSError):
            write_atomically(self.directory / ROOTS_FILE, json.dumps(record, indent=1))

    # -- writing ----------------------------------------------------------------------------

    def writer(self) -> WriterLock:
        """Return the cross-process writer lock of this library (raises LibraryBusy when held)."""
        return WriterLock(self.directory / "write.lock", self.name)

    @property
    def ocr(self) -> bool:
        """Return whether scanned pages and images are read by OCR in this library (default on)."""
        if not self.readable:
            return True
        return self.store.meta().get(OCR_KEY, "on") != "off"

    def set_ocr(self, enabled: bool) -> int:
        """Switch OCR on or off for this library (remembered in it); return how many files the
        next sync reads again because of it.

        Switched off, documents with OCRed text are read again without it; switched on, PDFs
        and e-mails are read again (their scanned pages and attachments get OCRed) and files
        that failed (images) are tried again. Nothing changes when it is already so.
        """
        with self.writer():
            if enabled == self.ocr:
                return 0
            with self.store.transaction() as db:
                self.store.set_meta(db, **{OCR_KEY: "on" if enabled else "off"})
            self._write_roots()
            return self.store.mark_unread(OCR_FORMATS if enabled else None)

    def add(
        self,
        paths: Sequence[str | Path],
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> SyncReport:
        """Add files and folders (folders recursively) and index what is new or changed.

        A path removed earlier from inside an added folder is included again.
        """
        with self.writer():
            run = Run()
            rebuilt = self.needs_rebuild == "schema"
            if not self._prepare(run, progress, cancel):
                return run.report()
            roots: list[tuple[str, str]] = []
            for raw in paths:
                path = Path(raw).expanduser()
                if path.is_dir():
                    roots.append((str(Path(absolute(path)).resolve()), "folder"))
                elif path.is_file():
                    roots.append((str(Path(absolute(path)).resolve()), "file"))
                elif path.is_symlink():
                    run.fail(absolute(path), "broken link: its target is missing")
                else:
                    run.fail(absolute(path), "no such file or folder")
            for root, kind in roots:
                self.store.add_root(root, kind)
            if roots:
                self._write_roots()
            wanted = [r for r in self.store.roots() if rebuilt or (r.path, r.kind) in roots]
            indexer = self._indexer()
            indexer.index(indexer.scan(wanted, run), run, progress, cancel)
            return self._indexed(run.report())

    def remove(self, paths: Sequence[str | Path]) -> list[str]:
        """Remove files or folders; return the removed document paths (and new exclusions).

        An added file or folder is forgotten with every document under it. A file or folder
        inside an added folder is excluded, so that sync does not bring it back; ``add`` undoes
        that.
        """
        with self.writer():
            targets = {absolute(p) for p in paths}
            targets |= {str(Path(t).resolve()) for t in targets if Path(t).exists()}
            for root in self.store.roots():
                if root.path in targets or any(under(root.path, t) for t in targets):
                    self.store.remove_root(root.path)
            folders = [r.path for r in self.store.roots() if r.kind == "folder"]
            excluded = sorted(t for t in targets if any(under(t, f) for f in folders))
            stale = [e for e in self.store.exclusions() if not any(under(e, f) for f in folders)]
            self.store.set_excluded(stale, False)  # exclusions outlive no folder
            new = [e for e in excluded if e not in set(self.store.exclusions())]
            self.store.set_excluded(excluded, True)
            known = list(self.store.known_files()) + list(self.store.failures())
            doomed = [p for p in known if covered(p, sorted(targets))]
            removed = set(self.store.delete_documents(doomed))
            self._write_roots()
            return sorted(removed | {e for e in new if not any(under(r, e) for r in removed)})

    def include(self, paths: Sequence[str | Path]) -> None:
        """Stop excluding files or folders inside added folders (the next sync indexes them)."""
        with self.writer():
            targets = {absolute(p) for p in paths}
            targets |= {str(Path(t).resolve()) for t in targets if Path(t).exists()}
            self.store.set_excluded(sorted(targets), False)
            self._write_roots()

    def sync(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Re-read every added file and folder: index new/changed files, drop deleted ones.

        An added file that no longer exists is dropped with a notice (not a failure).
        """
        with self.writer():
            run = Run()
            if not self._prepare(run, progress, cancel):
                return run.report()
            roots = []
            for root in self.store.roots():
                if root.kind == "file" and not os.path.lexists(root.path):
                    self.store.remove_root(root.path)
                    run.notices.append(f"{root.path} no longer exists; removed from the library")
                else:
                    roots.append(root)
            indexer = self._indexer()
            found = indexer.scan(roots, run)
            present = set(found) | {f.path for f in run.failed}
            gone = [
                p
                for p in list(self.store.known_files()) + list(self.store.failures())
                if p not in present
            ]
            run.removed.extend(self.store.delete_documents(gone))
            indexer.index(found, run, progress, cancel)
            return self._indexed(run.report())

    def _indexed(self, report: SyncReport) -> SyncReport:
        """Return an add's or sync's report, after what the store needs once files are indexed
        (nothing here; a server library refreshes its statistics), still holding the lock."""
        return report

    def rebuild(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Repair a manifest mismatch, bring the library up to date (a locked sync) and rebuild
        the vector cache from the database, whatever its stamp says."""
        report = self.sync(progress, cancel)
        if not report.cancelled and self.needs_rebuild is None:
            with self.writer():
                self.vectors.rebuild(self.store)
        return report

    def embed_pending(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> int:
        """Embed passages still waiting for a vector (after an interruption or model change)."""
        with self.writer():
            run = Run()
            if self._prepare(run, progress, cancel):
                self._indexer().embed(run, progress, cancel)
            return run.embedded

    def _indexer(self) -> Indexer:
        """Return what reads and embeds for a run (over the current store: a rebuild replaces it)."""
        return Indexer(self.store, self.embedder, self.chunking, self._load_options)

    def _load_options(
        self, path: str, progress: ProgressFn | None, cancel: CancelFn | None
    ) -> LoadOptions:
        """Return how to load ``path``: this library's OCR switch, its OCR cache, and the run's
        progress (stage "ocr": pages of this file) and cancel (asked between pages)."""
        from qa_app.ingest import LoadOptions
        from qa_app.ingest.ocr_cache import OcrCache

        if self._ocr_cache is None:
            self._ocr_cache = OcrCache(self.directory / OCR_CACHE_FILE)

        def pages(done: int, total: int) -> None:
            if progress is not None:
                progress(Progress(done, total, "ocr", path))

        return LoadOptions(ocr=self.ocr, progress=pages, cancel=cancel, cache=self._ocr_cache)

    # -- reading ----------------------------------------------------------------------------

    def exclusions(self) -> list[str]:
        """Return the files and folders removed from inside added folders."""
        return self.store.exclusions() if self.readable else []

    def pending(self) -> int:
        """Return how many passages wait for an embedding (keyword search already finds them)."""
        return self.store.counts().pending if self.readable else 0

    def vector_index(self) -> FaissIndex:
        """Return a FAISS index of every committed embedding (empty while the model mismatches)."""
        if self.needs_rebuild in ("model", "schema"):
            if self._empty is None:
                self._empty = empty_index(self.embedder.dimension)
            return self._empty
        return self.vectors.get(self.store)

    def has_vectors(self) -> bool:
        """Return whether dense search has any embedding to search (brings the cache up to date)."""
        return self.vector_index().ntotal > 0

    def dense_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Return up to ``k`` (chunk id, cosine similarity) for a normalised query vector, from
        every committed embedding; safe beside other threads that search or write."""
        if self.needs_rebuild in ("model", "schema"):
            return []
        return self.vectors.search(self.store, query, k)

    def close(self) -> None:
        """Close the database (and the OCR cache)."""
        if self._ocr_cache is not None:
            self._ocr_cache.close()
        self.store.close()


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file; nothing half-written is left behind.

    Raises StoreError with a one-line reason (disk full, read-only) when it cannot.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise StoreError(describe_os_error(exc, path.parent)) from exc

"""A persisted library: add, remove and sync documents; one writer; a manifest that must match."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa_app import __version__
from qa_app.chunking import ChunkSettings, chunk_document
from qa_app.embedding import Embedder, sha256_file
from qa_app.locking import WriterLock
from qa_app.records import FileError, Progress, SyncReport
from qa_app.store import SCHEMA_VERSION, Store
from qa_app.vectors import VectorCache

log = logging.getLogger(__name__)

ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]
EMBED_BATCH = 512  # chunks embedded together; large enough that padding waste stays small
DB_FILE = "library.db"
MANIFEST_FILE = "manifest.json"


@dataclass
class _Run:
    """Mutable bookkeeping for one add/sync run."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[FileError] = field(default_factory=list)
    unchanged: int = 0
    embedded: int = 0
    cancelled: bool = False

    def report(self, seconds: float) -> SyncReport:
        return SyncReport(
            added=tuple(self.added),
            updated=tuple(self.updated),
            removed=tuple(self.removed),
            unchanged=self.unchanged,
            failed=tuple(self.failed),
            cancelled=self.cancelled,
            chunks_embedded=self.embedded,
            seconds=seconds,
        )


def content_hash(path: Path) -> str:
    """Return the SHA-256 of a file's bytes (what tells a changed file from a touched one)."""
    return sha256_file(path)


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


class Library:
    """One named library on disk: ``library.db`` (truth), ``vectors.faiss`` (cache), manifest."""

    def __init__(
        self,
        directory: Path,
        embedder: Embedder,
        *,
        name: str | None = None,
        chunking: ChunkSettings | None = None,
    ) -> None:
        self.directory = directory
        self.name = name or directory.name
        self.embedder = embedder
        self.chunking = chunking or ChunkSettings()
        self.notices: list[str] = []  # manifest mismatches and rebuilds, said once to the user
        self.store = Store(directory / DB_FILE)
        self.vectors = VectorCache(directory, embedder.dimension, embedder.weights_hash)
        self._check_manifest()

    # -- manifest ---------------------------------------------------------------------------

    def manifest(self) -> dict[str, object]:
        """Return what this library's index was built with (the manifest)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "model_name": self.embedder.name,
            "model_hash": self.embedder.weights_hash,
            "dimension": self.embedder.dimension,
            "chunking": self.chunking.as_dict(),
            "app_version": __version__,
        }

    def _check_manifest(self) -> None:
        meta = self.store.meta()
        want = self.manifest()
        if "schema_version" in meta and int(meta["schema_version"]) != SCHEMA_VERSION:
            self._rebuild_store(
                f"library '{self.name}' was written by an incompatible version "
                f"(schema {meta['schema_version']}, this app uses {SCHEMA_VERSION}); rebuilding it "
                "from its documents"
            )
            meta = {}
        model_changed = "model_hash" in meta and (
            meta.get("model_hash") != want["model_hash"]
            or int(meta.get("dimension", 0)) != want["dimension"]
        )
        chunking_changed = "chunking" in meta and json.loads(meta["chunking"]) != want["chunking"]
        if chunking_changed:
            self.notices.append(
                f"library '{self.name}' was chunked with other settings; re-chunking and "
                "re-embedding its documents"
            )
            self.store.rechunk_all(
                (doc_id, chunk_document(self.store.document(doc_id), self.chunking))
                for doc_id in self.store.document_ids()
            )
        elif model_changed:
            self.notices.append(
                f"library '{self.name}' was embedded with another model "
                f"({meta.get('model_name')}, {meta.get('model_hash', '')[:12]}…); its embeddings "
                "will be rebuilt"
            )
            self.store.clear_embeddings()
        if model_changed or chunking_changed:
            self.vectors.invalidate()
        with self.store.transaction() as db:
            self.store.set_meta(
                db,
                schema_version=str(SCHEMA_VERSION),
                model_name=str(want["model_name"]),
                model_hash=str(want["model_hash"]),
                dimension=str(want["dimension"]),
                chunking=json.dumps(want["chunking"], sort_keys=True),
            )
        self._write_manifest_file()

    def _rebuild_store(self, notice: str) -> None:
        self.notices.append(notice)
        roots = self.store.roots()
        self.store.close()
        stale = self.directory / DB_FILE
        backup = stale.with_name(f"{DB_FILE}.old-{int(time.time())}")
        os.replace(stale, backup)
        for suffix in ("-wal", "-shm"):
            Path(str(stale) + suffix).unlink(missing_ok=True)
        self.store = Store(stale)
        for path, kind in roots:
            self.store.add_root(path, kind)
        self.vectors.invalidate()

    def _write_manifest_file(self) -> None:
        # A human-readable copy; the database's meta table is what is checked.
        path = self.directory / MANIFEST_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.manifest(), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    # -- writing ----------------------------------------------------------------------------

    def writer(self) -> WriterLock:
        """Return the cross-process writer lock of this library (raises LibraryBusy when held)."""
        return WriterLock(self.directory / "write.lock", self.name)

    def add(
        self,
        paths: Sequence[str | Path],
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> SyncReport:
        """Add files and folders (folders recursively) and index what is new or changed."""
        with self.writer():
            run = _Run()
            roots: list[tuple[str, str]] = []
            for raw in paths:
                path = Path(raw).expanduser()
                absolute = Path(os.path.abspath(path))
                if path.is_dir():
                    roots.append((str(absolute.resolve()), "folder"))
                elif path.is_file():
                    roots.append((str(absolute.resolve()), "file"))
                elif path.is_symlink():
                    run.failed.append(
                        FileError(str(absolute), "broken link: its target is missing")
                    )
                else:
                    run.failed.append(FileError(str(absolute), "no such file or folder"))
            for root, kind in roots:
                self.store.add_root(root, kind)
            started = time.monotonic()
            self._index(self._scan(roots, run), run, progress, cancel)
            return run.report(time.monotonic() - started)

    def remove(self, paths: Sequence[str | Path]) -> list[str]:
        """Remove files or folders (and every document under them); return the removed paths."""
        with self.writer():
            targets = [str(Path(os.path.abspath(Path(p).expanduser()))) for p in paths]
            resolved = [str(Path(t).resolve()) if Path(t).exists() else t for t in targets]
            wanted = set(targets) | set(resolved)
            for root, _kind in self.store.roots():
                if root in wanted or any(_under(root, t) for t in wanted):
                    self.store.remove_root(root)
            known = list(self.store.known_files()) + list(self.store.failures())
            doomed = [p for p in known if p in wanted or any(_under(p, t) for t in wanted)]
            return sorted(set(self.store.delete_documents(doomed)))

    def sync(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Re-read every added file and folder: index new/changed files, drop deleted ones."""
        with self.writer():
            run = _Run()
            started = time.monotonic()
            roots = self.store.roots()
            found = self._scan(roots, run)
            present = set(found) | {f.path for f in run.failed}
            gone = [
                p
                for p in list(self.store.known_files()) + list(self.store.failures())
                if p not in present
            ]
            run.removed.extend(self.store.delete_documents(gone))
            self._index(found, run, progress, cancel)
            return run.report(time.monotonic() - started)

    def embed_pending(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> int:
        """Embed chunks still waiting for a vector (after an interruption or model change)."""
        with self.writer():
            run = _Run()
            self._embed_pending(run, progress, cancel, flush=True)
            return run.embedded

    # -- the pipeline -----------------------------------------------------------------------

    def _scan(self, roots: Sequence[tuple[str, str]], run: _Run) -> list[str]:
        from qa_app.ingest import SUPPORTED_SUFFIXES

        found: dict[str, None] = {}
        for root, kind in roots:
            if kind == "file":
                found[root] = None
                continue
            if not Path(root).is_dir():
                run.failed.append(FileError(root, "folder no longer exists or cannot be opened"))
                continue
            for path in _walk(root, run):
                if path.suffix.lower() in SUPPORTED_SUFFIXES:
                    found[str(path)] = None
        return sorted(found)

    def _index(
        self,
        paths: Sequence[str],
        run: _Run,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
    ) -> None:
        from qa_app.ingest import MAX_FILE_BYTES, IngestError, load

        known = self.store.known_files()
        failures = self.store.failures()
        work: list[tuple[str, os.stat_result]] = []
        for path in paths:
            try:
                st = os.stat(path)
            except OSError as exc:
                reason = (
                    "broken link: its target is missing"
                    if os.path.islink(path)
                    else str(exc.strerror or exc)
                )
                self._fail(run, path, reason, None, None)
                continue
            have = known.get(path)
            if have is not None and have[1] == st.st_size and have[2] == st.st_mtime:
                run.unchanged += 1
                continue
            failed = failures.get(path)
            if failed is not None and failed[1] == st.st_size and failed[2] == st.st_mtime:
                run.failed.append(FileError(path, failed[0]))  # still broken; no need to re-read
                continue
            work.append((path, st))

        # Finish what an interrupted run left unembedded before starting on new files.
        self._embed_pending(run, progress, cancel, flush=True)
        total = len(work)
        done = 0
        for path, st in work:
            if cancel is not None and cancel():
                run.cancelled = True
                break
            if progress is not None:
                progress(Progress(done, total, "index", path))
            done += 1
            have = known.get(path)
            try:
                if st.st_size > MAX_FILE_BYTES:
                    raise IngestError(
                        path,
                        f"too large ({st.st_size / 1e6:.0f} MB; the limit is "
                        f"{MAX_FILE_BYTES / 1e6:.0f} MB)",
                    )
                digest = content_hash(Path(path))
                if have is not None and have[3] == digest:
                    self.store.touch_document(path, st.st_size, st.st_mtime)
                    run.unchanged += 1
                    continue
                document = load(path)
            except IngestError as exc:
                self._fail(run, path, exc.reason, st.st_size, st.st_mtime)
                continue
            except OSError as exc:
                self._fail(run, path, f"cannot be read ({exc.strerror or exc})", None, None)
                continue
            chunks = chunk_document(document, self.chunking)
            self.store.put_document(
                document, chunks, size=st.st_size, mtime=st.st_mtime, content_hash=digest
            )
            (run.updated if have is not None else run.added).append(path)
            self._embed_pending(run, None, cancel, flush=False)
        if progress is not None:
            progress(Progress(done, total, "index", ""))
        if not run.cancelled:
            self._embed_pending(run, progress, cancel, flush=True)

    def _embed_pending(
        self,
        run: _Run,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
        *,
        flush: bool,
    ) -> None:
        total = self.store.counts()[2] if progress is not None else 0
        done = 0
        while True:
            batch = self.store.pending_chunks(EMBED_BATCH)
            if not batch or (not flush and len(batch) < EMBED_BATCH):
                return
            if cancel is not None and cancel():
                run.cancelled = True
                return
            ids = [cid for cid, _ in batch]
            vectors = self.embedder.encode([text for _, text in batch])
            self.store.put_embeddings(ids, vectors)
            run.embedded += len(ids)
            done += len(ids)
            if progress is not None:
                progress(Progress(done, max(total, done), "embed"))

    def _fail(
        self, run: _Run, path: str, reason: str, size: int | None, mtime: float | None
    ) -> None:
        log.info("%s: %s", path, reason)
        run.failed.append(FileError(path, reason))
        self.store.record_failure(path, reason, size, mtime)

    # -- reading ----------------------------------------------------------------------------

    def vector_index(self) -> object:
        """Return the FAISS index for the current generation (rebuilt from SQLite if needed)."""
        return self.vectors.get(
            self.store.generation(), lambda: self.store.embeddings(self.embedder.dimension)
        )

    def close(self) -> None:
        """Close the database."""
        self.store.close()


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _walk(root: str, run: _Run) -> Iterator[Path]:
    def onerror(exc: OSError) -> None:
        run.failed.append(FileError(exc.filename or root, f"cannot be read ({exc.strerror})"))

    for folder, dirs, files in os.walk(root, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
        for name in sorted(files):
            if not _is_hidden(name):
                yield Path(folder) / name

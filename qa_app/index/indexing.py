"""One indexing run of a library: read changed files, store them, then embed what waits."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa_app.chunking import ChunkSettings, chunk_document
from qa_app.index.bookkeeping import attachment_reason
from qa_app.index.database import StoreError, damaged_message, is_damage
from qa_app.index.scan import scan
from qa_app.index.schema import Failure, KnownFile, Root
from qa_app.index.store import Store
from qa_app.models.embedding import Embedder, sha256_file
from qa_app.records import FileError, Progress, SyncReport

if TYPE_CHECKING:
    from qa_app.ingest import LoadOptions

log = logging.getLogger(__name__)

ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]
LoadOptionsFn = Callable[[str, ProgressFn | None, CancelFn | None], "LoadOptions"]
# Passages embedded and committed together: a kill loses at most this many, and each commit
# comes within seconds even on a slow machine.
EMBED_BATCH = 64
LOG_KEEP = 10_000  # embedding changes kept beyond the library's size, for caches that lag behind


@dataclass
class Run:
    """Mutable bookkeeping for one add/sync run."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[FileError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded: int = 0
    cancelled: bool = False
    started: float = field(default_factory=time.monotonic)

    def fail(self, path: str, reason: str) -> None:
        self.failed.append(FileError(path, reason))

    def report(self) -> SyncReport:
        return SyncReport(
            added=tuple(self.added),
            updated=tuple(self.updated),
            removed=tuple(self.removed),
            unchanged=self.unchanged,
            failed=tuple(self.failed),
            cancelled=self.cancelled,
            chunks_embedded=self.embedded,
            seconds=time.monotonic() - self.started,
            notices=tuple(self.notices),
        )


def content_hash(path: Path) -> str:
    """Return the SHA-256 of a file's bytes (what tells a changed file from a touched one)."""
    return sha256_file(path)


class Indexer:
    """Reads files into a library's store and embeds its waiting passages, for one run.

    The caller holds the library's writer lock; ``load_options`` says how to load one path
    (OCR switch and cache, the run's progress and cancel).
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        chunking: ChunkSettings,
        load_options: LoadOptionsFn,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunking = chunking
        self.load_options = load_options

    def scan(self, roots: Sequence[Root], run: Run) -> list[str]:
        """Return the supported files under ``roots`` that are not excluded (failures to ``run``)."""
        from qa_app.ingest import SUPPORTED_SUFFIXES

        return scan(roots, self.store.exclusions(), set(SUPPORTED_SUFFIXES), run.fail)

    def index(
        self,
        paths: Sequence[str],
        run: Run,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
    ) -> None:
        """Read changed files (one commit each), then embed what waits (bounded commits)."""
        known = self.store.known_files()
        failures = self.store.failures()
        attached = self.store.attachment_failures()
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
                self._fail(run, path, reason)
                continue
            have = known.get(path)
            if have is not None and (have.size, have.mtime) == (st.st_size, st.st_mtime):
                run.unchanged += 1
                for reason in attached.get(path, []):  # still unread attachments
                    run.fail(path, reason)
                continue
            failed = failures.get(path)
            if failed is not None and (failed.size, failed.mtime) == (st.st_size, st.st_mtime):
                run.fail(path, failed.reason)  # still broken; no need to re-read
                continue
            work.append((path, st))

        for done, (path, st) in enumerate(work):
            if cancel is not None and cancel():
                run.cancelled = True
                break
            if progress is not None:
                progress(Progress(done, len(work), "index", path))
            self._read_file(
                path, st, known, failures, run, self.load_options(path, progress, cancel)
            )
            if run.cancelled:
                break
        else:
            if progress is not None:
                progress(Progress(len(work), len(work), "index", ""))
        if not run.cancelled:
            self.embed(run, progress, cancel)
        with contextlib.suppress(StoreError):  # housekeeping only
            self.store.prune_vector_log(LOG_KEEP + self.store.counts().chunks)

    def _read_file(
        self,
        path: str,
        st: os.stat_result,
        known: dict[str, KnownFile],
        failures: dict[str, Failure],
        run: Run,
        options: LoadOptions,
    ) -> None:
        from qa_app.ingest import MAX_FILE_BYTES, IngestError, LoadCancelled, load

        have = known.get(path)
        digest = None
        try:
            if st.st_size > MAX_FILE_BYTES:
                raise IngestError(
                    path,
                    f"too large ({st.st_size / 1e6:.0f} MB; the limit is "
                    f"{MAX_FILE_BYTES / 1e6:.0f} MB)",
                )
            digest = content_hash(Path(path))
            if have is not None and have.content_hash == digest:
                self.store.touch_document(path, st.st_size, st.st_mtime)
                run.unchanged += 1
                for reason in self.store.attachment_failures().get(path, []):
                    run.fail(path, reason)
                return
            failed = failures.get(path)
            if failed is not None and failed.content_hash == digest:
                # Same bytes that failed before: not worth reading again until they change.
                self._fail(run, path, failed.reason, st, digest)
                return
            document = load(path, options)
            chunks = chunk_document(document, self.chunking)
            attachments = [(a, chunk_document(a, self.chunking)) for a in document.attachments]
            try:
                self.store.put_document(
                    document,
                    chunks,
                    size=st.st_size,
                    mtime=st.st_mtime,
                    content_hash=digest,
                    attachments=attachments,
                )
            except sqlite3.DataError:
                raise  # this file's text is too large to store: the file's failure
            except sqlite3.DatabaseError as exc:  # the library's fault, never the file's
                raise StoreError(
                    damaged_message(self.store.path, exc)
                    if is_damage(exc)
                    else f"{self.store.path}: the library database cannot be written ({exc})"
                ) from exc
        except LoadCancelled:
            run.cancelled = True  # between two OCR pages: the pages read are cached
            return
        except IngestError as exc:
            self._fail(run, path, exc.reason, st, digest)
            return
        except OSError as exc:
            self._fail(run, path, f"cannot be read ({exc.strerror or exc})", None, digest)
            return
        except sqlite3.DataError as exc:
            self._fail(run, path, f"too large to store ({exc})", st, digest)
            return
        except StoreError:
            raise
        except MemoryError:
            self._fail(run, path, "too large to read: the computer ran out of memory", st, digest)
            return
        except Exception as exc:  # noqa: BLE001 - a bad file must not stop the others
            log.debug("reading %s failed", path, exc_info=True)
            self._fail(run, path, f"cannot be read ({type(exc).__name__}: {exc})", st, digest)
            return
        (run.updated if have is not None else run.added).append(path)
        for error in document.attachment_errors:
            run.fail(path, attachment_reason(error.path, error.reason))

    def embed(self, run: Run, progress: ProgressFn | None, cancel: CancelFn | None) -> None:
        """Embed the passages that wait, ``EMBED_BATCH`` per commit, until none wait or cancel."""
        total = self.store.counts().pending
        if not total:
            return
        done = 0
        if progress is not None and hasattr(type(self.embedder), "model"):
            # Load the model as its own stage, so the embedding rate measures embedding.
            progress(Progress(0, 1, "model"))
            getattr(self.embedder, "model")  # noqa: B009 - a property that loads the model
            progress(Progress(1, 1, "model"))
        if progress is not None:
            progress(Progress(0, total, "embed"))
        while True:
            batch = self.store.pending_chunks(EMBED_BATCH)
            if not batch:
                return
            if cancel is not None and cancel():
                run.cancelled = True
                return
            vectors = self.embedder.encode([c.text for c in batch])
            self.store.put_embeddings([c.id for c in batch], vectors)
            run.embedded += len(batch)
            done += len(batch)
            if progress is not None:
                progress(Progress(done, max(total, done), "embed"))

    def _fail(
        self,
        run: Run,
        path: str,
        reason: str,
        st: os.stat_result | None = None,
        digest: str | None = None,
    ) -> None:
        log.info("%s: %s", path, reason)
        run.fail(path, reason)
        size, mtime = (st.st_size, st.st_mtime) if st is not None else (None, None)
        self.store.record_failure(path, reason, size, mtime, digest)

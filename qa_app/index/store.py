"""The SQLite store of one library: documents, chunks, FTS5 index and embeddings (the source of truth)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa_app.index import schema as store_schema
from qa_app.index.schema import (
    SCHEMA_VERSION,
    Counts,
    Failure,
    KnownFile,
    PassageRow,
    PendingChunk,
    Root,
    VectorChanges,
    VectorState,
    attachment_key,
)
from qa_app.records import Block, Chunk, Document, DocumentInfo

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "StoreMissing", "describe_os_error"]

BUSY_TIMEOUT = 30.0  # seconds a write waits for another program's transaction to end
_IN_BATCH = 900  # below SQLite's default limit of bound parameters


class StoreError(RuntimeError):
    """The library database cannot be used as asked (damaged, full, read-only, locked, missing)."""


class StoreMissing(StoreError):
    """There is no library database at the path (and none was to be created)."""


def describe_os_error(exc: OSError, where: Path) -> str:
    """Return a one-line message for an OS error while writing under ``where``."""
    if exc.errno == errno.ENOSPC:
        return f"{where}: the disk is full; free some space and try again (nothing saved was lost)"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{where}: the library folder is read-only; it can be searched but not changed"
    return f"{where}: cannot write ({exc.strerror or exc})"


def _describe_sqlite(exc: sqlite3.Error, path: Path) -> str:
    text = str(exc).lower()
    folder = path.parent
    if "full" in text:
        return describe_os_error(OSError(errno.ENOSPC, "disk full"), folder)
    if "readonly" in text or "read-only" in text:
        return describe_os_error(OSError(errno.EROFS, "read-only"), folder)
    if "locked" in text or "busy" in text:
        return f"{path}: the library database is locked by another program; try again"
    return f"{path}: the library database cannot be written ({exc})"


class Store:
    """One library's SQLite database (WAL).

    Reading uses read-only connections, one per thread, so readers never wait for the writer and
    work on a read-only folder. The write connection opens on the first write.
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_guard = threading.Lock()
        self._write_lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._closed = False
        self._columns: set[tuple[str, str]] = set()  # migrated columns known to be there
        if not path.is_file():
            if not create:
                raise StoreMissing(f"{path}: there is no library database here")
            self._writer()
        self._read()  # fail now, with a clear message, if it cannot be read

    # -- connections ------------------------------------------------------------------------

    def _read(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise StoreError(f"{self.path}: the library is closed")
            db = self._open_reader()
            self._local.db = db
            with self._readers_guard:
                self._readers.append(db)
        return db

    def _open_reader(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        try:
            db = sqlite3.connect(
                f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError as exc:
            # WAL needs a -shm file; on a read-only folder without one, only an immutable open
            # works, and it is safe only when no -wal holds committed pages.
            wal = Path(f"{self.path}-wal")
            folder_writable = os.access(self.path.parent, os.W_OK)
            if folder_writable or (wal.exists() and wal.stat().st_size > 0):
                raise StoreError(
                    f"{self.path}: the library database cannot be read ({exc})"
                ) from exc
        try:
            db = sqlite3.connect(
                f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: the library database cannot be read ({exc})") from exc

    def _writer(self) -> sqlite3.Connection:
        with self._write_lock:
            if self._db is not None:
                return self._db
            if self._closed:
                raise StoreError(f"{self.path}: the library is closed")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(describe_os_error(exc, self.path.parent)) from exc
            db: sqlite3.Connection | None = None
            try:
                db = sqlite3.connect(
                    str(self.path),
                    timeout=BUSY_TIMEOUT,
                    isolation_level=None,
                    check_same_thread=False,
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA foreign_keys=ON")
                store_schema.create(db)
            except sqlite3.DatabaseError as exc:
                if db is not None:
                    db.close()
                raise StoreError(_describe_sqlite(exc, self.path)) from exc
            self._db = db
            return db

    def close(self) -> None:
        """Close every connection (idempotent)."""
        self._closed = True
        # Readers first: the last connection to close checkpoints the WAL, which only the
        # writer can do.
        with self._readers_guard:
            for db in self._readers:
                db.close()
            self._readers.clear()
        with self._write_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @property
    def writable(self) -> bool:
        """Return whether the write connection is open (a write happened through this store)."""
        return self._db is not None

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield the write connection inside BEGIN IMMEDIATE … COMMIT; roll back on any exception.

        Raises StoreError with a one-line reason (disk full, read-only, locked) when SQLite refuses.
        """
        with self._write_lock:
            db = self._writer()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(_describe_sqlite(exc, self.path)) from exc
            try:
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    # SQLite may have rolled back already (e.g. after SQLITE_FULL).
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise StoreError(_describe_sqlite(exc, self.path)) from exc
                raise

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._read().execute(sql, args).fetchall()

    def _optional(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Query a table added after version 1 (absent until a writer opened the library)."""
        try:
            return self._query(sql, args)
        except sqlite3.OperationalError as exc:
            if "no such" in str(exc):
                return []
            raise

    # -- meta -------------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        """Return every meta key/value."""
        return {str(k): str(v) for k, v in self._query("SELECT key, value FROM meta")}

    def set_meta(self, db: sqlite3.Connection, **values: str) -> None:
        """Set meta keys inside an open transaction."""
        db.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    def generation(self) -> int:
        """Return the library's generation: bumped by every write that changes chunks."""
        rows = self._query("SELECT value FROM meta WHERE key = 'generation'")
        return int(rows[0][0]) if rows else 0

    def bump_generation(self, db: sqlite3.Connection) -> None:
        """Increase the generation inside an open transaction."""
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # -- roots and exclusions ---------------------------------------------------------------

    def roots(self) -> list[Root]:
        """Return every added file and folder."""
        return [
            Root(str(p), str(k))
            for p, k in self._query("SELECT path, kind FROM roots ORDER BY path")
        ]

    def add_root(self, path: str, kind: str) -> None:
        """Remember an added file or folder (and stop excluding it)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO roots(path, kind, added) VALUES (?, ?, ?)",
                (path, kind, time.time()),
            )
            db.execute("DELETE FROM exclusions WHERE path = ?", (path,))

    def remove_root(self, path: str) -> bool:
        """Forget an added file or folder; return True if it was there."""
        with self.transaction() as db:
            return db.execute("DELETE FROM roots WHERE path = ?", (path,)).rowcount > 0

    def exclusions(self) -> list[str]:
        """Return the files and folders inside added folders that the user removed."""
        return [str(r[0]) for r in self._optional("SELECT path FROM exclusions ORDER BY path")]

    def set_excluded(self, paths: Iterable[str], excluded: bool) -> None:
        """Exclude (or include again) files or folders that lie inside added folders."""
        with self.transaction() as db:
            for path in paths:
                if excluded:
                    db.execute(
                        "INSERT OR IGNORE INTO exclusions(path, added) VALUES (?, ?)",
                        (path, time.time()),
                    )
                else:
                    db.execute("DELETE FROM exclusions WHERE path = ?", (path,))

    # -- documents --------------------------------------------------------------------------

    def known_files(self) -> dict[str, KnownFile]:
        """Return what is stored of each indexed file, by path."""
        top = " WHERE parent_id IS NULL" if self._has("documents", "parent_id") else ""
        rows = self._query("SELECT path, id, size, mtime, content_hash FROM documents" + top)
        return {str(r[0]): KnownFile(int(r[1]), int(r[2]), float(r[3]), str(r[4])) for r in rows}

    def put_document(
        self,
        doc: Document,
        chunks: Sequence[Chunk],
        *,
        size: int,
        mtime: float,
        content_hash: str,
        attachments: Sequence[tuple[Document, Sequence[Chunk]]] = (),
    ) -> int:
        """Store (insert or replace) a document and its chunks in one transaction; return its id.

        ``attachments`` (an e-mail's, each with its chunks) are stored as documents of their own
        linked to it, and ``doc.attachment_errors`` as failures of the message; whatever the
        old version had of either is replaced. A passage whose text the old version had keeps
        its embedding; the others start pending and are filled by ``put_embeddings``.
        """
        with self.transaction() as db:
            old = db.execute("SELECT id FROM documents WHERE path = ?", (doc.path,)).fetchone()
            reuse: dict[str, bytes] = {}
            if old is not None:
                for member in [old[0], *self._children(db, old[0])]:
                    reuse.update(
                        db.execute(
                            "SELECT text, embedding FROM chunks WHERE doc_id = ? "
                            "AND embedding IS NOT NULL",
                            (member,),
                        ).fetchall()
                    )
                self._delete_doc(db, old[0])
            doc_id = self._insert_document(db, doc, doc.path, size, mtime, content_hash)
            self._insert_chunks(db, doc_id, chunks, reuse)
            for number, (child, child_chunks) in enumerate(attachments, 1):
                key = attachment_key(doc.path, number)
                child_id = self._insert_document(db, child, key, size, mtime, content_hash)
                db.execute(
                    "UPDATE documents SET parent_id = ?, attachment = ? WHERE id = ?",
                    (doc_id, child.attachment, child_id),
                )
                self._insert_chunks(db, child_id, child_chunks, reuse)
            db.execute("DELETE FROM failures WHERE path = ? OR parent = ?", (doc.path, doc.path))
            for number, error in enumerate(doc.attachment_errors, 1):
                db.execute(
                    "INSERT OR REPLACE INTO failures(path, reason, size, mtime, at, content_hash, "
                    "parent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        attachment_key(doc.path, number, failed=True),
                        attachment_reason(error.path, error.reason),
                        size,
                        mtime,
                        time.time(),
                        content_hash,
                        doc.path,
                    ),
                )
            self.bump_generation(db)
        return doc_id

    @staticmethod
    def _insert_document(
        db: sqlite3.Connection, doc: Document, key: str, size: int, mtime: float, digest: str
    ) -> int:
        blocks = json.dumps(
            [[b.start, b.end, b.page, b.kind, *([1] if b.ocr else [])] for b in doc.blocks]
        )
        cur = db.execute(
            "INSERT INTO documents(path, title, format, size, mtime, content_hash, pages, text, "
            "blocks, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, doc.title, doc.format, size, mtime, digest, doc.pages, doc.text, blocks,
             time.time()),
        )  # fmt: skip
        return int(cur.lastrowid or 0)

    @staticmethod
    def _children(db: sqlite3.Connection, doc_id: int) -> list[int]:
        rows = db.execute("SELECT id FROM documents WHERE parent_id = ?", (doc_id,)).fetchall()
        return [int(r[0]) for r in rows]

    def _has(self, table: str, column: str) -> bool:
        """Return whether ``table`` has ``column`` (added by a migration a writer applies; once
        there it stays, so only its presence is remembered)."""
        if (table, column) in self._columns:
            return True
        found = any(r[1] == column for r in self._query(f"PRAGMA table_info({table})"))
        if found:
            self._columns.add((table, column))
        return found

    def mark_unread(self, formats: Sequence[str] | None) -> int:
        """Make the next sync read files again; return how many. With ``formats``: every file
        of those formats, and every file that failed. Without (OCR switched off): every file
        with OCRed text, in itself or in an attachment; one whose text is all OCR is deleted at
        once (read again without OCR it has none, and its old text must not stay searchable).
        """
        with self.transaction() as db:
            if formats is not None:
                marks = ",".join("?" * len(formats))
                count = db.execute(
                    "UPDATE documents SET content_hash = '', mtime = 0 WHERE parent_id IS NULL "
                    f"AND format IN ({marks})",
                    list(formats),
                ).rowcount
                count += db.execute("DELETE FROM failures WHERE parent IS NULL").rowcount
                return int(count)
            ocred = "SELECT doc_id FROM chunks WHERE ocr = 1"
            only_ocr = [
                int(r[0])
                for r in db.execute(
                    f"SELECT id FROM documents WHERE parent_id IS NULL AND id IN ({ocred}) "
                    "AND id NOT IN (SELECT doc_id FROM chunks WHERE ocr = 0) "
                    "AND id NOT IN (SELECT parent_id FROM documents WHERE parent_id IS NOT NULL)"
                )
            ]
            for doc_id in only_ocr:
                self._delete_doc(db, doc_id)
            count = db.execute(
                "UPDATE documents SET content_hash = '', mtime = 0 WHERE parent_id IS NULL "
                f"AND (id IN ({ocred}) OR id IN "
                f"(SELECT parent_id FROM documents WHERE id IN ({ocred})))"
            ).rowcount
            if only_ocr:
                self.bump_generation(db)
            return len(only_ocr) + int(count)

    def touch_document(self, path: str, size: int, mtime: float) -> None:
        """Record a new size/mtime for a document whose content hash did not change."""
        with self.transaction() as db:
            db.execute(
                "UPDATE documents SET size = ?, mtime = ? WHERE path = ?", (size, mtime, path)
            )
            db.execute("DELETE FROM failures WHERE path = ?", (path,))

    @staticmethod
    def _insert_chunks(
        db: sqlite3.Connection,
        doc_id: int,
        chunks: Sequence[Chunk],
        reuse: dict[str, bytes] | None = None,
    ) -> None:
        """Insert a document's chunks and their full-text rows (embeddings reused by text)."""
        for chunk in chunks:
            cur = db.execute(
                'INSERT INTO chunks(doc_id, ordinal, start, "end", page, text, embedding, ocr) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc_id,
                    chunk.ordinal,
                    chunk.start,
                    chunk.end,
                    chunk.page,
                    chunk.text,
                    (reuse or {}).get(chunk.text),
                    int(chunk.ocr),
                ),
            )
            db.execute(
                "INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)", (cur.lastrowid, chunk.text)
            )

    @staticmethod
    def _delete_chunks(db: sqlite3.Connection, doc_id: int) -> None:
        # External-content FTS5 needs the old text to remove a row from the index.
        db.execute(
            "INSERT INTO chunks_fts(chunks_fts, rowid, text) "
            "SELECT 'delete', id, text FROM chunks WHERE doc_id = ?",
            (doc_id,),
        )
        db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))

    def _delete_doc(self, db: sqlite3.Connection, doc_id: int) -> None:
        """Delete a document with its chunks, and its attachments and their failures."""
        for child in self._children(db, doc_id):
            self._delete_doc(db, child)
        row = db.execute("SELECT path FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is not None:
            db.execute("DELETE FROM failures WHERE parent = ?", (row[0],))
        self._delete_chunks(db, doc_id)
        db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def delete_documents(self, paths: Iterable[str]) -> list[str]:
        """Delete documents (and their chunks and failures) by path in one transaction."""
        removed: list[str] = []
        with self.transaction() as db:
            for path in paths:
                row = db.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()
                if row is not None:
                    self._delete_doc(db, row[0])
                    removed.append(path)
                db.execute("DELETE FROM failures WHERE parent = ?", (path,))
                dropped = db.execute("DELETE FROM failures WHERE path = ?", (path,)).rowcount
                if dropped and row is None:
                    removed.append(path)
            if removed:
                self.bump_generation(db)
        return removed

    def record_failure(
        self,
        path: str,
        reason: str,
        size: int | None,
        mtime: float | None,
        content_hash: str | None = None,
    ) -> None:
        """Remember that a file could not be indexed (its previous good version, if any, is kept)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO failures(path, reason, size, mtime, at, content_hash) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, size = excluded.size, "
                "mtime = excluded.mtime, at = excluded.at, content_hash = excluded.content_hash",
                (path, reason, size, mtime, time.time(), content_hash),
            )

    def failures(self) -> dict[str, Failure]:
        """Return the files that failed to index, by path (for attachments see
        ``attachment_failures``)."""
        if self._has("failures", "parent"):
            rows = self._query(
                "SELECT path, reason, size, mtime, content_hash FROM failures WHERE parent IS NULL"
            )
        elif self._has("failures", "content_hash"):
            rows = self._query("SELECT path, reason, size, mtime, content_hash FROM failures")
        else:  # written before failures kept a content hash
            rows = [
                (*r, None) for r in self._query("SELECT path, reason, size, mtime FROM failures")
            ]
        return {str(r[0]): Failure(str(r[1]), r[2], r[3], r[4]) for r in rows}

    def attachment_failures(self) -> dict[str, list[str]]:
        """Return, by message path, why its attachments could not be read (each reason names
        the attachment: "attachment report.pdf: …")."""
        if not self._has("failures", "parent"):
            return {}
        found: dict[str, list[str]] = {}
        for parent, reason in self._query(
            "SELECT parent, reason FROM failures WHERE parent IS NOT NULL ORDER BY path"
        ):
            found.setdefault(str(parent), []).append(str(reason))
        return found

    def documents(self) -> list[DocumentInfo]:
        """Return every stored document (e-mail attachments after their message), every file or
        attachment that failed and every exclusion, sorted by path."""
        linked = self._has("documents", "parent_id")
        rows = self._query(
            "SELECT d.id, COALESCE(p.path, d.path), d.title, d.format, d.size, d.mtime, "
            "d.content_hash, d.pages, "
            "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id), "
            "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id AND c.embedding IS NULL), "
            "f.reason, {link} FROM documents d LEFT JOIN failures f ON f.path = d.path "
            "LEFT JOIN documents p ON p.id = {parent}".format(
                link="d.attachment, d.parent_id" if linked else "NULL, NULL",
                parent="d.parent_id" if linked else "NULL",
            )
        )
        infos = [
            DocumentInfo(
                id=int(r[0]),
                path=str(r[1]),
                title=str(r[2]),
                format=str(r[3]),
                size=int(r[4]),
                mtime=float(r[5]),
                content_hash=str(r[6]),
                pages=r[7],
                chunks=int(r[8]),
                status="failed" if r[10] else ("pending" if r[9] else "indexed"),
                error=r[10],
                attachment=r[11],
                parent_id=r[12],
            )
            for r in rows
        ]
        stored = {i.path for i in infos}
        for path, failure in self.failures().items():
            if path not in stored:
                infos.append(_unstored(path, "failed", failure.reason, failure.size, failure.mtime))
        ids = {i.path: i.id for i in infos if i.attachment is None}
        for path, reasons in self.attachment_failures().items():
            for reason in reasons:
                name = reason.removeprefix("attachment ").split(": ", 1)[0]
                info = _unstored(path, "failed", reason, None, None)
                infos.append(
                    replace(
                        info,
                        title=name,
                        format=Path(name).suffix.lstrip(".").lower(),
                        attachment=name,
                        parent_id=ids.get(path, -1),
                    )
                )
        for path in self.exclusions():
            infos.append(_unstored(path, "excluded", None, None, None))
        return sorted(infos, key=lambda i: (i.path, i.attachment is not None, i.attachment or ""))

    def document(self, doc_id: int) -> Document:
        """Return the stored Document; raise KeyError if there is none with that id."""
        rows = self._query(
            "SELECT path, title, format, text, blocks, pages FROM documents WHERE id = ?", (doc_id,)
        )
        if not rows:
            raise KeyError(f"no document with id {doc_id}")
        path, title, fmt, text, blocks, pages = rows[0]
        attachment = None
        if self._has("documents", "parent_id"):
            link = self._query(
                "SELECT p.path, d.attachment FROM documents d JOIN documents p "
                "ON p.id = d.parent_id WHERE d.id = ?",
                (doc_id,),
            )
            if link:
                path, attachment = link[0]
        return Document(
            path=path,
            title=title,
            format=fmt,
            text=text,
            blocks=tuple(Block(r[0], r[1], r[2], r[3], bool(r[4:])) for r in json.loads(blocks)),
            pages=pages,
            attachment=attachment,
        )

    def document_text(self, doc_id: int) -> str:
        """Return a document's stored text; raise KeyError if there is none with that id."""
        rows = self._query("SELECT text FROM documents WHERE id = ?", (doc_id,))
        if not rows:
            raise KeyError(f"no document with id {doc_id}")
        return str(rows[0][0])

    def document_ids(self) -> list[int]:
        """Return the ids of every stored document."""
        return [int(r[0]) for r in self._query("SELECT id FROM documents ORDER BY id")]

    # -- chunks and embeddings --------------------------------------------------------------

    def counts(self) -> Counts:
        """Return (documents, chunks, chunks still waiting for an embedding)."""
        row = self._query(
            "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM chunks), "
            "(SELECT COUNT(*) FROM chunks WHERE embedding IS NULL)"
        )[0]
        return Counts(int(row[0]), int(row[1]), int(row[2]))

    def pending_chunks(self, limit: int) -> list[PendingChunk]:
        """Return up to ``limit`` passages whose embedding is still missing, oldest first."""
        rows = self._query(
            "SELECT id, text FROM chunks WHERE embedding IS NULL ORDER BY id LIMIT ?", (limit,)
        )
        return [PendingChunk(int(r[0]), str(r[1])) for r in rows]

    def put_embeddings(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Store float32 embeddings for chunks in one transaction (missing chunk ids are skipped)."""
        import numpy as np

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self.transaction() as db:
            db.executemany(
                "UPDATE chunks SET embedding = ? WHERE id = ?",
                [(vectors[i].tobytes(), int(cid)) for i, cid in enumerate(ids)],
            )
            self.bump_generation(db)

    def clear_embeddings(self) -> None:
        """Drop every embedding (after a model change) so all chunks are re-embedded."""
        with self.transaction() as db:
            db.execute("UPDATE chunks SET embedding = NULL")
            self._reset_vector_log(db)
            self.bump_generation(db)

    def _reset_vector_log(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM vector_log")
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('vector_epoch', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def prune_vector_log(self, keep: int) -> None:
        """Forget all but the last ``keep`` embedding changes (caches older than that rebuild)."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM vector_log WHERE seq <= (SELECT MAX(seq) FROM vector_log) - ?",
                (keep,),
            )

    def _vector_state(self, db: sqlite3.Connection) -> VectorState:
        epoch = db.execute("SELECT value FROM meta WHERE key = 'vector_epoch'").fetchone()
        try:
            seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").fetchone()
            oldest = db.execute("SELECT MIN(seq) FROM vector_log").fetchone()
        except sqlite3.OperationalError:  # no change log yet: only a full build is possible
            return VectorState(int(epoch[0]) if epoch else 0, -1, 0)
        last = int(seq[0]) if seq else 0
        return VectorState(
            int(epoch[0]) if epoch else 0, last, int(oldest[0]) if oldest[0] else last + 1
        )

    def vector_state(self) -> VectorState:
        """Return the embeddings' epoch and last change (what a vector cache is stamped with)."""
        return self._vector_state(self._read())

    def embeddings(self, dimension: int) -> tuple[VectorState, np.ndarray, np.ndarray]:
        """Return (state, chunk ids as int64, float32 matrix) of every embedded chunk, consistently."""
        import numpy as np

        db = self._read()
        with _snapshot(db):
            state = self._vector_state(db)
            ids: list[int] = []
            blobs: list[bytes] = []
            for cid, blob in db.execute(
                "SELECT id, embedding FROM chunks WHERE embedding IS NOT NULL"
            ):
                ids.append(cid)
                blobs.append(blob)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dimension)
        return state, np.asarray(ids, dtype=np.int64), matrix

    def vector_changes(self, since: int, limit: int) -> VectorChanges | None:
        """Return embedding changes after change ``since``; None if they are no longer all logged
        or more than ``limit`` chunks changed (a full rebuild is then the cheaper way)."""
        db = self._read()
        with _snapshot(db):
            state = self._vector_state(db)
            if state.seq < 0 or since + 1 < state.oldest:
                return None
            touched = [
                int(r[0])
                for r in db.execute(
                    "SELECT DISTINCT chunk_id FROM vector_log WHERE seq > ? AND seq <= ?",
                    (since, state.seq),
                )
            ]
            if len(touched) > limit:
                return None
            ids: list[int] = []
            blobs: list[bytes] = []
            for lo in range(0, len(touched), _IN_BATCH):
                part = touched[lo : lo + _IN_BATCH]
                marks = ",".join("?" * len(part))
                for cid, blob in db.execute(
                    f"SELECT id, embedding FROM chunks WHERE id IN ({marks}) "
                    "AND embedding IS NOT NULL",
                    part,
                ):
                    ids.append(int(cid))
                    blobs.append(blob)
        return VectorChanges(state, touched, ids, blobs)

    def passages(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        """Return the passage row of each given chunk id that still exists."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        args = [int(i) for i in chunk_ids]
        linked = self._has("documents", "parent_id")
        sql = (
            'SELECT c.id, c.doc_id, COALESCE(p.path, d.path), d.title, c.page, c.start, c."end", '
            "c.text, {ocr}, {attachment} FROM chunks c JOIN documents d ON d.id = c.doc_id "
            f"LEFT JOIN documents p ON p.id = {{parent}} WHERE c.id IN ({marks})"
        )
        parts = {
            "attachment": "d.attachment" if linked else "NULL",
            "parent": "d.parent_id" if linked else "NULL",
        }
        try:
            rows = self._query(sql.format(ocr="c.ocr", **parts), args)
        except sqlite3.OperationalError:  # made before OCR and not written since: none is OCR
            rows = self._query(sql.format(ocr="0", **parts), args)
        return {
            int(r[0]): PassageRow(
                int(r[1]),
                str(r[2]),
                str(r[3]),
                r[4],
                int(r[5]),
                int(r[6]),
                str(r[7]),
                bool(r[8]),
                r[9],
            )  # fmt: skip
            for r in rows
        }

    def keyword_search(self, match: str, limit: int) -> list[tuple[int, float]]:
        """Return (chunk id, BM25 score, higher is better) for an FTS5 MATCH expression."""
        if not match:
            return []
        try:
            rows = self._query(
                "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY bm25(chunks_fts) LIMIT ?",
                (match, limit),
            )
        except sqlite3.OperationalError:
            return []
        return [(int(r[0]), -float(r[1])) for r in rows]

    def rechunk(self, doc_id: int, chunks: Sequence[Chunk]) -> None:
        """Replace one document's chunks (after a chunking change), keeping embeddings by text."""
        with self.transaction() as db:
            reuse = dict(
                db.execute(
                    "SELECT text, embedding FROM chunks WHERE doc_id = ? AND embedding IS NOT NULL",
                    (doc_id,),
                ).fetchall()
            )
            self._delete_chunks(db, doc_id)
            self._insert_chunks(db, doc_id, chunks, reuse)
            self.bump_generation(db)


@contextmanager
def _snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """Run several reads on one consistent snapshot (a read transaction)."""
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("COMMIT")


def attachment_reason(name: str, reason: str) -> str:
    """Return how an attachment's failure is said: "attachment NAME: REASON"."""
    return f"attachment {name}: {reason}"


def _unstored(
    path: str, status: str, error: str | None, size: int | None, mtime: float | None
) -> DocumentInfo:
    return DocumentInfo(
        id=-1,
        path=path,
        title=Path(path).name,
        format=Path(path).suffix.lstrip(".").lower(),
        size=size or 0,
        mtime=mtime or 0.0,
        content_hash="",
        pages=None,
        chunks=0,
        status=status,
        error=error,
    )

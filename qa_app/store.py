"""The SQLite store of one library: documents, chunks, FTS5 index and embeddings (the source of truth)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa_app.records import Block, Chunk, Document, DocumentInfo

if TYPE_CHECKING:
    import numpy as np

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots (
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    content_hash TEXT NOT NULL,
    pages INTEGER,
    text TEXT NOT NULL,
    blocks TEXT NOT NULL,
    indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    page INTEGER,
    text TEXT NOT NULL,
    embedding BLOB,
    ocr INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(id) WHERE embedding IS NULL;
CREATE TABLE IF NOT EXISTS failures (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    size INTEGER,
    mtime REAL,
    at REAL NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
"""


class StoreError(RuntimeError):
    """The library database cannot be used as it is (damaged, or from an incompatible version)."""


class Store:
    """One library's SQLite database. Every write is one transaction; readers never block (WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                str(path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            self._add_ocr_column()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: the library database cannot be opened ({exc})") from exc
        self._lock = threading.RLock()

    def _add_ocr_column(self) -> None:
        # Libraries made before OCR have no chunks.ocr; their chunks were all read, not OCRed.
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        self._ocr_column = "ocr" in columns
        if not self._ocr_column:
            try:
                self._db.execute("ALTER TABLE chunks ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0")
                self._ocr_column = True
            except sqlite3.OperationalError:  # a read-only library: read it as it is
                pass

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._db.close()

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield the connection inside BEGIN IMMEDIATE … COMMIT; roll back on any exception."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- meta -------------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        """Return every meta key/value."""
        return dict(self._query("SELECT key, value FROM meta"))

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

    # -- roots ------------------------------------------------------------------------------

    def roots(self) -> list[tuple[str, str]]:
        """Return (path, kind) of every added file and folder."""
        return self._query("SELECT path, kind FROM roots ORDER BY path")

    def add_root(self, path: str, kind: str) -> None:
        """Remember an added file or folder."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO roots(path, kind, added) VALUES (?, ?, ?)",
                (path, kind, time.time()),
            )

    def remove_root(self, path: str) -> bool:
        """Forget an added file or folder; return True if it was there."""
        with self.transaction() as db:
            return db.execute("DELETE FROM roots WHERE path = ?", (path,)).rowcount > 0

    # -- documents --------------------------------------------------------------------------

    def known_files(self) -> dict[str, tuple[int, int, float, str]]:
        """Return {path: (doc id, size, mtime, content hash)} for stored documents."""
        rows = self._query("SELECT path, id, size, mtime, content_hash FROM documents")
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}

    def put_document(
        self,
        doc: Document,
        chunks: Sequence[Chunk],
        *,
        size: int,
        mtime: float,
        content_hash: str,
    ) -> int:
        """Store (insert or replace) a document and its chunks in one transaction; return its id.

        Embeddings of the new chunks start empty (pending) and are filled by ``put_embeddings``.
        """
        blocks = json.dumps(
            [[b.start, b.end, b.page, b.kind, *([1] if b.ocr else [])] for b in doc.blocks]
        )
        with self.transaction() as db:
            old = db.execute("SELECT id FROM documents WHERE path = ?", (doc.path,)).fetchone()
            if old is not None:
                self._delete_doc(db, old[0])
            cur = db.execute(
                "INSERT INTO documents(path, title, format, size, mtime, content_hash, pages, text, "
                "blocks, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.path,
                    doc.title,
                    doc.format,
                    size,
                    mtime,
                    content_hash,
                    doc.pages,
                    doc.text,
                    blocks,
                    time.time(),
                ),
            )
            doc_id = int(cur.lastrowid or 0)
            self._insert_chunks(db, doc_id, chunks)
            db.execute("DELETE FROM failures WHERE path = ?", (doc.path,))
            self.bump_generation(db)
        return doc_id

    def touch_document(self, path: str, size: int, mtime: float) -> None:
        """Record a new size/mtime for a document whose content hash did not change."""
        with self.transaction() as db:
            db.execute(
                "UPDATE documents SET size = ?, mtime = ? WHERE path = ?", (size, mtime, path)
            )
            db.execute("DELETE FROM failures WHERE path = ?", (path,))

    @staticmethod
    def _insert_chunks(db: sqlite3.Connection, doc_id: int, chunks: Sequence[Chunk]) -> None:
        """Insert a document's chunks and their full-text rows (embeddings come later)."""
        for chunk in chunks:
            cur = db.execute(
                'INSERT INTO chunks(doc_id, ordinal, start, "end", page, text, ocr) '
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (doc_id, chunk.ordinal, chunk.start, chunk.end, chunk.page, chunk.text, chunk.ocr),
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
                dropped = db.execute("DELETE FROM failures WHERE path = ?", (path,)).rowcount
                if dropped and row is None:
                    removed.append(path)
            if removed:
                self.bump_generation(db)
        return removed

    def record_failure(self, path: str, reason: str, size: int | None, mtime: float | None) -> None:
        """Remember that a file could not be indexed (its previous good version, if any, is kept)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO failures(path, reason, size, mtime, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, size = excluded.size, "
                "mtime = excluded.mtime, at = excluded.at",
                (path, reason, size, mtime, time.time()),
            )

    def failures(self) -> dict[str, tuple[str, int | None, float | None]]:
        """Return {path: (reason, size, mtime)} of files that failed to index."""
        rows = self._query("SELECT path, reason, size, mtime FROM failures")
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def documents(self) -> list[DocumentInfo]:
        """Return every stored document plus every failed file, sorted by path."""
        rows = self._query(
            "SELECT d.id, d.path, d.title, d.format, d.size, d.mtime, d.content_hash, d.pages, "
            "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id), "
            "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id AND c.embedding IS NULL), "
            "f.reason FROM documents d LEFT JOIN failures f ON f.path = d.path"
        )
        infos = [
            DocumentInfo(
                id=r[0],
                path=r[1],
                title=r[2],
                format=r[3],
                size=r[4],
                mtime=r[5],
                content_hash=r[6],
                pages=r[7],
                chunks=r[8],
                status="failed" if r[10] else ("pending" if r[9] else "indexed"),
                error=r[10],
            )
            for r in rows
        ]
        stored = {i.path for i in infos}
        for path, (reason, size, mtime) in self.failures().items():
            if path not in stored:
                infos.append(
                    DocumentInfo(
                        id=-1,
                        path=path,
                        title=Path(path).name,
                        format=Path(path).suffix.lstrip(".").lower(),
                        size=size or 0,
                        mtime=mtime or 0.0,
                        content_hash="",
                        pages=None,
                        chunks=0,
                        status="failed",
                        error=reason,
                    )
                )
        return sorted(infos, key=lambda i: i.path)

    def document(self, doc_id: int) -> Document:
        """Return the stored Document; raise KeyError if there is none with that id."""
        rows = self._query(
            "SELECT path, title, format, text, blocks, pages FROM documents WHERE id = ?", (doc_id,)
        )
        if not rows:
            raise KeyError(f"no document with id {doc_id}")
        path, title, fmt, text, blocks, pages = rows[0]
        return Document(
            path=path,
            title=title,
            format=fmt,
            text=text,
            blocks=tuple(Block(r[0], r[1], r[2], r[3], bool(r[4:])) for r in json.loads(blocks)),
            pages=pages,
        )

    def document_text(self, doc_id: int) -> str:
        """Return a document's stored text; raise KeyError if there is none with that id."""
        rows = self._query("SELECT text FROM documents WHERE id = ?", (doc_id,))
        if not rows:
            raise KeyError(f"no document with id {doc_id}")
        return str(rows[0][0])

    def document_ids(self) -> list[int]:
        """Return the ids of every stored document."""
        return [r[0] for r in self._query("SELECT id FROM documents ORDER BY id")]

    # -- chunks and embeddings --------------------------------------------------------------

    def counts(self) -> tuple[int, int, int]:
        """Return (documents, chunks, chunks still waiting for an embedding)."""
        row = self._query(
            "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM chunks), "
            "(SELECT COUNT(*) FROM chunks WHERE embedding IS NULL)"
        )[0]
        return int(row[0]), int(row[1]), int(row[2])

    def pending_chunks(self, limit: int) -> list[tuple[int, str]]:
        """Return up to ``limit`` (chunk id, text) whose embedding is still missing."""
        return self._query(
            "SELECT id, text FROM chunks WHERE embedding IS NULL ORDER BY id LIMIT ?", (limit,)
        )

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
            self.bump_generation(db)

    def embeddings(self, dimension: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (chunk ids as int64, float32 matrix) of every embedded chunk."""
        import numpy as np

        with self._lock:
            cur = self._db.execute("SELECT id, embedding FROM chunks WHERE embedding IS NOT NULL")
            ids: list[int] = []
            blobs: list[bytes] = []
            for cid, blob in cur:
                ids.append(cid)
                blobs.append(blob)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dimension)
        return np.asarray(ids, dtype=np.int64), matrix

    def passages(self, chunk_ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """Return {chunk id: (doc id, path, title, page, start, end, text, ocr)} for the given
        chunks."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        ocr = "c.ocr" if self._ocr_column else "0"
        rows = self._query(
            f'SELECT c.id, c.doc_id, d.path, d.title, c.page, c.start, c."end", c.text, {ocr} '
            f"FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})",
            [int(i) for i in chunk_ids],
        )
        return {r[0]: r[1:] for r in rows}

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

    def rechunk_all(self, documents: Iterable[tuple[int, Sequence[Chunk]]]) -> None:
        """Replace every document's chunks (after a chunking change) in one transaction."""
        with self.transaction() as db:
            for doc_id, chunks in documents:
                self._delete_chunks(db, doc_id)
                self._insert_chunks(db, doc_id, chunks)
            self.bump_generation(db)

"""The SQLite store of one library: documents, chunks, FTS5 index and embeddings (the source of truth)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa_app.index import bookkeeping, embedding_rows, reads, writes
from qa_app.index.database import Database
from qa_app.index.schema import (
    Counts,
    Failure,
    KnownFile,
    PassageRow,
    PendingChunk,
    Root,
    VectorChanges,
    VectorState,
)
from qa_app.records import Chunk, Document, DocumentInfo

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Store"]


class Store:
    """One library's SQLite database (WAL), the one object callers use.

    Reading uses read-only connections, one per thread, so readers never wait for the writer and
    work on a read-only folder; the write connection opens on the first write (``Database``).
    Each call is carried out by the module of its concern: ``bookkeeping`` (meta, roots,
    exclusions, failures), ``writes`` (documents and passages), ``reads`` (documents, passages,
    keyword search) and ``embedding_rows`` (embeddings and their change log).
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self._database = Database(path, create=create)
        self.path = path

    def close(self) -> None:
        """Close every connection (idempotent)."""
        self._database.close()

    @property
    def writable(self) -> bool:
        """Return whether the write connection is open (a write happened through this store)."""
        return self._database.writable

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """Return the write connection's BEGIN IMMEDIATE … COMMIT context (see ``Database``)."""
        return self._database.transaction()

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._database.query(sql, args)

    # -- meta, roots, exclusions and failures -----------------------------------------------

    def meta(self) -> dict[str, str]:
        """Return every meta key/value."""
        return bookkeeping.meta(self._database)

    def set_meta(self, db: sqlite3.Connection, **values: str) -> None:
        """Set meta keys inside an open transaction."""
        bookkeeping.set_meta(db, **values)

    def generation(self) -> int:
        """Return the library's generation: bumped by every write that changes chunks."""
        return bookkeeping.generation(self._database)

    def bump_generation(self, db: sqlite3.Connection) -> None:
        """Increase the generation inside an open transaction."""
        bookkeeping.bump_generation(db)

    def roots(self) -> list[Root]:
        """Return every added file and folder."""
        return bookkeeping.roots(self._database)

    def add_root(self, path: str, kind: str) -> None:
        """Remember an added file or folder (and stop excluding it)."""
        bookkeeping.add_root(self._database, path, kind)

    def remove_root(self, path: str) -> bool:
        """Forget an added file or folder; return True if it was there."""
        return bookkeeping.remove_root(self._database, path)

    def exclusions(self) -> list[str]:
        """Return the files and folders inside added folders that the user removed."""
        return bookkeeping.exclusions(self._database)

    def set_excluded(self, paths: Iterable[str], excluded: bool) -> None:
        """Exclude (or include again) files or folders that lie inside added folders."""
        bookkeeping.set_excluded(self._database, paths, excluded)

    def record_failure(
        self,
        path: str,
        reason: str,
        size: int | None,
        mtime: float | None,
        content_hash: str | None = None,
    ) -> None:
        """Remember that a file could not be indexed (its previous good version, if any, is kept)."""
        bookkeeping.record_failure(self._database, path, reason, size, mtime, content_hash)

    def failures(self) -> dict[str, Failure]:
        """Return the files that failed to index, by path (attachments: ``attachment_failures``)."""
        return bookkeeping.failures(self._database)

    def attachment_failures(self) -> dict[str, list[str]]:
        """Return, by message path, why its attachments could not be read."""
        return bookkeeping.attachment_failures(self._database)

    # -- writing documents ------------------------------------------------------------------

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
        """Store (insert or replace) a document, its chunks and attachments; return its id."""
        return writes.put_document(
            self._database,
            doc,
            chunks,
            size=size,
            mtime=mtime,
            content_hash=content_hash,
            attachments=attachments,
        )

    def mark_unread(self, formats: Sequence[str] | None) -> int:
        """Make the next sync read files again (see ``writes.mark_unread``); return how many."""
        return writes.mark_unread(self._database, formats)

    def touch_document(self, path: str, size: int, mtime: float) -> None:
        """Record a new size/mtime for a document whose content hash did not change."""
        writes.touch_document(self._database, path, size, mtime)

    def delete_documents(self, paths: Iterable[str]) -> list[str]:
        """Delete documents (and their chunks and failures) by path in one transaction."""
        return writes.delete_documents(self._database, paths)

    def rechunk(self, doc_id: int, chunks: Sequence[Chunk]) -> None:
        """Replace one document's chunks (after a chunking change), keeping embeddings by text."""
        writes.rechunk(self._database, doc_id, chunks)

    # -- reading documents and passages -----------------------------------------------------

    def known_files(self) -> dict[str, KnownFile]:
        """Return what is stored of each indexed file, by path."""
        return reads.known_files(self._database)

    def documents(self) -> list[DocumentInfo]:
        """Return every stored, failed and excluded document, sorted by path."""
        return reads.documents(self._database)

    def document(self, doc_id: int) -> Document:
        """Return the stored Document; raise NotFound (a KeyError) if none has that id."""
        return reads.document(self._database, doc_id)

    def document_text(self, doc_id: int) -> str:
        """Return a document's stored text; raise NotFound (a KeyError) if none has that id."""
        return reads.document_text(self._database, doc_id)

    def document_ids(self) -> list[int]:
        """Return the ids of every stored document."""
        return reads.document_ids(self._database)

    def counts(self) -> Counts:
        """Return (documents, chunks, chunks still waiting for an embedding)."""
        return reads.counts(self._database)

    def passages(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        """Return the passage row of each given chunk id that still exists."""
        return reads.passages(self._database, chunk_ids)

    def keyword_search(self, match: str, limit: int) -> list[tuple[int, float]]:
        """Return (chunk id, BM25 score, higher is better) for an FTS5 MATCH expression."""
        return reads.keyword_search(self._database, match, limit)

    # -- embeddings -------------------------------------------------------------------------

    def pending_chunks(self, limit: int) -> list[PendingChunk]:
        """Return up to ``limit`` passages whose embedding is still missing, oldest first."""
        return embedding_rows.pending_chunks(self._database, limit)

    def put_embeddings(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Store float32 embeddings for chunks in one transaction (missing chunk ids are skipped)."""
        embedding_rows.put_embeddings(self._database, ids, vectors)

    def clear_embeddings(self) -> None:
        """Drop every embedding (after a model change) so all chunks are re-embedded."""
        embedding_rows.clear_embeddings(self._database)

    def prune_vector_log(self, keep: int) -> None:
        """Forget all but the last ``keep`` embedding changes (caches older than that rebuild)."""
        embedding_rows.prune_vector_log(self._database, keep)

    def vector_state(self) -> VectorState:
        """Return the embeddings' epoch and last change (what a vector cache is stamped with)."""
        return embedding_rows.vector_state(self._database)

    def embeddings(self, dimension: int) -> tuple[VectorState, np.ndarray, np.ndarray]:
        """Return (state, chunk ids as int64, float32 matrix) of every embedded chunk, consistently."""
        return embedding_rows.embeddings(self._database, dimension)

    def vector_mark(self, seq: int) -> int | None:
        """Return the random mark of embedding change ``seq`` (None if not logged)."""
        return embedding_rows.vector_mark(self._database, seq)

    def vector_changes(
        self, since: int, limit: int, mark: int | None = None
    ) -> VectorChanges | None:
        """Return embedding changes after change ``since`` (None when a full rebuild is due, or
        when change ``since`` is not the one marked ``mark``: another history)."""
        return embedding_rows.vector_changes(self._database, since, limit, mark)

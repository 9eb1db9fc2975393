"""The store of one server library: the local Store's calls, answered by PostgreSQL."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from qa_app.index.database import StoreMissing
from qa_app.index.schema import (
    LIBRARY_ID_KEY,
    Counts,
    Failure,
    KnownFile,
    PassageRow,
    PendingChunk,
    Root,
    VectorChanges,
    VectorState,
)
from qa_app.index.store import Store
from qa_app.records import Chunk, Document, DocumentInfo
from qa_app.server import reads, schema, writes
from qa_app.server.connection import Connections, translate_errors
from qa_app.server.settings import ServerSettings

if TYPE_CHECKING:
    import numpy as np
    import psycopg

__all__ = ["PgStore"]


class PgStore(Store):
    """One library in a PostgreSQL database: the local ``Store``'s calls over the server's tables.

    It stands where the library and the indexing run expect a ``Store`` (the same calls, the
    same records), so adding, syncing and removing work as they do locally; every one of the
    Store's members is answered here (tests/test_server_store.py checks none is left to SQLite).
    Reads use autocommit connections (one per thread): they never wait for a writer. Each
    write is one transaction on the writing connection, the one that holds the writer lock.
    """

    def __init__(self, settings: ServerSettings, name: str, *, create: bool = False) -> None:
        self.settings = settings
        self.name = name
        self.path = settings.masked  # type: ignore[assignment]  # named in error messages
        self.connections = Connections(settings)
        try:
            self.library_id = self._open(create)
        except BaseException:
            self.connections.close()
            raise

    def _open(self, create: bool) -> int:
        conn = self.connections.reader()
        with translate_errors(self.settings):
            have = schema.applied(conn)
            if have < schema.LATEST and not create:
                raise StoreMissing(self._missing())
            if have != schema.LATEST:  # behind: migrate; ahead (a newer qa-app): refused
                schema.migrate(conn, self.settings.masked)
            row = conn.execute(
                "SELECT id FROM qa_libraries WHERE name = %s", (self.name,)
            ).fetchone()
            if row is not None:
                return int(row[0])
            if not create:
                raise StoreMissing(self._missing())
            with conn.transaction():
                row = conn.execute(
                    "INSERT INTO qa_libraries(name) VALUES (%s) ON CONFLICT (name) DO UPDATE "
                    "SET name = excluded.name RETURNING id",
                    (self.name,),
                ).fetchone()
                assert row is not None
                conn.execute(
                    "INSERT INTO qa_meta(library_id, key, value) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (row[0], LIBRARY_ID_KEY, secrets.token_hex(16)),
                )
            return int(row[0])

    def _missing(self) -> str:
        return (
            f"there is no library called '{self.name}' on {self.settings.masked}; "
            f"'qa-app add --server … --library {self.name} PATH' makes one"
        )

    def close(self) -> None:
        """Close every connection (idempotent)."""
        self.connections.close()

    @property
    def writable(self) -> bool:
        """Return whether the writing connection is open."""
        return self.connections.writer_if_open() is not None

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """Return the writing connection's BEGIN … COMMIT context."""
        return self.connections.transaction()

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connections.query(sql, args)

    @contextlib.contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        with self.connections.transaction() as db:
            yield db

    # -- meta, roots, exclusions and failures -----------------------------------------------

    def meta(self) -> dict[str, str]:
        """Return every meta key/value of this library."""
        rows = self._query(
            "SELECT key, value FROM qa_meta WHERE library_id = %s", (self.library_id,)
        )
        return {str(k): str(v) for k, v in rows}

    def set_meta(self, db: Any, **values: str) -> None:
        """Set meta keys inside an open transaction (``db``: the writing connection)."""
        for key, value in values.items():
            db.execute(
                "INSERT INTO qa_meta(library_id, key, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (library_id, key) DO UPDATE SET value = excluded.value",
                (self.library_id, key, value),
            )

    def generation(self) -> int:
        """Return the library's generation: bumped by every write that changes passages."""
        return int(self.meta().get("generation", 0))

    def bump_generation(self, db: Any) -> None:
        """Increase the generation inside an open transaction."""
        writes.bump_generation(db, self.library_id)

    def roots(self) -> list[Root]:
        """Return every added file and folder."""
        rows = self._query(
            "SELECT path, kind FROM qa_roots WHERE library_id = %s ORDER BY path",
            (self.library_id,),
        )
        return [Root(str(p), str(k)) for p, k in rows]

    def add_root(self, path: str, kind: str) -> None:
        """Remember an added file or folder (and stop excluding it)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO qa_roots(library_id, path, kind, added) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (self.library_id, path, kind, time.time()),
            )
            db.execute(
                "DELETE FROM qa_exclusions WHERE library_id = %s AND path = %s",
                (self.library_id, path),
            )

    def remove_root(self, path: str) -> bool:
        """Forget an added file or folder; return True if it was there."""
        with self._write() as db:
            cur = db.execute(
                "DELETE FROM qa_roots WHERE library_id = %s AND path = %s", (self.library_id, path)
            )
            return cur.rowcount > 0

    def exclusions(self) -> list[str]:
        """Return the files and folders inside added folders that the user removed."""
        return reads.exclusions(self.connections, self.library_id)

    def set_excluded(self, paths: Iterable[str], excluded: bool) -> None:
        """Exclude (or include again) files or folders that lie inside added folders."""
        with self._write() as db:
            for path in paths:
                if excluded:
                    db.execute(
                        "INSERT INTO qa_exclusions(library_id, path, added) VALUES (%s, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        (self.library_id, path, time.time()),
                    )
                else:
                    db.execute(
                        "DELETE FROM qa_exclusions WHERE library_id = %s AND path = %s",
                        (self.library_id, path),
                    )

    def record_failure(
        self,
        path: str,
        reason: str,
        size: int | None,
        mtime: float | None,
        content_hash: str | None = None,
    ) -> None:
        """Remember that a file could not be indexed (its previous good version, if any, is kept)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO qa_failures(library_id, path, reason, size, mtime, at, content_hash) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (library_id, path) DO UPDATE "
                "SET reason = excluded.reason, size = excluded.size, mtime = excluded.mtime, "
                "at = excluded.at, content_hash = excluded.content_hash",
                (self.library_id, path, reason, size, mtime, time.time(), content_hash),
            )

    def failures(self) -> dict[str, Failure]:
        """Return the files that failed to index, by path."""
        return reads.failures(self.connections, self.library_id)

    def attachment_failures(self) -> dict[str, list[str]]:
        """Return, by message path, why its attachments could not be read."""
        return reads.attachment_failures(self.connections, self.library_id)

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
        """Store (insert or replace) a document, its passages and attachments in one transaction."""
        with self._write() as db:
            return writes.put_document(
                db,
                self.library_id,
                doc,
                chunks,
                size=size,
                mtime=mtime,
                content_hash=content_hash,
                attachments=attachments,
            )

    def mark_unread(self, formats: Sequence[str] | None) -> int:
        """Make the next sync read files again; return how many."""
        with self._write() as db:
            return writes.mark_unread(db, self.library_id, formats)

    def touch_document(self, path: str, size: int, mtime: float) -> None:
        """Record a new size/mtime for a document whose content hash did not change."""
        with self._write() as db:
            db.execute(
                "UPDATE qa_documents SET size = %s, mtime = %s WHERE library_id = %s AND path = %s",
                (size, mtime, self.library_id, path),
            )
            db.execute(
                "DELETE FROM qa_failures WHERE library_id = %s AND path = %s",
                (self.library_id, path),
            )

    def delete_documents(self, paths: Iterable[str]) -> list[str]:
        """Delete documents (and their passages and failures) by path in one transaction."""
        with self._write() as db:
            return writes.delete_documents(db, self.library_id, paths)

    def rechunk(self, doc_id: int, chunks: Sequence[Chunk]) -> None:
        """Replace one document's passages, keeping embeddings by text."""
        with self._write() as db:
            writes.rechunk(db, self.library_id, doc_id, chunks)

    # -- reading documents and passages -----------------------------------------------------

    def known_files(self) -> dict[str, KnownFile]:
        """Return what is stored of each indexed file, by path."""
        return reads.known_files(self.connections, self.library_id)

    def documents(self) -> list[DocumentInfo]:
        """Return every stored, failed and excluded document, sorted by path."""
        return reads.documents(self.connections, self.library_id)

    def document(self, doc_id: int) -> Document:
        """Return the stored Document; raise NotFound (a KeyError) if none has that id."""
        return reads.document(self.connections, self.library_id, doc_id)

    def document_text(self, doc_id: int) -> str:
        """Return a document's stored text; raise NotFound (a KeyError) if none has that id."""
        return reads.document_text(self.connections, self.library_id, doc_id)

    def document_ids(self) -> list[int]:
        """Return the ids of every stored document."""
        return reads.document_ids(self.connections, self.library_id)

    def counts(self) -> Counts:
        """Return (documents, chunks, chunks still waiting for an embedding)."""
        return reads.counts(self.connections, self.library_id)

    def passages(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        """Return the passage row of each given chunk id that still exists."""
        return reads.passages(self.connections, self.library_id, chunk_ids)

    def keyword_search(self, match: str, limit: int) -> list[tuple[int, float]]:
        """Unused on a server (ServerRetriever ranks in SQL); kept for the Store's shape."""
        raise NotImplementedError("a server library ranks in the database (ServerRetriever)")

    # -- embeddings -------------------------------------------------------------------------

    def pending_chunks(self, limit: int) -> list[PendingChunk]:
        """Return up to ``limit`` passages whose embedding is still missing, oldest first."""
        rows = self._query(
            "SELECT id, text FROM qa_chunks WHERE library_id = %s AND embedding IS NULL "
            "ORDER BY id LIMIT %s",
            (self.library_id, limit),
        )
        return [PendingChunk(int(r[0]), str(r[1])) for r in rows]

    def put_embeddings(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Store embeddings for passages in one transaction (the library's HNSW index follows)."""
        with self._write() as db:
            if len(ids):
                schema.create_vector_index(db, self.library_id, int(vectors.shape[1]))
            writes.put_embeddings(db, self.library_id, ids, vectors)

    def clear_embeddings(self) -> None:
        """Drop every embedding and its HNSW index (after a model change): all are re-embedded."""
        with self._write() as db:
            schema.drop_vector_indexes(db, self.library_id)
            db.execute(
                "UPDATE qa_chunks SET embedding = NULL WHERE library_id = %s", (self.library_id,)
            )
            writes.bump_generation(db, self.library_id)

    def embedding_dimension(self) -> int | None:
        """Return the dimension of this library's embeddings (None: none stored yet)."""
        rows = self._query(
            "SELECT vector_dims(embedding) FROM qa_chunks WHERE library_id = %s "
            "AND embedding IS NOT NULL LIMIT 1",
            (self.library_id,),
        )
        return int(rows[0][0]) if rows else None

    def analyze(self) -> None:
        """Re-sample the statistics of the tables a search reads (ANALYZE; a user who does not
        own them gets the server's warning and the statistics autovacuum keeps)."""
        with self._write() as db:
            db.execute("ANALYZE qa_documents, qa_chunks, qa_terms, qa_lexicon")

    def reindex_vectors(self) -> None:
        """Rebuild the library's HNSW index from its embeddings and drop the lexicon's empty
        words (``qa-app rebuild``)."""
        dimension = self.embedding_dimension()
        with self._write() as db:
            # Words no passage holds any more (the triggers only count them down).
            db.execute(
                "DELETE FROM qa_lexicon WHERE library_id = %s AND df <= 0", (self.library_id,)
            )
            schema.drop_vector_indexes(db, self.library_id)
            if dimension is not None:
                schema.create_vector_index(db, self.library_id, dimension)

    # The FAISS change log has no meaning here: the database's own index follows every write.
    def prune_vector_log(self, keep: int) -> None:
        """Nothing to prune: a server library has no vector cache to follow a log."""

    def vector_state(self) -> VectorState:
        """Return a state no local cache can follow (the server has none)."""
        return VectorState(0, -1, 0, None, self.meta().get(LIBRARY_ID_KEY))

    def embeddings(self, dimension: int) -> tuple[VectorState, np.ndarray, np.ndarray]:
        """Return (state, ids, matrix) of every embedded passage (reads them all: tools only)."""
        import numpy as np

        rows = self._query(
            "SELECT id, embedding::text FROM qa_chunks WHERE library_id = %s AND embedding IS "
            "NOT NULL ORDER BY id",
            (self.library_id,),
        )
        ids = np.array([int(r[0]) for r in rows], dtype=np.int64)
        matrix = np.array(
            [[float(x) for x in r[1].strip("[]").split(",")] for r in rows], dtype=np.float32
        ).reshape(len(rows), dimension)
        return self.vector_state(), ids, matrix

    def vector_mark(self, seq: int) -> int | None:
        """Return None: the server keeps no change log."""
        return None

    def vector_changes(
        self, since: int, limit: int, mark: int | None = None
    ) -> VectorChanges | None:
        """Return None (a full read is due): the server keeps no change log."""
        return None

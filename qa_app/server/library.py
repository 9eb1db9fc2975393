"""A library on a PostgreSQL server: the local Library's add, sync and remove over a PgStore."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from qa_app.chunking import ChunkSettings
from qa_app.index.library import Library
from qa_app.index.vectors import FaissIndex, VectorCache, empty_index
from qa_app.models.embedding import Embedder
from qa_app.records import SyncReport
from qa_app.server import ranking, saved
from qa_app.server.lock import AdvisoryWriterLock
from qa_app.server.settings import ServerSettings
from qa_app.server.store import PgStore

if TYPE_CHECKING:
    import numpy as np

    from qa_app.index.indexing import CancelFn, ProgressFn

# Passages embedded by one add or sync after which the server re-samples its statistics.
ANALYZE_AFTER = 1000


class ServerLibrary(Library):
    """One named library in a PostgreSQL database with pgvector.

    Adding, syncing, removing, OCR switches and manifest checks are the local library's own code
    over a ``PgStore``; what differs is here: the writer lock is a PostgreSQL advisory lock, the
    manifest lives only in the database, and the dense index is the server's HNSW index (no
    FAISS file). A local folder keeps the OCR cache of pages read on this computer.
    Raises StoreMissing when the library is not on the server and ``create`` is false,
    ServerError when the server cannot be reached or used.
    """

    def __init__(
        self,
        dsn: str,
        embedder: Embedder,
        *,
        name: str,
        chunking: ChunkSettings | None = None,
        create: bool = True,
    ) -> None:
        self.settings = ServerSettings(dsn)
        self.directory = saved.cache_dir(name, dsn)
        self.name = name
        self.embedder = embedder
        self.chunking = chunking or ChunkSettings()
        self.notices: list[str] = []
        self.store: PgStore = PgStore(self.settings, name, create=create)
        # Never written: Library's model-change step invalidates it, which deletes nothing here.
        self.vectors = VectorCache(self.directory, embedder.dimension, embedder.weights_hash)
        self._empty: FaissIndex | None = None
        self._ocr_cache = None
        self.needs_rebuild = self._check_manifest()

    @property
    def server(self) -> str:
        """Return the server as it may be shown (password masked)."""
        return self.settings.masked

    def writer(self) -> AdvisoryWriterLock:
        """Return the library's writer lock on the server (raises LibraryBusy when held)."""
        return AdvisoryWriterLock(self.store.connections, self.store.library_id, self.name)

    def _write_manifest(self) -> None:
        """Record the manifest in the database (the server keeps no manifest file).

        The local database's schema version is left out: the server's tables follow their own
        migration ledger (``schema.migrate``), so a new local schema never strands a team library.
        """
        want = self.manifest()
        values = {
            "model_name": str(want["model_name"]),
            "model_hash": str(want["model_hash"]),
            "dimension": str(want["dimension"]),
            "chunking": json.dumps(want["chunking"], sort_keys=True),
        }
        meta = self.store.meta()
        if any(meta.get(k) != v for k, v in values.items()):
            with self.store.transaction() as db:
                self.store.set_meta(db, **values)

    def _write_roots(self) -> None:
        """Nothing to copy: the server itself is where the roots are kept safe."""

    def _rebuild_store(self) -> None:
        """Empty the library on the server, keeping its roots, exclusions and OCR setting."""
        with self.store.transaction() as db:
            lib = self.store.library_id
            db.execute("DELETE FROM qa_documents WHERE library_id = %s", (lib,))
            db.execute("DELETE FROM qa_failures WHERE library_id = %s", (lib,))
            db.execute(
                "DELETE FROM qa_meta WHERE library_id = %s AND key NOT IN ('ocr', 'library_id')",
                (lib,),
            )
        self.store.clear_embeddings()

    def _indexed(self, report: SyncReport) -> SyncReport:
        """After a large write, have the server re-sample the tables' statistics (what
        autovacuum does a minute or more later): until then the planner still sees the library
        as it was, and searches over the new passages can take several times as long."""
        if report.chunks_embedded >= ANALYZE_AFTER:
            self.store.analyze()
        return report

    def rebuild(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> SyncReport:
        """Repair a manifest mismatch, bring the library up to date (a locked sync) and rebuild
        its HNSW index from the stored embeddings."""
        report = self.sync(progress, cancel)
        if not report.cancelled and self.needs_rebuild is None:
            with self.writer():
                self.store.reindex_vectors()
        return report

    # -- reading ----------------------------------------------------------------------------

    def vector_index(self) -> FaissIndex:
        """Return an empty index: a server library's dense side is ranked in the database."""
        if self._empty is None:
            self._empty = empty_index(self.embedder.dimension)
        return self._empty

    def has_vectors(self) -> bool:
        """Return whether dense search has embeddings of this app's model to search."""
        if self.needs_rebuild in ("model", "schema"):
            return False
        return self.store.embedding_dimension() == self.embedder.dimension

    def dense_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Return up to ``k`` (passage id, cosine similarity), ranked by the server's HNSW index."""
        if not self.has_vectors():
            return []
        store = self.store
        return ranking.ranked_list(
            store.connections, store.library_id, dim=self.embedder.dimension, vector=query, depth=k
        )

    def close(self) -> None:
        """Close the connections (and the OCR cache)."""
        if self._ocr_cache is not None:
            self._ocr_cache.close()
        self.store.close()

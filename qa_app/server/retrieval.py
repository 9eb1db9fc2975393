"""Hybrid search over a server library: the local Retriever's lists, ranked by PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa_app.contracts import DEFAULT_K
from qa_app.records import Passage
from qa_app.retrieval import Retriever, to_passages
from qa_app.server import ranking
from qa_app.server.library import ServerLibrary

if TYPE_CHECKING:
    import numpy as np

    from qa_app.contracts import Scope
    from qa_app.models.embedding import Embedder


# A scope is applied inside the database before ranking; each list is then read this deep (or
# the whole library, when smaller), as the local retriever reads its lists for a scope.
SCOPED_DEPTH = 5000


class ServerRetriever(Retriever):
    """Dense (pgvector HNSW, cosine) and keyword (BM25 over full text) lists fused by RRF.

    ``search`` ranks and fuses in one statement and returns the passages with it; ``rank``
    (benchmarks, evaluation) reads the two lists as the local retriever does and fuses them here,
    so both backends are compared by the same fusion. A scope is applied inside the database,
    before ranking: a question asked of one folder sees that folder's best passages.
    """

    def __init__(self, library: ServerLibrary, embedder: Embedder) -> None:
        super().__init__(library, embedder)
        self.server = library

    def _dimension(self) -> int | None:
        return self.embedder.dimension if self.server.has_vectors() else None

    def keyword(self, query: str, depth: int) -> list[tuple[int, float]]:
        """Return up to ``depth`` (passage id, BM25 score) for ``query``, best first."""
        store = self.server.store
        return ranking.ranked_list(store.connections, store.library_id, query=query, depth=depth)

    def dense(
        self, query: str, depth: int, *, vector: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Return up to ``depth`` (passage id, cosine) for ``query`` from the HNSW index."""
        dim = self._dimension()
        if dim is None:
            return []
        if vector is None:
            vector = self.embedder.encode([query])[0]
        store = self.server.store
        return ranking.ranked_list(
            store.connections, store.library_id, dim=dim, vector=vector, depth=depth
        )

    def search(
        self, query: str, k: int = DEFAULT_K, *, scope: Scope | None = None
    ) -> list[Passage]:
        """Return up to ``k`` passages for ``query`` (only from documents in ``scope``), dense and
        keyword lists fused by RRF in the database."""
        dim = self._dimension()
        vector = self.embedder.encode([query])[0] if dim is not None else None
        depth = self.depth(k)
        if scope:
            depth = max(depth, min(SCOPED_DEPTH, self.server.store.counts().chunks))
        store = self.server.store
        hits = ranking.fused(
            store.connections,
            store.library_id,
            dim=dim,
            vector=vector,
            query=query,
            k=k,
            depth=depth,
            scope=scope,
        )
        return to_passages([r for r, _ in hits], {r.chunk_id: row for r, row in hits})

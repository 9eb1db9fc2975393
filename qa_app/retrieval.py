"""Dense (FAISS) and keyword (BM25 over FTS5) retrieval, fused by reciprocal rank fusion."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa_app.contracts import DEFAULT_K, Scope
from qa_app.index.schema import PassageRow
from qa_app.records import Passage
from qa_app.text_norm import STOPWORDS  # function words carry no evidence in an OR query

if TYPE_CHECKING:
    import numpy as np

    from qa_app.index.library import Library
    from qa_app.models.embedding import Embedder

RRF_K = 60  # the constant from Cormack et al. (2009); robust across collections
MIN_DEPTH = 50  # each list is read at least this deep before fusion (3k when k is larger)
# A scoped search reads both lists this deep (or the whole library, when smaller) and keeps the
# passages in scope, so a question asked of one folder still finds its passages in a big library.
SCOPED_DEPTH = 5000

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def keyword_query(text: str) -> str:
    """Return an FTS5 MATCH expression (quoted terms joined by OR) for free text; "" if no terms."""
    terms: list[str] = []
    for word in _WORD_RE.findall(text.lower()):
        if word in STOPWORDS or word in terms:
            continue
        terms.append(word)
    if not terms:  # a question made only of stopwords still deserves a search
        terms = list(dict.fromkeys(_WORD_RE.findall(text.lower())))
    return " OR ".join(f'"{t}"' for t in terms)


@dataclass(frozen=True)
class Ranked:
    """A chunk id with its fused score and its rank in each list (1-based, None if absent)."""

    chunk_id: int
    score: float
    dense_rank: int | None
    keyword_rank: int | None


def fuse(
    dense: Sequence[tuple[int, float]],
    keyword: Sequence[tuple[int, float]],
    k: int,
    *,
    rrf_k: int = RRF_K,
) -> list[Ranked]:
    """Return the top ``k`` chunks by reciprocal rank fusion of two ranked lists (best first)."""
    dense_rank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
    keyword_rank = {cid: r for r, (cid, _) in enumerate(keyword, 1)}
    fused: list[Ranked] = []
    for cid in dense_rank.keys() | keyword_rank.keys():
        dr, kr = dense_rank.get(cid), keyword_rank.get(cid)
        score = (1.0 / (rrf_k + dr) if dr else 0.0) + (1.0 / (rrf_k + kr) if kr else 0.0)
        fused.append(Ranked(cid, score, dr, kr))
    fused.sort(key=lambda r: (-r.score, min(r.dense_rank or 10**9, r.keyword_rank or 10**9)))
    return fused[:k]


def to_passages(ranked: Sequence[Ranked], rows: Mapping[int, PassageRow]) -> list[Passage]:
    """Return Passages for ranked chunk ids, from the store's passage rows."""
    passages = []
    for item in ranked:
        row = rows.get(item.chunk_id)
        if row is None:  # removed between the search and the lookup
            continue
        passages.append(
            Passage(
                chunk_id=item.chunk_id,
                doc_id=row.doc_id,
                path=row.path,
                title=row.title,
                page=row.page,
                start=row.start,
                end=row.end,
                text=row.text,
                score=item.score,
                dense_rank=item.dense_rank,
                keyword_rank=item.keyword_rank,
                ocr=row.ocr,
                attachment=row.attachment,
            )
        )
    return passages


@dataclass(frozen=True)
class Rankings:
    """One query's ranked lists: dense and keyword (chunk id, score) best first, and their fusion."""

    dense: list[tuple[int, float]]
    keyword: list[tuple[int, float]]
    fused: list[Ranked]


class Retriever:
    """Hybrid search over one library: dense (FAISS) and keyword (BM25) lists fused by RRF.

    The engine's search and the benchmarks all go through here, so they rank the same way.
    """

    def __init__(self, library: Library, embedder: Embedder) -> None:
        self.library = library
        self.embedder = embedder

    @staticmethod
    def depth(k: int) -> int:
        """Return how deep each list is read to fuse a top-``k``."""
        return max(MIN_DEPTH, 3 * k)

    def keyword(self, query: str, depth: int) -> list[tuple[int, float]]:
        """Return up to ``depth`` (chunk id, BM25 score) for ``query``, best first."""
        return self.library.store.keyword_search(keyword_query(query), depth)

    def dense(
        self, query: str, depth: int, *, vector: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Return up to ``depth`` (chunk id, cosine) for ``query`` (or its precomputed ``vector``)."""
        if not self.library.has_vectors():
            return []
        if vector is None:
            vector = self.embedder.encode([query])[0]
        # Updated and searched under one lock: never an index another thread is changing.
        return self.library.dense_search(vector, depth)

    def rank(
        self,
        query: str,
        k: int = DEFAULT_K,
        *,
        depth: int | None = None,
        vector: np.ndarray | None = None,
    ) -> Rankings:
        """Return both lists (``depth`` deep, default ``depth(k)``) and their fused top ``k``."""
        depth = depth or self.depth(k)
        keyword = self.keyword(query, depth)
        dense = self.dense(query, depth, vector=vector)
        return Rankings(dense, keyword, fuse(dense, keyword, k))

    def passages(self, ranked: Sequence[Ranked]) -> list[Passage]:
        """Return the Passages of ``ranked`` chunks in order (chunks removed meanwhile are skipped)."""
        return to_passages(ranked, self.library.store.passages([r.chunk_id for r in ranked]))

    def search(
        self, query: str, k: int = DEFAULT_K, *, scope: Scope | None = None
    ) -> list[Passage]:
        """Return up to ``k`` passages for ``query``, dense and keyword results fused (only
        passages of documents in ``scope``, when given)."""
        if not scope:
            return self.passages(self.rank(query, k).fused)
        depth = max(self.depth(k), min(SCOPED_DEPTH, self.library.store.counts().chunks))
        ranked = self.rank(query, depth, depth=depth)
        ids = {cid for cid, _ in ranked.dense} | {cid for cid, _ in ranked.keyword}
        rows = {
            cid: row
            for cid, row in self.library.store.passages(sorted(ids)).items()
            if scope.admits(row.path, row.attachment)
        }
        dense = [hit for hit in ranked.dense if hit[0] in rows]
        keyword = [hit for hit in ranked.keyword if hit[0] in rows]
        return to_passages(fuse(dense, keyword, k), rows)

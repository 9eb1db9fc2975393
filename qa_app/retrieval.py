"""Dense (FAISS) and keyword (BM25 over FTS5) retrieval, fused by reciprocal rank fusion."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa_app.records import Passage
from qa_app.store_schema import PassageRow

RRF_K = 60  # the constant from Cormack et al. (2009); robust across collections

_WORD_RE = re.compile(r"\w+", re.UNICODE)
# Function words carry no evidence in an OR query and only slow BM25 down.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves""".split()  # noqa: SIM905
)


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
            )
        )
    return passages

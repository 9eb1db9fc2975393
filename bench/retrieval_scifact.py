"""Retrieval quality on BEIR SciFact test queries: nDCG@10 and Recall@100 for BM25, dense, hybrid.

Usage: python bench/retrieval_scifact.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import scifact_corpus, scifact_queries, write_corpus  # noqa: E402


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    dcg = sum(grades.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], grades: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def docs_from_chunks(chunk_ids: list[int], doc_of: dict[int, str]) -> list[str]:
    """Collapse a chunk ranking to a document ranking (first occurrence wins)."""
    return list(dict.fromkeys(doc_of[c] for c in chunk_ids if c in doc_of))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-scifact-"))
    os.environ.setdefault("QA_APP_HOME", str(work / "home"))

    from qa_app.engine import Engine
    from qa_app.retrieval import Ranked, Retriever

    def doc_names(retriever: Retriever, chunk_ids: set[int]) -> dict[int, str]:
        """Return {chunk id: its document's name} (the SciFact doc id is the file's stem)."""
        unranked = [Ranked(cid, 0.0, None, None) for cid in sorted(chunk_ids)]
        return {p.chunk_id: Path(p.path).stem for p in retriever.passages(unranked)}

    folder = write_corpus(scifact_corpus(args.data / "scifact"), work / "scifact-files")
    queries, qrels = scifact_queries(args.data / "scifact")
    depth = 300
    with Engine("scifact", embedder=None) as eng:
        eng.add([folder])
        chunks = eng.library.store.counts()[1]
        retriever = eng.retriever  # the ranking the app's search uses, read 300 deep
        doc_of: dict[int, str] = {}
        vectors = eng.embedder.encode(list(queries.values()))
        scores: dict[str, list[tuple[float, float]]] = {"bm25": [], "dense": [], "hybrid": []}
        for (qid, text), vector in zip(queries.items(), vectors, strict=True):
            ranks = retriever.rank(text, depth, depth=depth, vector=vector)
            rankings = {
                "bm25": [c for c, _ in ranks.keyword],
                "dense": [c for c, _ in ranks.dense],
                "hybrid": [r.chunk_id for r in ranks.fused],
            }
            seen = {c for ranking in rankings.values() for c in ranking}
            doc_of.update(doc_names(retriever, seen - doc_of.keys()))
            for name, ranking in rankings.items():
                ranked = docs_from_chunks(ranking, doc_of)
                scores[name].append((ndcg_at(ranked, qrels[qid]), recall_at(ranked, qrels[qid])))
    print(f"SciFact test: {len(queries)} queries, {chunks} chunks")
    print(f"{'method':8} {'nDCG@10':>8} {'R@100':>8}")
    for name, rows in scores.items():
        n = len(rows)
        print(f"{name:8} {sum(r[0] for r in rows) / n:8.3f} {sum(r[1] for r in rows) / n:8.3f}")
    print("published BM25 (BEIR): nDCG@10 0.665")


if __name__ == "__main__":
    main()

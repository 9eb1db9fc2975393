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
    from qa_app.retrieval import fuse, keyword_query
    from qa_app.vectors import search as dense_search

    folder = write_corpus(scifact_corpus(args.data / "scifact"), work / "scifact-files")
    queries, qrels = scifact_queries(args.data / "scifact")
    depth = 300
    with Engine("scifact", embedder=None) as eng:
        eng.add([folder])
        store = eng.library.store
        doc_of = {
            cid: Path(path).stem
            for cid, path in store._query(
                "SELECT c.id, d.path FROM chunks c JOIN documents d ON d.id = c.doc_id"
            )
        }
        index = eng.library.vector_index()
        texts = list(queries.values())
        vectors = eng.embedder.encode(texts)
        scores: dict[str, list[tuple[float, float]]] = {"bm25": [], "dense": [], "hybrid": []}
        for (qid, text), vector in zip(queries.items(), vectors, strict=True):
            keyword = store.keyword_search(keyword_query(text), depth)
            dense = dense_search(index, vector, depth)
            hybrid = [r.chunk_id for r in fuse(dense, keyword, depth)]
            for name, ranking in (
                ("bm25", [c for c, _ in keyword]),
                ("dense", [c for c, _ in dense]),
                ("hybrid", hybrid),
            ):
                ranked = docs_from_chunks(ranking, doc_of)
                scores[name].append((ndcg_at(ranked, qrels[qid]), recall_at(ranked, qrels[qid])))
    print(f"SciFact test: {len(queries)} queries, {len(doc_of)} chunks")
    print(f"{'method':8} {'nDCG@10':>8} {'R@100':>8}")
    for name, rows in scores.items():
        n = len(rows)
        print(f"{name:8} {sum(r[0] for r in rows) / n:8.3f} {sum(r[1] for r in rows) / n:8.3f}")
    print("published BM25 (BEIR): nDCG@10 0.665")


if __name__ == "__main__":
    main()

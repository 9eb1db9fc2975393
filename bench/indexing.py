"""Indexing throughput vs plain SentenceTransformer.encode, re-sync time, search latency, peak RSS.

Usage: python bench/indexing.py --data ../shared/data [--corpus squad|scifact|both] [--synthetic 200000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import (  # noqa: E402
    scifact_corpus,
    scifact_queries,
    squad_paragraphs,
    squad_questions,
    write_corpus,
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def search_latency(eng, queries: list[str]) -> tuple[float, float]:
    """Median and 95th percentile (ms) of a top-10 search over up to 300 queries, after 5 warm-up."""
    for q in queries[:5]:
        eng.search(q, 10)
    lat = []
    for q in queries[:300]:
        started = time.perf_counter()
        eng.search(q, 10)
        lat.append((time.perf_counter() - started) * 1e3)
    return percentiles(lat)


def chunk_texts(eng) -> list[str]:
    """Return every embedded chunk's text in id order, read through the engine's Retriever."""
    from qa_app.retrieval import Ranked

    ids, _ = eng.library.store.embeddings(eng.embedder.dimension)
    order = sorted(int(i) for i in ids)
    texts: list[str] = []
    for start in range(0, len(order), 5000):  # below SQLite's limit of bound parameters
        batch = [Ranked(cid, 0.0, None, None) for cid in order[start : start + 5000]]
        texts += [p.text for p in eng.retriever.passages(batch)]
    return texts


def bench_corpus(name: str, items: list[tuple[str, str]], queries: list[str], work: Path) -> None:
    from qa_app.embedding import SentenceTransformerEmbedder, load_sentence_transformer
    from qa_app.engine import Engine

    folder = write_corpus(items, work / f"{name}-files")
    embedder = SentenceTransformerEmbedder()
    embedder.encode(["warm up"])  # model load is not indexing
    rss_before = rss_mb()
    with Engine(f"bench-{name}", embedder=embedder) as eng:
        started = time.perf_counter()
        report = eng.add([folder])
        eng.library.vector_index()  # building the FAISS index is part of indexing
        pipeline_s = time.perf_counter() - started
        rss_after = rss_mb()
        _, chunks, _ = eng.library.store.counts()
        texts = chunk_texts(eng)

        model = load_sentence_transformer()
        started = time.perf_counter()
        model.encode(texts, batch_size=32, normalize_embeddings=True)  # type: ignore[attr-defined]
        encode_s = time.perf_counter() - started

        resync = []
        for _ in range(3):
            started = time.perf_counter()
            again = eng.sync()
            resync.append(time.perf_counter() - started)
            assert again.chunks_embedded == 0 and not again.added and not again.updated

        p50, p95 = search_latency(eng, queries)
    print(f"\n== {name}: {len(items)} files, {chunks} chunks, failed {len(report.failed)}")
    print(
        f"pipeline (parse+chunk+store+embed+index): {pipeline_s:.1f}s = {chunks / pipeline_s:.1f} chunks/s"
    )
    print(
        f"plain SentenceTransformer.encode:          {encode_s:.1f}s = {chunks / encode_s:.1f} chunks/s"
    )
    print(f"throughput ratio pipeline/encode: {encode_s / pipeline_s:.3f}")
    print(f"re-sync unchanged: median {statistics.median(resync):.3f}s over {len(resync)} runs")
    print(
        f"search k=10 hybrid warm: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {min(len(queries), 300)} queries"
    )
    print(
        f"peak RSS: {rss_after:.0f} MB after indexing (was {rss_before:.0f} MB with the model loaded)"
    )


def bench_synthetic(count: int, queries: list[str], texts: list[str], work: Path) -> None:
    """A synthetic library of ``count`` chunks: real texts recycled, random unit vectors."""
    import numpy as np

    from qa_app.chunking import chunk_document
    from qa_app.embedding import SentenceTransformerEmbedder
    from qa_app.engine import Engine
    from qa_app.records import Block, Document

    embedder = SentenceTransformerEmbedder()
    with Engine("bench-synthetic", embedder=embedder) as eng:
        store = eng.library.store
        rng = np.random.default_rng(0)
        started = time.perf_counter()
        made = 0
        doc_no = 0
        while made < count:
            body = texts[doc_no % len(texts)]
            doc = Document(
                f"/synthetic/{doc_no}.txt", f"s{doc_no}", "txt", body, (Block(0, len(body)),)
            )
            chunks = chunk_document(doc)
            store.put_document(doc, chunks, size=len(body), mtime=0.0, content_hash=str(doc_no))
            made += len(chunks)
            doc_no += 1
            if doc_no % 2000 == 0 or made >= count:
                pending = store.pending_chunks(10**7)
                vecs = rng.standard_normal((len(pending), embedder.dimension)).astype(np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                store.put_embeddings([cid for cid, _ in pending], vecs)
        built = time.perf_counter() - started
        started = time.perf_counter()
        index = eng.library.vector_index()
        index_s = time.perf_counter() - started
        p50, p95 = search_latency(eng, queries)
    print(
        f"\n== synthetic: {made} chunks in {doc_no} docs (store {built:.0f}s, FAISS {type(index).__name__} {index_s:.1f}s)"
    )
    print(
        f"search k=10 hybrid warm: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {min(len(queries), 300)} queries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--corpus", choices=["squad", "scifact", "both", "none"], default="both")
    parser.add_argument("--synthetic", type=int, default=0, help="chunks in a synthetic library")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temp dir)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-bench-"))
    os.environ.setdefault("QA_APP_HOME", str(work / "home"))
    dev = args.data / "squad" / "dev-v1.1.json"
    sq_queries = squad_questions(dev)[::35]
    if args.corpus in ("squad", "both"):
        bench_corpus("squad-dev", squad_paragraphs(dev), sq_queries, work)
    if args.corpus in ("scifact", "both"):
        queries, _ = scifact_queries(args.data / "scifact")
        bench_corpus("scifact", scifact_corpus(args.data / "scifact"), list(queries.values()), work)
    if args.synthetic:
        texts = [t for _, t in squad_paragraphs(dev)]
        bench_synthetic(args.synthetic, sq_queries, texts, work)


if __name__ == "__main__":
    main()

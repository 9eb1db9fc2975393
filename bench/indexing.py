"""Indexing throughput vs plain SentenceTransformer.encode, re-sync time, search latency, peak RSS.

Also: search latency while another process indexes (--live), and the time to add 1,000 passages to
a synthetic library (--synthetic N).

Usage: python bench/indexing.py --data ../shared/data [--corpus squad|scifact|both|none] [--live]
       [--synthetic 200000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this tree's qa_app, not another

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


def search_latency(eng, queries: list[str], limit: int = 300) -> tuple[float, float]:
    """Median and 95th percentile (ms) of a top-10 search over up to ``limit`` queries, after 5 warm-up."""
    for q in queries[:5]:
        eng.search(q, 10)
    lat = []
    for q in queries[:limit]:
        started = time.perf_counter()
        eng.search(q, 10)
        lat.append((time.perf_counter() - started) * 1e3)
    return percentiles(lat)


def chunk_texts(eng) -> list[str]:
    """Return every embedded chunk's text in id order, read through the engine's Retriever."""
    from qa_app.retrieval import Ranked

    _, ids, _ = eng.library.store.embeddings(eng.embedder.dimension)
    order = sorted(int(i) for i in ids)
    texts: list[str] = []
    for start in range(0, len(order), 5000):  # below SQLite's limit of bound parameters
        batch = [Ranked(cid, 0.0, None, None) for cid in order[start : start + 5000]]
        texts += [p.text for p in eng.retriever.passages(batch)]
    return texts


def bench_corpus(name: str, items: list[tuple[str, str]], queries: list[str], work: Path) -> None:
    from qa_app.engine import Engine
    from qa_app.models.embedding import MiniLMEmbedder, load_sentence_transformer

    folder = write_corpus(items, work / f"{name}-files")
    embedder = MiniLMEmbedder()
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
    from qa_app.engine import Engine
    from qa_app.models.embedding import MiniLMEmbedder
    from qa_app.records import Block, Document

    embedder: object = MiniLMEmbedder()
    if os.environ.get("BENCH_FAKE_EMBEDDER"):
        from qa_app.testing import FakeEmbedder

        embedder = FakeEmbedder(384)
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
        limit = int(os.environ.get("BENCH_QUERIES", "300"))
        p50, p95 = search_latency(eng, queries, limit)
        print(
            f"\n== synthetic: {made} chunks in {doc_no} docs (store {built:.0f}s, FAISS {type(index).__name__} {index_s:.1f}s)"
        )
        print(
            f"search k=10 hybrid warm: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {min(len(queries), limit)} queries"
        )
        # The same with another process busy on one core (a desktop is never idle).
        busy = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
        try:
            p50, p95 = search_latency(eng, queries, limit)
        finally:
            busy.kill()
            busy.wait()
        print(f"search k=10 hybrid warm, one core busy: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        bench_add_to(eng, texts, 1000, work)


LIVE_WORKER = """
import sys
from qa_app.models.embedding import MiniLMEmbedder
from qa_app.engine import Engine
with Engine(sys.argv[1], embedder=MiniLMEmbedder()) as eng:
    print("started", flush=True)
    report = eng.add([sys.argv[2]])
print("done", len(report.added), report.chunks_embedded, flush=True)
"""


def bench_live(items: list[tuple[str, str]], queries: list[str], work: Path) -> None:
    """Search from this process while another process indexes ``items`` into the same library."""
    from qa_app.engine import Engine
    from qa_app.models.embedding import MiniLMEmbedder

    folder = write_corpus(items, work / "live-files")
    embedder = MiniLMEmbedder()
    embedder.encode(["warm up"])
    worker = subprocess.Popen(
        [sys.executable, "-c", LIVE_WORKER, "bench-live", str(folder)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "started"
    started = time.perf_counter()
    lat: list[float] = []
    errors: dict[str, int] = {}
    seen: list[int] = []
    with Engine("bench-live", embedder=embedder) as eng:
        i = 0
        while worker.poll() is None:
            q = queries[i % len(queries)]
            i += 1
            t0 = time.perf_counter()
            try:
                hits = eng.search(q, 10)
            except Exception as exc:  # noqa: BLE001 - counted and reported, the loop goes on
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                time.sleep(0.05)
                continue
            lat.append((time.perf_counter() - t0) * 1e3)
            seen.append(len(hits))
    indexing_s = time.perf_counter() - started
    tail = worker.stdout.read().strip()
    worker.wait()
    print(f"\n== live: {len(items)} files indexed by another process in {indexing_s:.0f}s ({tail})")
    if lat:
        p50, p95 = percentiles(lat)
        print(
            f"search k=10 while indexing: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(lat):.0f} ms "
            f"over {len(lat)} searches; errors {errors or 0}"
        )
    else:
        print(f"search k=10 while indexing: no search finished; errors {errors or 0}")


def bench_add_to(eng, texts: list[str], want: int, work: Path) -> None:
    """Time adding files that make ``want`` passages to the open (large) library."""
    from qa_app.chunking import chunk_document
    from qa_app.records import Block, Document

    folder = work / "add-files"
    folder.mkdir(parents=True, exist_ok=True)
    made = 0
    for n, body in enumerate(reversed(texts)):
        if made >= want:
            break
        doc = Document(f"x{n}.txt", "x", "txt", body, (Block(0, len(body)),))
        made += len(chunk_document(doc))
        (folder / f"new{n:05}.txt").write_text(body + "\n", encoding="utf-8")
    encode = eng.embedder.encode
    spent = [0.0]

    def timed_encode(batch, **kw):
        t0 = time.perf_counter()
        try:
            return encode(batch, **kw)
        finally:
            spent[0] += time.perf_counter() - t0

    eng.embedder.encode = timed_encode
    started = time.perf_counter()
    report = eng.add([folder])
    added_s = time.perf_counter() - started
    eng.search("when did the new passages arrive", 10)  # the first search sees them
    total_s = time.perf_counter() - started
    eng.embedder.encode = encode
    print(
        f"add {report.chunks_embedded} passages ({len(report.added)} files, {len(report.failed)} failed) to the library: "
        f"{total_s:.1f}s until searchable (add {added_s:.1f}s, of which encode {spent[0]:.1f}s; "
        f"first search after it {total_s - added_s:.1f}s); without encoding: {total_s - spent[0]:.1f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--corpus", choices=["squad", "scifact", "both", "none"], default="both")
    parser.add_argument("--synthetic", type=int, default=0, help="chunks in a synthetic library")
    parser.add_argument(
        "--live", action="store_true", help="search SQuAD dev while another process indexes it"
    )
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
    if args.live:
        files = int(os.environ.get("BENCH_LIVE_FILES", "0")) or None
        bench_live(squad_paragraphs(dev)[:files], sq_queries, work)
    if args.synthetic:
        texts = [t for _, t in squad_paragraphs(dev)]
        bench_synthetic(args.synthetic, sq_queries, texts, work)


if __name__ == "__main__":
    main()

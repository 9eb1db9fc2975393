"""Speed at the same answers: ONNX Runtime (shipped) beside torch fp32, start-up breakdown, indexing.

Usage: python bench/speed.py --data ../shared/data [--paragraphs 2000 --questions 200
       --reader-same 2000 --reader-f1 2000 --runs 5 --threads 1]
       python bench/speed.py --write-fixture tests/fixtures/onnx_fidelity   (torch fp32 reference)

Prints, in one run: the fidelity/speed table (embedding speed ratio, cosine mean/min, top-10
overlap, reader F1 with the gold paragraph and reader speed ratio), warm `ask` and query-embedding
p50 with another process busy on one core, the cold start breakdown and `qa-app ask`/`list` wall
times, and the indexing ratio. Model comparisons run in one process, interleaved batch by batch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
QUESTION = "When did Russia receive the first shipment?"


def squad(path: Path, limit_paragraphs: int) -> tuple[list[str], list[dict]]:
    """Return the first paragraphs of a SQuAD file and its questions with their paragraph index."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs: list[str] = []
    questions: list[dict] = []
    for article in data:
        for para in article["paragraphs"]:
            if len(paragraphs) >= limit_paragraphs:
                return paragraphs, questions
            for qa in para["qas"]:
                golds = [a["text"] for a in qa["answers"]]
                questions.append({"q": qa["question"], "p": len(paragraphs), "golds": golds})
            paragraphs.append(para["context"])
    return paragraphs, questions


def encoders() -> tuple[object, object]:
    """Return (ONNX encoder, reference SentenceTransformer) over the same verified weights."""
    from qa_app.models.embedding import base_weights, load_sentence_transformer, verify_model
    from qa_app.models.onnx_runtime import OnnxSentenceEncoder

    return OnnxSentenceEncoder(verify_model(), base_weights()), load_sentence_transformer()


def encode_paired(fast: object, ref: object, texts: list[str], step: int = 128):
    """Encode ``texts`` with both encoders, alternating per slice; return vectors and seconds."""
    import numpy as np

    out = {"fast": [], "ref": []}
    secs = {"fast": 0.0, "ref": 0.0}
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # as the app's embedder
    for lo in range(0, len(order), step):
        batch = [texts[i] for i in order[lo : lo + step]]
        for name, enc in (
            (("ref", ref), ("fast", fast)) if lo % (2 * step) else (("fast", fast), ("ref", ref))
        ):
            started = time.perf_counter()
            # Each with its own batch size: sentence-transformers' 32, the ONNX encoder's own.
            sizing = {} if name == "fast" else {"batch_size": 32}
            vecs = enc.encode(batch, **sizing, normalize_embeddings=True,  # type: ignore[attr-defined]
                              convert_to_numpy=True, show_progress_bar=False)  # fmt: skip
            secs[name] += time.perf_counter() - started
            out[name].append(vecs)
    inverse = np.argsort(order)
    return {k: np.concatenate(v)[inverse] for k, v in out.items()}, secs


def embed_table(paragraphs: list[str], questions: list[str]) -> dict:
    import numpy as np

    fast, ref = encoders()
    fast.encode(["warm up"]), ref.encode(["warm up"])  # type: ignore[attr-defined]
    p_vecs, p_secs = encode_paired(fast, ref, paragraphs)
    q_vecs, _ = encode_paired(fast, ref, questions, step=50)
    cos = np.concatenate(
        [(p_vecs["fast"] * p_vecs["ref"]).sum(1), (q_vecs["fast"] * q_vecs["ref"]).sum(1)]
    )
    overlap = []
    for i in range(len(questions)):
        top = [set(np.argsort(-(p_vecs[k] @ q_vecs[k][i]))[:10]) for k in ("fast", "ref")]
        overlap.append(len(top[0] & top[1]) / 10)
    return {
        "embed_speed_ratio": p_secs["ref"] / p_secs["fast"],
        "ref_passages_per_s": len(paragraphs) / p_secs["ref"],
        "fast_passages_per_s": len(paragraphs) / p_secs["fast"],
        "cos_mean": float(cos.mean()), "cos_min": float(cos.min()),
        "top10_overlap": float(np.mean(overlap)), "top10_identical": sum(o == 1.0 for o in overlap),
        "n_questions": len(questions), "n_paragraphs": len(paragraphs),
    }  # fmt: skip


def best_answer(loaded, question: str, text: str) -> str:
    from qa_app.reader.spans import find_candidates

    found = [c for c in find_candidates(loaded, question, [text]) if c.end > c.start]
    if not found:
        return ""
    best = max(found, key=lambda c: c.margin)
    return text[best.start : best.end]


READER_VARIANTS = (("torch", "fp32"), ("onnx", "fp32"), ("onnx", "int8"))


def reader_table(paragraphs: list[str], questions: list[dict], n_same: int, n_f1: int) -> dict:
    """Return, for each ONNX reader variant against the torch fp32 reference: same answers, F1
    with the gold paragraph, and the speed ratio (the variants take turns question by question)."""
    from qa_app.evaluation.metrics import f1_score
    from qa_app.reader.neural import load

    models = {v: load(backend=v[0], precision=v[1]) for v in READER_VARIANTS}
    for model in models.values():
        best_answer(model, QUESTION, paragraphs[0])
    secs = dict.fromkeys(models, 0.0)
    same = dict.fromkeys(models, 0)
    f1: dict[tuple[str, str], list[float]] = {v: [] for v in models}
    names = list(models)
    for i, item in enumerate(questions[:n_same]):
        answers = {}
        for name in names[i % len(names) :] + names[: i % len(names)]:
            started = time.perf_counter()
            answers[name] = best_answer(models[name], item["q"], paragraphs[item["p"]])
            secs[name] += time.perf_counter() - started
        for name in names:
            same[name] += answers[name] == answers[READER_VARIANTS[0]]
            if i < n_f1:
                f1[name].append(f1_score(answers[name], item["golds"]))
    ref = READER_VARIANTS[0]
    return {
        "n": min(n_same, len(questions)), "f1_n": len(f1[ref]),
        "rows": {v: {"same": same[v], "f1": 100 * statistics.mean(f1[v]),
                     "speed": secs[ref] / secs[v], "ci": paired_interval(f1[v], f1[ref])}
                 for v in names},
    }  # fmt: skip


def paired_interval(a: list[float], b: list[float], rounds: int = 1000) -> tuple[float, float]:
    """Return the 95% bootstrap interval of mean(a) - mean(b) over paired questions, in F1 points."""
    import numpy as np

    diff = np.asarray(a) - np.asarray(b)
    rng = np.random.default_rng(0)
    means = np.sort(diff[rng.integers(0, len(diff), (rounds, len(diff)))].mean(axis=1))
    return 100 * float(means[int(0.025 * rounds)]), 100 * float(means[int(0.975 * rounds)])


# -- start-up ---------------------------------------------------------------------------------------
CHILD = r"""
import json, os, sys, time
stamps = [("start", time.time())]
sys.path.insert(0, sys.argv[1])
from qa_app.models import threads
threads.configure()
from qa_app.engine import Engine
stamps.append(("import app", time.time()))
engine = Engine(); engine.ensure_ready()
stamps.append(("open library", time.time()))
engine.embedder.encode(["warm up"])
stamps.append(("embedder load", time.time()))
engine.reader().warm_up()
stamps.append(("reader load", time.time()))
result = engine.ask(sys.argv[2])
stamps.append(("first ask", time.time()))
engine.close()
print(json.dumps({"stamps": stamps, "answer": result.answer.text if result.answer else None}), flush=True)
if sys.argv[3] == "fast":
    os._exit(0)
"""


def startup(runs: int) -> dict:
    """Return median seconds per cold-start stage, per backend, and the teardown with/without os._exit."""
    out: dict = {}
    for _ in range(runs):
        for backend, exit_mode in (("onnx", "fast"), ("torch", "normal"), ("onnx", "normal")):
            env = dict(os.environ, QA_APP_BACKEND=backend)
            spawned = time.time()
            proc = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), QUESTION, exit_mode],
                                  capture_output=True, text=True, env=env)  # fmt: skip
            ended = time.time()
            data = json.loads(proc.stdout.strip().splitlines()[-1])
            stamps = data["stamps"]
            stages = {"interpreter": stamps[0][1] - spawned}
            stages |= {name: t - stamps[i][1] for i, (name, t) in enumerate(stamps[1:])}
            stages["teardown"] = ended - stamps[-1][1] - 0  # after the last stamp until exit
            stages["total"] = ended - spawned
            out.setdefault(f"{backend}/{exit_mode}", []).append(stages)
    return {
        k: {s: statistics.median(v[s] for v in rows) for s in rows[0]} for k, rows in out.items()
    }


def cli_wall(runs: int) -> dict:
    """Median wall seconds of `qa-app ask` (per backend) and `qa-app list`, run as a user would."""
    times: dict[str, list[float]] = {}
    commands = {
        "ask onnx": (["ask", QUESTION, "-q"], "onnx"),
        "ask torch": (["ask", QUESTION, "-q"], "torch"),
        "list": (["list", "-q"], "onnx"),
    }
    for _ in range(runs):
        for name, (args, backend) in commands.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "qa_app.cli.commands", *args], capture_output=True, cwd=ROOT,
                           env=dict(os.environ, QA_APP_BACKEND=backend), check=True)  # fmt: skip
            times.setdefault(name, []).append(time.perf_counter() - started)
    return {k: statistics.median(v) for k, v in times.items()}


WARM = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from qa_app.engine import Engine
qs = [json.loads(l)["question"] for l in open(sys.argv[2], encoding="utf-8")][:20]
e = Engine(); e.ensure_ready(); e.warm_up()
for q in qs[:3]: e.ask(q)
ask, emb = [], []
for q in qs:
    s = time.perf_counter(); e.ask(q); ask.append(time.perf_counter() - s)
    s = time.perf_counter(); e.embedder.encode([q]); emb.append(time.perf_counter() - s)
e.close()
print(json.dumps({"ask_p50_ms": statistics.median(ask) * 1e3, "embed_p50_ms": statistics.median(emb) * 1e3}))
"""


WARM_VARIANTS = {
    "onnx (int8 reader, shipped)": {"QA_APP_BACKEND": "onnx", "QA_APP_READER_PRECISION": "int8"},
    "onnx (fp32 reader)": {"QA_APP_BACKEND": "onnx", "QA_APP_READER_PRECISION": "fp32"},
    "torch": {"QA_APP_BACKEND": "torch"},
}


def warm_busy(runs: int) -> dict:
    """Warm ask and query-embedding p50 (ms) on the seeds with another process spinning on a core."""
    from qa_app import paths

    busy = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
    rows: dict[str, list[dict]] = {}
    try:
        for _ in range(runs):
            for backend, settings in WARM_VARIANTS.items():
                proc = subprocess.run(
                    [sys.executable, "-c", WARM, str(ROOT), str(paths.seeds_dir() / "questions.jsonl")],
                    capture_output=True, text=True, env=dict(os.environ, **settings),
                )  # fmt: skip
                rows.setdefault(backend, []).append(
                    json.loads(proc.stdout.strip().splitlines()[-1])
                )
    finally:
        busy.kill()
        busy.wait()
    return {b: {k: statistics.median(r[k] for r in v) for k in v[0]} for b, v in rows.items()}


def warm_against(other: Path, runs: int) -> None:
    """Print the warm ask p50 of this checkout and of ``other``, interleaved run by run, and their
    ratio (median over runs of each run's p50; each checkout builds its own seed library)."""
    from qa_app import paths

    questions = str(paths.seeds_dir() / "questions.jsonl")
    settings = WARM_VARIANTS["onnx (int8 reader, shipped)"]
    found: dict[str, list[float]] = {"this": [], "other": []}
    for _ in range(runs):
        for name, root in (("this", ROOT), ("other", other.resolve())):
            home = tempfile.mkdtemp(prefix=f"qa-warm-{name}-")
            proc = subprocess.run(
                [sys.executable, "-c", WARM, str(root), questions],
                capture_output=True, text=True,
                env=dict(os.environ, QA_APP_HOME=home, **settings),
            )  # fmt: skip
            found[name].append(json.loads(proc.stdout.strip().splitlines()[-1])["ask_p50_ms"])
    this, that = statistics.median(found["this"]), statistics.median(found["other"])
    print(
        f"warm ask p50, median of {runs} runs: this {this:.1f} ms, {other} {that:.1f} ms, "
        f"ratio {this / that:.2f}"
    )
    print(
        f"  runs: this {[round(v, 1) for v in found['this']]}, other "
        f"{[round(v, 1) for v in found['other']]}"
    )


def indexing(paragraphs: list[str]) -> dict:
    """Seconds to index the same passages (library add + FAISS) with each backend, and plain encode."""
    from qa_app.engine import Engine
    from qa_app.models import onnx_runtime as onnx_models
    from qa_app.models.embedding import MiniLMEmbedder, load_sentence_transformer

    seconds = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp, "docs")
        folder.mkdir()
        for i, text in enumerate(paragraphs):
            Path(folder, f"p{i:05}.txt").write_text(text, encoding="utf-8")
        for backend in ("torch", "onnx"):
            os.environ[onnx_models.BACKEND_ENV] = backend
            embedder = MiniLMEmbedder()
            embedder.encode(["warm up"])
            with Engine(f"bench-{backend}", embedder=embedder) as eng:
                started = time.perf_counter()
                eng.add([folder])
                eng.library.vector_index()
                seconds[backend] = time.perf_counter() - started
        started = time.perf_counter()
        load_sentence_transformer().encode(paragraphs, batch_size=32)  # type: ignore[attr-defined]
        seconds["plain encode"] = time.perf_counter() - started
    return seconds


def write_fixture(out: Path) -> None:
    """Write the fidelity tests' reference: torch fp32 vectors and reader spans on seed text."""
    import numpy as np

    from qa_app import paths
    from qa_app.models.embedding import load_sentence_transformer
    from qa_app.reader.neural import load
    from qa_app.reader.spans import find_candidates

    seeds = paths.seeds_dir()
    texts = []
    for doc in sorted(seeds.glob("*.txt")):
        texts += [
            p.strip() for p in doc.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 60
        ]
    rows = [
        json.loads(line) for line in (seeds / "questions.jsonl").read_text("utf-8").splitlines()
    ]
    queries = [r["question"] for r in rows[:20]]
    st = load_sentence_transformer()
    vectors = st.encode(texts + queries, batch_size=16, normalize_embeddings=True)  # type: ignore[attr-defined]
    reader = load(backend="torch")
    spans = []
    for row in rows[:24]:
        docs = [(seeds / d).read_text(encoding="utf-8") for d in row.get("docs", [])]
        passages = [p.strip() for d in docs for p in d.split("\n\n") if len(p.strip()) > 60][:8]
        if not passages:
            continue
        found = sorted(
            find_candidates(reader, row["question"], passages), key=lambda c: -c.span_logit
        )
        spans.append({
            "question": row["question"], "passages": [texts.index(p) for p in passages],
            "top": [[c.passage_index, c.start, c.end] for c in found[:3]],
            "logits": [round(c.span_logit, 4) for c in found[:3]],
        })  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", np.asarray(vectors, dtype=np.float32))
    record = {"made_by": "python bench/speed.py --write-fixture (QA_APP_BACKEND=torch, fp32)",
              "texts": texts, "queries": queries, "spans": spans}  # fmt: skip
    (out / "reference.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"{out}: {len(texts)} passages, {len(queries)} queries, {len(spans)} reader questions")


READER_FIXTURE_QUESTIONS = 400


def write_reader_fixture(dev: Path, out: Path) -> None:
    """Write the int8 reader's fidelity fixture: SQuAD dev questions (every n-th, with their
    paragraph and gold answers) and the torch fp32 reader's answer to each."""
    from qa_app.reader.neural import load

    paragraphs, questions = squad(dev, 10**6)
    step = len(questions) // READER_FIXTURE_QUESTIONS
    chosen = questions[::step][:READER_FIXTURE_QUESTIONS]
    reader = load(backend="torch")
    items = [
        {"question": q["q"], "context": paragraphs[q["p"]], "golds": q["golds"],
         "fp32": best_answer(reader, q["q"], paragraphs[q["p"]])}
        for q in chosen
    ]  # fmt: skip
    record = {"made_by": f"python bench/speed.py --write-fixture (torch fp32; every {step}th "
              f"question of {dev.name}, CC BY-SA 4.0)", "items": items}  # fmt: skip
    target = out / "reader_dev.json"
    target.write_text(json.dumps(record, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{target}: {len(items)} dev questions with the fp32 reader's answers")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--paragraphs", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--reader-same", type=int, default=2000)
    parser.add_argument("--reader-f1", type=int, default=2000)
    parser.add_argument("--index-passages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--threads", default="1", help="threads for the model comparison (1: fair ratios)"
    )
    parser.add_argument("--write-fixture", type=Path)
    parser.add_argument("--models-only", action="store_true", help="skip the start-up sections")
    parser.add_argument(
        "--warm-against",
        type=Path,
        help="only the warm ask (int8 reader), this checkout against another one (e.g. a git "
        "worktree of main before a change), runs interleaved; prints both medians and the ratio",
    )
    args = parser.parse_args()
    os.environ.setdefault("QA_APP_HOME", tempfile.mkdtemp(prefix="qa-speed-"))
    if args.warm_against:
        warm_against(args.warm_against, args.runs)
        return 0
    if args.write_fixture:
        os.environ["QA_APP_BACKEND"] = "torch"
        write_fixture(args.write_fixture)
        write_reader_fixture(args.data / "squad" / "dev-v1.1.json", args.write_fixture)
        return 0
    print(
        f"machine: {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f} (shared)"
    )
    started_load = os.getloadavg()[0]
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if not args.models_only:
        start_up_sections(args.runs)
    models_sections(args)
    print(f"\nload average: {started_load:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    return 0


def start_up_sections(runs: int) -> None:
    """Print the cold-start breakdown, the command-line walls and the warm busy-machine p50."""
    # Start-up and warm figures first, in child processes with the app's own thread settings.
    boot = startup(runs)
    print(f"\n## Cold start (median of {runs}, seconds; the app's threads)")
    stages = list(next(iter(boot.values())))
    print("| run | " + " | ".join(stages) + " |")
    print("|---|" + "---|" * len(stages))
    for name, row in boot.items():
        print(f"| {name} | " + " | ".join(f"{row[s]:.2f}" for s in stages) + " |")
    walls = cli_wall(runs)
    print(f"\n## Command line, wall seconds (median of {runs})")
    for name, secs in walls.items():
        print(f"- `qa-app {name}`: {secs:.2f} s")
    warm = warm_busy(max(3, runs // 2))
    print(
        "\n## Warm, another process busy on one core (median over runs of the p50 of 20 seed questions)"
    )
    for backend, row in warm.items():
        print(
            f"- {backend}: ask p50 {row['ask_p50_ms']:.0f} ms, query embedding p50 {row['embed_p50_ms']:.1f} ms"
        )
    # fmt: on


def models_sections(args: argparse.Namespace) -> None:
    """Print the fidelity/speed table (one process, paired) and the indexing ratio."""
    # fmt: off
    os.environ["QA_APP_THREADS"] = args.threads
    from qa_app.models import threads

    threads.configure()
    paragraphs, questions = squad(args.data / "squad" / "dev-v1.1.json", args.paragraphs)
    step = max(1, len(questions) // args.questions)
    emb = embed_table(paragraphs, [q["q"] for q in questions[::step][: args.questions]])
    all_paragraphs, all_questions = squad(args.data / "squad" / "dev-v1.1.json", 10**6)
    rd = reader_table(all_paragraphs, all_questions[:: max(1, len(all_questions) // args.reader_same)],
                      args.reader_same, args.reader_f1)
    print(f"\n## Fidelity and speed ({args.threads} thread(s), paired in one process)")
    print(f"Reader: {rd['n']} dev questions with the gold paragraph, F1 on the first {rd['f1_n']}; "
          "the app runs the embedder on ONNX fp32 and the reader on ONNX int8.")
    print("| variant | embed speed vs fp32 torch | cosine to fp32 (mean / min) | top-10 overlap with fp32 "
          "| reader F1 | reader speed vs fp32 | same answers as fp32 |")
    print("|---|---|---|---|---|---|---|")
    rows = rd["rows"]
    torch_row, fp32_row, int8_row = (rows[v] for v in READER_VARIANTS)
    print(f"| fp32 torch (reference) | 1.00x | 1 / 1 | 1.00 | {torch_row['f1']:.2f} | 1.00x | - |")
    print(f"| ONNX Runtime fp32 (embedder shipped) | {emb['embed_speed_ratio']:.2f}x | {emb['cos_mean']:.6f} / "
          f"{emb['cos_min']:.6f} | {emb['top10_overlap']:.3f} ({emb['top10_identical']}/{emb['n_questions']} "
          f"identical) | {fp32_row['f1']:.2f} | {fp32_row['speed']:.2f}x | {fp32_row['same']}/{rd['n']} |")
    print(f"| ONNX Runtime int8 reader (shipped) | - | - | - | {int8_row['f1']:.2f} "
          f"({int8_row['f1'] - torch_row['f1']:+.2f}) | {int8_row['speed']:.2f}x | {int8_row['same']}/{rd['n']} |")
    low, high = int8_row["ci"]
    print(f"(int8 - fp32 reader F1: {int8_row['f1'] - torch_row['f1']:+.2f}, paired bootstrap 95% "
          f"interval {low:+.2f} to {high:+.2f}; --reader-same/--reader-f1 10570 for all of dev)")
    print(f"(embedding: {emb['n_paragraphs']} dev paragraphs, {emb['ref_passages_per_s']:.0f} vs "
          f"{emb['fast_passages_per_s']:.0f} passages/s)")
    idx = indexing(paragraphs[: args.index_passages])
    print(f"\n## Indexing {args.index_passages} dev paragraphs (library add + FAISS)")
    print(f"- torch {idx['torch']:.1f} s, ONNX {idx['onnx']:.1f} s: {idx['torch'] / idx['onnx']:.2f}x; "
          f"plain SentenceTransformer.encode {idx['plain encode']:.1f} s "
          f"(ONNX indexing at {idx['plain encode'] / idx['onnx']:.2f}x plain encode)")
    # fmt: on


if __name__ == "__main__":
    raise SystemExit(main())

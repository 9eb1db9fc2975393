"""How far can a calibrator over today's features go? A ceiling, fitted on the evaluation sets.

Usage:
    python bench/selective.py --data ../shared/data --out bench-out/selective   # the reads
    python bench/selective_ceiling.py --data ../shared/data --out bench-out/selective

Diagnostic only: nothing here is shipped or used to choose anything the app does. It reads the
spans ``bench/selective.py`` cached (reader only, the same questions), takes the answer the app
shows for each question (the shipped calibrator's best), and compares three scores of it:

  - shipped: the shipped calibrator (fitted on held-out training data only);
  - mix ceiling: boosted trees of the shipped kind over the same features, fitted on the
    evaluation sets themselves, all pooled (5-fold cross-validation, folds by question): the best
    one model of these features could do if it were allowed to see the test;
  - per-set ceiling: the same, fitted on each set alone: a model that also knows which set the
    question came from.

If a target fails even at the ceiling, no calibrator over these features can meet it; the reader
(its answers and its logits) has to get better. Columns: top-answer accuracy (F1 >= 0.5),
coverage at 90% right, AURC and ECE (10 bins) for each score.

Probes (candidate features, measured by how much they lift the mix ceiling):
  --probe reread        the reader re-reads the answer's sentence alone and the passage without
                        it: does it give the same answer, with what margin, and how strong is the
                        best answer elsewhere (one extra read of each; slow);
  --probe variant DIR   the same questions' spans cached by another reader variant (e.g. run
                        bench/selective.py with QA_APP_READER_PRECISION=fp32 --out DIR): does
                        that variant's best answer agree, and how does it score this answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))


class Reads:
    """The answer the app shows for each question, with what the ceilings and probes need."""

    def __init__(self) -> None:
        self.x: list[list[float]] = []
        self.y: list[int] = []
        self.sets: list[str] = []
        self.shipped: list[float] = []
        self.ids: list[str] = []
        self.shown: dict[str, tuple[str, str, str, list[dict[str, Any]]]] = {}


def questions_with_reads(data: Path, out: Path, limit: int) -> Any:
    """Yield (set, index, question, context, golds, spans) for every cached read in ``out``."""
    from selective import FULL, SETS, questions

    for name in SETS:
        cache = out / f"{name}.spans.jsonl"
        if not cache.exists():
            print(f"  {name}: no cached reads in {cache} (run bench/selective.py first)")
            continue
        items = questions(data / SETS[name], None if name in FULL else limit)
        lines = cache.read_text(encoding="utf-8").splitlines()
        for i, ((q, ctx, golds), line) in enumerate(zip(items, lines, strict=False)):
            yield name, i, q, ctx, golds, json.loads(line)


def shown_answers(data: Path, out: Path, limit: int) -> Reads:
    """Return the shown answer of every cached read, its features, label and shipped score."""
    from train_calibrator import answers_of

    from qa_app.reader.calibrator import FEATURES
    from qa_app.reader.neural import load_answer_calibrator
    from qa_app.text_norm import f1_score

    cal = load_answer_calibrator()
    assert cal is not None, "the shipped calibrator is missing"
    reads = Reads()
    for name, i, q, ctx, golds, spans in questions_with_reads(data, out, limit):
        found = answers_of(q, [ctx], [0], spans)
        if not found:
            continue
        text, feats, _ = max(found, key=lambda t: cal.probability(t[1]))
        reads.x.append([feats[n] for n in FEATURES])
        reads.y.append(int(bool(golds) and f1_score(text, golds) >= 0.5))
        reads.sets.append(name)
        reads.shipped.append(cal.probability(feats))
        reads.ids.append(f"{name}:{i}")
        reads.shown[f"{name}:{i}"] = (q, ctx, text, spans)
    return reads


def reread_probe(reads: Reads) -> list[list[float]]:
    """Per shown answer: the reader re-reads its sentence alone (same answer first? its margin
    there, its window share) and the passage without that sentence (the best margin left)."""
    from qa_app.reader.neural import NeuralReader
    from qa_app.records import Passage
    from qa_app.text_norm import group_key

    reader = NeuralReader()

    def read(q: str, text: str) -> list[Any]:
        return reader.read(q, [Passage(0, 0, "p", "p", None, 0, len(text), text, 1.0)])

    rows = []
    for qid in reads.ids:
        q, ctx, text, spans = reads.shown[qid]
        key = group_key(text)
        same = [d for d in spans if group_key(d["text"]) == key] or spans[:1]
        best = max(same, key=lambda d: d["features"]["margin"])
        s0, s1 = best["sentence_start"], best["sentence_end"]
        alone = read(q, ctx[s0:s1])
        again = [d for d in alone if group_key(d.text) == key]
        rest = (ctx[:s0] + " " + ctx[s1:]).strip()
        elsewhere = read(q, rest) if len(rest) > 20 else []
        rows.append(
            [
                float(bool(alone) and group_key(alone[0].text) == key),
                alone[0].features["margin"] if alone else -20.0,
                again[0].features["margin"] if again else -20.0,
                again[0].features["window_prob"] if again else 0.0,
                elsewhere[0].features["margin"] if elsewhere else -20.0,
            ]
        )
    return rows


def variant_probe(reads: Reads, data: Path, other: Path, limit: int) -> list[list[float]]:
    """Per shown answer: does another reader variant's shown answer agree, how sure is it of
    its own, and how does it score this one (its margin and calibrated probability)?"""
    from train_calibrator import answers_of

    from qa_app.reader.neural import load_answer_calibrator
    from qa_app.text_norm import group_key

    cal = load_answer_calibrator()
    assert cal is not None
    theirs = {
        f"{name}:{i}": answers_of(q, [ctx], [0], spans)
        for name, i, q, ctx, _, spans in questions_with_reads(data, other, limit)
    }
    rows = []
    for qid in reads.ids:
        key = group_key(reads.shown[qid][2])
        found = theirs.get(qid, [])
        top = max(found, key=lambda t: cal.probability(t[1])) if found else None
        same = [t for t in found if group_key(t[0]) == key]
        rows.append(
            [
                float(top is not None and group_key(top[0]) == key),
                cal.probability(top[1]) if top else 0.0,
                same[0][2] if same else -20.0,
                cal.probability(same[0][1]) if same else 0.0,
            ]
        )
    return rows


def cross_validated(x: Any, y: Any, g: Any, seed: int) -> Any:
    """Return out-of-fold probabilities of boosted trees (the shipped kind's settings)."""
    import numpy as np
    from sklearn.model_selection import GroupKFold
    from train_calibrator import boosted_trees

    p = np.zeros(len(y))
    for train, test in GroupKFold(5).split(x, y, g):
        model = boosted_trees(100, seed)
        model.fit(x[train], y[train])
        p[test] = model.predict_proba(x[test])[:, 1]
    return p


def main(argv: list[str] | None = None) -> int:
    """Print the table; return an exit code."""
    import numpy as np

    from qa_app.evaluation.selective import measure

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True, help="the shared data folder")
    ap.add_argument("--out", default="bench-out/selective", help="bench/selective.py's --out")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--probe", choices=["reread", "variant"], default=None)
    ap.add_argument("--variant-out", default=None, help="--probe variant: that variant's --out")
    args = ap.parse_args(argv)
    data, out = Path(args.data), Path(args.out)
    reads = shown_answers(data, out, args.limit)
    x, y, g = np.array(reads.x), np.array(reads.y), np.array(reads.ids)
    s, shipped = np.array(reads.sets), np.array(reads.shipped)
    mix = cross_validated(x, y, g, args.seed)
    alone = np.zeros(len(y))
    for name in dict.fromkeys(s):
        m = s == name
        alone[m] = cross_validated(x[m], y[m], g[m], args.seed)
    scores = [("shipped", shipped), ("mix", mix), ("per_set", alone)]
    if args.probe:
        if args.probe == "variant" and not args.variant_out:
            ap.error("--probe variant needs --variant-out")
        extra = (
            reread_probe(reads)
            if args.probe == "reread"
            else variant_probe(reads, data, Path(args.variant_out), args.limit)
        )
        scores.append(
            (f"mix+{args.probe}", cross_validated(np.column_stack([x, extra]), y, g, args.seed))
        )
    table: dict[str, dict[str, Any]] = {}
    print("cells: coverage at 90% right, AURC, ECE")
    print(f"{'set':<10} {'n':>5} {'acc':>6}  " + "  ".join(f"{k:>28}" for k, _ in scores))
    for name in [*dict.fromkeys(s), "pooled"]:
        m = np.ones(len(y), bool) if name == "pooled" else s == name
        cells, table[name] = [], {"n": int(m.sum()), "accuracy": float(y[m].mean())}
        for label, p in scores:
            f = measure(list(p[m]), [bool(v) for v in y[m]])
            c90 = f["coverage_at_90"] or 0.0
            table[name][label] = {"coverage@90": c90, "aurc": f["aurc"], "ece": f["ece"]}
            cells.append(f"{c90:>10.3f} {f['aurc']:>8.3f} {f['ece']:>8.3f}")
        print(f"{name:<10} {int(m.sum()):>5} {y[m].mean():>6.3f}  " + "  ".join(cells))
    (out / "ceiling.json").write_text(json.dumps(table, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

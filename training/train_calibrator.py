"""Fit the answer calibrator on held-out TRAINING questions and choose the answering threshold.

Usage:
    python training/train_calibrator.py --spans runs/calibrator/spans.jsonl [--dir READER_DIR]
        [--folds 5] [--target 0.9] [--dry-run]

The spans file comes from training/calibrator_data.py (held-out SQuAD train articles and QED). Each
question yields the conditions the app meets:
  - reader-only: the gold paragraph alone (answerable);
  - pooled: the gold paragraph ranked first, second or third among two hard negatives (answerable);
  - negatives: the two hard negatives alone (unanswerable: any answer is wrong);
  - answerless: the gold paragraph with the answer's sentences taken out (unanswerable);
  - near-miss: a copy of the question with a name or number swapped, over the gold paragraph
    (unanswerable).
The answers of each condition are grouped exactly as the app groups them (qa_app.answers.assemble),
their features computed by qa_app.reader.calibrator.answer_features, and labelled right when
their F1 with a gold answer is at least 0.5 (never, in an unanswerable condition). A logistic
regression (scikit-learn, standardised features, L2 strength chosen by grouped cross-validation)
is fitted on the best three answers of every condition. Cross-validated predictions (folds by
question) give the held-out figures; the threshold is the least probability at which the answers
given are right at least ``--target`` of the time on every source and on the pooled mixture, using
each condition's best answer (what the app shows). Writes calibrator.json beside the reader weights
and records its SHA-256 in reader.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOP_GROUPS = 3  # answers per condition used for fitting: the best by margin
CONDITION_WEIGHT = {
    "reader-only": 1.0,
    "pooled": 1.0,
    "negatives": 0.5,
    "answerless": 0.5,
    "near-miss": 0.5,
}


def conditions(
    row: dict[str, Any], rng: random.Random
) -> Iterator[tuple[str, str, list[int], list[dict[str, Any]], bool]]:
    """Yield (condition, question, passage order, spans, answerable) for one question row."""
    gold, negs = 0, list(range(1, 1 + row["negs"]))
    yield "reader-only", row["q"], [gold], row["spans"], True
    if negs:
        order = list(negs)
        order.insert(rng.choices([0, 1, 2], weights=[0.6, 0.25, 0.15])[0] % (len(negs) + 1), gold)
        yield "pooled", row["q"], order, row["spans"], True
        yield "negatives", row["q"], negs, row["spans"], False
    if row["has_drop"]:
        yield "answerless", row["q"], [1 + row["negs"]], row["spans"], False
    if row["swap_q"] and row["swap_spans"]:
        yield "near-miss", row["swap_q"], [gold], row["swap_spans"], False


def answers_of(
    question: str, texts: list[str], order: list[int], spans: list[dict[str, Any]]
) -> list[tuple[str, dict[str, float], float]]:
    """Return (answer text, features, margin of its best span) for every answer the app would form
    from the spans of the passages in ``order`` (that order is the retrieval ranking)."""
    from qa_app.answers import assemble
    from qa_app.reader.calibrator import answer_features
    from qa_app.records import Passage, Span

    where = {orig: i for i, orig in enumerate(order)}
    passages = [
        Passage(i, i, f"p{orig}", f"p{orig}", None, 0, len(texts[orig]), texts[orig], 1.0)
        for i, orig in enumerate(order)
    ]
    kept = []
    for d in spans:
        if d["passage_index"] in where:
            kept.append(Span(**{**d, "passage_index": where[d["passage_index"]]}))
    kept.sort(key=lambda s: -s.features.get("margin", 0.0))
    kept = kept[:10]  # what NeuralReader.read returns by default
    found: list[tuple[str, dict[str, float], float]] = []

    def capture(q: str, group: Any, others: Any, ps: Any) -> float:
        feats = answer_features(q, group, others, ps)
        found.append((group.text, feats, feats["margin"]))
        return 0.5

    assemble(question, passages, kept, threshold=0.0, reader="neural", scorer=capture)
    found.sort(key=lambda t: -t[2])
    return found


def build_rows(paths: list[Path], seed: int) -> list[dict[str, Any]]:
    """Return one row per (question, condition, answer) with features, label and weight."""
    from qa_app.reader.calibrator import FEATURES
    from qa_app.text_norm import f1_score

    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    lines = [line for path in paths for line in path.open(encoding="utf-8")]
    for line in lines:
        row = json.loads(line)
        row["n"] = f"{row['source']}:{row['n']}"
        for cond, q, order, spans, answerable in conditions(row, rng):
            found = answers_of(q, row["texts"], order, spans)
            for rank, (text, feats, _) in enumerate(found[:TOP_GROUPS]):
                right = answerable and f1_score(text, row["golds"]) >= 0.5
                rows.append(
                    {
                        "question": row["n"],
                        "source": row["source"],
                        "condition": cond,
                        "rank": rank,
                        "x": [feats[name] for name in FEATURES],
                        "y": int(right),
                        "w": CONDITION_WEIGHT[cond],
                    }
                )
    return rows


def selective(p: list[float], y: list[int], target: float) -> dict[str, float]:
    """Return ECE (10 bins), AURC, coverage at ``target`` accuracy and accuracy of a 0 threshold."""
    import numpy as np

    ps, ys = np.asarray(p), np.asarray(y, dtype=float)
    order = np.argsort(-ps, kind="stable")
    acc = np.cumsum(ys[order]) / np.arange(1, len(ys) + 1)
    ok = np.nonzero(acc >= target)[0]
    bins = np.minimum((ps * 10).astype(int), 9)
    ece = sum(
        abs(ps[bins == b].mean() - ys[bins == b].mean()) * (bins == b).mean()
        for b in range(10)
        if (bins == b).any()
    )
    return {
        "n": len(ys),
        "accuracy": float(ys.mean()),
        "mean_p": float(ps.mean()),
        "ece": float(ece),
        "aurc": float(np.mean(1 - acc)),
        f"coverage@{target:.2f}": float((ok.max() + 1) / len(ys)) if len(ok) else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    """Fit, cross-validate, choose the threshold and write calibrator.json; return an exit code."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from qa_app.reader.calibrator import CALIBRATOR_FORMAT, FEATURES
    from qa_app.reader.neural import META_FILE, resource_dir

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--spans", nargs="+", required=True)
    ap.add_argument("--dir", default=None, help="reader folder (default: the shipped one)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--target", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = ap.parse_args(argv)

    spans = [Path(p) for p in args.spans]
    rows = build_rows(spans, args.seed)
    x = np.asarray([r["x"] for r in rows], dtype=float)
    y = np.asarray([r["y"] for r in rows])
    w = np.asarray([r["w"] for r in rows])
    groups = np.unique([r["question"] for r in rows], return_inverse=True)[1]
    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale

    def fitted(c: float, train: np.ndarray) -> Any:
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(z[train], y[train], sample_weight=w[train])
        return model

    folds = list(GroupKFold(n_splits=args.folds).split(z, y, groups))
    best_c, best_loss, cv = 1.0, float("inf"), np.zeros(len(y))
    for c in (0.01, 0.1, 1.0, 10.0):
        pred = np.zeros(len(y))
        for train, test in folds:
            pred[test] = fitted(c, train).predict_proba(z[test])[:, 1]
        eps = 1e-6
        loss = -np.average(y * np.log(pred + eps) + (1 - y) * np.log(1 - pred + eps), weights=w)
        print(f"C={c}: weighted log-loss {loss:.4f}", flush=True)
        if loss < best_loss:
            best_c, best_loss, cv = c, loss, pred
    model = fitted(best_c, np.arange(len(y)))

    # Figures and the threshold use each condition's best answer by calibrated probability (what
    # the app shows), with cross-validated probabilities.
    shown: dict[tuple[int, str], int] = {}
    for i, r in enumerate(rows):
        key = (r["question"], r["condition"])
        if key not in shown or cv[i] > cv[shown[key]]:
            shown[key] = i
    top = sorted(shown.values())
    slices: dict[str, list[int]] = {"all": top}
    for i in top:
        slices.setdefault(f"source={rows[i]['source']}", []).append(i)
        slices.setdefault(f"condition={rows[i]['condition']}", []).append(i)
    figures = {
        name: selective([float(cv[i]) for i in idx], [int(y[i]) for i in idx], args.target)
        for name, idx in slices.items()
    }
    checked = [name for name in slices if name == "all" or name.startswith("source=")]

    def precision(idx: list[int], t: float) -> float:
        given = [int(y[i]) for i in idx if cv[i] >= t]
        return sum(given) / len(given) if given else 1.0

    threshold = next(
        (
            t / 100
            for t in range(1, 100)
            if all(precision(slices[n], t / 100) >= args.target for n in checked)
        ),
        0.99,
    )
    for name, idx in slices.items():
        answerable = [i for i in idx if rows[i]["condition"] in ("reader-only", "pooled")]
        figures[name]["precision_at_threshold"] = precision(idx, threshold)
        figures[name]["answered_at_threshold"] = float(np.mean([cv[i] >= threshold for i in idx]))
        if answerable:
            figures[name]["answerable_answered_at_threshold"] = float(
                np.mean([cv[i] >= threshold for i in answerable])
            )
    for name, f in figures.items():
        print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in f.items()})
    print(f"threshold {threshold} (C={best_c})")
    coefs = dict(zip(FEATURES, (round(float(c), 4) for c in model.coef_[0]), strict=True))
    print("weights (per standard deviation):", coefs)
    if args.dry_run:
        return 0

    directory = Path(args.dir) if args.dir else resource_dir()
    meta_path = directory / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    doc = {
        "format": CALIBRATOR_FORMAT,
        "what": "probability that the neural reader's answer is right (F1 >= 0.5 with a gold answer)",
        "model": {
            "kind": "logistic regression on standardised features",
            "features": list(FEATURES),
            "mean": [float(v) for v in mean],
            "scale": [float(v) for v in scale],
            "weights": [float(v) for v in model.coef_[0]],
            "bias": float(model.intercept_[0]),
        },
        "threshold": threshold,
        "threshold_rule": f"least probability at which cross-validated answers are right >= {args.target} "
        "on every source and on the mixture",
        "training": {
            "spans_files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in spans},
            "reader_weights_sha256": meta["weights_sha256"],
            "rows": len(rows),
            "questions": len({r["question"] for r in rows}),
            "answers_per_condition": TOP_GROUPS,
            "condition_weights": CONDITION_WEIGHT,
            "l2_c": best_c,
            "folds": args.folds,
            "seed": args.seed,
        },
        "heldout": figures,
    }
    out = directory / "calibrator.json"
    data = (json.dumps(doc, indent=2) + "\n").encode("utf-8")
    out.write_bytes(data)
    meta["calibrator"] = {"file": out.name, "sha256": hashlib.sha256(data).hexdigest()}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} and its hash into {meta_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

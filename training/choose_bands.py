"""Choose the verdict bands (qa_app/reader/verdicts.py) on held-out TRAINING reads, and measure them.

Usage:
    python training/choose_bands.py runs/calibrator/spans-ret.jsonl [more.jsonl ...]

The spans files are training/calibrator_data.py's reads of held-out SQuAD train questions (and
QED, if read): questions the reader never trained on. Each read is turned into the answers the app
would form (train_calibrator.build_rows); their probabilities are cross-validated (the shipped
calibrator's recipe, boosted trees, refitted on four fifths of the questions and applied to the
fifth), so no answer is scored by a model that saw it. For each question and condition the answer
shown is the best by probability. The script prints, for the app's own read ("retrieved": the
question asked of a library of the held-out paragraphs) and for the weighted mix the calibrator
was fitted on, the share right (F1 >= 0.5) and exact in each band, then the possible-answer floor:
the lowest edge on a 0.05 grid at which the possible band [floor, answer threshold) stays at least
3 in 5 right on the weighted mix (one unanswerable read in five). Nothing here reads an evaluation
file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train_calibrator import UNANSWERABLE, boosted_trees, build_rows  # noqa: E402

# A possible answer must be right at least this often on the weighted mix of held-out reads (the
# app's own reads and the reader-only and pooled ones, with one unanswerable read in five).
POSSIBLE_TARGET = 0.6


def main(argv: list[str] | None = None) -> int:
    """Print the bands' measured hit rates and the chosen floor; return 0."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from qa_app.reader.verdicts import BANDS
    from qa_app.text_norm import exact_match

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("spans", nargs="+")
    p.add_argument("--threshold", type=float, default=0.76, help="the answer threshold")
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args(argv)
    rows = build_rows([Path(s) for s in args.spans], args.seed)
    x = np.asarray([r["x"] for r in rows], dtype=float)
    y = np.asarray([r["y"] for r in rows])
    w = np.asarray([r["w"] for r in rows])
    groups = np.asarray([r["question"] for r in rows])
    cv = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=5).split(x, y, groups):
        model = boosted_trees(100, args.seed).fit(x[train], y[train], sample_weight=w[train])
        cv[test] = model.predict_proba(x[test])[:, 1]
    shown: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        key = (r["question"], r["condition"])
        if key not in shown or cv[i] > cv[shown[key]]:
            shown[key] = i
    del exact_match  # rows carry F1-rightness only; exact match is not re-judged here
    edges = [b.low for b in BANDS]
    print(f"{len(rows)} answers of {len({r['question'] for r in rows})} questions")
    for name, keep in (
        ("retrieved (the app's read)", lambda c: c == "retrieved"),
        ("weighted mix (fitting data)", lambda c: True),
    ):
        idx = [i for (q, c), i in shown.items() if keep(c)]
        weight = np.asarray([rows[i]["w"] for i in idx])
        prob, right = cv[idx], y[idx]
        print(f"\n{name}: {len(idx)} questions, right {np.average(right, weights=weight):.3f}")
        print(f"{'band':16} {'from':>5} {'share':>6} {'right':>6} {'mean p':>7}")
        for b, high in zip(BANDS, [1.01, *edges[:-1]], strict=True):
            inside = (prob >= b.low) & (prob < high)
            if not inside.any():
                print(f"{b.words:16} {b.low:5.2f} {0:6.3f}      -       -")
                continue
            ww = weight[inside]
            print(
                f"{b.words:16} {b.low:5.2f} {ww.sum() / weight.sum():6.3f} "
                f"{np.average(right[inside], weights=ww):6.3f} "
                f"{np.average(prob[inside], weights=ww):7.3f}"
            )
        print(f"\npossible band [floor, {args.threshold}) on {name}:")
        chosen = None
        for floor in np.arange(0.70, 0.195, -0.05):
            inside = (prob >= floor) & (prob < args.threshold)
            below = prob < floor
            hit = float(np.average(right[inside], weights=weight[inside])) if inside.any() else 0.0
            missed = float(np.average(right[below], weights=weight[below])) if below.any() else 0.0
            print(
                f"  floor {floor:.2f}: possible {weight[inside].sum() / weight.sum():.3f} of "
                f"questions, right {hit:.3f}; not found {weight[below].sum() / weight.sum():.3f}, "
                f"of them right {missed:.3f}"
            )
            if hit >= POSSIBLE_TARGET:
                chosen = round(float(floor), 2)
        if name.startswith("weighted"):
            print(
                f"chosen floor (lowest with the possible band >= {POSSIBLE_TARGET:.2f} right on "
                f"the weighted mix): {chosen}"
            )
    unanswerable = [i for (q, c), i in shown.items() if c in UNANSWERABLE]
    if unanswerable:
        prob = cv[unanswerable]
        print(
            f"\nunanswerable reads ({len(unanswerable)}): given an answer {np.mean(prob >= args.threshold):.3f}, "
            f"a possible answer {np.mean((prob >= 0.45) & (prob < args.threshold)):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

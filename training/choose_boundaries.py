"""Measure each answer-boundary rule on the top answers of held-out TRAINING questions.

Usage:
    python training/choose_boundaries.py runs/calibrator/spans-ret.jsonl [more.jsonl ...]

The spans files are training/calibrator_data.py's reads (made before the rules: rerun it with
``--before`` spans, or with an older checkout). For every question, the top span of the
reader-only read (its gold paragraph) and of the retrieved read (the app's own way) is moved by
each rule of qa_app.reader.boundaries alone and by all of them; the script prints how many top
answers each rule changes, how many more or fewer are exact, and the summed F1 change. A rule is
kept when it makes more answers exact than it breaks. Nothing here reads an evaluation file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_app.reader import boundaries  # noqa: E402
from qa_app.reader.calibrator import question_kind  # noqa: E402
from qa_app.text_norm import exact_match, f1_score  # noqa: E402

Rule = Callable[[str, int, int, str], tuple[int, int]]

RULES: dict[str, Rule] = {
    "whole_words": lambda t, s, e, k: boundaries.whole_words(t, s, e),
    "whole_numbers": lambda t, s, e, k: boundaries.whole_numbers(t, s, e),
    "with_quantifier": lambda t, s, e, k: boundaries.with_quantifier(
        t, *boundaries.whole_numbers(t, s, e)
    ),
    "whole_name (who)": lambda t, s, e, k: (
        boundaries.whole_name(t, s, e) if k == "person" else (s, e)
    ),
    "whole_name (who, where)": lambda t, s, e, k: (
        boundaries.whole_name(t, s, e) if k in ("person", "place") else (s, e)
    ),
    "all (shipped)": boundaries.exact,
}


def _top(spans: list[dict], only_passage: int | None = None) -> dict | None:
    pool = [s for s in spans if only_passage is None or s["passage_index"] == only_passage]
    return max(pool, key=lambda s: s["features"].get("margin", 0.0), default=None)


def _best(golds: list[str], text: str) -> tuple[float, float]:
    return exact_match(text, golds), f1_score(text, golds)


def main(argv: list[str] | None = None) -> int:
    """Print the table; return 0."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("spans", nargs="+")
    args = p.parse_args(argv)
    reads: list[tuple[str, str, list[str], str, int, int]] = []  # (mode, q, golds, text, s, e)
    for path in args.spans:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            top = _top(row["spans"], 0)
            if top is not None:
                text = row["texts"][0]
                reads.append(
                    (
                        f"{row['source']} reader-only",
                        row["q"],
                        row["golds"],
                        text,
                        top["start"],
                        top["end"],
                    )
                )
            if row.get("ret_spans"):
                top = _top(row["ret_spans"])
                if top is not None:
                    text = row["ret_texts"][top["passage_index"]]
                    reads.append(
                        (
                            f"{row['source']} retrieved",
                            row["q"],
                            row["golds"],
                            text,
                            top["start"],
                            top["end"],
                        )
                    )
    modes = sorted({r[0] for r in reads})
    print(
        f"{'mode':32} {'rule':26} {'answers':>7} {'changed':>7} {'exact +':>7} {'exact -':>7} "
        f"{'F1 sum':>7}"
    )
    for mode in modes:
        rows = [r for r in reads if r[0] == mode]
        for name, rule in RULES.items():
            changed = plus = minus = 0
            f1_delta = 0.0
            for _, q, golds, text, s, e in rows:
                s2, e2 = rule(text, s, e, question_kind(q))
                if (s2, e2) == (s, e):
                    continue
                changed += 1
                em0, f0 = _best(golds, text[s:e])
                em1, f1 = _best(golds, text[s2:e2])
                plus += em1 > em0
                minus += em1 < em0
                f1_delta += f1 - f0
            print(
                f"{mode:32} {name:26} {len(rows):7} {changed:7} {plus:7} {minus:7} {f1_delta:+7.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Selective answering, before and after: the margin score beside the calibrated one, per set.

Usage:
    python bench/selective.py --data ../shared/data --out bench-out/selective [--limit 1000]

Reader only (each question gets its gold paragraph), the shipped reader, the first ``--limit``
questions of SQuAD v1.1 dev, SQuADShifts Reddit and Amazon and COVID-QA, and every question of the
SQuAD 2.0 subset (702 of its 1,407 have no answer); then the seed questions over the seed library
(pooled: retrieval included). The reader's spans are computed once per question and cached in
``--out`` (delete the cache to recompute); both scores come from the same spans: "margin" is
today's score (sigmoid of the best span's margin, threshold from reader.json's margin fit) and
"calibrated" the answer calibrator's probability at its own threshold. Nothing here is fitted:
the calibrator and both thresholds were chosen on held-out training data (training/).

Columns: answered share, precision (answers right, F1 >= 0.5), answerable questions answered,
coverage at 90% precision, AURC, ECE (10 bins), F1 at the threshold, top-span F1, no-answer
accuracy (where a set has unanswerable questions). The last line pools every reader-only set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SETS = {
    "squad-dev": "squad/dev-v1.1.json",
    "reddit": "ood/reddit_v1.0.json",
    "amazon": "ood/amazon_reviews_v1.0.json",
    "covid": "ood/covid_qa_200423.paragraphs.json",
    "squad2": "squad/squad_v2.0_dev_first5articles.json",
}
FULL = {"squad2"}  # every question (half have no answer), not the first --limit


def questions(path: Path, limit: int | None) -> list[tuple[str, str, list[str]]]:
    """Return (question, context, gold answers) in file order; no gold answers = unanswerable."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                golds = [] if qa.get("is_impossible") else [a["text"] for a in qa["answers"]]
                out.append((qa["question"], para["context"], golds))
    return out[:limit] if limit else out


def cached_spans(reader: Any, name: str, items: list[Any], cache: Path) -> list[list[Any]]:
    """Return the reader's spans for every item, reading what ``cache`` holds and adding the rest."""
    from qa_app.records import Passage, Span

    cache.parent.mkdir(parents=True, exist_ok=True)
    rows: list[list[Any]] = []
    if cache.exists():
        for line in cache.open(encoding="utf-8"):
            rows.append([Span(**d) for d in json.loads(line)])
    started = time.time()
    with cache.open("a", encoding="utf-8") as sink:
        for i in range(len(rows), len(items)):
            q, ctx, _ = items[i]
            spans = reader.read(q, [Passage(0, 0, name, name, None, 0, len(ctx), ctx, 1.0)])
            sink.write(json.dumps([asdict(s) for s in spans]) + "\n")
            rows.append(spans)
            if i % 100 == 0:
                sink.flush()
                print(f"  {name}: {i + 1}/{len(items)} ({time.time() - started:.0f}s)", flush=True)
    return rows


def outcome(result: Any, golds: list[str]) -> dict[str, Any]:
    """Return the per-question record the metrics need."""
    from qa_app.text_norm import exact_match, f1_score

    top = result.top
    text = top.text if top else ""
    f1 = f1_score(text, golds) if golds and top else 0.0
    return {
        "score": top.score if top else 0.0,
        "answered": result.found,
        "answerable": bool(golds),
        "right": bool(golds) and f1 >= 0.5,
        "f1": f1,
        "em": exact_match(text, golds) if golds and top else 0.0,
    }


def figures(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Return the table's figures for one set's per-question records."""
    from qa_app.evaluation.selective import measure

    sel = measure([r["score"] for r in rows], [r["right"] for r in rows])
    answered = [r for r in rows if r["answered"]]
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    n = len(rows)
    return {
        "n": n,
        "answered": len(answered) / n,
        "precision": sum(r["right"] for r in answered) / len(answered) if answered else 1.0,
        "answerable_answered": (
            sum(r["answered"] for r in answerable) / len(answerable) if answerable else 0.0
        ),
        "coverage@90": sel["coverage_at_90"],
        "aurc": sel["aurc"],
        "ece": sel["ece"],
        "f1_at_t": 100
        * sum(r["f1"] for r in answered if r["answerable"])
        / max(1, len(answerable)),
        "top_f1": 100 * sum(r["f1"] for r in answerable) / max(1, len(answerable)),
        "em_at_t": 100
        * sum(r["em"] for r in answered if r["answerable"])
        / max(1, len(answerable)),
        "noans": (
            sum(not r["answered"] for r in unanswerable) / len(unanswerable)
            if unanswerable
            else float("nan")
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every set, print the table and write it as JSON into --out; return an exit code."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True, help="the shared data folder")
    ap.add_argument("--out", default="bench-out/selective")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from qa_app.answers import assemble
    from qa_app.reader.neural import NeuralReader, read_meta, resource_dir

    torch.set_num_threads(args.threads)
    reader = NeuralReader()
    reader.warm_up()
    margin_threshold = read_meta(resource_dir()).threshold
    calibrated_threshold = reader.threshold
    out = Path(args.out)
    table: dict[str, dict[str, dict[str, float]]] = {}
    pooled: dict[str, list[dict[str, Any]]] = {"margin": [], "calibrated": []}
    for name in args.sets:
        items = questions(Path(args.data) / SETS[name], None if name in FULL else args.limit)
        spans = cached_spans(reader, name, items, out / f"{name}.spans.jsonl")
        per: dict[str, list[dict[str, Any]]] = {"margin": [], "calibrated": []}
        for (q, ctx, golds), found in zip(items, spans, strict=True):
            passages = [_passage(name, ctx)]
            old = assemble(q, passages, found, threshold=margin_threshold, reader="neural")
            new = assemble(
                q,
                passages,
                found,
                threshold=calibrated_threshold,
                reader="neural",
                scorer=reader.scorer(),
            )
            per["margin"].append(outcome(old, golds))
            per["calibrated"].append(outcome(new, golds))
        table[name] = {k: figures(v) for k, v in per.items()}
        for k, v in per.items():
            pooled[k].extend(v)
    table["pooled"] = {k: figures(v) for k, v in pooled.items()}
    print(
        f"\nthresholds: margin {margin_threshold:.2f}, calibrated {calibrated_threshold:.2f}; "
        "reader only; right = F1 >= 0.5"
    )
    cols = [
        "n",
        "answered",
        "precision",
        "answerable_answered",
        "coverage@90",
        "aurc",
        "ece",
        "f1_at_t",
        "em_at_t",
        "top_f1",
        "noans",
    ]
    print(f"{'set':<10} {'score':<10} " + " ".join(f"{c:>10}" for c in cols))
    for name, by in table.items():
        for kind, f in by.items():
            cells = " ".join(
                f"{f[c]:>10d}"
                if c == "n"
                else f"{f[c]:>10.3f}"
                if c not in ("f1_at_t", "em_at_t", "top_f1")
                else f"{f[c]:>10.1f}"
                for c in cols
            )
            print(f"{name:<10} {kind:<10} {cells}")
    (out / "table.json").write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    return 0


def _passage(name: str, ctx: str) -> Any:
    from qa_app.records import Passage

    return Passage(0, 0, name, name, None, 0, len(ctx), ctx, 1.0)


if __name__ == "__main__":
    raise SystemExit(main())

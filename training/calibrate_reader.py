"""Calibrate the exported reader on held-out TRAINING articles, then measure it.

Usage:
    python training/calibrate_reader.py --train TRAIN.json [--dir qa_app/resources/reader]
        [--dev dev-v1.1.json --dev-sample 1000] [--squad2 squad_v2.0_dev_first5articles.json]
        [--near-miss]
1. Held-out train articles (listed in reader.json): the longest answer allowed (10-30 tokens) is
   the one with the best top-span F1 on all their questions over the gold paragraph. Then each
   question is read over its own paragraph and over two paragraphs of the same article that share
   its words (what retrieval would bring).
   A logistic fit of "the window's best span is right (F1 >= 0.5)" on (span logit - null logit)
   gives the score mapping; the no-answer threshold maximises SQuAD-2-style F1 on an even mix of
   answerable (gold + negatives) and unanswerable (negatives only) sets. Each question also gets a
   near-miss copy (a name or number swapped for one its paragraph never mentions, read over the
   gold paragraph); how many of those are refused is reported, and with --near-miss they count as
   unanswerable too (half the unanswerable weight) when choosing the threshold. How many answerless
   copies (the question over its paragraph with the answer's sentences taken out) are refused is
   reported too.
2. Measurement only: reader-only EM/F1 on a seeded dev-v1.1 sample, the SQuAD 2.0 subset at the
   chosen threshold, and per-passage latency. Writes everything into reader.json.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data import (  # noqa: E402
    _hard_negative,
    answerless_context,
    iter_eval_questions,
    load_articles,
    sha256_file,
    swap_donors,
    swapped_question,
)

from qa_app.text_norm import exact_match  # noqa: E402
from qa_app.text_norm import f1_score as f1  # noqa: E402


def best_per_passage(loaded: Any, question: str, texts: list[str]) -> list[tuple[float, str]]:
    """Return, per text, (best margin over its windows, answer text); margin -inf if none."""
    from qa_app.reader.spans import find_candidates

    best: list[tuple[float, str]] = [(-math.inf, "")] * len(texts)
    for c in find_candidates(loaded, question, texts, per_window=1):
        if c.margin > best[c.passage_index][0]:
            best[c.passage_index] = (c.margin, texts[c.passage_index][c.start : c.end])
    return best


def fit_logistic(x: list[float], y: list[int], steps: int = 100) -> tuple[float, float]:
    """Return (scale, bias) of sigmoid(scale * x + bias): ridge-damped Newton from zero, with
    step halving so saturated or separable data cannot make it diverge."""
    import numpy as np

    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    design = np.stack([xs, np.ones_like(xs)], axis=1)
    ridge = 1e-3 * np.eye(2)

    def loss(w: np.ndarray) -> float:
        z = design @ w
        return float(np.sum(np.logaddexp(0, z) - ys * z) + 0.5 * w @ ridge @ w)

    w = np.zeros(2)
    current = loss(w)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(design @ w, -60, 60)))
        grad = design.T @ (p - ys) + ridge @ w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + ridge
        delta = np.linalg.solve(hess, grad)
        step = 1.0
        while step > 1e-6 and loss(w - step * delta) > current:
            step /= 2
        w = w - step * delta
        new = loss(w)
        if current - new < 1e-9:
            break
        current = new
    return float(w[0]), float(w[1])


def heldout_sets(train: Path, titles: list[str], limit: int, seed: int) -> list[dict[str, Any]]:
    """Return held-out questions, each with its gold paragraph, two same-article negatives and,
    where one can be made, a near-miss copy ("swap": a name or number of the question swapped for
    one the paragraph never mentions, so the gold paragraph no longer answers it) and an
    answerless copy of the paragraph ("drop": the answer's sentences taken out)."""
    rng = random.Random(seed)
    swap_rng = random.Random(seed + 1)  # its own stream: the other choices stay as they were
    wanted = set(titles)
    articles = [a for a in load_articles(train) if a["title"] in wanted]
    donors = swap_donors(articles)
    items: list[dict[str, Any]] = []
    for article in articles:
        contexts = [p["context"] for p in article["paragraphs"]]
        for pi, para in enumerate(article["paragraphs"]):
            for qa in para["qas"]:
                golds = [a["text"] for a in qa["answers"]]
                negs: list[str] = []
                pool = list(range(len(contexts)))
                for _ in range(2):
                    j = _hard_negative(
                        qa["question"], [contexts[i] for i in pool], pool.index(pi), rng
                    )
                    if j < 0:
                        break
                    text = contexts[pool[j]]
                    if not any(g.lower() in text.lower() for g in golds):
                        negs.append(text)
                    pool.pop(j)
                swap = swapped_question(qa["question"], para["context"], donors, swap_rng)
                first = qa["answers"][0]
                drop = answerless_context(para["context"], first["answer_start"], first["text"])
                items.append(
                    {
                        "q": qa["question"],
                        "gold": para["context"],
                        "negs": negs,
                        "golds": golds,
                        "swap": swap,
                        "drop": drop,
                    }
                )
    rng.shuffle(items)
    return items[:limit]


ANSWER_LENGTHS = (10, 15, 20, 25, 30)  # longest answer in tokens: the handful of choices


def choose_answer_length(loaded: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the longest-answer cap (tokens) with the best top-span F1 on the held-out questions
    over their gold paragraph (ties go to the longer cap), with the F1 of every choice."""
    scores: dict[int, float] = {}
    for cap in ANSWER_LENGTHS:
        object.__setattr__(loaded.meta, "max_answer_tokens", cap)
        total = 0.0
        for it in items:
            _, text = best_per_passage(loaded, it["q"], [it["gold"]])[0]
            total += f1(text, it["golds"])
        scores[cap] = round(100 * total / len(items), 2)
    best = max(ANSWER_LENGTHS, key=lambda c: (scores[c], c))
    object.__setattr__(loaded.meta, "max_answer_tokens", best)
    return {"max_answer_tokens": best, "questions": len(items), "f1_by_cap": scores}


def calibrate(loaded: Any, items: list[dict[str, Any]], use_swaps: bool = False) -> dict[str, Any]:
    """Return the fitted calibration, threshold and held-out figures.

    The threshold maximises the mean of answerable F1 and unanswerable accuracy. Unanswerable is
    the question over its negatives only; with ``use_swaps`` it is also (half the weight) the
    near-miss copy over the gold paragraph. How often the near-miss copies are refused at the
    threshold is reported either way.
    """
    from qa_app.reader.neural import MarginCalibration

    margins: list[float] = []
    labels: list[int] = []
    rows = []
    drops: list[float] = []  # the question over its paragraph without the answer: reported only
    for it in items:
        texts = [it["gold"], *it["negs"]]
        best = best_per_passage(loaded, it["q"], texts)
        for k, (m, text) in enumerate(best):
            if m == -math.inf:
                continue
            margins.append(m)
            labels.append(int(k == 0 and f1(text, it["golds"]) >= 0.5))
        swap = best_per_passage(loaded, it["swap"], [it["gold"]])[0][0] if it["swap"] else None
        if it["drop"]:
            drops.append(best_per_passage(loaded, it["q"], [it["drop"]])[0][0])
        rows.append((best, it["golds"], swap))
    scale, bias = fit_logistic(margins, labels)
    cal = MarginCalibration(scale, bias)

    def refused(m: float | None, t: float) -> float:
        return 1.0 if m is None or m == -math.inf or cal(m) < t else 0.0

    best_t, best_f1 = 0.5, -1.0
    for t in [i / 100 for i in range(1, 100)]:
        total = 0.0
        for best, golds, swap in rows:
            # Answerable: gold paragraph among the passages; unanswerable: negatives only
            # (and, with use_swaps, the near-miss question over the gold paragraph).
            m, text = max(best)
            total += f1(text, golds) if cal(m) >= t else 0.0
            neg = refused(max(best[1:])[0] if best[1:] else None, t)
            total += (neg + refused(swap, t)) / 2 if use_swaps and swap is not None else neg
        score = total / (2 * len(rows))
        if score > best_f1:
            best_t, best_f1 = t, score
    swaps = [swap for _, _, swap in rows if swap is not None]
    return {
        "calibration": {"scale": scale, "bias": bias, "fitted": True, "windows": len(margins)},
        "threshold": best_t,
        "heldout": {
            "questions": len(rows),
            "mixed_f1_at_threshold": round(100 * best_f1, 2),
            "near_miss_in_threshold": use_swaps,
            "near_miss_questions": len(swaps),
            "near_miss_refused_at_threshold": round(
                100 * statistics.mean(refused(m, best_t) for m in swaps), 2
            )
            if swaps
            else None,
            "answerless_passages": len(drops),
            "answerless_refused_at_threshold": round(
                100 * statistics.mean(refused(m, best_t) for m in drops), 2
            )
            if drops
            else None,
        },
    }


def measure_dev(loaded: Any, dev: Path, sample: int, seed: int) -> dict[str, Any]:
    """Return reader-only EM/F1 (gold paragraph, top span) and per-passage latency on a sample."""
    from qa_app.reader.neural import NeuralReader
    from qa_app.records import Passage

    reader = NeuralReader()
    reader._loaded = loaded
    questions = list(iter_eval_questions(load_articles(dev)))
    chosen = random.Random(seed).sample(questions, min(sample, len(questions)))
    ems, f1s, ms = [], [], []
    for _, q, ctx, golds in chosen:
        passage = Passage(0, 0, "dev", "dev", None, 0, len(ctx), ctx, 1.0)
        t0 = time.perf_counter()
        spans = reader.read(q, [passage])
        ms.append((time.perf_counter() - t0) * 1000)
        pred = spans[0].text if spans else ""
        ems.append(exact_match(pred, golds))
        f1s.append(f1(pred, golds))
    ms.sort()
    return {
        "file": dev.name,
        "sha256": sha256_file(dev),
        "questions": len(chosen),
        "sample_seed": seed,
        "em": round(100 * statistics.mean(ems), 2),
        "f1": round(100 * statistics.mean(f1s), 2),
        "latency_ms_p50": round(ms[len(ms) // 2], 1),
        "latency_ms_p90": round(ms[int(len(ms) * 0.9)], 1),
    }


def measure_squad2(loaded: Any, path: Path, cal: Any, threshold: float) -> dict[str, Any]:
    """Return SQuAD 2.0 EM/F1 (has-answer, no-answer, all) at the threshold, gold paragraph only."""
    has_f1, has_em, no_acc = [], [], []
    for article in load_articles(path):
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                m, text = best_per_passage(loaded, qa["question"], [para["context"]])[0]
                answered = m > -math.inf and cal(m) >= threshold
                if qa.get("is_impossible"):
                    no_acc.append(0.0 if answered else 1.0)
                else:
                    golds = [a["text"] for a in qa["answers"]]
                    has_f1.append(f1(text, golds) if answered else 0.0)
                    has_em.append(exact_match(text, golds) if answered else 0.0)
    n = len(has_f1) + len(no_acc)
    return {
        "file": path.name,
        "threshold": threshold,
        "has_answer_f1": round(100 * statistics.mean(has_f1), 2),
        "has_answer_em": round(100 * statistics.mean(has_em), 2),
        "no_answer_accuracy": round(100 * statistics.mean(no_acc), 2),
        "f1": round(100 * (sum(has_f1) + sum(no_acc)) / n, 2),
        "em": round(100 * (sum(has_em) + sum(no_acc)) / n, 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Calibrate and measure; return an exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--train", required=True)
    p.add_argument(
        "--dir", default=str(Path(__file__).resolve().parents[1] / "qa_app/resources/reader")
    )
    p.add_argument("--heldout-questions", type=int, default=800)
    p.add_argument("--dev", default=None)
    p.add_argument("--dev-sample", type=int, default=1000)
    p.add_argument("--squad2", default=None)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--near-miss",
        action="store_true",
        help="count near-miss copies of the held-out questions as unanswerable when choosing "
        "the threshold (they are measured either way)",
    )
    args = p.parse_args(argv)
    import torch

    from qa_app.reader.neural import META_FILE, MarginCalibration, load

    torch.set_num_threads(args.threads)
    directory = Path(args.dir)
    meta_path = directory / META_FILE
    meta = json.loads(meta_path.read_text())
    if sha256_file(args.train) != meta["data"]["train_sha256"]:
        print(f"{args.train}: not the file the reader was trained on", file=sys.stderr)
        return 2
    loaded = load(directory)
    t0 = time.time()
    # Same seed, same shuffle: the first N of all held-out questions are the calibration set.
    every = heldout_sets(Path(args.train), meta["data"]["heldout_articles"], 10**9, args.seed)
    items = every[: args.heldout_questions]
    length = choose_answer_length(loaded, every)
    meta["max_answer_tokens"] = length["max_answer_tokens"]
    print(f"answer length {length} in {time.time() - t0:.0f}s", flush=True)
    fitted = calibrate(loaded, items, use_swaps=args.near_miss)
    meta.update({"calibration": fitted["calibration"], "threshold": fitted["threshold"]})
    meta["metrics"] = {"heldout_train": {**fitted["heldout"], "answer_length": length}}
    print(f"calibration {fitted} in {time.time() - t0:.0f}s", flush=True)
    cal = MarginCalibration(fitted["calibration"]["scale"], fitted["calibration"]["bias"])
    object.__setattr__(loaded.meta, "calibration", cal)
    object.__setattr__(loaded.meta, "threshold", fitted["threshold"])
    if args.dev:
        meta["metrics"]["squad_v1_dev_sample"] = measure_dev(
            loaded, Path(args.dev), args.dev_sample, args.seed
        )
        print(meta["metrics"]["squad_v1_dev_sample"], flush=True)
    if args.squad2:
        meta["metrics"]["squad_v2_subset"] = measure_squad2(
            loaded, Path(args.squad2), cal, fitted["threshold"]
        )
        print(meta["metrics"]["squad_v2_subset"], flush=True)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Probe the sentence reader on the seed questions (real embedder); optionally refit its calibration.

    python bench/seed_reader_probe.py                 # all seed paragraphs as passages
    python bench/seed_reader_probe.py --k 10          # only the 10 paragraphs nearest the question
    python bench/seed_reader_probe.py --fit 400 --cache /tmp/squad_vectors.pkl
                                                      # refit Calibration on SQuAD v1.1 train

Passages are the non-empty lines (paragraphs) of the seed files, ordered by question–paragraph
cosine as a stand-in for retrieval (the reader's rank feature needs an order). Reports, for the
answerable questions, whether a gold answer lies in the chosen sentence, exact match and F1 of the
top span and of the assembled answer, and the score distribution of answerable against
unanswerable questions (where the "not found" threshold should go).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_app.answers import assemble  # noqa: E402
from qa_app.reader.sentence import (  # noqa: E402
    FEATURES,
    Calibration,
    SentenceReader,
    fit_calibration,
)
from qa_app.records import Passage  # noqa: E402
from qa_app.text_norm import exact_match, f1_score, normalize_answer  # noqa: E402

SEEDS = ROOT / "qa_app" / "seeds"
QUESTIONS = ROOT.parent / "shared" / "questions" / "seeds_dev.jsonl"
SQUAD_TRAIN = ROOT.parent / "shared" / "data" / "train" / "train-v1.1-rebuilt.decontam.json"


class CachingEmbedder:
    """Wraps an embedder: remembers vectors by text and times the encode calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.dimension, self.weights_hash = (
            inner.name,
            inner.dimension,
            inner.weights_hash,
        )
        self.cache: dict[str, Any] = {}
        self.seconds = 0.0

    def encode(self, texts: Sequence[str], **kw: Any) -> Any:
        import numpy as np

        started = time.perf_counter()
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if todo:
            for t, v in zip(todo, self.inner.encode(todo, batch_size=64), strict=True):
                self.cache[t] = v
        self.seconds += time.perf_counter() - started
        return np.stack([self.cache[t] for t in texts])


def paragraph_passages(folder: Path) -> list[Passage]:
    """Return every non-empty line of every .txt file in ``folder`` as a Passage."""
    out = []
    for doc_id, path in enumerate(sorted(folder.glob("*.txt"))):
        text = path.read_text(encoding="utf-8")
        pos = 0
        for line in text.split("\n"):
            stripped = line.strip()
            if stripped:
                start = pos + line.index(stripped)
                out.append(
                    Passage(
                        len(out),
                        doc_id,
                        str(path),
                        path.name,
                        None,
                        start,
                        start + len(stripped),
                        stripped,
                        0.0,
                    )
                )
            pos += len(line) + 1
    return out


def ranked(embedder: Any, question: str, passages: list[Passage], k: int | None) -> list[Passage]:
    """Return the passages ordered by cosine to the question (top ``k`` if given)."""
    vecs = embedder.encode([question, *[p.text for p in passages]])
    sims = (vecs[1:] @ vecs[0]).tolist()
    order = sorted(range(len(passages)), key=lambda i: sims[i], reverse=True)[: k or None]
    return [passages[i] for i in order]


def probe(k: int | None, threshold: float) -> None:
    from qa_app.models.embedding import MiniLMEmbedder

    embedder = CachingEmbedder(MiniLMEmbedder())
    reader = SentenceReader(embedder)
    passages = paragraph_passages(SEEDS)
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    embedder.encode([p.text for p in passages])  # warm the cache: paragraph vectors
    print(f"{len(passages)} passages from {SEEDS}, {len(rows)} questions, k={k or 'all'}\n")
    scores: dict[str, list[float]] = {"right": [], "wrong": [], "unanswerable": []}
    hits = em = f1 = em_final = answerable = 0
    read_ms: list[float] = []
    for row in rows:
        golds = row["answers"]
        chosen = ranked(embedder, row["question"], passages, k)
        embedder.seconds = 0.0
        started = time.perf_counter()
        spans = reader.read(row["question"], chosen)
        read_ms.append((time.perf_counter() - started - embedder.seconds) * 1e3)
        result = assemble(row["question"], chosen, spans, threshold=0.0, reader=reader.name)
        top = spans[0] if spans else None
        answer = result.answer.text if result.answer else ""
        score = result.answer.score if result.answer else 0.0
        sentence = (
            chosen[top.passage_index].text[top.sentence_start : top.sentence_end] if top else ""
        )
        if golds:
            answerable += 1
            hit = any(normalize_answer(g) in normalize_answer(sentence) for g in golds)
            hits += hit
            em += exact_match(top.text if top else "", golds)
            f1 += f1_score(top.text if top else "", golds)
            right = exact_match(answer, golds)
            em_final += right
            scores["right" if right else "wrong"].append(score)
            mark = "EM " if right else "hit" if hit else "   "
        else:
            scores["unanswerable"].append(score)
            mark = "n/a"
        print(f"{row['id']} {mark} {score:.3f} {answer[:60]!r:64} gold={golds[:1]}")
    print(
        f"\nanswerable {answerable}: gold in chosen sentence {hits}, top-span EM {em}, "
        f"mean F1 {f1 / answerable:.3f}, assembled-answer EM {em_final}"
    )
    for name, vals in scores.items():
        if vals:
            print(
                f"scores {name:13} n={len(vals):2} min {min(vals):.3f} median "
                f"{statistics.median(vals):.3f} max {max(vals):.3f}"
            )
    found = sum(s >= threshold for s in scores["right"])
    rejected = sum(s < threshold for s in scores["unanswerable"])
    print(
        f"at threshold {threshold}: {found}/{len(scores['right'])} right answers kept, "
        f"{rejected}/{len(scores['unanswerable'])} unanswerable rejected, "
        f"{sum(s >= threshold for s in scores['wrong'])} wrong answers shown"
    )
    print(
        f"reader time without encode: median {statistics.median(read_ms):.1f} ms, "
        f"max {max(read_ms):.1f} ms per question"
    )


def squad_sample(n: int, seed: int = 13) -> list[tuple[str, list[str], list[str]]]:
    """Return ``n`` (question, golds, 10 paragraphs) from SQuAD train; a third lack the answer."""
    data = json.loads(SQUAD_TRAIN.read_text(encoding="utf-8"))["data"]
    rng = random.Random(seed)
    articles = [a for a in data if len(a["paragraphs"]) >= 12]
    rng.shuffle(articles)
    out: list[tuple[str, list[str], list[str]]] = []
    per_article = 20
    for article in articles[: (n + per_article - 1) // per_article]:
        paras = article["paragraphs"]
        for _ in range(per_article):
            gi = rng.randrange(len(paras))
            qa = rng.choice(paras[gi]["qas"])
            others = [p["context"] for j, p in enumerate(paras) if j != gi]
            rng.shuffle(others)
            if rng.random() < 1 / 3:
                out.append((qa["question"], [], others[:10]))
            else:
                contexts = others[:9]
                contexts.insert(rng.randrange(3), paras[gi]["context"])  # retrieval puts it high
                out.append((qa["question"], [a["text"] for a in qa["answers"]], contexts))
    return out[:n]


def fit(n: int, cache: Path | None = None, progress: Callable[[str], None] = print) -> Calibration:
    """Return a Calibration fitted on ``n`` SQuAD train questions (vectors kept in ``cache``)."""
    import pickle

    from qa_app.models.embedding import MiniLMEmbedder

    embedder = CachingEmbedder(MiniLMEmbedder())
    if cache and cache.exists():
        embedder.cache = pickle.loads(cache.read_bytes())
    reader = SentenceReader(embedder)
    feats: list[tuple[float, ...]] = []
    labels: list[int] = []
    sample = squad_sample(n)
    top_right = 0
    firsts = []
    for i, (question, golds, contexts) in enumerate(sample):
        passages = [
            Passage(j, j, f"p{j}", f"p{j}", None, 0, len(c), c, 0.0) for j, c in enumerate(contexts)
        ]
        scored = reader.score(question, passages)
        if scored:
            firsts.append((scored[0], golds))
        for rank, s in enumerate(scored):
            good = int(bool(golds) and f1_score(s.span.text, golds) >= 0.5)
            top_right += good and rank == 0
            feats.append(s.features)
            labels.append(good)
        if (i + 1) % 100 == 0:
            progress(f"{i + 1}/{len(sample)} questions, encode {embedder.seconds:.0f}s")
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(embedder.cache))
    answerable = sum(1 for _, g, _ in sample if g)
    progress(
        f"top-1 F1>=0.5 on {top_right}/{answerable} answerable; {sum(labels)} positive "
        f"of {len(labels)} candidates"
    )
    calibration = fit_calibration(feats, labels)
    progress(f"fitted {calibration} over features {FEATURES}")
    # Where the threshold would fall on this sample, scoring each question's top span.
    tops = [(calibration(s.features), g, s.span.text) for s, g in firsts]
    right = [x for x, g, t in tops if g and f1_score(t, g) >= 0.5]
    wrong = [x for x, g, t in tops if g and f1_score(t, g) < 0.5]
    none = [x for x, g, _ in tops if not g]
    for th in (0.05, 0.1, 0.15, 0.2, 0.3):
        progress(
            f"threshold {th:.2f}: right top answers kept {sum(x >= th for x in right)}/"
            f"{len(right)}, wrong shown {sum(x >= th for x in wrong)}/{len(wrong)}, "
            f"unanswerable shown {sum(x >= th for x in none)}/{len(none)}"
        )
    return calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=None, help="passages per question (default all)")
    parser.add_argument(
        "--threshold", type=float, default=SentenceReader.__init__.__kwdefaults__["threshold"]
    )
    parser.add_argument("--fit", type=int, metavar="N", help="refit on N SQuAD train questions")
    parser.add_argument(
        "--cache", type=Path, help="pickle file keeping sentence vectors between fits"
    )
    args = parser.parse_args()
    if args.fit:
        fit(args.fit, args.cache)
    else:
        probe(args.k, args.threshold)


if __name__ == "__main__":
    main()

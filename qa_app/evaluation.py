"""Evaluation metrics (SQuAD EM/F1, no-answer, supporting sentence, recall, MRR, nDCG, latency)."""

from __future__ import annotations

import math
import re
import string
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any

from qa_app.eval_formats import EvalItem
from qa_app.records import Passage, Progress, Result

NDCG_AT = 10

# Metric name -> (table label, what it measures). The names are what --fail-under accepts.
METRICS: dict[str, tuple[str, str]] = {
    "em": (
        "exact match",
        "SQuAD exact match, max over gold answers; unanswerable: 1 iff no answer",
    ),
    "f1": ("F1", "SQuAD token F1, max over gold answers; unanswerable: 1 iff no answer"),
    "hasans_em": ("has-answer EM", "exact match over answerable questions only"),
    "hasans_f1": ("has-answer F1", "F1 over answerable questions only"),
    "noans": ("no-answer accuracy", "share of unanswerable questions answered 'not found'"),
    "sentence": (
        "supporting sentence",
        "share of answerable questions whose best answer cites a sentence holding a gold answer",
    ),
    "recall_at_5": ("recall@5", "share of questions with a relevant passage among the top 5"),
    "recall": ("recall@k", "share of questions with a relevant passage among the top k"),
    "mrr": ("MRR", "mean reciprocal rank of the first relevant passage (0 when none)"),
    "ndcg": ("nDCG@10", "nDCG over the first 10 distinct retrieved documents (graded for BEIR)"),
}

Prediction = Result | Sequence[Passage]  # a Result when answering, passages when retrieval-only


# -- the official SQuAD v1.1 metric ---------------------------------------------------------

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Return ``text`` lower-cased, without punctuation, articles and extra white space (SQuAD v1.1)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES_RE.sub(" ", text).split())


def exact_match_score(prediction: str, gold: str) -> float:
    """Return 1.0 when the normalised strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Return the token-overlap F1 of the normalised strings (0.0 when nothing is shared)."""
    predicted = normalize_answer(prediction).split()
    wanted = normalize_answer(gold).split()
    same = sum((Counter(predicted) & Counter(wanted)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def answer_scores(prediction: str | None, golds: Sequence[str]) -> tuple[float, float]:
    """Return (EM, F1) of a prediction (None = "no answer"), max over the gold answers.

    With no gold answers the question is unanswerable: both are 1.0 iff the prediction is None.
    """
    if not golds:
        hit = float(prediction is None)
        return hit, hit
    text = prediction or ""
    return (
        max(exact_match_score(text, g) for g in golds),
        max(f1_score(text, g) for g in golds),
    )


def _loose(text: str) -> str:
    # SQuAD's normalisation strips ASCII punctuation only; real documents also quote with
    # “curly” marks, which would hide a word from a containment test. EM/F1 stay official.
    return normalize_answer(
        "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    )


def contains_answer(text: str, golds: Sequence[str]) -> bool:
    """Return True when a normalised gold answer occurs in normalised ``text`` on word boundaries.

    Normalisation is SQuAD's, with every Unicode punctuation mark removed as well.
    """
    haystack = f" {_loose(text)} "
    return any(needle and f" {needle} " in haystack for needle in (_loose(g) for g in golds))


# -- retrieval --------------------------------------------------------------------------------


def doc_name(passage: Passage) -> str:
    """Return the file name of a passage's document (how question sets name documents)."""
    return PurePath(passage.path).name


def judged(item: EvalItem) -> bool:
    """Return True when retrieval can be scored for ``item`` (it has qrels, docs or answers)."""
    return bool(item.relevance or item.docs or item.answers)


def passage_gain(item: EvalItem, passage: Passage) -> int:
    """Return how relevant ``passage`` is to ``item`` (0 = not relevant).

    BEIR: the document's qrels grade. With ``docs``: 1 for a passage of a listed document that
    also holds a gold answer (any passage of it for an unanswerable item). Otherwise: 1 for a
    passage holding a gold answer.
    """
    name = doc_name(passage)
    if item.relevance:
        return dict(item.relevance).get(name, 0)
    if item.docs:
        in_doc = name in item.docs
        return int(in_doc and (not item.answers or contains_answer(passage.text, item.answers)))
    return int(contains_answer(passage.text, item.answers))


def first_relevant_rank(item: EvalItem, passages: Sequence[Passage]) -> int | None:
    """Return the 1-based rank of the first relevant passage, or None if none is relevant."""
    for rank, passage in enumerate(passages, 1):
        if passage_gain(item, passage) > 0:
            return rank
    return None


def ndcg(item: EvalItem, passages: Sequence[Passage], at: int = NDCG_AT) -> float:
    """Return nDCG@``at`` over the distinct documents of ``passages`` in retrieved order.

    A document's gain is the best gain of its retrieved passages. The ideal ranking uses the
    judged documents (BEIR qrels, ``docs``); for answer-only items, the relevant documents found.
    """
    gains: dict[str, int] = {}
    for passage in passages:
        name = doc_name(passage)
        gains[name] = max(gains.get(name, 0), passage_gain(item, passage))
    ranked = list(gains.values())[:at]
    if item.relevance:
        ideal = sorted((g for _, g in item.relevance), reverse=True)
    elif item.docs:
        ideal = [1] * len(item.docs)
    else:
        ideal = [1] * max(1, sum(1 for g in gains.values() if g > 0))
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ranked))
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal[:at]))
    return dcg / idcg if idcg > 0 else 0.0


# -- per question and aggregate --------------------------------------------------------------


@dataclass(frozen=True)
class ItemScore:
    """One question's row in a report; a metric that does not apply is None."""

    id: str
    question: str
    gold: tuple[str, ...]
    predicted: str | None
    score: float | None
    doc: str | None  # file name of the best answer's first citation
    em: float | None
    f1: float | None
    sentence_ok: bool | None
    rank: int | None  # 1-based rank of the first relevant passage (None: not retrieved)
    recall: bool | None
    ndcg: float | None
    latency_ms: float

    def as_dict(self) -> dict[str, Any]:
        """Return the row as JSON-ready values."""
        row = asdict(self)
        row["gold"] = list(self.gold)
        return row


def score_item(
    item: EvalItem, outcome: Prediction, latency_ms: float, k: int, *, retrieval: bool = True
) -> ItemScore:
    """Return the scores of one question given the engine's Result (or passages, retrieval-only).

    With ``retrieval=False`` (reader-only runs, where the passage is given) rank, recall and
    nDCG are left out.
    """
    if isinstance(outcome, Result):
        passages: Sequence[Passage] = outcome.passages
        answer = outcome.answer
        predicted = answer.text if answer is not None else None
        em, f1 = answer_scores(predicted, item.answers)
        sentence_ok: bool | None = None
        if item.answers:
            sentence = ""
            if answer is not None:
                sentence = answer.citations[0].sentence if answer.citations else answer.text
            sentence_ok = answer is not None and contains_answer(sentence, item.answers)
        score = answer.score if answer is not None else None
        doc = PurePath(answer.citations[0].path).name if answer and answer.citations else None
    else:
        passages, predicted, em, f1, sentence_ok, score, doc = (
            outcome,
            None,
            None,
            None,
            None,
            None,
            None,
        )
    rank = recall = gain = None
    if retrieval and judged(item):
        rank = first_relevant_rank(item, passages[:k])
        recall = rank is not None
        gain = ndcg(item, passages)
    return ItemScore(
        id=item.id,
        question=item.question,
        gold=item.answers,
        predicted=predicted,
        score=score,
        doc=doc,
        em=em,
        f1=f1,
        sentence_ok=sentence_ok,
        rank=rank,
        recall=recall,
        ndcg=gain,
        latency_ms=latency_ms,
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the ``q``-th percentile (0-100) by linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(rows: Sequence[ItemScore]) -> dict[str, Any]:
    """Return the aggregate metrics of ``rows`` (fractions in [0, 1]; None when nothing to measure)."""
    qa = [r for r in rows if r.em is not None]
    has = [r for r in qa if r.gold]
    no = [r for r in qa if not r.gold]
    retrieved = [r for r in rows if r.recall is not None]
    latencies = [r.latency_ms for r in rows]
    return {
        "questions": len(rows),
        "answerable": sum(1 for r in rows if r.gold),
        "unanswerable": len(no),
        "answered": sum(1 for r in qa if r.predicted is not None),
        "retrieval_judged": len(retrieved),
        "em": _mean([r.em for r in qa if r.em is not None]),
        "f1": _mean([r.f1 for r in qa if r.f1 is not None]),
        "hasans_em": _mean([r.em for r in has if r.em is not None]),
        "hasans_f1": _mean([r.f1 for r in has if r.f1 is not None]),
        "noans": _mean([float(r.predicted is None) for r in no]),
        "sentence": _mean([float(bool(r.sentence_ok)) for r in has]),
        "recall_at_5": _mean([float(r.rank is not None and r.rank <= 5) for r in retrieved]),
        "recall": _mean([float(bool(r.recall)) for r in retrieved]),
        "mrr": _mean([1.0 / r.rank if r.rank else 0.0 for r in retrieved]),
        "ndcg": _mean([r.ndcg or 0.0 for r in retrieved]),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


@dataclass(frozen=True)
class Evaluation:
    """The outcome of a run: aggregate ``summary`` plus one row per question asked."""

    summary: dict[str, Any]
    rows: tuple[ItemScore, ...]
    cancelled: bool = False


def evaluate(
    items: Sequence[EvalItem],
    predict: Callable[[EvalItem], Prediction],
    *,
    k: int,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    score_retrieval: bool = True,
    on_result: Callable[[Prediction], None] | None = None,
) -> Evaluation:
    """Ask every item through ``predict`` (timed) and return the scored Evaluation.

    ``on_result`` sees each raw outcome. Stops early when ``cancel`` returns True (the rows so
    far are scored, ``cancelled`` is set). Exceptions from ``predict`` propagate.
    """
    rows: list[ItemScore] = []
    cancelled = False
    for done, item in enumerate(items):
        if cancel is not None and cancel():
            cancelled = True
            break
        started = time.perf_counter()
        outcome = predict(item)
        latency_ms = (time.perf_counter() - started) * 1e3
        if on_result is not None:
            on_result(outcome)
        rows.append(score_item(item, outcome, latency_ms, k, retrieval=score_retrieval))
        if progress is not None:
            progress(Progress(done + 1, len(items), "answer", item.id))
    return Evaluation(summarize(rows), tuple(rows), cancelled)

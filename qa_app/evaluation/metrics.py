"""Evaluation metrics (SQuAD EM/F1, no-answer, supporting sentence, recall, MRR, nDCG, latency)."""

from __future__ import annotations

import math
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any

from qa_app.evaluation.formats import EvalItem
from qa_app.evaluation.selective import measure
from qa_app.records import Passage, Progress, Result
from qa_app.text_norm import exact_match, f1_score, normalize_answer

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
    # Selective answering: "right" is F1 >= 0.5 (em_*: exact match); see SELECTIVE_HELP.
    "coverage": ("answered", "share of questions answered at the run's threshold"),
    "precision": (
        "right when answered",
        "share of the answers given at the threshold that are right",
    ),
    "em_precision": ("right when answered (EM)", "the same, right = exact match"),
    "refused": ("answerable refused", "share of answerable questions answered 'not found' (low)"),
    "coverage_at_80": (
        "coverage @80% right",
        "largest share of questions that can be answered, best scores first, 80% of them right",
    ),
    "coverage_at_90": ("coverage @90% right", "the same at 90% right"),
    "aurc": (
        "AURC",
        "area under the risk-coverage curve, mean risk over score-sorted prefixes (low)",
    ),
    "ece": ("ECE (10 bins)", "expected calibration error of the top candidate's score (low)"),
    "em_coverage_at_80": ("coverage @80% right (EM)", "coverage_at_80 with right = exact match"),
    "em_coverage_at_90": ("coverage @90% right (EM)", "coverage_at_90 with right = exact match"),
    "em_aurc": ("AURC (EM)", "aurc with right = exact match (low)"),
    "em_ece": ("ECE (EM)", "ece with right = exact match (low)"),
    # The verdict scale (qa_app.reader.verdicts): each question's best candidate is an answer, a
    # possible answer or "not found"; "right" is its top candidate's F1 >= 0.5 (em: exact match).
    "answer_share": ("verdict answer: share", "share of questions given an answer"),
    "answer_right": ("verdict answer: right", "share of the answers that are right"),
    "answer_em_right": ("verdict answer: exact", "share of the answers that match exactly"),
    "possible_share": ("verdict possible: share", "share of questions given a possible answer"),
    "possible_right": ("verdict possible: right", "share of the possible answers that are right"),
    "possible_em_right": (
        "verdict possible: exact",
        "share of the possible answers that match exactly",
    ),
    "shown_share": (
        "answer or possible",
        "share of questions given an answer or a possible answer",
    ),
    "answerable_shown_right": (
        "answerable: shown and right",
        "share of answerable questions given a right answer or possible answer",
    ),
    "not_found_share": ("verdict not found: share", "share of questions said 'not found'"),
    "not_found_right": (
        "not found but right",
        "share of the 'not found' questions whose best candidate was right (low)",
    ),
}
# Metrics that should be low: gated with --fail-over NAME=X (or NAME<=X), never --fail-under.
LOWER_IS_BETTER = frozenset(
    {"refused", "aurc", "ece", "em_aurc", "em_ece", "not_found_share", "not_found_right"}
)
VERDICT_KINDS = ("answer", "possible", "not_found")
RIGHT_F1 = 0.5  # a top candidate with F1 >= this against a gold answer counts as right

SELECTIVE_HELP = (
    "selective answering: each question's top candidate (the best-scored answer, shown or not)\n"
    "and its score. Right = F1 >= 0.5 against a gold answer (em_*: exact match). A question with\n"
    "no gold answer (unanswerable) is wrong whenever it is answered: it counts as answered when\n"
    "its top score clears the threshold. Questions are sorted by score, highest first; equal\n"
    "scores are one step. Coverage = answered / all questions (a question with no candidate is\n"
    "never answered); accuracy = right / answered; risk = 1 - accuracy. coverage_at_90: the\n"
    "largest coverage whose accuracy is >= 0.9. AURC: the mean of risk over the sorted prefixes\n"
    "(first 1, 2, ..., n questions). ECE: 10 equal-width score bins, |mean score - share right|\n"
    "weighted by bin size. The reliability table (report, --plot) lists each bin."
)

Prediction = Result | Sequence[Passage]  # a Result when answering, passages when retrieval-only


# -- answers against gold (the official SQuAD v1.1 metric lives in qa_app.text_norm) ----------


def answer_scores(prediction: str | None, golds: Sequence[str]) -> tuple[float, float]:
    """Return (EM, F1) of a prediction (None = "no answer"), max over the gold answers.

    With no gold answers the question is unanswerable: both are 1.0 iff the prediction is None.
    """
    if not golds:
        hit = float(prediction is None)
        return hit, hit
    text = prediction or ""
    return exact_match(text, golds), f1_score(text, golds)


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
    # The top candidate (shown or not) and whether it is right; None when the reader gave none.
    top: str | None = None
    top_score: float | None = None
    top_em: float | None = None  # 0.0 for an unanswerable question: any answer is wrong
    top_f1: float | None = None
    verdict: str | None = None  # "answer", "possible" or "not_found" (None: retrieval only)
    verdict_words: str | None = None  # "very likely", … ("" when the score is not calibrated)

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
        top = outcome.top if outcome.top is not None else answer
        verdict: str | None = outcome.verdict.kind
        words: str | None = outcome.verdict.words
    else:
        verdict = words = None
        passages, predicted, em, f1, sentence_ok, score, doc = (
            outcome,
            None,
            None,
            None,
            None,
            None,
            None,
        )
        top = None
    top_em = top_f1 = None
    if top is not None:
        top_em, top_f1 = answer_scores(top.text, item.answers) if item.answers else (0.0, 0.0)
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
        top=top.text if top is not None else None,
        top_score=top.score if top is not None else None,
        top_em=top_em,
        top_f1=top_f1,
        verdict=verdict,
        verdict_words=words,
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


def _right(row: ItemScore, criterion: str) -> bool:
    """Return True when ``row``'s top candidate is right by ``criterion`` ("f1" or "em")."""
    if criterion == "em":
        return (row.top_em or 0.0) >= 1.0
    return (row.top_f1 or 0.0) >= RIGHT_F1


def selective(rows: Sequence[ItemScore]) -> dict[str, dict[str, Any]]:
    """Return the selective-answering figures (see qa_app.evaluation.selective.measure) per criterion.

    Keys "f1" (right = F1 >= 0.5) and "em" (exact match); each has the curve and reliability
    table. Coverage is a share of every question with answer metrics (retrieval-only rows are
    left out); one with no candidate is never answered.
    """
    qa = [r for r in rows if r.em is not None]
    scored = [r for r in qa if r.top_score is not None]
    scores = [float(r.top_score or 0.0) for r in scored]
    return {
        criterion: measure(scores, [_right(r, criterion) for r in scored], total=len(qa))
        for criterion in ("f1", "em")
    }


def summarize(rows: Sequence[ItemScore]) -> dict[str, Any]:
    """Return the aggregate metrics of ``rows`` (fractions in [0, 1]; None when nothing to measure).

    Besides the METRICS keys: counts, latency percentiles and ``reliability`` ({"f1": bins,
    "em": bins}, each bin a dict of low, high, count, mean_score, accuracy).
    """
    qa = [r for r in rows if r.em is not None]
    has = [r for r in qa if r.gold]
    no = [r for r in qa if not r.gold]
    answered = [r for r in qa if r.predicted is not None]
    retrieved = [r for r in rows if r.recall is not None]
    latencies = [r.latency_ms for r in rows]
    summary: dict[str, Any] = {
        "questions": len(rows),
        "answerable": sum(1 for r in rows if r.gold),
        "unanswerable": len(no),
        "answered": len(answered),
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
        # At the run's threshold: the answer given is the top candidate when it cleared it.
        "coverage": len(answered) / len(qa) if qa else None,
        "precision": _mean([float(bool(r.gold) and (r.f1 or 0.0) >= RIGHT_F1) for r in answered]),
        "em_precision": _mean([float(bool(r.gold) and (r.em or 0.0) >= 1.0) for r in answered]),
        "refused": _mean([float(r.predicted is None) for r in has]),
    }
    figures = selective(rows)
    for criterion, prefix in (("f1", ""), ("em", "em_")):
        for key in (
            "coverage_at_80",
            "threshold_at_80",
            "coverage_at_90",
            "threshold_at_90",
            "aurc",
            "ece",
        ):
            summary[prefix + key] = figures[criterion][key] if qa else None
    summary["reliability"] = {c: figures[c]["reliability"] for c in figures} if qa else None
    summary.update(verdict_figures(qa))
    return summary


def verdict_figures(rows: Sequence[ItemScore]) -> dict[str, float | int | None]:
    """Return, per verdict (answer, possible, not_found), how many questions got it, their share,
    and the share of them whose top candidate is right (F1 >= 0.5) and exact; plus
    ``shown_share``, the answers and possible answers together. ``not_found_right`` is the share
    of "not found" questions that the best candidate would have answered rightly."""
    judged_rows = [r for r in rows if r.verdict is not None]
    out: dict[str, float | int | None] = {}
    for kind in VERDICT_KINDS:
        group = [r for r in judged_rows if r.verdict == kind]
        out[f"{kind}_count"] = len(group)
        out[f"{kind}_share"] = len(group) / len(judged_rows) if judged_rows else None
        out[f"{kind}_right"] = _mean([float(_right(r, "f1")) for r in group])
        out[f"{kind}_em_right"] = _mean([float(_right(r, "em")) for r in group])
    shown = [r for r in judged_rows if r.verdict in ("answer", "possible")]
    out["shown_share"] = len(shown) / len(judged_rows) if judged_rows else None
    answerable = [r for r in judged_rows if r.gold]
    out["answerable_shown_right"] = _mean(
        [float(r.verdict in ("answer", "possible") and _right(r, "f1")) for r in answerable]
    )
    return out


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

"""The first reader: rank sentences by embedding and term overlap, cut the typed answer out of them."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from typing import TYPE_CHECKING

from qa_app.reader.answer_types import best_candidate, question_type
from qa_app.records import Passage, Span
from qa_app.text_norm import terms

if TYPE_CHECKING:
    from qa_app.models.embedding import Embedder

FEATURES = ("cosine", "coverage", "context", "rank", "typed", "proximity")
_LOWER_WORD = re.compile(r"(?<![\w’'-])[a-z][a-z’'-]*")


@dataclass(frozen=True)
class Calibration:
    """Logistic calibration: score = sigmoid(bias + Σ weight · feature).

    Features of a candidate span (all in [0, 1] except the cosine, in [-1, 1]):
      cosine    question–sentence cosine of the embedder's vectors
      coverage  IDF-weighted share of the question's content words present in the sentence
      context   the same share over the whole passage (the sentence's surroundings)
      rank      1 / (1 + index of the passage in the retrieval order)
      typed     how well the span fits the expected answer type (0 = fell back to the sentence)
      proximity weighted closeness of the span to the question's words inside the sentence

    The defaults were fitted by logistic regression (``fit_calibration``, run by
    ``python bench/seed_reader_probe.py --fit 400``) on 400 SQuAD v1.1 *train* questions from 20
    articles: each question read against 10 paragraphs of its article, the gold one among the
    first three, or for a third of the questions against 10 paragraphs without the answer; every
    returned span is one row, labelled 1 when its token F1 with a gold answer is >= 0.5. Refit
    whenever the features, the extraction rules or the embedder change, then paste the printed
    values here; the threshold is tuned separately on a question set.
    """

    bias: float = -7.591
    cosine: float = 3.054
    coverage: float = 3.02
    context: float = 0.697
    rank: float = 0.682
    typed: float = 2.338
    proximity: float = 0.486

    def weights(self) -> tuple[float, ...]:
        """Return the feature weights in ``FEATURES`` order."""
        return astuple(self)[1:]

    def __call__(self, features: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights(), features, strict=True))
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


# "Not found" threshold. Measured with `qa-app eval seeds/questions.jsonl --reader sentence`
# (74 questions, 2026-11-30): has-answer EM 0.683, no-answer accuracy 0.571 (8 of 14 refused);
# the reader's typed spans score high even on near-miss questions, so a higher threshold loses
# right answers faster than it refuses wrong ones. The trained reader is the default for that.
DEFAULT_THRESHOLD = 0.1


@dataclass(frozen=True)
class Scored:
    """A candidate span with the features its score came from (for calibration and debugging)."""

    span: Span
    features: tuple[float, ...]


@dataclass(frozen=True)
class _Sentence:
    passage: int
    start: int
    end: int
    keys: frozenset[str]


class SentenceReader:
    """Sentence ranking (embedding cosine + IDF term overlap + retrieval rank) and typed spans.

    Uses only the embedder it is given: one ``encode`` call per question for the question and
    every sentence of the passages.
    """

    name = "sentence"

    def __init__(
        self,
        embedder: Embedder,
        *,
        calibration: Calibration | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.embedder = embedder
        self.calibration = calibration or Calibration()
        self.threshold = threshold

    def read(self, question: str, passages: Sequence[Passage], *, top_n: int = 10) -> list[Span]:
        """Return up to ``top_n`` answer spans, best first, scores calibrated to [0, 1]."""
        return [s.span for s in self.score(question, passages, top_n=top_n)]

    def score(self, question: str, passages: Sequence[Passage], *, top_n: int = 10) -> list[Scored]:
        """Return up to ``top_n`` candidate spans with their features, best first."""
        from qa_app.sentences import sentence_spans

        sentences = [
            _Sentence(i, a, b, frozenset(terms(p.text[a:b])))
            for i, p in enumerate(passages)
            for a, b in sentence_spans(p.text)
            if any(ch.isalnum() for ch in p.text[a:b])
        ]
        qkeys = list(dict.fromkeys(terms(question)))
        if not sentences or not question.strip():
            return []
        weights = _idf(qkeys, sentences)
        qweight = sum(weights.values()) or 1.0
        texts = [passages[s.passage].text[s.start : s.end] for s in sentences]
        vectors = self.embedder.encode([question, *texts])
        cosines = (vectors[1:] @ vectors[0]).tolist()
        coverage = [sum(weights[k] for k in s.keys if k in weights) / qweight for s in sentences]
        in_passage: dict[int, set[str]] = {}
        for s in sentences:
            in_passage.setdefault(s.passage, set()).update(k for k in s.keys if k in weights)
        context = {i: sum(weights[k] for k in keys) / qweight for i, keys in in_passage.items()}
        # Typed extraction is the costly part; only the most promising sentences get it.
        order = sorted(
            range(len(sentences)),
            key=lambda i: cosines[i] + 0.5 * coverage[i] + 0.1 / (1 + sentences[i].passage),
            reverse=True,
        )[: max(3 * top_n, 15)]
        qtype = question_type(question)
        common = frozenset(w.lower() for p in passages for w in _LOWER_WORD.findall(p.text))
        out: dict[tuple[int, int, int], Scored] = {}
        for i in order:
            s = sentences[i]
            text = passages[s.passage].text
            pick = best_candidate(text, s.start, s.end, qtype, weights, common)
            if pick is None:
                start, end, typed, prox = s.start, s.end, 0.0, 0.0
            else:
                start, end, typed, prox = pick.start, pick.end, pick.quality, pick.proximity
            feats = (
                cosines[i],
                coverage[i],
                context[s.passage],
                1.0 / (1 + s.passage),
                typed,
                prox,
            )
            span = Span(
                passage_index=s.passage,
                start=start,
                end=end,
                text=text[start:end],
                score=self.calibration(feats),
                sentence_start=s.start,
                sentence_end=s.end,
            )
            key = (s.passage, start, end)
            if key not in out or out[key].span.score < span.score:
                out[key] = Scored(span, feats)
        ranked = sorted(out.values(), key=lambda c: c.span.score, reverse=True)
        return ranked[:top_n]


def _idf(qkeys: list[str], sentences: list[_Sentence]) -> dict[str, float]:
    """Return each question term's BM25-style IDF over the sentences (unseen terms weigh most)."""
    n = len(sentences)
    out = {}
    for k in qkeys:
        df = sum(1 for s in sentences if k in s.keys)
        out[k] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    return out


def fit_calibration(
    rows: Sequence[Sequence[float]], labels: Sequence[int], *, l2: float = 1.0, steps: int = 50
) -> Calibration:
    """Return a Calibration fitted by L2-regularised logistic regression (Newton's method).

    ``rows`` are feature tuples in ``FEATURES`` order, ``labels`` 1 for a correct span, else 0.
    Raises ValueError when the rows are empty or the labels are all the same.
    """
    import numpy as np

    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0 or x.shape[1] != len(FEATURES) or len(set(y.tolist())) < 2:
        raise ValueError("need feature rows of both labels to fit a calibration")
    x = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2  # a weak ridge: keeps Newton stable on separable data
    penalty[0, 0] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + penalty @ w
        hess = (x * (p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    names = [f.name for f in fields(Calibration)]
    return Calibration(**{n: round(float(v), 3) for n, v in zip(names, w, strict=True)})

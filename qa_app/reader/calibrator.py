"""The answer calibrator: the probability that an answer is right, from the reader's evidence.

The neural reader's raw margin does not transfer across kinds of text (Kamath, Jia and Liang,
"Selective Question Answering under Domain Shift", ACL 2020), so the score a user sees comes from a
small logistic model over features of the reader's behaviour and of the evidence: logits and
margins, how much of its window the span holds, the gap to rival answers, how many passages and
documents give the same answer, the answer passage's rank, whether the answer's type fits the
question, and how much of the question its sentence repeats. It is fitted on held-out training
data only (training/train_calibrator.py) and shipped as JSON with its SHA-256 checked on load.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from qa_app.errors import QaAppError
from qa_app.records import Passage, Span
from qa_app.text_norm import terms

CALIBRATOR_FORMAT = 1

# The features, in the order the model's weights use them. Changing this list means refitting.
FEATURES: tuple[str, ...] = (
    "margin",
    "margin_sq",
    "span_logit",
    "null_logit",
    "window_prob",
    "support_prob",
    "runner_up_gap",
    "rival_gap",
    "log_tokens",
    "log_docs",
    "log_passages_agreeing",
    "log_best_rank",
    "log_passages",
    "type_match",
    "type_mismatch",
    "q_number",
    "q_date",
    "q_person",
    "q_place",
    "q_other",
    "sentence_overlap",
    "answer_in_question",
    "log_passage_chars",
    "share_logit",
    "share_margin",
)

_DATE_WORDS = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2}|january|february|march|april|may|june|july|august|september|"
    r"october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|century|centuries|decade|year|years|month|"
    r"months|week|weeks|day|days|ago|today|yesterday|tomorrow|spring|summer|autumn|fall|winter|"
    r"morning|evening|night|bc|ad|bce|ce|era|age|period|dynasty)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|"
    r"several|few|many|single|double|once|twice|thrice)\b",
    re.IGNORECASE,
)
# The last word of a name that is an institution or a thing, never a person (general English).
_INSTITUTIONS = frozenset(
    [
        "House",
        "Ministry",
        "Department",
        "Council",
        "Office",
        "Agency",
        "Kremlin",
        "Pentagon",
        "Government",
        "Administration",
        "Committee",
        "Party",
        "University",
        "Company",
        "Bank",
        "Air",
        "Airlines",
        "Army",
        "Navy",
        "Force",
        "Forces",
        "Union",
        "Nations",
        "Court",
        "Parliament",
        "Congress",
        "Senate",
        "Treasury",
        "Commission",
        "Embassy",
        "Institute",
        "Group",
        "Corporation",
        "Inc",
        "Ltd",
        "Service",
        "Services",
        "Bureau",
        "Organization",
        "Organisation",
        "Republic",
        "Kingdom",
        "States",
        "Station",
        "Airport",
        "Hospital",
        "School",
        "College",
        "Church",
        "Museum",
        "Police",
    ]
)
_CAPITAL = re.compile(r"(?:^|\s)[A-Z][\w’'.-]*")


@lru_cache(maxsize=64)  # asked once per candidate answer of the same question
def question_kind(question: str) -> str:
    """Return the kind of answer ``question`` asks for: number, date, person, place or other."""
    from qa_app.reader.answer_types import DATE, NUMBER, PERSON, PLACE, question_type

    kind = question_type(question).kind
    return {NUMBER: "number", DATE: "date", PERSON: "person", PLACE: "place"}.get(kind, "other")


def type_fit(kind: str, answer: str) -> int:
    """Return 1 when ``answer`` looks like the kind of answer asked for, -1 when it plainly does
    not (no digit or number word for "how many", no date word for "when", no capital for "who"),
    0 when the question does not say."""
    if kind == "number":
        return 1 if _NUMBER_WORDS.search(answer) else -1
    if kind == "date":
        return 1 if _DATE_WORDS.search(answer) or re.search(r"\d", answer) else -1
    if kind == "person":
        words = answer.split()
        if words and words[-1].strip(".,;:’'s") in _INSTITUTIONS:
            return -1  # "White House" names an institution, not a person
        return 1 if _CAPITAL.search(answer) else -1
    if kind == "place":
        return 1 if _CAPITAL.search(answer) else -1
    return 0


def _share(words: Sequence[str], pool: set[str]) -> float:
    return sum(1 for w in words if w in pool) / len(words) if words else 0.0


@dataclass(frozen=True)
class Group:
    """One distinct answer: every span (from any passage) whose text normalises alike."""

    text: str
    spans: tuple[Span, ...]


def answer_features(
    question: str,
    group: Group,
    others: Sequence[Group],
    passages: Sequence[Passage],
    *,
    kind: str | None = None,
) -> dict[str, float]:
    """Return the calibrator's features of ``group`` (FEATURES order is the model's concern).

    ``others`` are the rival answers to the same question; ``passages`` what the reader was
    given, best ranked first (one passage when the gold paragraph is given). Spans without
    reader features (a reader that gives none) count as a zero margin.
    """
    best = max(group.spans, key=lambda s: s.features.get("margin", 0.0))
    f = best.features
    margin = float(f.get("margin", 0.0))
    kind = kind or question_kind(question)
    rival = max((s.features.get("margin", 0.0) for g in others for s in g.spans), default=None)
    miss = 1.0
    for s in group.spans:
        miss *= 1.0 - float(s.features.get("window_prob", 0.0))
    docs = {passages[s.passage_index].doc_id for s in group.spans}
    agreeing = {s.passage_index for s in group.spans}
    # Copies of one sentence (a syndicated wire report, quoted mail) are one piece of evidence:
    # the held-out reads the calibrator was fitted on never repeat a sentence across passages.
    said = {
        " ".join(
            passages[s.passage_index].text[s.sentence_start : s.sentence_end].split()
        ).casefold()
        for s in group.spans
    }
    independent_docs = min(len(docs), len(said))
    independent_passages = min(len(agreeing), len(said))
    fit = type_fit(kind, group.text)
    q_terms = terms(question)
    share_logit, share_margin = _shares(group, others)
    sentence = passages[best.passage_index].text[best.sentence_start : best.sentence_end]
    a_terms = terms(group.text)
    out = {
        "margin": margin,
        "margin_sq": margin * abs(margin) / 10.0,
        "span_logit": float(f.get("span_logit", 0.0)),
        "null_logit": float(f.get("null_logit", 0.0)),
        "window_prob": float(f.get("window_prob", 0.0)),
        "support_prob": 1.0 - miss,
        "runner_up_gap": float(f.get("runner_up_gap", 0.0)),
        "rival_gap": min(margin - rival, 20.0) if rival is not None else 20.0,
        "log_tokens": math.log1p(float(f.get("tokens", 1.0))),
        "log_docs": math.log(max(1, independent_docs)),
        "log_passages_agreeing": math.log(max(1, independent_passages)),
        "log_best_rank": math.log1p(min(agreeing)),
        "log_passages": math.log(max(1, len(passages))),
        "type_match": 1.0 if fit > 0 else 0.0,
        "type_mismatch": 1.0 if fit < 0 else 0.0,
        "q_number": 1.0 if kind == "number" else 0.0,
        "q_date": 1.0 if kind == "date" else 0.0,
        "q_person": 1.0 if kind == "person" else 0.0,
        "q_place": 1.0 if kind == "place" else 0.0,
        "q_other": 1.0 if kind == "other" else 0.0,
        "sentence_overlap": _share(q_terms, set(terms(sentence))),
        "answer_in_question": _share(a_terms, set(q_terms)),
        "log_passage_chars": math.log1p(len(passages[best.passage_index].text)),
        "share_logit": share_logit,
        "share_margin": share_margin,
    }
    return out


def _shares(group: Group, others: Sequence[Group]) -> tuple[float, float]:
    """Return the answer's share of every candidate span of the question, across all passages
    read (a softmax over the span logits, and over the margins, summed over the answer's spans).

    Each window is scored on its own, so a distractor passage's span can have a margin as high
    as the right one's; normalising over all the question's candidates together (as shared
    normalisation does in training) lets the calibrator compare passages."""
    spans = [s for g in (group, *others) for s in g.spans]
    out = []
    for key in ("span_logit", "margin"):
        values = [float(s.features.get(key, 0.0)) for s in spans]
        top = max(values, default=0.0)
        total = sum(math.exp(v - top) for v in values) or 1.0
        mine = sum(math.exp(float(s.features.get(key, 0.0)) - top) for s in group.spans)
        out.append(mine / total)
    return out[0], out[1]


class CalibratorError(QaAppError, ValueError):
    """The calibrator file is missing, damaged, or does not match what the reader expects."""


@dataclass(frozen=True)
class Tree:
    """One regression tree of a boosted model, as parallel node arrays (leaves hold ``value``)."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    leaf: tuple[bool, ...]
    value: tuple[float, ...]

    def __call__(self, x: Sequence[float]) -> float:
        node = 0
        while not self.leaf[node]:
            node = (
                self.left[node]
                if x[self.feature[node]] <= self.threshold[node]
                else self.right[node]
            )
        return self.value[node]


@dataclass(frozen=True)
class Calibrator:
    """A logistic model, p = sigmoid(bias + Σ weight_i · (x_i − mean_i) / scale_i), to which a
    boosted model may add the sum of its trees' outputs (on the raw features) to the log-odds."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    raw: Mapping[str, Any]
    trees: tuple[Tree, ...] = ()

    def log_odds(self, features: Mapping[str, float]) -> float:
        """Return the model's log-odds that the answer with these features is right."""
        x = [float(features.get(name, 0.0)) for name in self.features]
        z = self.bias
        for v, m, s, w in zip(x, self.mean, self.scale, self.weights, strict=True):
            z += w * (v - m) / s
        return z + sum(tree(x) for tree in self.trees)

    def probability(self, features: Mapping[str, float]) -> float:
        """Return the probability that the answer with these features is right."""
        z = self.log_odds(features)
        if z < -60:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def explain(self, features: Mapping[str, float]) -> list[tuple[str, float]]:
        """Return each feature's linear contribution to the log-odds, largest first."""
        parts = [
            (name, w * (float(features.get(name, 0.0)) - m) / s)
            for name, m, s, w in zip(
                self.features, self.mean, self.scale, self.weights, strict=True
            )
        ]
        return sorted(parts, key=lambda kv: -abs(kv[1]))


def _tree(raw: Mapping[str, Any], n_features: int) -> Tree:
    tree = Tree(
        feature=tuple(int(v) for v in raw["feature"]),
        threshold=tuple(float(v) for v in raw["threshold"]),
        left=tuple(int(v) for v in raw["left"]),
        right=tuple(int(v) for v in raw["right"]),
        leaf=tuple(bool(v) for v in raw["leaf"]),
        value=tuple(float(v) for v in raw["value"]),
    )
    n = len(tree.leaf)
    if not n or any(
        len(a) != n for a in (tree.feature, tree.threshold, tree.left, tree.right, tree.value)
    ):
        raise CalibratorError("a tree's node arrays differ in length")
    for i in range(n):
        if not tree.leaf[i] and not (
            0 <= tree.feature[i] < n_features and i < tree.left[i] < n and i < tree.right[i] < n
        ):
            raise CalibratorError(f"a tree's node {i} points outside the tree")
    return tree


def calibrator_from_dict(raw: Mapping[str, Any]) -> Calibrator:
    """Return the Calibrator a calibrator.json describes; raise CalibratorError when malformed."""
    try:
        if int(raw["format"]) != CALIBRATOR_FORMAT:
            raise CalibratorError(f"format {raw['format']} is not {CALIBRATOR_FORMAT}")
        model = raw["model"]
        names = tuple(str(n) for n in model["features"])
        if names != FEATURES:
            raise CalibratorError("its features are not the ones this version computes")
        cal = Calibrator(
            features=names,
            mean=tuple(float(x) for x in model["mean"]),
            scale=tuple(float(x) or 1.0 for x in model["scale"]),
            weights=tuple(float(x) for x in model["weights"]),
            bias=float(model["bias"]),
            threshold=float(raw["threshold"]),
            raw=raw,
            trees=tuple(_tree(t, len(names)) for t in model.get("trees", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CalibratorError):
            raise
        raise CalibratorError(f"malformed ({exc!r})") from exc
    if not (len(cal.mean) == len(cal.scale) == len(cal.weights) == len(names)):
        raise CalibratorError("its vectors do not have one value per feature")
    if not 0.0 <= cal.threshold <= 1.0:
        raise CalibratorError(f"threshold {cal.threshold} is outside [0, 1]")
    return cal


def load_calibrator(path: Path, sha256: str) -> Calibrator:
    """Return the calibrator in ``path`` after checking its SHA-256 against ``sha256``.

    Raises CalibratorError naming the file when it is missing, changed or malformed.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CalibratorError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise CalibratorError(
            f"{path}: SHA-256 is {actual}, expected {sha256}; the file is damaged or replaced"
        )
    try:
        raw = json.loads(data.decode("utf-8"))
        return calibrator_from_dict(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibratorError(f"{path}: not valid JSON ({exc})") from exc
    except CalibratorError as exc:
        raise CalibratorError(f"{path}: {exc}") from exc

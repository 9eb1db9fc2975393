"""What kind of answer a question expects, and the best typed span for it in a sentence."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from qa_app.reader.extract import (
    Token,
    TypedSpan,
    chunk_spans,
    date_spans,
    join_lists,
    name_spans,
    number_spans,
    tokenize,
)
from qa_app.reader.lexicon import (
    CLASS_NOUNS,
    DATE,
    DO_AUX,
    ENTITY,
    FOCUS_SKIP,
    NUMBER,
    PERSON,
    PLACE,
    REASON,
    THING,
    TYPED,
    UNIT_HINTS,
)
from qa_app.text_norm import STOPWORDS

__all__ = [
    "DATE",
    "ENTITY",
    "NUMBER",
    "PERSON",
    "PLACE",
    "REASON",
    "THING",
    "TYPED",
    "TypedSpan",
    "QuestionType",
    "best_candidate",
    "date_spans",
    "number_spans",
    "question_type",
    "typed_candidates",
]


@dataclass(frozen=True)
class QuestionType:
    """The expected answer: ``kind`` (one of the constants above), the ``focus`` noun of
    "which/what X" questions, whether a list is expected, and a unit hint for numbers."""

    kind: str
    focus: str | None = None
    plural: bool = False
    unit: str | None = None  # "time" | "percent" | "money" | None


_Q_WORDS = re.compile(r"[\w’'-]+")


def question_type(question: str) -> QuestionType:
    """Return the expected answer type of ``question`` (``THING`` when nothing more specific fits)."""
    words = [w.lower() for w in _Q_WORDS.findall(question)]
    text = " ".join(words)

    def after(index: int) -> tuple[str | None, bool]:
        # The focus noun of "which/what X ...": the last class noun among the words before the
        # next function word ("which State Department spokesman warned" → spokesman). "What did
        # X ..." has no focus: the words after the auxiliary are the subject.
        rest = words[index + 1 : index + 12]
        if rest and rest[0] in DO_AUX:
            return None, False
        while rest and rest[0] in FOCUS_SKIP:
            rest = rest[1:]
        # "What is the name of the top official …" asks for what follows "name of" when that is
        # a kind of thing with a class ("official": a person); else for a name (an entity).
        if rest[:2] in (["name", "of"], ["names", "of"]):
            named = rest[2:]
            while named and named[0] in FOCUS_SKIP:
                named = named[1:]
            if any(w in CLASS_NOUNS for w in named[:4]):
                rest = named
        phrase = []
        for w in rest[:4]:
            w = re.sub(r"['’]s$", "", w)
            if w in STOPWORDS and w not in CLASS_NOUNS:
                break
            phrase.append(w)
        known = [w for w in phrase if w in CLASS_NOUNS]
        focus = known[-1] if known else (phrase[0] if phrase else None)
        return focus, bool(focus and re.search(r"[^sui]s$", focus))

    if re.search(r"\bhow (many|much)\b", text):
        unit = (
            "money"
            if re.search(
                r"\bhow much (money|does|did|do|is|was|will)\b.*\b(cost|pay|paid|worth|spend|spent|price)",
                text,
            )
            else None
        )
        return QuestionType(NUMBER, unit=unit)
    if re.search(r"\bhow (long|far) (ago|back)\b|\b(since|until) when\b", text):
        return QuestionType(DATE)
    if m := re.search(
        r"\bhow (long|far|big|large|old|tall|high|deep|wide|often|fast|heavy|small|late|early)\b",
        text,
    ):
        return QuestionType(NUMBER, unit="time" if m.group(1) in ("long", "often") else None)
    if re.search(r"\bwhen\b", text):
        return QuestionType(DATE)
    if re.search(r"\bwhy\b", text):
        return QuestionType(REASON)
    if re.search(r"\bwhere\b", text):
        return QuestionType(PLACE)
    for i, w in enumerate(words):
        if w in ("which", "what"):
            focus, plural = after(i)
            kind = CLASS_NOUNS.get(focus or "")
            if kind:
                unit = (
                    "percent" if focus in ("percentage", "percent", "proportion", "share") else None
                )
                return QuestionType(kind, focus=focus, plural=plural, unit=unit)
    if m := re.search(r"\bwho(m|se)?\b", text):
        # "Who is David Lammy?" asks for a description, not a name.
        if re.search(
            r"\b(?i:who)\s+(?i:is|was)\s+[A-Z][\w’'-]+(\s+[A-Z][\w’'-]+)*\s*\??$", question.strip()
        ):
            return QuestionType(THING)
        plural = bool(re.search(r"\bwho (are|were)\b", text))
        return QuestionType(PERSON, plural=plural)
    if re.search(r"^(how|in what way)\b", text) or re.search(
        r"\bhow (did|does|do|is|was|are|were|can|could|will|would)\b", text
    ):
        return QuestionType(REASON)
    for i, w in enumerate(words):
        if w in ("which", "what"):
            focus, plural = after(i)
            return QuestionType(THING, focus=focus, plural=plural)
    return QuestionType(THING)


_REASON_RE = re.compile(
    r"\b(?:because(?:\s+of)?|due\s+to|owing\s+to|as\s+a\s+result\s+of|in\s+order\s+to|so\s+that|in\s+an\s+effort\s+to)\s+",
    re.IGNORECASE,
)


def typed_candidates(
    text: str,
    start: int,
    end: int,
    qtype: QuestionType,
    qterms: frozenset[str] = frozenset(),
    common: frozenset[str] = frozenset(),
) -> list[TypedSpan]:
    """Return the candidates of the expected type in the sentence ``text[start:end]``."""
    kind = qtype.kind
    if kind == DATE:
        return date_spans(text, start, end)
    if kind == NUMBER:
        cands = number_spans(text, start, end, qterms=qterms)
        if qtype.unit:
            units = UNIT_HINTS[qtype.unit]
            cands = [
                c
                if units.search(text[c.start : c.end])
                else TypedSpan(c.start, c.end, c.quality * 0.6)
                for c in cands
            ]
        return cands
    if kind == REASON:
        m = _REASON_RE.search(text, start, end)
        if m:
            stop = end - len(text[start:end]) + len(text[start:end].rstrip(' .!?"”’'))
            return [TypedSpan(m.end(), stop, 1.0)] if stop > m.end() else []
        return []
    tokens = tokenize(text, start, end)
    if kind in (PERSON, PLACE, ENTITY):
        cands = name_spans(text, tokens, kind, start, qterms, common)
    else:
        cands = chunk_spans(text, tokens, qterms)
    if qtype.plural or kind == THING:
        cands = join_lists(text, cands)
    return cands


def best_candidate(
    text: str,
    start: int,
    end: int,
    qtype: QuestionType,
    weights: dict[str, float],
    common: frozenset[str] = frozenset(),
) -> TypedSpan | None:
    """Return the typed candidate in sentence ``text[start:end]`` that best fits the question.

    ``weights`` maps the question's term keys to their weights (IDF). A candidate's proximity is
    the weighted sum of 1/distance (in tokens) to the nearest occurrence of each question term,
    divided by the total weight; its anchor is the weighted share of question terms in the
    unbroken run of question words (stopwords allowed) right before or after it, as in "Kremlin
    spokesman | Dmitry Peskov". The choice maximises quality + proximity + anchor. Returns None
    when no candidate of the expected type is present.
    """
    qterms = frozenset(weights)
    cands = typed_candidates(text, start, end, qtype, qterms, common)
    if not cands:
        return None
    tokens = tokenize(text, start, end)
    starts = [t.start for t in tokens]
    positions: dict[str, list[int]] = {}
    for idx, t in enumerate(tokens):
        if t.key in weights:
            positions.setdefault(t.key, []).append(idx)
    total = sum(weights.values()) or 1.0
    best: TypedSpan | None = None
    best_value = float("-inf")
    for c in cands:
        a = _index_at(starts, c.start)
        b = _index_at(starts, c.end - 1) + 1
        prox = 0.0
        for key, idxs in positions.items():
            dists = [a - p if p < a else p - b + 1 for p in idxs if p < a or p >= b]
            if dists:
                prox += weights[key] / min(dists)
        prox = min(prox / total, 1.0)
        anchor = max(_run(tokens, a - 1, -1, weights), _run(tokens, b, 1, weights)) / total
        value = c.quality + prox + anchor
        if value > best_value:
            best, best_value = TypedSpan(c.start, c.end, c.quality, prox, min(anchor, 1.0)), value
    return best


def _run(tokens: list[Token], i: int, step: int, weights: dict[str, float]) -> float:
    """Return the weight of the question terms in the run of question words from token ``i``."""
    seen: set[str] = set()
    while 0 <= i < len(tokens):
        t = tokens[i]
        if t.key in weights:
            seen.add(t.key)
        elif not (t.word and t.key is None):  # a stopword continues the run, anything else ends it
            break
        i += step
    return sum(weights[k] for k in seen)


def _index_at(starts: list[int], offset: int) -> int:
    return max(bisect.bisect_right(starts, offset) - 1, 0)

"""The fake engine's reading: keyword search and a word-overlap reader over what it stores."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from qa_app.contracts import Scope
from qa_app.records import Answer, Citation, Passage, Result, Span

STOP = frozenset((
    "what", "when", "who", "whom", "which", "where", "why", "how", "did", "does", "do", "is",
    "are", "was", "were", "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "by",
    "with", "has", "have", "had", "it", "its", "be",
))  # fmt: skip
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def _stem(word: str) -> str:
    return word.lower()[:5]


def _terms(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if w.lower() not in STOP}


@dataclass
class FakeDoc:
    """What the fake stores of a read document: its text and the spans of its passages."""

    id: int
    path: str
    text: str
    size: int
    mtime: float
    title: str
    content_hash: str  # of the file's bytes, as the real library: a touched file is unchanged
    chunks: list[tuple[int, int]] = field(default_factory=list)
    chunk_pages: list[int | None] = field(default_factory=list)
    pages: int | None = None


def _span(sentence: str, asked: set[str]) -> tuple[int, int] | None:
    """Return the first run of words in ``sentence`` that the question does not have."""
    start = end = None
    for m in re.finditer(r"\w+|[,;:.!?]", sentence):
        word = m.group()
        if not word[0].isalnum() or _stem(word) in asked:
            if start is not None:
                return start, end
            continue
        if start is None:
            start = m.start()
        end = m.end()
    return (start, end) if start is not None else None


@dataclass
class FakeReader:
    """A word-overlap reader: in a sentence sharing most of the question's words, the first run of
    words the question does not have."""

    name: str
    threshold: float

    def read(self, question: str, passages: Sequence[Passage], *, top_n: int = 10) -> list[Span]:
        terms, asked = _terms(question), {_stem(w) for w in _WORD.findall(question)}
        spans = []
        for index, passage in enumerate(passages):
            for m in _SENTENCE.finditer(passage.text):
                sentence = m.group()
                score = len(terms & _terms(sentence)) / max(1, len(terms))
                found = _span(sentence, asked) if score >= 0.6 else None
                if found is not None:
                    a, b = m.start() + found[0], m.start() + found[1]
                    text = passage.text[a:b]
                    spans.append(
                        Span(index, a, b, text, round(score * 0.95, 3), m.start(), m.end())
                    )
        return sorted(spans, key=lambda span: -span.score)[:top_n]


def keyword_search(
    docs: Iterable[FakeDoc], query: str, k: int, scope: Scope | None
) -> list[Passage]:
    """Return up to ``k`` passages sharing words with ``query``, most shared first."""
    terms = _terms(query)
    scored = []
    for doc in docs:
        if scope and not scope.admits(doc.path):
            continue
        for i, (a, b) in enumerate(doc.chunks):
            score = len(terms & _terms(doc.text[a:b])) / max(1, len(terms))
            if score > 0:
                scored.append((score, doc, i, a, b))
    pages = {(doc.id, i): doc.chunk_pages[i] for _s, doc, i, _a, _b in scored}
    scored.sort(key=lambda s: (-s[0], s[1].id, s[2]))
    return [
        Passage(
            doc.id * 1000 + i,
            doc.id,
            doc.path,
            doc.title,
            pages[(doc.id, i)],
            a,
            b,
            doc.text[a:b],
            score,
        )
        for score, doc, i, a, b in scored[:k]
    ]


def answer(question: str, passages: list[Passage], reader: FakeReader, threshold: float) -> Result:
    """Return the Result of ``reader``'s spans in ``passages``: answers grouped by their words."""
    spans = reader.read(question, passages, top_n=len(passages) * 100)
    found: dict[str, list[tuple[str, Citation]]] = {}  # answers by their words
    for span in sorted(spans, key=lambda span: (span.passage_index, span.sentence_start)):
        p = passages[span.passage_index]
        sentence = p.text[span.sentence_start : span.sentence_end]
        cite = Citation(
            p.doc_id,
            p.path,
            p.title,
            p.page,
            p.start + span.start,
            p.start + span.end,
            p.start + span.sentence_start,
            p.start + span.sentence_end,
            sentence,
            p.start,
            p.end,
            p.text,
            span.score,
        )
        found.setdefault(span.text.lower(), []).append((span.text, cite))
    answers = sorted(
        (
            Answer(cites[0][0], max(c.score for _, c in cites), tuple(c for _, c in cites))
            for cites in found.values()
        ),
        key=lambda a: -a.score,
    )
    best = answers[0] if answers and answers[0].score >= threshold else None
    return Result(
        question,
        best,
        tuple(answers[1:4]) if best else (),
        tuple(passages),
        reader.name,
        threshold,
        {"total_ms": 1.0},
        top=answers[0] if answers else None,
        calibrated=True,  # the window's calibrated wording is the one these tests see
    )

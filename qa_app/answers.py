"""Turn reader spans into a Result: citations in document offsets, agreeing sources grouped."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qa_app.reader.calibrator import Group
from qa_app.reader.verdicts import NOT_FOUND, POSSIBLE_FLOOR, verdict
from qa_app.records import Answer, Citation, Passage, Result, Span
from qa_app.text_norm import group_key

# (question, the answer's group, its rival groups, the passages read) -> probability it is right
Scorer = Callable[[str, Group, Sequence[Group], Sequence[Passage]], float]

# Each further document that gives the same answer closes this share of the gap to 1, in
# proportion to its own score: score = 1 - (1 - best) * Π (1 - AGREEMENT * s_doc). Two documents
# at 0.6 give 0.66, three give 0.71; the result stays in [0, 1] and never exceeds 1 - (1 - best)
# * (1 - AGREEMENT) ** n. Repeats inside one document add nothing.
AGREEMENT = 0.25
# Alternatives (and, when nothing clears the threshold, the candidates shown instead) are listed
# only when their score reaches this fraction of the threshold: near misses, not noise.
ALTERNATIVE_FLOOR = 0.5


def assemble(
    question: str,
    passages: Sequence[Passage],
    spans: Sequence[Span],
    *,
    threshold: float,
    reader: str,
    max_alternatives: int = 4,
    scorer: Scorer | None = None,
    possible_floor: float = POSSIBLE_FLOOR,
) -> Result:
    """Return the Result for ``question``: best Answer (None below ``threshold``) and alternatives.

    Spans whose texts normalise alike (SQuAD normalisation) become one Answer citing every
    document and location that gives it. A span that overlaps a better-scored one in the same
    document (a piece or an extension of it, "this month" beside "earlier this month") is the
    same finding, not an alternative, and is dropped. All passages are kept in the Result.
    With a ``scorer`` (the neural reader's calibrator) each answer's score is the probability it
    gives from the answer's evidence, agreement across passages and documents included; without
    one, agreeing documents raise the best span score (AGREEMENT). The Result's verdict says
    whether the best candidate is an answer (score >= ``threshold``), a possible answer (a
    calibrated score >= ``possible_floor``) or not found (qa_app.reader.verdicts).
    Raises ValueError when a span's offsets do not match its passage text (a reader bug).
    """
    groups: dict[str, list[Citation]] = {}
    members: dict[str, list[Span]] = {}
    texts: dict[str, tuple[float, str]] = {}
    taken: dict[int, list[tuple[int, int]]] = {}
    for span in sorted(spans, key=lambda s: -s.score):
        citation = _citation(passages, span)
        where = (citation.answer_start, citation.answer_end)
        ranges = taken.setdefault(citation.doc_id, [])
        if any(a < where[1] and where[0] < b and (a, b) != where for a, b in ranges):
            continue
        ranges.append(where)
        text = citation.passage[
            citation.answer_start - citation.passage_start : citation.answer_end
            - citation.passage_start
        ]
        if not text:
            continue
        key = group_key(text)
        groups.setdefault(key, []).append(citation)
        members.setdefault(key, []).append(span)
        if key not in texts or span.score > texts[key][0]:
            texts[key] = (span.score, text)
    if scorer is None:
        answers = [_answer(texts[key][1], cites) for key, cites in groups.items()]
    else:
        found = {key: Group(texts[key][1], tuple(members[key])) for key in groups}
        answers = []
        for key, group in found.items():
            others = [g for k, g in found.items() if k != key]
            probability = min(1.0, max(0.0, scorer(question, group, others, passages)))
            answers.append(_answer(group.text, groups[key], score=probability))
    answers.sort(key=lambda a: (-a.score, -a.documents, a.text))
    top = answers[0] if answers else None
    judged = verdict(
        top.score if top else None, threshold, calibrated=scorer is not None, floor=possible_floor
    )
    best = top if judged.kind == "answer" else None
    lowest_shown = min(threshold, possible_floor) if scorer is not None else threshold
    floor = lowest_shown * ALTERNATIVE_FLOOR
    # The answer or possible answer is shown on its own, so it is not listed again beside it.
    rest = answers if judged.kind == NOT_FOUND else answers[1:]
    alternatives = tuple(a for a in rest if a.score >= floor)[:max_alternatives]
    return Result(
        question=question,
        answer=best,
        alternatives=alternatives,
        passages=tuple(passages),
        reader=reader,
        threshold=threshold,
        timings={},
        top=top,
        calibrated=scorer is not None,
        verdict=judged,
    )


def answer_rule(reader: object, threshold: float | None = None) -> tuple[float, Scorer | None]:
    """Return (threshold, scorer) for answers read by ``reader``: ``threshold`` when given, else
    the reader's own; its answer scorer (the calibrator) when it has one. Engine.ask and the
    reader-only evaluation both decide with this, so their figures are the app's."""
    limit = threshold if threshold is not None else float(getattr(reader, "threshold", 0.5))
    make_scorer = getattr(reader, "scorer", None)
    return limit, (make_scorer() if make_scorer is not None else None)


def disagreeing(result: Result) -> tuple[Answer, ...]:
    """Return the answer shown (answer or possible answer) and the different answers that other
    documents give at the possible-answer band or above, when there are any ("sources
    disagree"); empty when the sources agree. A rival that is a piece or an extension of the
    shown answer ("Peskov" beside "Dmitry Peskov") says the same thing and does not count."""
    shown = result.answer or result.possible
    if shown is None or not result.calibrated:
        return ()
    floor = min(result.threshold, POSSIBLE_FLOOR)
    mine = {c.doc_id for c in shown.citations}
    said = [set(group_key(shown.text).split())]
    rivals = []
    for alt in result.alternatives:
        key = set(group_key(alt.text).split())
        if alt.score < floor or {c.doc_id for c in alt.citations} <= mine:
            continue
        if not key or any(key <= other or other <= key for other in said):
            continue
        said.append(key)
        rivals.append(alt)
    return (shown, *rivals) if rivals else ()


def _citation(passages: Sequence[Passage], span: Span) -> Citation:
    if not 0 <= span.passage_index < len(passages):
        raise ValueError(f"span points at passage {span.passage_index} of {len(passages)}")
    p = passages[span.passage_index]
    if p.text[span.start : span.end] != span.text or not (
        0 <= span.sentence_start <= span.start <= span.end <= span.sentence_end <= len(p.text)
    ):
        raise ValueError(f"{p.path}: span {span.start}:{span.end} does not match the passage text")
    # Surrounding white space is never part of an answer, so the highlight is exactly the text.
    start = span.start + len(span.text) - len(span.text.lstrip())
    end = max(start, span.end - (len(span.text) - len(span.text.rstrip())))
    return Citation(
        doc_id=p.doc_id,
        path=p.path,
        title=p.title,
        page=p.page,
        answer_start=p.start + start,
        answer_end=p.start + end,
        sentence_start=p.start + span.sentence_start,
        sentence_end=p.start + span.sentence_end,
        sentence=p.text[span.sentence_start : span.sentence_end],
        passage_start=p.start,
        passage_end=p.end,
        passage=p.text,
        score=span.score,
        ocr=p.ocr,
        attachment=p.attachment,
    )


def _answer(text: str, citations: list[Citation], *, score: float | None = None) -> Answer:
    unique: dict[tuple[int, int, int], Citation] = {}
    for c in citations:
        key = (c.doc_id, c.answer_start, c.answer_end)
        if key not in unique or c.score > unique[key].score:
            unique[key] = c
    ordered = sorted(unique.values(), key=lambda c: (-c.score, c.doc_id, c.answer_start))
    per_doc: dict[int, float] = {}
    for c in ordered:
        per_doc.setdefault(c.doc_id, c.score)  # each document's best score
    if score is None:
        scores = list(per_doc.values())
        gap = 1.0 - scores[0]
        for s in scores[1:]:
            gap *= 1.0 - AGREEMENT * s
        score = min(1.0, max(0.0, 1.0 - gap))
    return Answer(text=text, score=score, citations=tuple(ordered))

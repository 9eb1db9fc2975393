"""Assembling reader spans into a Result: offsets, grouping, agreement, threshold, JSON."""

from __future__ import annotations

import json

import pytest

from qa_app.answers import AGREEMENT, ALTERNATIVE_FLOOR, assemble
from qa_app.records import Passage, Span
from qa_app.render import to_dict
from qa_app.text_norm import exact_match, f1_score, group_key, normalize_answer

DOC_A = "Intro line.\nRussia received the first shipment earlier this month, the Treasury said.\n"
DOC_B = "Other text first. Officials said the shipment arrived earlier this month.\n"
DOCS = {1: DOC_A, 2: DOC_B}


def passage(doc_id: int, start: int, end: int, index: int) -> Passage:
    text = DOCS[doc_id][start:end]
    return Passage(index, doc_id, f"/d/{doc_id}.txt", f"Doc {doc_id}", None, start, end, text, 1.0)


def span_of(passages: list[Passage], index: int, answer: str, score: float, nth: int = 0) -> Span:
    text = passages[index].text
    start = -1
    for _ in range(nth + 1):
        start = text.index(answer, start + 1)
    dot = text.find(".", start)
    return Span(
        index, start, start + len(answer), answer, score, 0, dot + 1 if dot >= 0 else len(text)
    )


@pytest.fixture
def passages() -> list[Passage]:
    a_start = DOC_A.index("Russia")
    b_start = DOC_B.index("Other")
    return [
        passage(1, a_start, DOC_A.index("\n", a_start), 0),
        passage(2, b_start, DOC_B.index("\n"), 1),
    ]


def test_offsets_map_back_into_document_text(passages) -> None:
    spans = [span_of(passages, 0, "earlier this month", 0.8)]
    result = assemble("When?", passages, spans, threshold=0.5, reader="sentence")
    assert result.answer is not None
    c = result.answer.citations[0]
    doc = DOCS[c.doc_id]
    assert doc[c.answer_start : c.answer_end] == result.answer.text == "earlier this month"
    assert doc[c.sentence_start : c.sentence_end] == c.sentence
    assert c.sentence.startswith("Russia received")
    assert doc[c.passage_start : c.passage_end] == c.passage
    assert c.score == 0.8
    assert (c.path, c.title, c.page) == ("/d/1.txt", "Doc 1", None)


def test_agreeing_documents_merge_into_one_answer(passages) -> None:
    spans = [
        span_of(passages, 0, "earlier this month", 0.6),
        span_of(passages, 1, "Officials", 0.2),  # below the alternatives' floor
        span_of(passages, 1, "earlier this month", 0.5),
        span_of(passages, 1, "the shipment", 0.55),
        Span(1, 3, 3, "", 0.9, 0, 10),  # an empty span is ignored
    ]
    result = assemble("When?", passages, spans, threshold=0.5, reader="sentence")
    best = result.answer
    assert best is not None and best.text == "earlier this month"
    assert best.documents == 2
    assert [c.doc_id for c in best.citations] == [1, 2]
    expected = 1 - (1 - 0.6) * (1 - AGREEMENT * 0.5)
    assert best.score == pytest.approx(expected)
    assert 0.6 < best.score <= 1.0
    for c in best.citations:
        assert DOCS[c.doc_id][c.answer_start : c.answer_end] == "earlier this month"
    assert [a.text for a in result.alternatives] == ["the shipment"]


def test_grouping_uses_squad_normalisation_and_dedupes_citations() -> None:
    text = "The Wall Street Journal first reported it; Wall Street Journal editors agreed."
    p = Passage(0, 7, "/x.txt", "x", 2, 100, 100 + len(text), text, 1.0)
    s1 = Span(0, 0, 23, "The Wall Street Journal", 0.7, 0, len(text))
    s2 = Span(0, 43, 62, "Wall Street Journal", 0.6, 0, len(text))
    result = assemble("Who?", [p], [s1, s2, s1], threshold=0.5, reader="r")
    assert result.answer is not None
    assert result.answer.text == "The Wall Street Journal"
    assert len(result.answer.citations) == 2  # same document, two places; the repeat dropped
    assert result.answer.documents == 1
    assert result.answer.score == pytest.approx(0.7)  # one document: no agreement boost
    assert result.answer.citations[0].page == 2
    assert result.answer.citations[1].answer_start == 143


def test_agreement_score_stays_in_unit_interval() -> None:
    texts = [f"Doc {i} says Paris." for i in range(30)]
    passages = [
        Passage(i, i, f"/{i}", f"{i}", None, 0, len(t), t, 1.0) for i, t in enumerate(texts)
    ]
    spans = [
        Span(i, t.index("Paris"), t.index("Paris") + 5, "Paris", 0.99, 0, len(t))
        for i, t in enumerate(texts)
    ]
    result = assemble("Where?", passages, spans, threshold=0.5, reader="r")
    assert result.answer is not None
    assert result.answer.documents == 30
    assert 0.99 < result.answer.score <= 1.0


def test_below_threshold_is_not_found_but_passages_and_near_misses_kept(passages) -> None:
    spans = [
        span_of(passages, 0, "earlier this month", 0.3),
        span_of(passages, 1, "Officials", 0.1),
    ]
    result = assemble("When?", passages, spans, threshold=0.5, reader="sentence")
    assert result.answer is None
    assert not result.found
    assert result.passages == tuple(passages)
    floor = 0.5 * ALTERNATIVE_FLOOR
    assert [a.text for a in result.alternatives] == ["earlier this month"]
    assert all(a.score >= floor for a in result.alternatives)
    assert result.threshold == 0.5 and result.reader == "sentence"


def test_no_spans_gives_not_found(passages) -> None:
    result = assemble("When?", passages, [], threshold=0.1, reader="sentence")
    assert result.answer is None and result.alternatives == () and len(result.passages) == 2


def test_max_alternatives_and_order() -> None:
    text = "alpha beta gamma delta epsilon zeta"
    p = Passage(0, 1, "/p", "p", None, 0, len(text), text, 1.0)
    words = text.split()
    spans = []
    for i, w in enumerate(words):
        start = text.index(w)
        spans.append(Span(0, start, start + len(w), w, 0.9 - 0.1 * i, 0, len(text)))
    result = assemble("Q?", [p], spans, threshold=0.5, reader="r", max_alternatives=2)
    assert result.answer is not None and result.answer.text == "alpha"
    assert [a.text for a in result.alternatives] == ["beta", "gamma"]
    scores = [result.answer.score] + [a.score for a in result.alternatives]
    assert scores == sorted(scores, reverse=True)


def test_whitespace_around_a_span_is_trimmed() -> None:
    text = "It came  earlier this month ."
    p = Passage(0, 1, "/p", "p", None, 10, 10 + len(text), text, 1.0)
    s = Span(0, 7, 28, text[7:28], 0.8, 0, len(text))
    result = assemble("When?", [p], [s], threshold=0.5, reader="r")
    assert result.answer is not None and result.answer.text == "earlier this month"
    c = result.answer.citations[0]
    assert (c.answer_start, c.answer_end) == (19, 37)


def test_mismatched_span_raises(passages) -> None:
    bad = Span(0, 0, 6, "Moscow", 0.9, 0, 10)
    with pytest.raises(ValueError, match="does not match"):
        assemble("Q?", passages, [bad], threshold=0.5, reader="r")
    with pytest.raises(ValueError, match="passage 5"):
        assemble("Q?", passages, [Span(5, 0, 1, "x", 0.9, 0, 1)], threshold=0.5, reader="r")


def test_result_to_dict_is_json_ready_and_complete(passages) -> None:
    spans = [
        span_of(passages, 0, "earlier this month", 0.8),
        span_of(passages, 1, "Officials", 0.3),
    ]
    result = assemble("When?", passages, spans, threshold=0.5, reader="sentence")
    result.timings["read_ms"] = 1.5
    data = json.loads(json.dumps(to_dict(result)))
    assert set(data) == {
        "question",
        "found",
        "verdict",
        "verdict_words",
        "verdict_hit_rate",
        "score",
        "answer",
        "possible_answer",
        "alternatives",
        "passages",
        "reader",
        "threshold",
        "calibrated",
        "score_meaning",
        "closest",
        "timings",
    }
    assert data["calibrated"] is False and data["closest"] is None
    assert data["found"] is True
    assert data["answer"]["text"] == "earlier this month"
    assert data["answer"]["documents"] == 1
    cite = data["answer"]["citations"][0]
    assert set(cite) >= {
        "doc_id",
        "path",
        "answer_start",
        "answer_end",
        "sentence",
        "passage",
        "score",
    }
    assert data["alternatives"][0]["text"] == "Officials"
    assert data["passages"][0]["doc_id"] == 1 and data["passages"][0]["text"] == passages[0].text
    assert data["timings"] == {"read_ms": 1.5}
    empty = to_dict(assemble("Q?", passages, [], threshold=0.5, reader="r"))
    assert empty["answer"] is None and empty["found"] is False


# --- SQuAD normalisation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("The Wall Street Journal", "wall street journal"),
        ("  an  apple,  a pear! ", "apple pear"),
        ("U.S., Britain and Germany", "us britain and germany"),
        ("the Fath-360", "fath360"),
        ("Theater", "theater"),
    ],
)
def test_normalize_answer(raw: str, norm: str) -> None:
    assert normalize_answer(raw) == norm


def test_em_f1_and_group_key() -> None:
    assert exact_match("the Fath-360", ["Fath-360"]) == 1.0
    assert exact_match("Fath", ["Fath-360"]) == 0.0
    assert f1_score("about 500 square miles", ["500 square miles"]) == pytest.approx(6 / 7)
    assert f1_score("x", []) == 0.0
    assert group_key("“hundreds”") == group_key('"hundreds"') == "hundreds"
    assert group_key("the") == "the"

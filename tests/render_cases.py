"""Results of every shape a front end shows, for the golden tests of their text, Markdown and JSON."""

from __future__ import annotations

from collections.abc import Sequence

from qa_app.answers import assemble
from qa_app.records import Passage, Result, Span

# Document text is data: markup, Markdown, a terminal escape and a line separator in names and text.
MAIL = "/mail/pump\x1b[31m.eml"
TEXTS = (
    "Russia received the first shipment earlier this month, the Treasury said.\n\nMore <b>text</b>.",
    "Officials said Russia received the first shipment earlier this month.",
    "Russia received the first shipment last year, a *spokesman* [said](http://x).",
    "The *pump* was fixed on 3 May by the crew\u2028of the ship, the report says.",
    "Nothing useful here at all, just words about the weather and the sea.",
)
PASSAGES = (
    Passage(10, 1, "/docs/001.txt", "Report <one>", 2, 100, 100 + len(TEXTS[0]), TEXTS[0], 0.9),
    Passage(20, 2, "/docs/002.txt", "002", None, 0, len(TEXTS[1]), TEXTS[1], 0.8, ocr=True),
    Passage(
        30,
        3,
        MAIL,
        "scan_[1].pdf",
        4,
        5,
        5 + len(TEXTS[2]),
        TEXTS[2],
        0.7,
        ocr=True,
        attachment="scan_[1].pdf",
    ),  # fmt: skip
    Passage(40, 4, MAIL, "Memo", None, 0, len(TEXTS[3]), TEXTS[3], 0.6, attachment="memo.docx"),
    Passage(50, 5, "/docs/005.txt", "", None, 0, len(TEXTS[4]), TEXTS[4], 0.5),
)


def _span(i: int, words: str, score: float) -> Span:
    text = PASSAGES[i].text
    start = text.index(words)
    end = text.find(".", start)
    return Span(i, start, start + len(words), words, score, 0, end + 1 if end >= 0 else len(text))


def _fixed(score_of: dict[str, float]):  # type: ignore[no-untyped-def]
    return lambda question, group, others, passages: score_of.get(group.text, 0.05)


def _ask(
    question: str,
    spans: Sequence[Span],
    scores: dict[str, float] | None,
    *,
    threshold: float = 0.76,
    passages: Sequence[Passage] = PASSAGES,
) -> Result:
    scorer = _fixed(scores) if scores is not None else None
    return assemble(question, passages, spans, threshold=threshold, reader="neural", scorer=scorer)


def cases() -> dict[str, Result]:
    """Return the Results the golden files were made from, by name."""
    month = [_span(0, "earlier this month", 0.9), _span(1, "earlier this month", 0.8)]
    return {
        "answer_agreeing": _ask(
            "When did <Russia> get the *first* shipment?",
            [*month, _span(3, "3 May", 0.2)],
            {"earlier this month": 0.93, "3 May": 0.41},
        ),
        "answer_copies_one_sentence": _ask(
            "When?",
            [_span(0, "earlier this month", 0.9), _span(2, "last year", 0.3)],
            {"earlier this month": 0.88, "last year": 0.2},
        ),
        "possible_disagreeing": _ask(
            "When did the shipment arrive?",
            [*month, _span(2, "last year", 0.7)],
            {"earlier this month": 0.66, "last year": 0.62},
        ),
        "possible_attachment_ocr": _ask(
            "Who said it?", [_span(2, "a *spokesman*", 0.6)], {"a *spokesman*": 0.58}
        ),
        "not_found_closest": _ask(
            "Who fixed the pump?",
            [_span(3, "the crew\u2028of the ship", 0.3), _span(4, "the weather", 0.1)],
            {"the crew\u2028of the ship": 0.31, "the weather": 0.004},
        ),
        "not_found_tiny_score": _ask(
            "What colour?", [_span(4, "the weather", 0.1)], {"the weather": 0.004}
        ),
        "not_found_nothing": _ask("Anything?", [], {}, passages=()),
        "not_found_long_candidate": _ask(
            "What?",
            [_span(4, "Nothing useful here at all, just words about the weather and the sea", 0.1)],
            {"Nothing useful here at all, just words about the weather and the sea": 0.2},
        ),
        "uncalibrated_answer": _ask("When?", [*month, _span(3, "3 May", 0.3)], None, threshold=0.5),
        "uncalibrated_not_found": _ask("When?", [_span(3, "3 May", 0.3)], None, threshold=0.5),
    }

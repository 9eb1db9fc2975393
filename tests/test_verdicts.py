"""The verdict scale (answer, possible answer, not found) and the exact-boundary rules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from qa_app.answers import assemble
from qa_app.evaluation.metrics import ItemScore, verdict_figures
from qa_app.reader import boundaries
from qa_app.reader.spans import find_candidates, paragraph_breaks, window_tokenizer
from qa_app.reader.verdicts import BANDS, POSSIBLE_FLOOR, band, describe, verdict
from qa_app.records import Passage, Span
from qa_app.render import to_dict


def _passage(i: int, text: str, doc: int | None = None) -> Passage:
    d = i if doc is None else doc
    return Passage(d, i, f"/docs/d{d}.txt", f"Doc {d}", None, 0, len(text), text, 1.0)


def _span(passages: list[Passage], i: int, words: str, score: float) -> Span:
    text = passages[i].text
    start = text.index(words)
    return Span(i, start, start + len(words), words, score, 0, len(text))


def _fixed(score_of: dict[str, float]) -> Any:
    return lambda question, group, others, passages: score_of[group.text]


# -- bands -------------------------------------------------------------------------------------


def test_bands_are_ordered_and_cover_zero_to_one() -> None:
    lows = [b.low for b in BANDS]
    assert lows == sorted(lows, reverse=True) and lows[-1] == 0.0
    assert [band(x).words for x in (0.99, 0.8, 0.65, 0.5, 0.1)] == [
        "almost certain",
        "very likely",
        "likely",
        "about even",
        "unlikely",
    ]


@pytest.mark.parametrize(
    ("score", "kind"),
    [
        (0.95, "answer"),
        (0.76, "answer"),
        (0.75, "possible"),
        (POSSIBLE_FLOOR, "possible"),
        (POSSIBLE_FLOOR - 0.01, "not_found"),
        (None, "not_found"),
    ],
)
def test_verdict_kind_from_score(score: float | None, kind: str) -> None:
    assert verdict(score, 0.76, calibrated=True).kind == kind


def test_threshold_override_moves_the_answer_band_only() -> None:
    assert verdict(0.6, 0.5, calibrated=True).kind == "answer"
    assert verdict(0.6, 0.9, calibrated=True).kind == "possible"
    assert verdict(0.3, 0.2, calibrated=True).kind == "answer"


def test_uncalibrated_scores_have_no_possible_band_and_no_words() -> None:
    v = verdict(0.6, 0.76, calibrated=False)
    assert (v.kind, v.words, v.hit_rate) == ("not_found", "", None)
    assert verdict(0.8, 0.76, calibrated=False).kind == "answer"
    assert "not a calibrated probability" in describe(verdict(0.8, 0.76, calibrated=False))


def test_describe_says_the_band_and_its_hit_rate_in_words() -> None:
    text = describe(verdict(0.7, 0.76, calibrated=True))
    assert text.startswith("likely: ") and "answers like this were right" in text
    assert "1 times" not in text


# -- assemble ----------------------------------------------------------------------------------


def test_possible_answer_is_shown_apart_from_answer_and_not_repeated() -> None:
    passages = [_passage(0, "Lammy spoke in London on Monday."), _passage(1, "Paris is far.")]
    spans = [_span(passages, 0, "London", 0.7), _span(passages, 1, "Paris", 0.3)]
    result = assemble(
        "Which city?",
        passages,
        spans,
        threshold=0.76,
        reader="neural",
        scorer=_fixed({"London": 0.66, "Paris": 0.3}),
    )
    assert result.answer is None and not result.found
    assert result.verdict.kind == "possible" and result.verdict.words == "likely"
    assert result.possible is not None and result.possible.text == "London"
    assert all(a.text != "London" for a in result.alternatives)
    data = json.loads(json.dumps(to_dict(result)))
    assert data["verdict"] == "possible" and data["score"] == pytest.approx(0.66)
    assert data["possible_answer"]["text"] == "London" and data["closest"] is None


def test_answer_band_and_not_found_band() -> None:
    passages = [_passage(0, "Russia received the first shipment earlier this month.")]
    spans = [_span(passages, 0, "earlier this month", 0.9)]
    high = assemble(
        "When?",
        passages,
        spans,
        threshold=0.76,
        reader="neural",
        scorer=_fixed({"earlier this month": 0.93}),
    )
    assert high.found and high.verdict.kind == "answer"
    assert high.verdict.words == "almost certain" and high.possible is None
    low = assemble(
        "When?",
        passages,
        spans,
        threshold=0.76,
        reader="neural",
        scorer=_fixed({"earlier this month": 0.2}),
    )
    assert low.verdict.kind == "not_found" and low.possible is None
    assert to_dict(low)["closest"]["text"] == "earlier this month"


def test_copies_of_one_sentence_are_one_source() -> None:
    wire = "The factory is near the Kremlin, officials said."
    passages = [_passage(i, wire) for i in range(3)] + [_passage(3, "A plant near the Kremlin.")]
    spans = [_span(passages, i, "Kremlin", 0.9) for i in range(4)]
    result = assemble("Where?", passages, spans, threshold=0.5, reader="r")
    assert result.answer is not None
    assert result.answer.documents == 4 and result.answer.sources == 2


# -- metrics per verdict -----------------------------------------------------------------------


def _row(verdict_kind: str, f1: float, em: float) -> ItemScore:
    return ItemScore(
        "q",
        "Q?",
        ("a",),
        None,
        None,
        None,
        em,
        f1,
        None,
        None,
        None,
        None,
        1.0,
        top="a",
        top_score=0.5,
        top_em=em,
        top_f1=f1,
        verdict=verdict_kind,
    )


def test_verdict_figures_count_share_and_right_per_band() -> None:
    rows = [
        _row("answer", 1, 1),
        _row("answer", 0.6, 0),
        _row("possible", 0.2, 0),
        _row("not_found", 1, 1),
    ]
    f = verdict_figures(rows)
    assert f["answer_count"] == 2 and f["answer_right"] == 1.0 and f["answer_em_right"] == 0.5
    assert f["possible_right"] == 0.0 and f["shown_share"] == 0.75
    assert f["not_found_right"] == 1.0 and f["not_found_share"] == 0.25
    assert f["answerable_shown_right"] == 0.5  # two right answers of four answerable questions


# -- boundaries --------------------------------------------------------------------------------

WARSAW = "In 1939, c. 1,300,000 people lived in Warsaw, more than 90 percent of them Poles."


def _move(text: str, words: str, kind: str = "other") -> str:
    start = text.index(words)
    s, e = boundaries.exact(text, start, start + len(words), kind)
    return text[s:e]


def test_a_span_never_starts_or_ends_inside_a_number() -> None:
    assert _move(WARSAW, "300,000") == "1,300,000"
    assert _move(WARSAW, "1,3") == "1,300,000"
    assert _move("It cost $5.5 million.", "5") == "$5.5"
    assert _move("Growth was 40% a year.", "40") == "40%"
    assert _move("In 1939 it grew.", "1939") == "1939"  # a whole number is left alone


def test_quantifiers_stay_with_their_number() -> None:
    assert _move(WARSAW, "90 percent") == "more than 90 percent"
    assert _move("It took at least 3 weeks.", "3 weeks") == "at least 3 weeks"
    assert _move("The nearly finished road.", "finished road") == "finished road"
    assert _move("It has about 300 rooms.", "300 rooms") == "300 rooms"  # approximators stay out


def test_the_rest_of_a_name_is_kept_for_who_questions() -> None:
    text = "Blinken spoke alongside David Lammy in London."
    assert _move(text, "Lammy", "person") == "David Lammy"
    assert _move(text, "David", "person") == "David Lammy"
    assert _move(text, "Lammy", "other") == "Lammy"
    title = "British Prime Minister Winston Churchill agreed."
    assert _move(title, "Winston Churchill", "person") == "Winston Churchill"


def test_a_span_never_cuts_a_word() -> None:
    assert _move("He called him il miglior fabbro.", "il mig") == "il miglior"


def test_paragraph_breaks() -> None:
    assert paragraph_breaks("a\n\nb\n \nc\nd") == [3, 7]


@dataclass
class _Settings:
    max_len: int = 256
    stride: int = 128
    max_answer_tokens: int = 30


class _PointedModel:
    """A span model whose logits point the start at one word and the end at another."""

    def __init__(self, start_word: str, end_word: str, text: str) -> None:
        from qa_app.models.embedding import model_dir

        self.tokenizer = window_tokenizer(str(model_dir() / "tokenizer.json"), 256, 128)
        self.meta = _Settings()
        self.text = text
        self.start_at = text.index(start_word)
        self.end_at = text.index(end_word) + len(end_word)
        self.offsets: Any = None

    def logits(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> Any:
        starts = np.zeros(ids.shape, dtype=np.float32)
        ends = np.zeros(ids.shape, dtype=np.float32)
        enc = self.tokenizer.pairs.encode(self.question, self.text)
        for t, (seq, (a, b)) in enumerate(zip(enc.sequence_ids, enc.offsets, strict=True)):
            if seq != 1:
                continue
            starts[0, t] = 8.0 if a == self.start_at else (3.0 if b <= len(self.text) else 0)
            ends[0, t] = 8.0 if b == self.end_at else 0.0
        return starts, ends


def test_an_answer_never_crosses_a_paragraph_break() -> None:
    text = "He called Pound il miglior\nfabbro\n\nApril is the cruellest month, he wrote."
    model = _PointedModel("il", "April", text)
    model.question = "What is the cruellest month?"
    found = find_candidates(model, model.question, [text])
    assert found
    for c in found:
        assert "\n\n" not in text[c.start : c.end]


def test_the_calibrator_counts_copies_of_one_sentence_once() -> None:
    from qa_app.reader.calibrator import Group, answer_features

    wire = "The drone factory is near the Kremlin, officials said."
    copies = [_passage(i, wire) for i in range(3)]
    spans = tuple(_span(copies, i, "Kremlin", 0.9) for i in range(3))
    f = answer_features("Where is the drone factory?", Group("Kremlin", spans), [], copies)
    assert f["log_docs"] == 0.0 and f["log_passages_agreeing"] == 0.0
    other = [*copies[:2], _passage(2, "A second plant stands near the Kremlin walls.")]
    spans = tuple(_span(other, i, "Kremlin", 0.9) for i in range(3))
    f = answer_features("Where is the drone factory?", Group("Kremlin", spans), [], other)
    assert f["log_docs"] > 0.6


def test_a_name_of_a_person_is_asked_for_and_an_institution_is_not_one() -> None:
    from qa_app.reader.calibrator import question_kind, type_fit

    asked = "What is the name of the top Russian defence official Iran hosted last September?"
    assert question_kind(asked) == "person"
    assert question_kind("What is the name of the missile platform?") == "other"
    assert type_fit("person", "White House") == -1 and type_fit("person", "Iran Air") == -1
    assert type_fit("person", "Dmitry Peskov") == 1


def test_a_name_takes_one_word_on_either_side_and_never_a_title() -> None:
    text = "Ukraine's Prime Minister Denys Shmyhal said so."
    assert _move(text, "Shmyhal", "person") == "Denys Shmyhal"
    assert _move("said President Zelensky today", "Zelensky", "person") == "Zelensky"


def test_the_answer_band_starts_at_the_shipped_threshold() -> None:
    """The words "very likely" begin where the shipped calibrator starts answering, so an answer
    is never called "likely" and a possible answer never "very likely" by default."""
    from qa_app.reader.neural import load_answer_calibrator

    calibrator = load_answer_calibrator()
    assert calibrator is not None
    assert [b.low for b in BANDS if b.words == "very likely"] == [calibrator.threshold]
    assert POSSIBLE_FLOOR in [b.low for b in BANDS]  # a possible answer is never "unlikely"
    rates = [b.hit_rate for b in BANDS]
    assert rates == sorted(rates, reverse=True)

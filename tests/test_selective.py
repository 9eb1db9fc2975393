"""Selective-answering metrics against values computed by hand: curve, coverage, AURC, ECE."""

from __future__ import annotations

from fractions import Fraction

import pytest

from qa_app.evaluation.formats import EvalItem
from qa_app.evaluation.metrics import score_item, selective, summarize
from qa_app.evaluation.selective import (
    aurc,
    coverage_at,
    expected_calibration_error,
    measure,
    reliability,
    risk_coverage,
)
from qa_app.records import Answer, Citation, Result

# Ten top candidates, best score first. 0.8 appears twice: one step of the curve.
HAND = [
    (0.95, True),
    (0.9, True),
    (0.8, True),
    (0.8, False),
    (0.7, True),
    (0.6, True),
    (0.4, False),
    (0.3, True),
    (0.2, False),
    (0.1, False),
]
SCORES = [s for s, _ in HAND]
RIGHT = [r for _, r in HAND]


def test_curve_by_hand() -> None:
    points = risk_coverage(SCORES[::-1], RIGHT[::-1])  # input order does not matter
    # (score, answered, right) of each step; the tie at 0.8 is one step of two questions
    assert [(p.score, p.answered, p.right) for p in points] == [
        (0.95, 1, 1),
        (0.9, 2, 2),
        (0.8, 4, 3),
        (0.7, 5, 4),
        (0.6, 6, 5),
        (0.4, 7, 5),
        (0.3, 8, 6),
        (0.2, 9, 6),
        (0.1, 10, 6),
    ]
    assert [p.coverage for p in points] == pytest.approx(
        [n / 10 for n in (1, 2, 4, 5, 6, 7, 8, 9, 10)]
    )
    assert points[2].accuracy == pytest.approx(0.75) and points[4].accuracy == pytest.approx(5 / 6)


def test_coverage_at_targets_by_hand() -> None:
    points = risk_coverage(SCORES, RIGHT)
    # 80%: the step at 0.6 (5 of 6 right), although the step at 0.8 dips to 75% before it
    assert coverage_at(points, 0.8) == (pytest.approx(0.6), 0.6)
    # 90%: only the first two answers (both right)
    assert coverage_at(points, 0.9) == (pytest.approx(0.2), 0.9)
    assert coverage_at(points, 1.0) == (pytest.approx(0.2), 0.9)
    # 4 of 5 right is exactly 0.8: it counts as reaching it
    assert coverage_at(risk_coverage([0.9, 0.8, 0.7, 0.6, 0.5], [1, 1, 1, 0, 1]), 0.8)[0] == 1.0


def test_coverage_counts_questions_without_a_candidate() -> None:
    points = risk_coverage(SCORES, RIGHT, total=12)  # two more questions never answered
    assert points[-1].coverage == pytest.approx(10 / 12)
    assert coverage_at(points, 0.8) == (pytest.approx(6 / 12), 0.6)
    with pytest.raises(ValueError, match="below the 10 scored"):
        risk_coverage(SCORES, RIGHT, total=9)


def test_aurc_by_hand() -> None:
    # risk of each prefix 1..10; prefixes 3 and 4 both end in the 0.8 tie and take its risk 1/4
    risks = [0, 0, Fraction(1, 4), Fraction(1, 4), Fraction(1, 5), Fraction(1, 6)]
    risks += [Fraction(2, 7), Fraction(1, 4), Fraction(1, 3), Fraction(2, 5)]
    assert aurc(SCORES, RIGHT) == pytest.approx(float(sum(risks) / 10))
    assert aurc(SCORES, RIGHT) == pytest.approx(0.2135714, abs=1e-7)


def test_reliability_and_ece_by_hand() -> None:
    table = reliability(SCORES, RIGHT)
    assert [b.count for b in table] == [0, 1, 1, 1, 1, 0, 1, 1, 2, 2]
    assert table[9].mean_score == pytest.approx(0.925) and table[9].accuracy == 1.0
    assert table[8].mean_score == pytest.approx(0.8) and table[8].accuracy == 0.5
    assert table[0].mean_score is None and table[0].accuracy is None
    # |0.925-1|*2 + |0.8-0.5|*2 + 0.3 + 0.4 + 0.4 + 0.7 + 0.2 + 0.1, over 10 questions
    assert expected_calibration_error(table) == pytest.approx(0.285)


def test_bins_are_closed_on_the_left_and_one_is_in_the_last() -> None:
    table = reliability([0.0, 0.1, 0.5, 1.0, 1.3, -0.2], [True] * 6)
    assert [b.count for b in table] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]


def test_all_right_none_right() -> None:
    scores = [0.9, 0.5, 0.2]
    everything = measure(scores, [True] * 3)
    assert everything["coverage_at_90"] == 1.0 and everything["threshold_at_90"] == 0.2
    assert everything["aurc"] == 0.0
    # right every time, so the gap is 1 - score in each bin: (0.1 + 0.5 + 0.8) / 3
    assert everything["ece"] == pytest.approx(1.4 / 3)
    nothing = measure(scores, [False] * 3)
    assert nothing["coverage_at_80"] == 0.0 and nothing["threshold_at_80"] is None
    assert nothing["aurc"] == 1.0
    assert nothing["ece"] == pytest.approx((0.9 + 0.5 + 0.2) / 3)


def test_all_tied_is_one_step() -> None:
    points = risk_coverage([0.5] * 4, [True, False, True, True])
    assert len(points) == 1 and points[0].accuracy == 0.75 and points[0].coverage == 1.0
    assert aurc([0.5] * 4, [True, False, True, True]) == pytest.approx(0.25)
    assert coverage_at(points, 0.8) == (0.0, None)


def test_empty() -> None:
    assert risk_coverage([], []) == []
    assert aurc([], []) is None
    assert expected_calibration_error(reliability([], [])) is None
    figures = measure([], [], total=3)
    assert figures["coverage_at_80"] is None and figures["aurc"] is None
    assert figures["ece"] is None and figures["curve"] == []
    with pytest.raises(ValueError, match="differ in length"):
        risk_coverage([0.5], [])


# -- from question rows ------------------------------------------------------------------------


def _answer(text: str, score: float) -> Answer:
    citation = Citation(1, "/d/a.txt", "a", None, 0, len(text), 0, len(text), text, 0,
                        len(text), text, score)  # fmt: skip
    return Answer(text, score, (citation,))


def _result(top: str | None, score: float, threshold: float = 0.5) -> Result:
    best = _answer(top, score) if top is not None else None
    shown = best if best is not None and score >= threshold else None
    return Result("q?", shown, (), (), "fake", threshold, top=best)


def test_rows_right_by_f1_and_em_and_unanswerable_wrong() -> None:
    cases = [
        (EvalItem("1", "q?", ("Carl Wilhelm Scheele",)), _result("Scheele", 0.9)),  # F1 .5
        (EvalItem("2", "q?", ("1773",)), _result("1773", 0.7)),  # exact
        (EvalItem("3", "q?", ("Uppsala",)), _result("Stockholm", 0.6)),  # wrong
        (EvalItem("4", "q?", ()), _result("Berlin", 0.55)),  # unanswerable but answered: wrong
        (EvalItem("5", "q?", ("Paris",)), _result("Paris", 0.3)),  # right, but refused at 0.5
        (EvalItem("6", "q?", ()), _result("Rome", 0.2)),  # unanswerable, refused
        (EvalItem("7", "q?", ("x",)), _result(None, 0.0)),  # no candidate at all
    ]
    rows = [score_item(item, outcome, 1.0, 10) for item, outcome in cases]
    assert [(r.top, r.top_score) for r in rows[:2]] == [("Scheele", 0.9), ("1773", 0.7)]
    assert rows[0].top_f1 == pytest.approx(0.5) and rows[0].top_em == 0.0
    assert (rows[3].top_em, rows[3].top_f1) == (0.0, 0.0)
    assert rows[6].top is None and rows[6].top_score is None
    figures = selective(rows)
    by_f1 = [(p["score"], p["answered"], p["right"]) for p in figures["f1"]["curve"]]
    assert by_f1 == [(0.9, 1, 1), (0.7, 2, 2), (0.6, 3, 2), (0.55, 4, 2), (0.3, 5, 3), (0.2, 6, 3)]
    assert figures["em"]["curve"][0]["right"] == 0  # "Scheele" is not an exact match
    summary = summarize(rows)
    # 7 questions: coverage is a share of all of them, the one with no candidate included
    assert summary["coverage_at_90"] == pytest.approx(2 / 7)
    assert summary["coverage_at_80"] == pytest.approx(2 / 7)
    assert summary["em_coverage_at_90"] == 0.0
    # at the run's threshold 0.5: four answered (0.9, 0.7, 0.6, 0.55), two of them right
    assert summary["coverage"] == pytest.approx(4 / 7)
    assert summary["precision"] == pytest.approx(2 / 4)
    assert summary["em_precision"] == pytest.approx(1 / 4)
    # answerable: 1, 2, 3, 5, 7; refused: 5 (below 0.5) and 7 (nothing found)
    assert summary["refused"] == pytest.approx(2 / 5)
    # the curve's step at the threshold is the run itself
    step = next(p for p in figures["f1"]["curve"] if p["score"] == 0.55)
    assert step["coverage"] == pytest.approx(summary["coverage"])
    assert step["accuracy"] == pytest.approx(summary["precision"])
    assert summary["reliability"]["f1"][9]["count"] == 1


def test_result_without_top_falls_back_to_the_answer() -> None:
    shown = _answer("1773", 0.8)
    old_style = Result("q?", shown, (), (), "fake", 0.5)  # a Result built before `top` existed
    row = score_item(EvalItem("1", "q?", ("1773",)), old_style, 1.0, 10)
    assert (row.top, row.top_score, row.top_em) == ("1773", 0.8, 1.0)


def test_retrieval_only_rows_have_no_selective_figures() -> None:
    row = score_item(EvalItem("1", "q?", docs=("a.txt",)), [], 1.0, 10)
    summary = summarize([row])
    assert summary["coverage_at_90"] is None and summary["ece"] is None
    assert summary["coverage"] is None and summary["reliability"] is None

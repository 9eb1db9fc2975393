"""The answer calibrator: its features, its file's checks, and how answers are scored with it."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pytest

from qa_app.answers import assemble
from qa_app.reader.calibrator import (
    FEATURES,
    CalibratorError,
    Group,
    answer_features,
    calibrator_from_dict,
    load_calibrator,
    type_fit,
)
from qa_app.reader.neural import ReaderModelError, load_answer_calibrator
from qa_app.reader.spans import balance_brackets, balance_quotes
from qa_app.records import Passage, Span

TEXT_A = "Russia received the first shipment earlier this month, the Treasury Department said."
TEXT_B = "Officials said the first shipment arrived earlier this month."
QUESTION = "When did Russia receive the first shipment?"


def _passage(i: int, text: str, doc: int | None = None) -> Passage:
    return Passage(
        i, i if doc is None else doc, f"d{i}.txt", f"d{i}", None, 0, len(text), text, 0.1
    )


def _span(pi: int, text: str, answer: str, margin: float, prob: float) -> Span:
    start = text.index(answer)
    features = {
        "margin": margin,
        "span_logit": margin + 2.0,
        "null_logit": 2.0,
        "start_logit": 1.0,
        "end_logit": margin + 1.0,
        "window_prob": prob,
        "runner_up_gap": 3.0,
        "tokens": float(len(answer.split())),
    }
    return Span(pi, start, start + len(answer), answer, 0.5, 0, len(text), features)


def test_features_of_a_hand_made_answer() -> None:
    passages = [_passage(0, TEXT_A), _passage(1, TEXT_B)]
    group = Group(
        "earlier this month",
        (
            _span(0, TEXT_A, "earlier this month", 6.0, 0.8),
            _span(1, TEXT_B, "earlier this month", 4.0, 0.5),
        ),
    )
    rival = Group(
        "the Treasury Department", (_span(0, TEXT_A, "the Treasury Department", 1.0, 0.1),)
    )
    f = answer_features(QUESTION, group, [rival], passages)
    assert set(f) == set(FEATURES)
    assert f["margin"] == 6.0  # the group's best span
    assert f["margin_sq"] == pytest.approx(3.6)
    assert f["support_prob"] == pytest.approx(1 - 0.2 * 0.5)  # noisy-or over both windows
    assert f["rival_gap"] == pytest.approx(5.0)
    assert f["log_docs"] == pytest.approx(math.log(2))
    assert f["log_passages_agreeing"] == pytest.approx(math.log(2))
    assert f["log_best_rank"] == 0.0  # the first-ranked passage gives it
    assert f["log_passages"] == pytest.approx(math.log(2))
    assert f["q_date"] == 1.0 and f["q_number"] == 0.0
    assert f["type_match"] == 1.0 and f["type_mismatch"] == 0.0  # "month" is a date word
    # "russia", "receiv", "first", "shipment" are all in the first sentence.
    assert f["sentence_overlap"] == pytest.approx(1.0)
    assert f["answer_in_question"] == 0.0
    assert f["log_tokens"] == pytest.approx(math.log1p(3))
    # The same answer from one document only: fewer agreeing sources, no rival.
    alone = answer_features(QUESTION, Group("earlier this month", group.spans[:1]), [], passages)
    assert alone["log_docs"] == 0.0 and alone["rival_gap"] == 20.0
    assert alone["support_prob"] == pytest.approx(0.8)


def test_type_fit() -> None:
    assert type_fit("number", "dozens") == 1 and type_fit("number", "Moscow") == -1
    assert type_fit("date", "in 2023") == 1 and type_fit("date", "the Treasury") == -1
    assert type_fit("person", "Dmitry Peskov") == 1 and type_fit("person", "officials") == -1
    assert type_fit("other", "anything") == 0


def _model(threshold: float = 0.5) -> dict[str, object]:
    n = len(FEATURES)
    weights = [0.0] * n
    weights[FEATURES.index("margin")] = 1.0
    return {
        "format": 1,
        "model": {
            "features": list(FEATURES),
            "mean": [0.0] * n,
            "scale": [2.0] * n,
            "weights": weights,
            "bias": -1.0,
        },
        "threshold": threshold,
    }


def test_probability_is_the_logistic_of_the_weighted_features() -> None:
    cal = calibrator_from_dict(_model())
    assert cal.probability({"margin": 2.0}) == pytest.approx(0.5)  # -1 + 1 * 2 / 2
    assert cal.probability({"margin": 6.0}) == pytest.approx(1 / (1 + math.exp(-2)))
    assert cal.explain({"margin": 6.0})[0] == ("margin", pytest.approx(3.0))


def test_malformed_calibrators_are_refused() -> None:
    bad = _model()
    bad["model"]["features"] = ["margin"]  # type: ignore[index]
    with pytest.raises(CalibratorError, match="features"):
        calibrator_from_dict(bad)
    with pytest.raises(CalibratorError, match="threshold"):
        calibrator_from_dict(_model(threshold=1.5))
    with pytest.raises(CalibratorError, match="malformed"):
        calibrator_from_dict({"format": 1})


def test_a_file_changed_by_one_byte_is_refused(tmp_path: Path) -> None:
    data = json.dumps(_model()).encode()
    path = tmp_path / "calibrator.json"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    assert load_calibrator(path, digest).threshold == 0.5
    path.write_bytes(data.replace(b'"bias": -1.0', b'"bias": -2.0'))
    with pytest.raises(CalibratorError, match="SHA-256"):
        load_calibrator(path, digest)
    with pytest.raises(CalibratorError, match="cannot be read"):
        load_calibrator(tmp_path / "missing.json", digest)


def test_the_shipped_calibrator_is_checked_when_the_reader_loads_it(tmp_path: Path) -> None:
    from qa_app.reader.neural import META_FILE, resource_dir

    meta = json.loads((resource_dir() / META_FILE).read_text(encoding="utf-8"))
    if "calibrator" not in meta:
        pytest.skip("no calibrator shipped")
    shutil.copy(resource_dir() / META_FILE, tmp_path / META_FILE)
    shutil.copy(resource_dir() / meta["calibrator"]["file"], tmp_path / meta["calibrator"]["file"])
    assert load_answer_calibrator(tmp_path) is not None
    target = tmp_path / meta["calibrator"]["file"]
    data = bytearray(target.read_bytes())
    data[-2] = ord(" ") if data[-2] != ord(" ") else ord("\t")
    target.write_bytes(bytes(data))
    with pytest.raises(ReaderModelError, match="SHA-256"):
        load_answer_calibrator(tmp_path)


def test_assemble_scores_answers_with_the_scorer_and_its_agreement() -> None:
    passages = [_passage(0, TEXT_A), _passage(1, TEXT_B)]
    spans = [
        _span(0, TEXT_A, "earlier this month", 6.0, 0.8),
        _span(1, TEXT_B, "earlier this month", 4.0, 0.5),
        _span(0, TEXT_A, "the Treasury Department", 1.0, 0.1),
    ]
    seen: dict[str, dict[str, float]] = {}

    def scorer(q: str, group: Group, others: object, ps: object) -> float:
        f = answer_features(q, group, others, ps)  # type: ignore[arg-type]
        seen[group.text] = f
        return 0.9 if f["log_docs"] > 0 else 0.15

    result = assemble(QUESTION, passages, spans, threshold=0.5, reader="neural", scorer=scorer)
    assert result.answer is not None and result.answer.text == "earlier this month"
    assert result.answer.score == 0.9 and result.answer.documents == 2
    assert seen["earlier this month"]["log_docs"] > 0  # agreement reached the calibrator
    # 0.15 is below half the lowest band shown (the possible-answer floor, 0.40): not offered
    assert [a.text for a in result.alternatives] == []
    refused = assemble(QUESTION, passages, spans[2:], threshold=0.5, reader="neural", scorer=scorer)
    assert refused.answer is None and refused.top is not None
    assert refused.top.text == "the Treasury Department" and refused.top.score == 0.15


@pytest.mark.parametrize(
    ("text", "wanted", "expected"),
    [
        ("a “credible” intelligence x", "credible” intelligence", "“credible” intelligence"),
        ("say “credible” intel", "“credible", "“credible”"),
        ('he said "hi there ok', '"hi there ok', "hi there ok"),
        ("the rock’s edge", "rock’s", "rock’s"),
        ("plain words here", "words", "words"),
    ],
)
def test_spans_never_hold_half_a_pair_of_quotes(text: str, wanted: str, expected: str) -> None:
    start = text.index(wanted)
    s, e = balance_quotes(text, start, start + len(wanted))
    assert text[s:e] == expected


@pytest.mark.parametrize(
    ("text", "wanted", "expected"),
    [
        # a lone opener whose closer follows at once: the bracket is taken in whole
        (
            "the global Census of Marine Life (CoML) began",
            "global Census of Marine Life (CoML",
            "global Census of Marine Life (CoML)",
        ),
        # a lone opener with no closer near: the part before it
        (
            "South-West Africa (the Portuguese through ports in modern-day Angola, later) and",
            "South-West Africa (the Portuguese through ports",
            "South-West Africa",
        ),
        # a lone closer: the part before it, the answer's head
        (
            "(NTSC, PAL-M) systems, as well as the European PAL",
            "PAL-M) systems, as well as",
            "PAL-M",
        ),
        # a lone closer with nothing before it: the part after
        ("(see above) Paris is big", ") Paris", "Paris"),
        # both at once, and square brackets
        (
            "Digital-VHS or Data-VHS), W-VHS (analog only, and",
            "Digital-VHS or Data-VHS), W-VHS (analog",
            "Digital-VHS or Data-VHS",
        ),
        ("634 [50.4%] of them", "634 [50.4%", "634 [50.4%]"),
        # balanced brackets and plain spans are left alone
        ("Paris (France) is", "Paris (France)", "Paris (France)"),
        ("plain words here", "words", "words"),
    ],
)
def test_spans_never_hold_half_a_pair_of_brackets(text: str, wanted: str, expected: str) -> None:
    start = text.index(wanted)
    s, e = balance_brackets(text, start, start + len(wanted))
    assert text[s:e] == expected

"""Small pieces of the window without a window: wording, export, offsets, watch lists."""

from __future__ import annotations

import json
from dataclasses import replace

from qa_app.gui.models import SourceRow, distinct_alternatives, source_rows
from qa_app.gui.progress import eta_text, report_text
from qa_app.gui.viewer import OffsetMap, displayable
from qa_app.gui.watcher import MAX_WATCHED, watch_list
from qa_app.records import Answer, Citation, FileError, Passage, Result, SyncReport
from qa_app.render import clipboard_text, to_json, to_markdown

TEXT = "Intro.\nRussia received the first shipment earlier this month, the Treasury said.\n"


from qa_app.reader.verdicts import verdict  # noqa: E402


def _result(found: bool = True, *, calibrated: bool = True) -> Result:
    s0 = TEXT.index("Russia")
    s1 = TEXT.index("said.") + 5
    a0 = TEXT.index("earlier")
    cite = Citation(
        4, "/d/004.txt", "004", 2, a0, a0 + 18, s0, s1, TEXT[s0:s1], s0, s1, TEXT[s0:s1], 0.91
    )
    passage = Passage(40, 4, "/d/004.txt", "004", 2, s0, s1, TEXT[s0:s1], 0.7)
    answer = Answer("earlier this month", 0.91, (cite,))
    alt = Answer("the Treasury", 0.2, (cite,))
    return Result(
        "When?",
        answer if found else None,
        (alt,) if found else (),
        (passage,),
        "sentence",
        0.35,
        top=answer,
        calibrated=calibrated,
        verdict=verdict(0.91 if found else 0.2, 0.35, calibrated=calibrated),
    )


def test_alternatives_that_repeat_a_better_one_are_not_offered():
    found = _result()
    cite = found.answer.citations[0]
    alts = tuple(
        Answer(text, score, (cite,))
        for text, score in [
            ("weeks", 0.36),
            ("this month", 0.3),  # a piece of the answer
            ("within weeks", 0.25),  # an extension of a better alternative
            ("the summer", 0.2),
            ("...", 0.19),  # no words at all
            ("The Summer of 2023", 0.1),
        ]
    )
    shown = distinct_alternatives(replace(found, alternatives=alts))
    assert [a.text for a in shown] == ["weeks", "the summer"]
    assert distinct_alternatives(replace(found, answer=None, alternatives=alts[:3])) == list(
        alts[:2]
    )


def test_source_rows_and_snippets():
    rows = source_rows(_result())
    assert [r.kind for r in rows] == ["answer", "alternative"]
    before, answer, after = rows[0].snippet()
    assert answer == "earlier this month" and before.endswith("shipment ") and after.startswith(",")
    before, answer, after = rows[0].snippet(limit=30)
    assert answer == "earlier this month" and before.startswith("…") and after.endswith("…")
    missing = source_rows(_result(found=False))
    assert [r.kind for r in missing] == ["passage"] and missing[0].answer_start is None
    assert missing[0].snippet()[1] == ""


def test_export_formats():
    found = _result()
    text = clipboard_text(found)
    assert (
        "A: earlier this month (almost certain, confidence 0.91)" in text
        and "004, page 2 (/d/004.txt)" in text
    )
    md = to_markdown(found)
    assert "**earlier this month** (confidence 0.91, found in 1 document)" in md
    assert md.count("Answer: **earlier this month**") == 1
    assert "shipment **earlier this month**, the" in md and "Other candidates" in md
    data = json.loads(to_json(found))
    assert data["found"] and data["answer"]["citations"][0]["answer_start"] == TEXT.index("earlier")
    assert "answers like this were right" in md  # the core's wording of what the verdict means
    plain = _result(calibrated=False)
    assert "(score 0.91)" in clipboard_text(plain) and "not a calibrated" in to_markdown(plain)
    missing = _result(found=False)
    assert "Not found in your documents" in clipboard_text(missing)
    assert "### Closest passages" in to_markdown(missing)
    assert "Closest candidate: earlier this month (confidence 0.91)" in to_markdown(missing)
    assert json.loads(to_json(missing))["answer"] is None


def test_offset_map_round_trips_astral_characters():
    text = "a😀b🚀c" + "d" * 5
    m = OffsetMap(text)
    for i in range(len(text) + 1):
        assert m.from_qt(m.to_qt(i)) == i
    assert m.to_qt(1) == 1 and m.to_qt(2) == 3 and m.to_qt(4) == 6
    assert displayable("a\r\nb") == "a \nb"


def test_progress_wording():
    assert eta_text(0.5) == "a few seconds left"
    assert eta_text(40) == "about 40 s left"
    assert eta_text(600) == "about 10 min left"
    report = SyncReport(added=("a",), failed=(FileError("b", "bad"),), unchanged=2, seconds=1.25)
    assert report_text(report) == "Done: 1 added, 2 unchanged, 1 could not be read (1.2 s)."
    assert report_text(SyncReport(cancelled=True)).startswith("Cancelled: no changes")
    assert report_text(None).startswith("Nothing to do")


def test_watch_list_walks_folders_and_caps(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    doc = tmp_path / "a" / "x.txt"
    doc.write_text("x", encoding="utf-8")
    paths = watch_list([str(tmp_path)], [str(doc), str(tmp_path / "gone.txt")])
    assert paths == [str(tmp_path), str(tmp_path / "a"), str(tmp_path / "a" / "b"), str(doc)]
    assert watch_list([str(tmp_path / "missing")]) == []
    assert MAX_WATCHED >= 1000


def test_source_row_is_a_plain_record():
    row = SourceRow("passage", 1, "/p", "p", None, "text", 0, 0.5)
    assert row.snippet() == ("text", "", "")


def test_file_dialog_lists_what_the_loaders_read():
    from qa_app.gui.dialogs import document_filter
    from qa_app.ingest import SUPPORTED_SUFFIXES

    text = document_filter()
    assert all(f"*{suffix}" in text for suffix in SUPPORTED_SUFFIXES) and "All files (*)" in text


def test_the_card_says_what_the_score_means(qtbot):
    from qa_app.gui.answer_card import AnswerView

    card = AnswerView()
    qtbot.addWidget(card)
    card.show_result(_result())
    assert card.meta.text().startswith("Confidence 0.91, almost certain")
    assert card.badge.text() == "✔ Answer"
    card.show_result(_result(calibrated=False))
    assert card.meta.text().startswith("Score 0.91") and "not a calibrated" in card.meaning.text()
    low = replace(_result().answer, score=0.3)
    refused = replace(_result(found=False), top=low)
    card.show_result(refused)
    assert card.state == "not-found" and card.badge.text() == "✘ Not found"
    assert "closest candidate, “earlier this month” (unlikely, confidence 0.30)" in (
        card.meta.text()
    )
    possible = replace(
        _result(found=False),
        top=replace(low, score=0.66),
        verdict=verdict(0.66, 0.76, calibrated=True),
    )
    card.show_result(possible)
    assert card.state == "possible" and card.badge.text().startswith("? Possible answer")
    assert card.answer.text() == "earlier this month" and card.answer.objectName() == "possibleText"
    assert card.meaning.text().startswith("Likely: about") and "check the source" in (
        card.meaning.text()
    )


def test_the_card_says_when_sources_disagree(qtbot):
    from qa_app.gui.answer_card import AnswerView

    card = AnswerView()
    qtbot.addWidget(card)
    found = _result()
    other = replace(found.answer.citations[0], doc_id=5, path="/d/005.txt", title="005")
    rival = Answer("last year", 0.62, (other,))
    card.show_result(replace(found, alternatives=(rival,)))
    assert card.disagree.isVisibleTo(card)
    text = card.disagree.text()
    assert text.startswith("Sources disagree:") and "“earlier this month” in 004" in text
    assert "“last year” in 005" in text
    md = to_markdown(replace(found, alternatives=(rival,)))
    assert "### Sources disagree" in md and "- last year (0.62) — 005" in md
    card.show_result(replace(found, alternatives=(replace(rival, score=0.3),)))
    assert not card.disagree.isVisibleTo(card)  # below the possible band: not a rival source
    assert "Sources disagree" not in to_markdown(
        replace(found, alternatives=(replace(rival, score=0.3),))
    )


def test_a_possible_answer_lists_its_sources_not_the_closest_passages():
    from qa_app.gui.models import source_rows

    found = _result()
    possible = replace(
        _result(found=False), top=found.answer, verdict=verdict(0.66, 0.76, calibrated=True)
    )
    rows = source_rows(possible)
    assert [r.kind for r in rows] == ["possible"]
    assert rows[0].answer_text == "earlier this month"
    assert {r.kind for r in source_rows(_result(found=False))} == {"passage"}

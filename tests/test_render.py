"""One renderer of a Result: every format and the window card's words stay byte-for-byte as before.

tests/fixtures/render_golden.json was written by the three renderers that came before
qa_app/render.py (the command's, the window's export and its answer card, at commit b1eda45) from
the Results of tests/render_cases.py; change it only with a format changed on purpose.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from render_cases import cases

from qa_app import render

GOLDEN = json.loads(
    (Path(__file__).parent / "fixtures" / "render_golden.json").read_text(encoding="utf-8")
)
CASES = cases()


def test_the_cases_cover_every_verdict_and_shape() -> None:
    assert set(CASES) == set(GOLDEN)
    kinds = {name: result.verdict.kind for name, result in CASES.items()}
    assert kinds == {name: golden["verdict"] for name, golden in GOLDEN.items()}
    assert set(kinds.values()) == {"answer", "possible", "not_found"}
    assert any(not r.calibrated for r in CASES.values()) and any(
        r.calibrated for r in CASES.values()
    )
    assert any(GOLDEN[n]["card"]["disagree"] for n in GOLDEN)  # sources that disagree
    cited = [c for r in CASES.values() for a in (r.top, *r.alternatives) if a for c in a.citations]
    assert (
        any(c.attachment for c in cited)
        and any(c.ocr for c in cited)
        and any(c.page for c in cited)
    )


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_format_is_as_before(name: str) -> None:
    result, golden = CASES[name], GOLDEN[name]
    assert render.to_text(result) == golden["cli_text"]
    assert render.to_json(result, terminal=True) == golden["cli_json"]
    assert render.clipboard_text(result) == golden["clipboard"]
    assert render.to_markdown(result) == golden["markdown"]
    assert render.to_json(result) == golden["json"]


def test_the_terminal_formats_escape_what_a_terminal_acts_on() -> None:
    result = CASES["not_found_closest"]
    text, data = render.to_text(result), render.to_json(result, terminal=True)
    assert "\x1b" not in text and "\u2028" not in text and "\\x1b[31m" in text
    assert "\u2028" not in data and json.loads(data) == render.to_dict(result)


def test_words_shared_by_every_front_end() -> None:
    assert [render.plural(n, "document") for n in (0, 1, 2)] == [
        "0 documents",
        "1 document",
        "2 documents",
    ]
    assert render.plural(2, "file or folder", "files and folders") == "2 files and folders"
    assert render.elide("x" * 10, 5) == "xxxx…" and render.elide("abc", 5) == "abc"
    assert render.source_label("", "/d/a.txt", None) == "a.txt"
    assert (
        render.source_label("Memo", "/m/x.eml", "memo.docx")
        == "Memo — memo.docx (attached to x.eml)"
    )
    assert (
        render.source_label("memo.docx", "/m/x.eml", "memo.docx") == "memo.docx (attached to x.eml)"
    )


def _card_texts(card: Any) -> dict[str, Any]:
    def shown(label: Any) -> str | None:
        return label.text() if label.isVisibleTo(card) else None

    return {
        "state": card.state,
        "heading": card.heading.text(),
        "badge": shown(card.badge),
        "answer": shown(card.answer),
        "meta": shown(card.meta),
        "meaning": shown(card.meaning),
        "sentence": shown(card.sentence),
        "disagree": shown(card.disagree),
        "alternatives": [b.text() for b in card.alternative_buttons],
    }


@pytest.mark.gui
def test_the_window_says_what_it_said_before(qtbot: Any) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qa_app.gui.answer_card import AnswerView
    from qa_app.gui.context_menus import citation_text
    from qa_app.gui.models import source_rows

    card = AnswerView()
    qtbot.addWidget(card)
    for name, result in CASES.items():
        card.show_result(result)
        assert _card_texts(card) == GOLDEN[name]["card"], name
        rows = source_rows(result)
        assert [citation_text(r) for r in rows] == GOLDEN[name]["source_citations"], name

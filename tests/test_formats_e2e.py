"""End to end with the real models: a folder with one file of every format, scans and a photo
included, indexes with no error, and questions answered only by a scan, an e-mail header, a slide
and a spreadsheet row come back with the right citation."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.formats import write_every_format

from qa_app.engine import Engine
from qa_app.ingest import FORMATS

QUESTIONS = [
    # (question, expected answer text, file cited, page cited)
    (
        "How much diesel does the storage tank at the north depot hold?",
        "5,000 litres",
        "scan.pdf",
        1,
    ),
    ("When does the harbour master's office close on Fridays?", "4 pm", "photo.png", None),
    ("Who sent the pump station report?", "Maria Okafor", "pump.eml", None),
    ("When was the pump station report sent?", "05 Mar 2024", "pump.eml", None),
    ("When does the new depot at Carrow open?", "September 2025", "review.pptx", 2),
    ("What was the revenue in 2023?", "4.2M", "accounts.xlsx", 1),
]


@pytest.mark.model
def test_every_format_indexes_and_answers_with_citations(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    write_every_format(folder)
    suffixes = {p.suffix.lower() for p in folder.iterdir()}
    assert suffixes == set(FORMATS), set(FORMATS) ^ suffixes
    with Engine("formats") as engine:
        report = engine.add([folder])
        assert report.failed == (), report.failed
        assert len(report.added) == len(list(folder.iterdir()))
        formats = {info.format for info in engine.documents()}
        assert formats == set(FORMATS.values())
        for question, expected, name, page in QUESTIONS:
            result = engine.ask(question)
            # The best candidate, whatever the confidence threshold: this test is about reading
            # every format with the right citation; how sure the reader is is the calibrator's.
            best = result.top
            assert best is not None, (question, [p.text for p in result.passages[:3]])
            citation = best.citations[0]
            # The words chosen may be a neighbour of the expected ones (the time beside the date
            # in a header line); the cited sentence must hold the expected answer.
            assert expected in best.text or expected in citation.sentence, (
                question,
                best.text,
                citation.sentence,
            )
            assert Path(citation.path).name == name, (question, citation.path)
            assert citation.page == page, (question, citation.page)

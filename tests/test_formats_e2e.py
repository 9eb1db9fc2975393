"""End to end with the real models: a folder with one file of every format, scans and a photo
included, indexes with no error, and questions answered only by a scan, an e-mail header, a slide
and a spreadsheet row come back with the right citation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fixtures.formats import (
    email_message,
    mixed_pdf_bytes,
    photo,
    render_page,
    scanned_pdf_bytes,
    write_csv,
    write_eml,
    write_epub,
    write_mbox,
    write_msg,
    write_ods,
    write_odt,
    write_pptx,
    write_rtf,
    write_xlsx,
)
from fixtures.ingest.make_files import pdf_bytes, write_docx

from qa_app.engine import Engine
from qa_app.ingest import FORMATS

WHEN = dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC)


def make_folder(folder: Path) -> None:
    """One file per supported suffix, each with facts no other file holds."""
    folder.mkdir()
    (folder / "notes.txt").write_text(
        "The archive room on the third floor was repainted in 2019.\n"
    )
    (folder / "notes.md").write_text("# Garden\n\nThe rose garden has 214 varieties of roses.\n")
    (folder / "notes.markdown").write_text("The greenhouse heater was replaced in 2020.\n")
    for suffix in (".html", ".htm"):
        (folder / f"page{suffix}").write_text(
            f"<html><head><title>Library {suffix}</title></head><body><p>The reading room "
            f"({suffix}) seats forty readers and opens at nine.</p></body></html>"
        )
    write_docx(folder / "harbour.docx")
    (folder / "tunnel.pdf").write_bytes(pdf_bytes([["The Orme tunnel opened in 1898."]]))
    scan = render_page(
        ["Inspection note", "The storage tank at the north depot holds 5,000 litres of diesel."]
    )
    (folder / "scan.pdf").write_bytes(scanned_pdf_bytes([scan]))
    (folder / "mixed.pdf").write_bytes(
        mixed_pdf_bytes(
            pdf_bytes([["A page with a text layer about the tram timetable."]]),
            scanned_pdf_bytes([render_page(["The tram depot has eleven tracks."])]),
        )
    )
    page = render_page(["Harbour notice", "The harbour master's office closes at 4 pm on Fridays."])
    photo(page).save(folder / "photo.png")
    render_page(["The ferry ticket office moved to Pier 3 in 2022."]).convert("RGB").save(
        folder / "ticket.jpg"
    )
    render_page(["The lock keeper's cottage was built of granite."]).save(folder / "lock.jpeg")
    render_page(["The boathouse roof is made of copper."]).save(folder / "boat.tif")
    render_page(["The signal box has sixty levers."]).save(folder / "signal.tiff")
    write_eml(
        folder / "pump.eml",
        email_message(
            sender="Maria Okafor <maria@example.org>",
            to="Ops Desk <ops@example.org>",
            subject="Pump station report",
            date=WHEN,
            body="Station 4 is back in service after the repair.",
        ),
    )
    write_msg(
        folder / "budget.msg",
        sender=("Tomas Berg", "tomas@example.org"),
        to=[("Finance", "finance@example.org")],
        subject="Bridge paint budget",
        body="The paint for the swing bridge will cost 18,000 euros.",
        date=WHEN,
    )
    write_mbox(
        folder / "desk.mbox",
        [
            email_message(
                sender="clerk@example.org",
                to="desk@example.org",
                subject="Gate change",
                date=WHEN,
                body="The grain lorries now use the east gate.",
            )  # fmt: skip
        ],
    )
    write_pptx(
        folder / "review.pptx",
        [
            {"title": "Quarterly review", "bullets": ["Costs fell in the south"]},
            {"title": "Plans", "bullets": ["The new depot at Carrow opens in September 2025"]},
        ],
    )
    write_xlsx(
        folder / "accounts.xlsx",
        {
            "Revenue": [
                ["Year", "Revenue", "Region"],
                [2022, "3.9M", "North"],
                [2023, "4.2M", "North"],
            ]
        },
    )
    write_csv(folder / "staff.csv", [["Team", "Members"], ["Dredging", 14], ["Pilots", 9]])
    write_odt(folder / "history.odt", "Quay history", ["The stone quay was extended in 1911."])
    write_ods(folder / "tides.ods", {"Tides": [["Month", "Highest tide"], ["March", "6.1 m"]]})
    write_rtf(folder / "memo.rtf", ["Memo", "The customs house clock was restored in 1996."])
    write_epub(
        folder / "tales.epub",
        "Harbour Tales",
        [("Chapter One", ["The old lighthouse keeper kept forty goats on the island."])],
    )


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
    ("When does the new depot at Carrow open?", "September 2025", "review.pptx", 2),
    ("What was the revenue in 2023?", "4.2M", "accounts.xlsx", 1),
]


@pytest.mark.model
def test_every_format_indexes_and_answers_with_citations(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    make_folder(folder)
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
            assert result.answer is not None, (question, [p.text for p in result.passages[:3]])
            assert expected in result.answer.text, (question, result.answer.text)
            citation = result.answer.citations[0]
            assert Path(citation.path).name == name, (question, citation.path)
            assert citation.page == page, (question, citation.page)

"""Loaders for e-mail, slides, spreadsheets, OpenDocument, RTF and e-books, on files made here."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from fixtures.formats import (
    email_message,
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

from qa_app.chunking import chunk_document
from qa_app.ingest import FORMATS, LOADERS, SUPPORTED_SUFFIXES, IngestError, limits, load
from qa_app.ingest import packages as packages_module
from qa_app.ingest.attachments import Attachments
from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.mail import _parse, add_message
from qa_app.ingest.normalize import clean
from qa_app.ingest.options import LoadOptions
from qa_app.ingest.tables import looks_like_header, row_text
from qa_app.records import Document

WHEN = dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC)
FIGURES = b"Year,Revenue\n2022,3.9M\n2023,4.2M\n"


def blocks(doc: Document) -> list[tuple[str, str, int | None]]:
    return [(doc.text[b.start : b.end], b.kind, b.page) for b in doc.blocks]


def texts(doc: Document) -> list[str]:
    return [text for text, _, _ in blocks(doc)]


def well_formed(doc: Document) -> Document:
    """Blocks are ordered, inside the text and stripped; the text is clean; chunks match it."""
    assert doc.text == clean(doc.text)
    previous = 0
    for block in doc.blocks:
        assert previous <= block.start < block.end <= len(doc.text)
        piece = doc.text[block.start : block.end]
        assert piece == piece.strip() and "\n\n" not in piece
        previous = block.end
    for chunk in chunk_document(doc):
        assert doc.text[chunk.start : chunk.end] == chunk.text
    return doc


def reason(path: Path) -> str:
    with pytest.raises(IngestError) as caught:
        load(path)
    assert caught.value.path == str(path)
    return caught.value.reason


# -- the registry ---------------------------------------------------------------------------


def test_every_suffix_has_a_loader() -> None:
    new = {".eml", ".mbox", ".msg", ".pptx", ".xlsx", ".csv", ".odt", ".ods", ".rtf", ".epub"}
    images = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
    assert new | images <= SUPPORTED_SUFFIXES
    assert set(FORMATS.values()) == set(LOADERS)
    import importlib

    for spec in LOADERS.values():
        assert callable(
            getattr(importlib.import_module(f"qa_app.ingest.{spec.module}"), spec.function)
        )


# -- e-mail ---------------------------------------------------------------------------------


def test_eml_headers_body_and_attachments(tmp_path: Path) -> None:
    message = email_message(
        sender="Maria Okafor <maria@example.org>",
        to="Ops Desk <ops@example.org>",
        cc="Lee Chan <lee@example.org>",
        subject="Pump station report",
        date=WHEN,
        body="The pump at Station 4 failed on Monday morning.",
        attachments=[
            ("figures.csv", FIGURES, "text/csv"),
            ("../../etc/passwd.txt", b"Only the suffix of a name is ever used.", "text/plain"),
            ("tool.exe", b"MZ\0\0", "application/octet-stream"),
            ("broken.pdf", b"not a pdf", "application/pdf"),
        ],
    )
    doc = well_formed(load(write_eml(tmp_path / "report.eml", message)))
    assert doc.format == "eml" and doc.title == "Pump station report"
    found = texts(doc)
    assert found[0] == (
        "Subject: Pump station report\nFrom: Maria Okafor <maria@example.org>\n"
        "Sent: Tue, 05 Mar 2024 09:30:00 +0000\nTo: Ops Desk <ops@example.org>\n"
        "Cc: Lee Chan <lee@example.org>"
    )
    assert found[1] == "The pump at Station 4 failed on Monday morning."
    # The message names its attachments; their text is in documents of their own.
    assert found[2] == "Attachments: figures.csv, passwd.txt, tool.exe, broken.pdf"
    assert "Revenue" not in doc.text and "suffix of a name" not in doc.text
    figures, passwd = doc.attachments
    assert (figures.attachment, figures.path, figures.format) == ("figures.csv", doc.path, "csv")
    assert "Year: 2023; Revenue: 4.2M" in texts(well_formed(figures))
    # A name is data: only its last part is shown, never used as a path.
    assert passwd.attachment == "passwd.txt"
    assert texts(passwd) == ["Only the suffix of a name is ever used."]
    # A file with no title of its own is named by the attachment's name, not the temporary copy.
    assert (figures.title, passwd.title) == ("figures.csv", "passwd.txt")
    assert [(e.path, e.reason[:15]) for e in doc.attachment_errors] == [
        ("broken.pdf", "not a PDF file ")
    ]


def test_eml_attachments_share_one_text_budget(tmp_path: Path) -> None:
    big = "\n\n".join(f"Paragraph {i} of the pump inspection notes." for i in range(200)).encode()
    message = email_message(
        sender="a@example.org", to="b@example.org", subject="Big", date=WHEN, body="See.",
        attachments=[("one.txt", big, "text/plain"), ("two.txt", big, "text/plain")],
    )  # fmt: skip
    path = write_eml(tmp_path / "big.eml", message)
    collector = Attachments(path, LoadOptions(), max_chars=len(big) + 100)
    builder = DocumentBuilder(path, "eml")
    add_message(builder, _parse(path.read_bytes()), collector.options, collector)
    assert [d.attachment for d in collector.documents] == ["one.txt"]
    assert collector.errors[0].path == "two.txt"
    assert "attachments together pass" in collector.errors[0].reason


def test_eml_html_only_body_is_cleaned_like_html(tmp_path: Path) -> None:
    message = email_message(
        sender="a@example.org", to="b@example.org", subject="Menu", date=WHEN, body="x"
    )
    message.set_content(
        "<html><body><script>alert(1)</script><p>The canteen opens at <b>7:30</b>.</p></body></html>",
        subtype="html",
    )
    doc = well_formed(load(write_eml(tmp_path / "menu.eml", message)))
    assert "The canteen opens at 7:30" in doc.text
    assert "alert" not in doc.text


def test_eml_nested_message_is_a_section(tmp_path: Path) -> None:
    inner = email_message(
        sender="chief@example.org", to="maria@example.org", subject="Budget", date=WHEN,
        body="The budget for the pumps is 40,000 euros.",
    )  # fmt: skip
    outer = email_message(
        sender="maria@example.org", to="ops@example.org", subject="Fwd: Budget", date=WHEN,
        body="See below.",
    )  # fmt: skip
    outer.add_attachment(inner)
    doc = well_formed(load(write_eml(tmp_path / "fwd.eml", outer)))
    assert "The budget for the pumps is 40,000 euros." in texts(doc)
    assert any("From: chief@example.org" in text for text in texts(doc))


def test_mbox_messages_are_sections_numbered_as_pages(tmp_path: Path) -> None:
    messages = [
        email_message(
            sender=f"clerk{i}@example.org",
            to="desk@example.org",
            subject=f"Gate {i}",
            date=WHEN + dt.timedelta(days=i),
            body=f"The depot lorry waits at gate {i + 10}.",
        )  # fmt: skip
        for i in range(3)
    ]
    doc = well_formed(load(write_mbox(tmp_path / "desk.mbox", messages)))
    assert doc.format == "mbox" and doc.pages == 3
    found = blocks(doc)
    assert ("The depot lorry waits at gate 12.", "paragraph", 3) in found
    assert "From: clerk0@example.org" in found[0][0] and found[0][2] == 1
    assert {page for _, _, page in found} == {1, 2, 3}
    chunks = chunk_document(doc)
    assert all(doc.text[c.start : c.end].count("From: ") <= 1 for c in chunks)  # never across


def test_msg_headers_body_and_attachment(tmp_path: Path) -> None:
    path = write_msg(
        tmp_path / "pump.msg",
        sender=("Maria Okafor", "maria@example.org"),
        to=[("Ops Desk", "ops@example.org")],
        cc=[("Lee Chan", "lee@example.org")],
        subject="Pump station report",
        body="The pump at Station 4 failed on Monday morning.\r\n",
        date=WHEN,
        attachments=[("figures.csv", FIGURES)],
    )
    doc = well_formed(load(path))
    assert doc.format == "msg" and doc.title == "Pump station report"
    header = texts(doc)[0]
    assert "From: Maria Okafor <maria@example.org>" in header
    assert "To: Ops Desk <ops@example.org>" in header
    assert "Cc: Lee Chan <lee@example.org>" in header
    assert "Subject: Pump station report" in header
    assert "Sent: " in header and "2024" in header
    assert "The pump at Station 4 failed on Monday morning." in texts(doc)
    assert "Attachments: figures.csv" in texts(doc) and "Revenue" not in doc.text
    (figures,) = doc.attachments
    assert (figures.attachment, figures.path) == ("figures.csv", str(path))
    assert "Year: 2022; Revenue: 3.9M" in texts(figures)


def test_email_errors(tmp_path: Path) -> None:
    (tmp_path / "note.eml").write_text("just some words\nwith no headers at all\n")
    assert reason(tmp_path / "note.eml").startswith("not an e-mail message")
    (tmp_path / "empty.mbox").write_text("no From line here\n")
    assert reason(tmp_path / "empty.mbox").startswith("no messages in the mailbox")
    (tmp_path / "text.msg").write_text("not an OLE file")
    assert reason(tmp_path / "text.msg").startswith("not an Outlook message")
    (tmp_path / "broken.msg").write_bytes(packages_module.OLE + b"\0" * 600)
    assert reason(tmp_path / "broken.msg").startswith("corrupt or damaged Outlook message")


# -- slides, spreadsheets, tables -----------------------------------------------------------


def test_pptx_slides_are_pages_with_text_tables_and_notes(tmp_path: Path) -> None:
    path = write_pptx(
        tmp_path / "review.pptx",
        [
            {"title": "Quarterly review", "bullets": ["Sales grew in the north"],
             "notes": "Mention the new depot at Carrow.", "table": [["Year", "Revenue"], ["2023", "4.2M"]]},
            {"title": "Outlook", "bullets": ["Hiring twelve engineers in 2025"]},
        ],
    )  # fmt: skip
    doc = well_formed(load(path))
    assert doc.format == "pptx" and doc.pages == 2 and doc.title == "Quarterly review"
    found = blocks(doc)
    assert ("Quarterly review", "heading", 1) in found
    assert ("Sales grew in the north", "paragraph", 1) in found
    assert ("Year: 2023; Revenue: 4.2M", "row", 1) in found
    assert ("Mention the new depot at Carrow.", "paragraph", 1) in found
    assert ("Hiring twelve engineers in 2025", "paragraph", 2) in found


def test_xlsx_rows_keep_the_header_and_sheets_are_pages(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "accounts.xlsx",
        {
            "Revenue": [["Year", "Revenue", "Region"], [2022, 3.9, "North"], [2023, 4.25, None]],
            "Staff": [["Name", "Started"], ["Ada", dt.datetime(2021, 4, 1)]],
        },
    )
    doc = well_formed(load(path))
    assert doc.format == "xlsx" and doc.pages == 2
    found = blocks(doc)
    assert ("Revenue", "heading", 1) in found
    assert ("Year: 2022; Revenue: 3.9; Region: North", "row", 1) in found
    assert ("Year: 2023; Revenue: 4.25", "row", 1) in found  # the empty cell is left out
    assert ("Name: Ada; Started: 2021-04-01", "row", 2) in found
    chunks = [chunk.text for chunk in chunk_document(doc)]  # a row is a passage of its own
    assert "Year: 2023; Revenue: 4.25" in chunks
    assert "Revenue\n\nYear: 2022; Revenue: 3.9; Region: North" in chunks  # under its sheet


def test_csv_dialects_and_headers(tmp_path: Path) -> None:
    doc = well_formed(load(write_csv(tmp_path / "a.csv", [["Year", "Revenue"], [2023, "4.2M"]])))
    assert texts(doc) == ["Year: 2023; Revenue: 4.2M"]
    semicolons = write_csv(
        tmp_path / "b.csv", [["City", "Mayor"], ["Lyon", "Dupont; Jean"], ["Nice", "Roux"]], ";"
    )
    assert texts(load(semicolons)) == ["City: Lyon; Mayor: Dupont; Jean", "City: Nice; Mayor: Roux"]
    numbers = write_csv(tmp_path / "c.csv", [[1, 2], [3, 4]])
    assert texts(load(numbers)) == ["1 | 2", "3 | 4"]
    (tmp_path / "blank.csv").write_text(" \n\n")
    assert reason(tmp_path / "blank.csv").startswith("contains no text")


def test_header_detection_and_row_text() -> None:
    assert looks_like_header(["Year", "Revenue"])
    assert not looks_like_header(["2023", "4.2"])
    assert not looks_like_header(["Year", "Year"])
    assert row_text(["Year", "Revenue", ""], ["2023", "", "note"]) == "Year: 2023; note"
    assert row_text(None, ["a", "", "b"]) == "a | b"


def test_odt_and_ods(tmp_path: Path) -> None:
    odt = well_formed(
        load(
            write_odt(
                tmp_path / "history.odt",
                "Depot history",
                ["The depot opened in 1931 near the river.", "It closed in 1999."],
                [["Year", "Event"], ["1931", "Opened"]],
            )
        )
    )
    assert odt.format == "odt" and odt.title == "Depot history"
    assert ("Depot history", "heading", None) in blocks(odt)
    assert "The depot opened in 1931 near the river." in texts(odt)
    assert "Year: 1931; Event: Opened" in texts(odt)  # a row keeps its headers
    ods = well_formed(
        load(
            write_ods(
                tmp_path / "sheet.ods",
                {
                    "Revenue": [["Year", "Revenue"], [2023, 4.2]],
                    "Notes": [["Topic", "Text"], ["Audit", "Done"]],
                },
            )
        )
    )
    assert ods.format == "ods" and ods.pages == 2
    assert ("Year: 2023; Revenue: 4.2", "row", 1) in blocks(ods)
    assert ("Topic: Audit; Text: Done", "row", 2) in blocks(ods)


def test_rtf(tmp_path: Path) -> None:
    path = write_rtf(
        tmp_path / "memo.rtf",
        ["Ferry memo", "The ferry to Kellen Island stopped in 1988.", "Café prices rose by 5%."],
    )
    doc = well_formed(load(path))
    assert doc.format == "rtf" and doc.title == "Ferry memo"
    assert texts(doc)[1:] == [
        "The ferry to Kellen Island stopped in 1988.",
        "Café prices rose by 5%.",
    ]
    (tmp_path / "fake.rtf").write_text("plain words, not RTF")
    assert reason(tmp_path / "fake.rtf").startswith("not an RTF file")


def test_epub_chapters_are_sections_without_the_table_of_contents(tmp_path: Path) -> None:
    path = write_epub(
        tmp_path / "tales.epub",
        "Harbour Tales",
        [
            ("Chapter One", ["The lighthouse was finished in 1923."]),
            ("Chapter Two", ["The storm came in 1931."]),
        ],
    )
    doc = well_formed(load(path))
    assert doc.format == "epub" and doc.title == "Harbour Tales"
    assert blocks(doc) == [
        ("Chapter One", "heading", None),
        ("The lighthouse was finished in 1923.", "paragraph", None),
        ("Chapter Two", "heading", None),
        ("The storm came in 1931.", "paragraph", None),
    ]


# -- errors of ZIP-based formats ------------------------------------------------------------

ZIPPED = {
    ".pptx": "PowerPoint",
    ".xlsx": "Excel",
    ".odt": "OpenDocument",
    ".ods": "OpenDocument",
    ".epub": "EPUB",
}


@pytest.mark.parametrize("suffix", sorted(ZIPPED))
def test_zip_formats_corrupt_locked_encrypted_and_too_large(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    noise = tmp_path / f"noise{suffix}"
    noise.write_bytes(b"this is not a zip package at all" * 10)
    assert reason(noise).startswith("corrupt or not")

    locked = tmp_path / f"locked{suffix}"
    locked.write_bytes(packages_module.OLE + b"\0" * 512)
    assert reason(locked).startswith("password-protected")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("content.xml", b"<x/>" + b" " * 50_000)
    wrong = tmp_path / f"wrong{suffix}"
    wrong.write_bytes(buffer.getvalue())
    assert ZIPPED[suffix] in reason(wrong)  # a ZIP, but not this format's package

    monkeypatch.setattr(limits, "MAX_UNZIPPED_BYTES", 10_000)
    assert reason(wrong).startswith("expands to more than")


def test_encrypted_zip_members_are_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", b"scrambled")
    data = bytearray(buffer.getvalue())
    # Set the "encrypted" flag bit in the local and the central header, as a ZIP tool would.
    data[data.index(b"PK\x03\x04") + 6] |= 0x1
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    path = tmp_path / "secret.xlsx"
    path.write_bytes(bytes(data))
    assert reason(path).startswith("encrypted")

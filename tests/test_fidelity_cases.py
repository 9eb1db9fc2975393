"""What a file says is what the library holds: the cases of issue 24, each on a small file made here."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from fixtures.formats import email_message, write_eml, write_pptx, write_xlsx
from fixtures.ingest.make_files import pdf_bytes

from qa_app.chunking import chunk_document
from qa_app.cli import commands as cli
from qa_app.engine import Engine
from qa_app.ingest import IngestError, load
from qa_app.ingest.boilerplate import is_notice
from qa_app.records import Document
from qa_app.testing import FakeEmbedder

_WHEN = dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC)
MUSEUM = (
    "The museum was founded by Jane Smith in 1998 and the © mark on its logo was registered "
    "a year later."
)


def passages(doc: Document) -> list[str]:
    return [c.text for c in chunk_document(doc)]


def blocks(doc: Document) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks]


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)


# -- boilerplate: only on strong evidence, counted and shown --------------------------------


def museum_file(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "museum.txt"
    path.write_text(
        f"The city museum\n\n{MUSEUM}\n\nClick here for the minutes of the 12 May board "
        "meeting, where the new wing was approved.\n\n© 2024 Valdoria Daily. All rights "
        "reserved.\n",
        encoding="utf-8",
    )
    return path


def test_a_sentence_with_a_copyright_mark_is_kept_and_the_notice_is_counted(
    tmp_path: Path,
) -> None:
    doc = load(museum_file(tmp_path))
    assert MUSEUM in doc.text
    assert "Click here for the minutes of the 12 May board meeting" in doc.text
    assert "Valdoria Daily" not in doc.text
    ((rule, count, example),) = [(x.rule, x.count, x.example) for x in doc.left_out]
    assert (rule, count) == ("notice", 1) and example.startswith("© 2024 Valdoria Daily")


@pytest.mark.parametrize(
    ("line", "notice"),
    [
        ("© 2024 Valdoria Daily", True),
        ("Copyright 2023 Acme Corporation", True),
        ("Follow us on Twitter", True),
        ("Click here to subscribe", True),
        ("Photo: © Jane Smith", True),
        (MUSEUM, False),
        ("Jane Smith registered the © mark in 1999 for the museum.", False),
        ("Click here for the minutes of the 12 May board meeting and the new budget", False),
    ],
)
def test_a_notice_is_short_and_says_nothing_of_its_own(line: str, notice: bool) -> None:
    assert is_notice(line) is notice


def test_show_json_lists_what_each_rule_left_out(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = museum_file(tmp_path / "in")
    assert cli.main(["add", str(path.parent), "-l", "fid", "-q"]) == 0
    capsys.readouterr()
    assert cli.main(["show", str(path), "-l", "fid", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert MUSEUM in shown["text"]
    assert shown["left_out"] == [
        {"rule": "notice", "count": 1, "example": "© 2024 Valdoria Daily. All rights reserved."}
    ]
    assert cli.main(["show", str(path), "-l", "fid"]) == 0
    assert "left out on purpose: notice 1" in capsys.readouterr().out


# -- encodings ------------------------------------------------------------------------------

MIXED = [
    ("Résumé of the harbour meeting", "utf-8"),
    ("Café Lumière opened on the quay in 1921 and still serves coffee.", "utf-8"),
    ("Le château fut reconstruit en 1887 après l'incendie du théâtre.", "cp1252"),
    ("東京の港は一月に再開しました。船は朝から入港しています。", "shift_jis"),
    ("Der Bürgermeister eröffnete die Brücke über die Straße.", "cp1252"),
]


def test_a_file_mixing_utf8_and_legacy_encodings_is_read_paragraph_by_paragraph(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"\n\n".join(text.encode(encoding) for text, encoding in MIXED))
    doc = load(path)
    assert doc.title == "Résumé of the harbour meeting"
    assert doc.text.split("\n\n") == [text for text, _ in MIXED]
    assert doc.left_out == ()


# -- e-mail ---------------------------------------------------------------------------------


def test_every_part_of_a_five_part_message_is_kept(tmp_path: Path) -> None:
    raw = (
        "MIME-Version: 1.0\nFrom: Ana <ana@example.org>\nTo: ops@example.org\n"
        "Subject: Lyrics\nDate: Fri, 20 Apr 2001 19:35:02 -0400\n"
        'Content-Type: multipart/mixed; boundary="B"\n\n'
        '--B\nContent-Type: text/plain; charset="us-ascii"\nContent-Transfer-Encoding: 7bit\n\n'
        "The first part says the pump was repaired.\n\n"
        '--B\nContent-Type: text/html; charset="iso-8859-1"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "<p>=A1The second part says the crane arrives on Tuesday!</p>\n\n"
        '--B\nContent-Type: text/plain; charset="iso-8859-1"\nContent-Transfer-Encoding: base64\n\n'
        "VGhlIHRoaXJkIHBhcnQgbmFtZXMgdGhlIGZlcnJ5IGNhcHRhaW4u\n\n"
        '--B\nContent-Type: text/plain; charset="iso-8859-1"\nContent-Transfer-Encoding: base64\n\n'
        "VGhlIGZvdXJ0aCBwYXJ0IGdpdmVzIHRoZSBidWRnZXQu\n\n"
        '--B\nContent-Type: text/plain; charset="iso-8859-1"\n\n'
        "The fifth part has no transfer encoding header.\n\n--B--\n"
    )
    path = tmp_path / "five.eml"
    path.write_text(raw, encoding="ascii")
    doc = load(path)
    for sentence in (
        "The first part says the pump was repaired.",
        "¡The second part says the crane arrives on Tuesday!",
        "The third part names the ferry captain.",
        "The fourth part gives the budget.",
        "The fifth part has no transfer encoding header.",
    ):
        assert sentence in blocks(doc)
    assert doc.text.index("first part") < doc.text.index("fifth part")  # reading order


def _digest(path: Path, count: int) -> Path:
    """Write a Mailman-style digest: a masthead, then a multipart/digest whose parts carry no
    Content-Type of their own (each is a message/rfc822 by default)."""
    messages = "".join(
        f"--D\n\nFrom: member{n}@example.org\nSubject: Topic {n}\n"
        f"Date: Fri, 20 Apr 2001 20:16:{n:02d} -0400\n\n"
        f"Message number {n} says pier {n + 10} is open.\n\n"
        for n in range(1, count + 1)
    )
    path.write_text(
        "From: list-request@example.org\nTo: list@example.org\n"
        f"Subject: Harbour digest, {count} messages\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="M"\n\n'
        "--M\nContent-Type: text/plain\n\nToday's topics: the harbour, the crane and the ferry.\n"
        '--M\nContent-Type: multipart/digest; boundary="D"\n\n'
        f"{messages}--D--\n\n--M--\n",
        encoding="ascii",
    )
    return path


def test_a_digest_keeps_every_message_as_a_section(tmp_path: Path) -> None:
    doc = load(_digest(tmp_path / "digest.eml", 5))
    found = blocks(doc)
    assert "Today's topics: the harbour, the crane and the ferry." in found
    for number in range(1, 6):
        assert f"Message number {number} says pier {number + 10} is open." in found
        assert f"Message {number}: Topic {number}" in doc.text
        assert f"From: member{number}@example.org" in doc.text


def test_nested_parts_inline_text_and_attachments_at_any_depth(tmp_path: Path) -> None:
    message = email_message(
        sender="ana@example.org", to="ops@example.org", subject="Nested", date=_WHEN,
        body="The plain alternative says the quay is closed.",
        html="<p>The plain alternative says the quay is closed.</p>",
    )  # fmt: skip
    message.make_mixed()
    inner = EmailMessage()
    inner.set_content("An inline part without a file name lists the three tugs.")
    inner.make_mixed()
    inner.add_attachment(
        b"Item,Count\nTugs,3\n", maintype="text", subtype="csv", filename="tugs.csv"
    )
    message.attach(inner)  # type: ignore[arg-type]
    forwarded = email_message(
        sender="chief@example.org", to="ana@example.org", subject="Budget", date=_WHEN,
        body="The forwarded budget is 40,000 euros.",
        attachments=[("memo.txt", b"The memo inside the forwarded message.", "text/plain")],
    )  # fmt: skip
    message.add_attachment(forwarded)
    doc = load(write_eml(tmp_path / "nested.eml", message))
    assert doc.text.count("the quay is closed") == 1  # one of the alternatives
    assert "An inline part without a file name lists the three tugs." in doc.text
    assert "Attached message: Budget" in doc.text
    assert "The forwarded budget is 40,000 euros." in doc.text
    assert sorted(d.attachment for d in doc.attachments) == ["memo.txt", "tugs.csv"]
    assert "Attachments: tugs.csv" in doc.text and "Attachments: memo.txt" in doc.text


def test_nesting_past_the_limit_is_counted_not_lost_silently(tmp_path: Path) -> None:
    part = EmailMessage()
    part.set_content("The innermost note.")
    for _ in range(80):
        outer = EmailMessage()
        outer.make_mixed()
        outer.attach(part)  # type: ignore[arg-type]
        part = outer
    part["From"] = "a@example.org"
    part["Subject"] = "Deep"
    doc = load(write_eml(tmp_path / "deep.eml", part))
    assert [x.rule for x in doc.left_out] == ["nested deeper than the limit"]


# -- tables: every row keeps its label and the headers --------------------------------------


def test_a_slide_table_row_keeps_its_label(tmp_path: Path) -> None:
    rows = [["Col1", "Col2", "Col3"], ["Name", "Anton", "Antich"], ["Age", "23", "years"]]
    doc = load(write_pptx(tmp_path / "people.pptx", [{"title": "Table", "table": rows}]))
    row = next(p for p in passages(doc) if "23" in p)
    assert row.startswith("Name: Age") and "Anton: 23" in row


def test_a_row_label_without_a_header_cell_comes_first(tmp_path: Path) -> None:
    rows = [["", "Q1", "Q2"], ["Revenue", 4, 5], ["Costs", 3, 2]]
    doc = load(write_xlsx(tmp_path / "sheet.xlsx", {"Sheet": rows}))
    assert passages(doc) == ["Revenue; Q1: 4; Q2: 5", "Costs; Q1: 3; Q2: 2"]


def test_html_table_rows_keep_their_headers(tmp_path: Path) -> None:
    path = tmp_path / "t.html"
    path.write_text(
        "<html><body><h1>Crew</h1><table><tr><th>Name</th><th>Age</th></tr>"
        "<tr><th>Anton</th><td>23</td></tr><tr><th>Ines</th><td>41</td></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    found = blocks(load(path))
    assert "Name: Anton; Age: 23" in found and "Name: Ines; Age: 41" in found


def test_a_header_over_empty_columns_is_kept(tmp_path: Path) -> None:
    rows = [["Margins", "anchor is top", "anchor is bottom"], ["unladen swallows", "", ""]]
    doc = load(write_pptx(tmp_path / "t.pptx", [{"title": "Cells", "table": rows}]))
    assert "anchor is top" in doc.text and "unladen swallows" in doc.text


# -- spreadsheets as a weapon ---------------------------------------------------------------


def ods_bytes(rows: list[tuple[list[str], int, int]]) -> bytes:
    """Return an .ods of rows given as (cells, rows repeated, columns repeated of cell 1)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Sheet1")
    for cells, rows_repeated, columns_repeated in rows:
        row = TableRow(numberrowsrepeated=rows_repeated) if rows_repeated > 1 else TableRow()
        for number, text in enumerate(cells):
            repeat = columns_repeated if number == 0 and columns_repeated > 1 else None
            cell = TableCell(numbercolumnsrepeated=repeat) if repeat else TableCell()
            cell.addElement(P(text=text))
            row.addElement(cell)
        table.addElement(row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def test_repeated_rows_are_collapsed_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bomb.ods"
    path.write_bytes(
        ods_bytes([
            (["Name", "Amount"], 1, 1),
            (["spam"], 999_999_999, 16384),
            (["eggs", "2"], 999_999_999, 1),
            (["Anton", "23"], 1, 1),
        ])
    )  # fmt: skip
    assert path.stat().st_size < 2000
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        doc = load(path)
        found = passages(doc)
    assert time.perf_counter() - started < 10
    assert len(found) < 100
    assert "Name: Anton; Amount: 23" in found
    assert any("the same row 999,999,999 times" in p for p in found)
    (left,) = doc.left_out
    assert (left.rule, left.count) == ("identical rows collapsed", 2 * 999_999_998)
    assert "rows left out (identical rows collapsed)" in caplog.text


# -- HTML and e-books -----------------------------------------------------------------------


def test_book_headings_line_breaks_and_line_numbers(tmp_path: Path) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("fid")
    book.set_title("Poems")
    chapter = epub.EpubHtml(title="One", file_name="one.xhtml", lang="de")
    chapter.content = (
        "<h1>Poems</h1><h2>First book</h2><h3>The garden</h3>"
        "<p>Veni, vidi, meis<br/>vidi oculis.</p>"
        "<p>Im Hofgarten,<span class='linenum'>10</span> unter den Linden.</p>"
    )
    book.add_item(chapter)
    book.add_item(epub.EpubNav())
    book.spine = ["nav", chapter]
    path = tmp_path / "poems.epub"
    epub.write_epub(str(path), book)
    doc = load(path)
    blocks = [(doc.text[b.start : b.end], b.kind) for b in doc.blocks]
    assert ("First book", "heading") in blocks and ("The garden", "heading") in blocks
    assert "meis\nvidi oculis." in doc.text
    assert "Im Hofgarten, unter den Linden." in doc.text and "10" not in doc.text


@pytest.mark.parametrize("depth", [300, 2000])
def test_deeply_nested_html_is_read(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.html"
    body = (
        "<div>" * depth + "<p>The deep paragraph names the harbour master.</p>" + "</div>" * depth
    )
    path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    assert "The deep paragraph names the harbour master." in load(path).text


def test_html_too_deep_for_the_parser_is_refused_with_that_reason(tmp_path: Path) -> None:
    path = tmp_path / "deeper.html"
    body = "<div>" * 5000 + "<p>Lost below the parser's limit.</p>" + "</div>" * 5000
    path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    with pytest.raises(IngestError, match="nested more than 2,048 elements deep"):
        load(path)


# -- PDF running lines ----------------------------------------------------------------------


def test_a_line_ending_every_page_that_continues_a_sentence_is_kept(tmp_path: Path) -> None:
    pages = [
        [
            f"Section {n}",
            f"The inspection of pier {n} found that every member",
            "of the harbour board agreed",
        ]
        for n in range(1, 5)
    ]
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes(pages))
    doc = load(path)
    for n in range(1, 5):
        assert (
            f"The inspection of pier {n} found that every member of the harbour board agreed"
            in doc.text
        )


# -- end to end with the bundled models -----------------------------------------------------


@pytest.mark.model
def test_the_cases_are_answered_by_ask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    museum_file(folder)
    rows = [["Col1", "Col2", "Col3"], ["Name", "Anton", "Antich"], ["Age", "23", "years"]]
    write_pptx(folder / "people.pptx", [{"title": "Table", "table": rows}])
    _digest(folder / "digest.eml", 5)
    assert cli.main(["add", str(folder), "-l", "fid-model", "-q"]) == 0
    capsys.readouterr()
    for question, expected in [
        ("Who founded the museum?", "Jane Smith"),
        ("How old is Anton?", "23"),
        ("Which pier is open according to message number 3?", "13"),
    ]:
        assert cli.main(["ask", question, "-l", "fid-model", "--json"]) in (0, 1)
        result = json.loads(capsys.readouterr().out)
        best = result["answer"] or result["possible_answer"] or result["closest"]
        assert expected in best["text"], (question, result)


def test_a_web_pages_menus_and_footer_are_counted_as_left_out() -> None:
    from qa_app.ingest.html import load_html

    page = Path(__file__).parent / "fixtures" / "ingest" / "article.html"
    doc = load_html(page)
    assert "Ines Moreau" in doc.text and "Pier: Pier 3; Status: closed" in doc.text
    assert "Most read" not in doc.text and "Privacy policy" not in doc.text
    (entry,) = doc.left_out
    # The menu's five links, the masthead, "Most read" and its two links, and the footer's lines.
    assert entry.rule == "page navigation, header or footer" and entry.count >= 8
    assert entry.example == "Home"

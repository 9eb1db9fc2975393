"""E-mail attachments as documents of their own, linked to their message, through the library."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from fixtures.formats import email_message, write_eml, write_mbox, write_msg, write_xlsx
from fixtures.ingest.make_files import pdf_bytes

from qa_app.answers import assemble
from qa_app.engine import Engine
from qa_app.ingest import limits
from qa_app.records import Span, source_name
from qa_app.render import to_dict
from qa_app.testing import FakeEmbedder

WHEN = dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC)
REPORT = "The inspection found a crack in the north pump housing on 4 March."


def message_with(tmp_path: Path, name: str = "pump.eml", *attachments: tuple) -> Path:
    message = email_message(
        sender="Maria Okafor <maria@example.org>", to="ops@example.org",
        subject="Pump report", date=WHEN, body="Report and figures attached.",
        attachments=list(attachments),
    )  # fmt: skip
    return write_eml(tmp_path / name, message)


def engine() -> Engine:
    return Engine("mail", embedder=FakeEmbedder(32))


def test_attachments_are_documents_linked_to_their_message(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "src.xlsx", {"Sales": [["Year", "Revenue"], [2023, "4.2M"]]})
    mail = tmp_path / "mail"
    mail.mkdir()
    path = message_with(
        mail,
        "pump.eml",
        ("report.pdf", pdf_bytes([[REPORT]]), "application/pdf"),
        ("figures.xlsx", xlsx.read_bytes(), "application/octet-stream"),
        ("broken.docx", b"PK\x03\x04 not really", "application/octet-stream"),
        ("setup.exe", b"MZ", "application/octet-stream"),
    )
    with engine() as e:
        report = e.add([mail])
        # The broken attachment is an error naming the message and the attachment; the
        # message and the other attachments are indexed.
        assert report.added == (str(path),)
        assert [(f.path, f.reason.split(":")[0]) for f in report.failed] == [
            (str(path), "attachment broken.docx")
        ]
        docs = e.documents()
        assert [(d.path, d.attachment, d.status) for d in docs] == [
            (str(path), None, "indexed"),
            (str(path), "broken.docx", "failed"),
            (str(path), "figures.xlsx", "indexed"),
            (str(path), "report.pdf", "indexed"),
        ]
        message, broken, figures, pdf = docs
        assert figures.parent_id == pdf.parent_id == message.id != pdf.id
        assert broken.error is not None and broken.error.startswith("attachment broken.docx: ")
        # The message keeps only the attachments' names; their text is theirs alone.
        text = e.document_text(message.id)
        assert "Attachments: report.pdf, figures.xlsx, broken.docx, setup.exe" in text
        assert REPORT not in text and REPORT in e.document_text(pdf.id)
        assert "Year: 2023; Revenue: 4.2M" in e.document_text(figures.id)

        passages = e.search("crack north pump housing", k=3)
        hit = next(p for p in passages if p.doc_id == pdf.id)
        assert (hit.path, hit.attachment) == (str(path), "report.pdf")
        assert source_name(hit.path, hit.attachment) == "report.pdf (attached to pump.eml)"
        text = e.document_text(pdf.id)
        start = text.index("a crack")
        span = Span(passages.index(hit), start - hit.start, start - hit.start + 7, "a crack",
                    0.9, 0, len(hit.text))  # fmt: skip
        result = assemble("What was found?", passages, [span], threshold=0.5, reader="test")
        cited = to_dict(result)["answer"]["citations"][0]
        assert (cited["path"], cited["attachment"], cited["ocr"]) == (
            str(path),
            "report.pdf",
            False,
        )
        assert text[cited["answer_start"] : cited["answer_end"]] == "a crack"

        # A second sync of the unchanged message says the attachment is still unread.
        again = e.sync()
        assert again.unchanged == 1 and [f.reason for f in again.failed] == [broken.error]


def test_a_changed_or_deleted_message_replaces_or_removes_its_attachments(tmp_path: Path) -> None:
    path = message_with(
        tmp_path, "pump.eml", ("report.pdf", pdf_bytes([[REPORT]]), "application/pdf")
    )
    with engine() as e:
        assert e.add([path]).ok
        # The same message now carries another attachment: the old one goes with the old text.
        message_with(
            tmp_path, "pump.eml", ("notes.txt", b"The spare seal arrives on Friday.", "text/plain")
        )
        assert e.sync().updated == (str(path),)
        docs = e.documents()
        assert [d.attachment for d in docs] == [None, "notes.txt"]
        assert not [p for p in e.search("crack pump housing", k=5) if p.attachment == "report.pdf"]
        store = e.library.store
        assert store.counts().documents == 2

        path.unlink()
        assert e.sync().removed == (str(path),)
        assert e.documents() == [] and store.counts() == (0, 0, 0)
        db = sqlite3.connect(store.path)
        assert db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM failures").fetchone() == (0,)
        db.close()


def test_removing_a_message_removes_its_attachments_and_their_failures(tmp_path: Path) -> None:
    path = message_with(
        tmp_path,
        "pump.eml",
        ("report.pdf", pdf_bytes([[REPORT]]), "application/pdf"),
        ("broken.pdf", b"%PDF-1.4 broken", "application/pdf"),
    )
    with engine() as e:
        assert len(e.add([path]).failed) == 1
        assert len(e.documents()) == 3
        assert e.remove([path]) == [str(path)]
        assert e.documents() == []


def test_msg_and_mbox_attachments(tmp_path: Path) -> None:
    msg = write_msg(
        tmp_path / "pump.msg",
        sender=("Maria Okafor", "maria@example.org"),
        to=[("Ops Desk", "ops@example.org")],
        subject="Pump station report",
        body="See the notes.\r\n",
        date=WHEN,
        attachments=[("notes.txt", b"The spare seal arrives on Friday.")],
    )
    box = write_mbox(
        tmp_path / "desk.mbox",
        [
            email_message(
                sender=f"clerk{i}@example.org",
                to="desk@example.org",
                subject=f"Gate {i}",
                date=WHEN,
                body=f"Gate {i} note.",
                attachments=[
                    (f"gate{i}.txt", f"Lorry {i} waits at gate {i + 10}.".encode(), "text/plain")
                ],
            )  # fmt: skip
            for i in range(2)
        ],
    )
    with engine() as e:
        assert e.add([msg, box]).ok
        found = {(Path(d.path).name, d.attachment) for d in e.documents()}
        assert found == {
            ("pump.msg", None), ("pump.msg", "notes.txt"), ("desk.mbox", None),
            ("desk.mbox", "gate0.txt (message 1)"), ("desk.mbox", "gate1.txt (message 2)"),
        }  # fmt: skip


def test_attachment_limits_hold(tmp_path: Path) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/document.xml", "w") as member,
    ):
        for _ in range(limits.MAX_MEMBER_BYTES // 1_000_000 + 1):
            member.write(bytes(1_000_000))  # 101 MB of zeros: about 100 kB zipped
    path = message_with(
        tmp_path,
        "bomb.eml",
        ("bomb.docx", buffer.getvalue(), "application/octet-stream"),
        ("notes.txt", b"The spare seal arrives on Friday.", "text/plain"),
    )
    with engine() as e:
        report = e.add([path])
        assert report.added == (str(path),)
        assert [f.reason for f in report.failed] == [
            "attachment bomb.docx: expands to more than 100 MB when unzipped (a decompression bomb?)"
        ]
        assert [d.attachment for d in e.documents() if d.status == "indexed"] == [None, "notes.txt"]


def test_cli_list_show_and_json_name_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa_app.cli.commands import main

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    original = Engine.__init__
    monkeypatch.setattr(Engine, "__init__", init)
    path = message_with(
        tmp_path, "pump.eml", ("report.pdf", pdf_bytes([[REPORT]]), "application/pdf")
    )
    assert main(["add", "-l", "mail", "-q", str(path)]) == 0
    capsys.readouterr()
    assert main(["list", "-l", "mail"]) == 0
    out = capsys.readouterr().out
    assert f"{path} » report.pdf" in out
    assert main(["list", "-l", "mail", "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    child = next(d for d in docs if d["attachment"])
    assert child["parent_id"] == next(d["id"] for d in docs if not d["attachment"])
    assert main(["show", "-l", "mail", str(child["id"])]) == 0
    out = capsys.readouterr().out
    assert "attachment report.pdf of the message above" in out and REPORT in out
    assert main(["search", "-l", "mail", "crack pump housing"]) == 0
    assert f"{path} » report.pdf" in capsys.readouterr().out


def test_a_library_from_before_attachments_reads_and_then_migrates(tmp_path: Path) -> None:
    from qa_app.index.store import Store

    path = message_with(tmp_path, "pump.eml", ("notes.txt", b"Seal on Friday.", "text/plain"))
    with engine() as e:
        assert e.add([path]).ok
        db_path = e.library.store.path
    db = sqlite3.connect(db_path)
    # As a library written before this version (and before the migration ledger):
    # attachments inline, no link columns.
    db.execute("DELETE FROM documents WHERE parent_id IS NOT NULL")
    for sql in (
        "DROP TABLE _migrations", "DROP INDEX documents_parent", "DROP INDEX failures_parent",
        "ALTER TABLE documents DROP COLUMN parent_id", "ALTER TABLE documents DROP COLUMN attachment",
        "ALTER TABLE failures DROP COLUMN parent",
    ):  # fmt: skip
        db.execute(sql)
    db.commit()
    db.close()
    old = Store(db_path)  # reading never writes: the columns stay missing
    (info,) = old.documents()
    assert (info.path, info.attachment) == (str(path), None)
    assert str(path) in old.known_files() and old.failures() == {}
    assert old.attachment_failures() == {}
    assert list(old.passages([1]).values())[0].attachment is None
    old.close()
    with engine() as e:  # the first writer adds them; a sync fills them
        e.library.store.mark_unread(["eml"])
        assert e.sync().updated == (str(path),)
        assert [d.attachment for d in e.documents()] == [None, "notes.txt"]


@pytest.mark.model
def test_a_question_answered_only_from_an_attachment(tmp_path: Path) -> None:
    path = message_with(
        tmp_path, "pump.eml", ("inspection.pdf", pdf_bytes([[REPORT]]), "application/pdf")
    )
    with Engine("mail-real") as e:
        assert e.add([path]).ok
        result = e.ask("What did the inspection find in the north pump housing?")
        best = result.top
        assert best is not None and "crack" in best.text
        cited = best.citations[0]
        assert (cited.path, cited.attachment) == (str(path), "inspection.pdf")
        text = e.document_text(cited.doc_id)
        assert text[cited.answer_start : cited.answer_end] == best.text

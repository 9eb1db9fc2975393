"""OCR in a library: the per-library switch, page progress, cancel between pages and the page
cache that makes a stopped run resume without OCRing finished pages again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.formats import email_message, render_page, scanned_pdf_bytes, write_eml

from qa_app.answers import assemble
from qa_app.engine import Engine
from qa_app.ingest import image as image_loader
from qa_app.ingest import ocr
from qa_app.ingest import pdf_ocr as pdf_ocr_loader
from qa_app.records import Progress, Span
from qa_app.render import ocr_text, to_dict, to_text
from qa_app.testing import FakeEmbedder


class CountingOcr:
    """Stands in for Tesseract: one paragraph per page, counting the pages it was asked to read."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image: Any) -> list[str]:
        self.calls += 1
        return [f"The scanned page number {self.calls} names the harbour master."]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> CountingOcr:
    recogniser = CountingOcr()
    monkeypatch.setattr(pdf_ocr_loader, "recognise", recogniser)
    monkeypatch.setattr(image_loader, "recognise", recogniser)
    return recogniser


def scan(folder: Path, pages: int = 4, name: str = "scan.pdf") -> Path:
    path = folder / name
    path.write_bytes(scanned_pdf_bytes([render_page([f"Page {n}"], width=400, height=300)
                                        for n in range(pages)]))  # fmt: skip
    return path


def engine() -> Engine:
    return Engine("scans", embedder=FakeEmbedder(32))


def test_a_cancelled_run_resumes_without_ocring_finished_pages(
    tmp_path: Path, fake: CountingOcr
) -> None:
    path = scan(tmp_path)
    ticks: list[Progress] = []
    with engine() as e:
        # Cancel is asked before every page: stop once two pages are read.
        report = e.add([path], ticks.append, lambda: fake.calls >= 2)
        assert report.cancelled and report.added == () and e.documents() == []
        assert fake.calls == 2
        pages = [(t.done, t.total) for t in ticks if t.stage == "ocr"]
        assert pages == [(0, 4), (1, 4), (2, 4)]
        assert {t.item for t in ticks if t.stage == "ocr"} == {str(path)}
        assert ocr_text(ticks[-1]) == "OCR page 3 of 4: scan.pdf"

        report = e.sync()  # the two finished pages come from the cache
        assert report.added == (str(path),) and report.ok
        assert fake.calls == 4
        (doc,) = e.documents()
        text = e.document_text(doc.id)
        assert [n for n in range(1, 5) if f"page number {n} " in text] == [1, 2, 3, 4]
        assert (tmp_path / "scan.pdf").exists()
    with engine() as e:  # a kill is the same: the pages are committed as they are read
        (tmp_path / "copy").mkdir()
        copy = tmp_path / "copy" / "same-scan.pdf"
        copy.write_bytes(path.read_bytes())
        assert e.add([copy]).ok and fake.calls == 4  # same bytes: every page cached


def test_the_cache_is_keyed_by_the_ocr_engine(
    tmp_path: Path, fake: CountingOcr, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = scan(tmp_path, pages=2)
    with engine() as e:
        assert e.add([path]).ok and fake.calls == 2
        monkeypatch.setattr(ocr, "engine_id", lambda: "another engine")
        e.library.store.mark_unread(["pdf"])
        assert e.sync().updated == (str(path),)
        assert fake.calls == 4


def test_the_ocr_switch_is_remembered_and_rereads_what_it_changes(
    tmp_path: Path, fake: CountingOcr
) -> None:
    scan(tmp_path, pages=2)
    photo = tmp_path / "photo.png"
    render_page(["A photographed page"], width=400, height=300).save(photo)
    (tmp_path / "typed.txt").write_text("Typed notes about the harbour.")
    with engine() as e:
        assert e.ocr and e.add([tmp_path]).ok and fake.calls == 3
        assert e.set_ocr(False) == 2  # the scan and the photo have OCRed text; the notes not
        assert e.set_ocr(False) == 0
        report = e.sync()
        assert report.unchanged == 1
        reasons = sorted(f.reason for f in report.failed)
        assert "switched off" in reasons[0] and "switched off" in reasons[1]
        assert [d.status for d in e.documents()] == ["failed", "failed", "indexed"]
    with engine() as e:
        assert not e.ocr  # stored with the library
        assert e.set_ocr(True) == 2
        assert e.sync().ok
        assert fake.calls == 3  # read again, from the cache
        assert [d.status for d in e.documents()] == ["indexed"] * 3


def test_scanned_attachments_are_ocred_with_the_message(tmp_path: Path, fake: CountingOcr) -> None:
    message = email_message(
        sender="a@example.org", to="b@example.org", subject="Scan", date=ocr_date(), body="See.",
        attachments=[("letter.pdf", scan(tmp_path, pages=1).read_bytes(), "application/pdf")],
    )  # fmt: skip
    (tmp_path / "mail").mkdir()
    path = write_eml(tmp_path / "mail" / "scan.eml", message)
    ticks: list[Progress] = []
    with engine() as e:
        assert e.add([path], ticks.append).ok and fake.calls == 1
        assert [(t.stage, t.item) for t in ticks if t.stage == "ocr"][-1] == ("ocr", str(path))
        passages = e.search("harbour master", k=3)
        hit = passages[0]
        assert (hit.attachment, hit.ocr) == ("letter.pdf", True)
        start = hit.text.index("harbour master")
        span = Span(0, start, start + 14, "harbour master", 0.9, 0, len(hit.text))
        result = assemble("Who is named?", passages, [span], threshold=0.5, reader="test")
        cited = to_dict(result)["answer"]["citations"][0]
        assert cited["ocr"] is True and cited["attachment"] == "letter.pdf"
        json.dumps(cited)

        text = to_text(result)
        assert f"{path} » letter.pdf" in text
        assert "read by OCR from a scanned image: may contain recognition errors" in text


def ocr_date() -> Any:
    import datetime as dt

    return dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC)


def test_cli_ocr_command_and_add_no_ocr(
    tmp_path: Path,
    fake: CountingOcr,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from qa_app.cli.commands import main

    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)
    path = scan(tmp_path, pages=2)
    assert main(["add", "-l", "scans", "--no-ocr", str(path)]) == 1  # a scan with OCR off
    err = capsys.readouterr().err
    assert "OCR is off for library 'scans'" in err and "switched off" in err
    assert fake.calls == 0
    assert main(["ocr", "-l", "scans"]) == 0
    assert capsys.readouterr().out.strip() == "OCR is off for library 'scans'"
    assert main(["ocr", "-l", "scans", "on"]) == 0  # switched, then read again at once
    assert fake.calls == 2
    capsys.readouterr()
    assert main(["search", "-l", "scans", "harbour master"]) == 0
    assert "(read by OCR" in capsys.readouterr().out
    assert main(["ocr", "-l", "scans", "on"]) == 0 and fake.calls == 2  # nothing to do


def test_the_switch_survives_a_rebuild_of_the_store(tmp_path: Path, fake: CountingOcr) -> None:
    import sqlite3

    (tmp_path / "notes.txt").write_text("Typed notes about the harbour.")
    with engine() as e:
        e.set_ocr(False)
        assert e.add([tmp_path]).ok
        db_path = e.library.store.path
    db = sqlite3.connect(db_path)
    db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with engine() as e:
        assert e.needs_rebuild == "schema"
        assert e.sync().ok
        assert not e.library.ocr

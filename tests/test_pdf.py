"""PDF text that reads like the page: headers, wrapped lines, scanned and watermark pages, warnings."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
from fixtures.ingest.make_files import pdf_bytes

from qa_app.chunking import chunk_document
from qa_app.cli import commands as cli
from qa_app.ingest import IngestError, LoadOptions, load
from qa_app.ingest import pdf as pdf_loader
from qa_app.ingest.reporting import captured_warnings

WATERMARK = "Produced with a Trial Version of PDF Annotator - www.PDFAnnotator.com"


def write(tmp_path: Path, pages: list[list[str]], **kw: object) -> Path:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf_bytes(pages, **kw))  # type: ignore[arg-type]
    return path


def test_a_line_repeated_on_every_page_is_kept_when_it_is_all_the_page_has(
    tmp_path: Path,
) -> None:
    doc = load(write(tmp_path, [["habibi"]] * 4))
    assert doc.text == "\n\n".join(["habibi"] * 4)
    assert [b.page for b in doc.blocks] == [1, 2, 3, 4]


def test_running_header_still_goes_when_the_page_has_other_text(tmp_path: Path) -> None:
    bodies = ["Ships came", "Cranes moved", "Ferries left", "Tugs waited"]
    pages = [["Port Authority Annual Report", body] for body in bodies]
    doc = load(write(tmp_path, pages))
    assert doc.text == "\n\n".join(bodies)


def test_wrapped_lines_are_joined_inside_paragraphs(tmp_path: Path) -> None:
    lines = [
        "The harbour of Valdoria reopened on Monday after a week of repairs that cost",
        "about 2.5 million euros, and the",
        "first ferry docked at noon.",
        "A second paragraph starts with a capital letter and runs on to the end of the line",
        "so it goes on here, with the infor-",
        "mation that the crane was damaged.",
        "Short title",
    ]
    doc = load(write(tmp_path, [lines]))
    texts = [doc.text[b.start : b.end] for b in doc.blocks]
    assert texts == [
        "The harbour of Valdoria reopened on Monday after a week of repairs that cost about "
        "2.5 million euros, and the first ferry docked at noon.",
        "A second paragraph starts with a capital letter and runs on to the end of the line so "
        "it goes on here, with the information that the crane was damaged.",
        "Short title",
    ]
    for chunk in chunk_document(doc):
        assert doc.text[chunk.start : chunk.end] == chunk.text and chunk.page == 1


def test_image_page_with_only_a_watermark_counts_as_scanned(tmp_path: Path) -> None:
    path = write(tmp_path, [[WATERMARK]], images=frozenset({0}))
    with pytest.raises(IngestError) as caught:
        load(path, LoadOptions(ocr=False))
    assert caught.value.reason.startswith("no extractable text: the pages are probably scanned")
    with pytest.raises(IngestError) as caught:
        load(path)  # OCRed: the picture holds no text either
    assert (
        caught.value.reason
        == "no extractable text: the pages are images in which OCR found no text"
    )


def test_scanned_pages_among_text_pages_are_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pages = [["The harbour reopened on Monday after a week of repairs."], [WATERMARK], []]
    path = write(tmp_path, pages, images=frozenset({1, 2}))
    with caplog.at_level(logging.WARNING, logger="qa_app"):
        doc = load(path, LoadOptions(ocr=False))
    assert "Trial Version" not in doc.text and doc.pages == 3
    notes = [r.getMessage() for r in caplog.records]
    assert notes == [
        f"{path}: 2 of 3 pages are images with no text of their own (scanned? run OCR on them)"
    ]


def test_a_short_caption_on_a_text_page_without_images_is_text(tmp_path: Path) -> None:
    doc = load(write(tmp_path, [["Figure 1: the harbour"]]))
    assert doc.text == "Figure 1: the harbour"


def _noisy_page(original):  # type: ignore[no-untyped-def]
    def page(p):  # type: ignore[no-untyped-def]
        for _ in range(3):
            logging.getLogger("pypdfium2").warning("fontTools is required to parse font %s", "F1")
        warnings.warn("odd cross-reference table", UserWarning, stacklevel=1)
        return original(p)

    return page


def test_library_warnings_are_summarised_once_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(pdf_loader, "_page", _noisy_page(pdf_loader._page))
    path = write(tmp_path, [["First page text."], ["Second page text."]])
    with caplog.at_level(logging.WARNING):
        load(path)
    notes = [r.getMessage() for r in caplog.records]
    assert notes == [
        f"{path}: 8 warnings from the document library while reading it "
        "(first: fontTools is required to parse font F1)"
    ]


def test_captured_warnings_stay_inside_the_block(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), captured_warnings("a.pdf") as messages:
        for _ in range(1412):
            logging.getLogger("pypdf").warning("fontTools is required…")
    assert len(messages) == 1412
    assert [r.getMessage() for r in caplog.records] == [
        "a.pdf: 1,412 warnings from the document library while reading it "
        "(first: fontTools is required…)"
    ]


def test_cli_prints_the_summary_once_and_nothing_under_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa_app.engine import Engine
    from qa_app.testing import FakeEmbedder

    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)
    monkeypatch.setattr(pdf_loader, "_page", _noisy_page(pdf_loader._page))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(pdf_bytes([["The harbour reopened on Monday."]]))
    assert cli.main(["add", str(folder), "-l", "loud"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: ") == 1 and "4 warnings from the document library" in err
    (folder / "b.pdf").write_bytes(pdf_bytes([["The ferry docked at noon."]]))
    assert cli.main(["sync", "-l", "loud", "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_a_page_number_beside_the_chapter_name_is_a_running_header(tmp_path: Path) -> None:
    body = [
        "The harbour of Valdoria reopened on Monday after a week of repairs.",
        "The ferry docked at noon and the crowd cheered the crew on the pier.",
        "Officials said the cost was about 2.5 million euros in all that year.",
    ]
    pages = [
        ["1 Introduction", *body],
        ["2 1.1. REPAIRS", *body[::-1]],
        ["3 1.1. REPAIRS", *body[1:]],
        ["4 1.2. COSTS", *body[:2]],
        ["5 1.2. COSTS", body[2]],
    ]
    doc = load(write(tmp_path, pages))
    assert "REPAIRS" not in doc.text and "COSTS" not in doc.text
    assert doc.text.startswith("1 Introduction")  # once only: a heading, not a header

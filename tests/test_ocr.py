"""OCR: scanned PDF pages and image files read offline, page by page, with progress and cancel.

Tests marked ``model`` run the real OCR models (a few seconds a page); the others replace the
recogniser with a stand-in to check what the loaders do around it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures.formats import mixed_pdf_bytes, photo, render_page, scanned_pdf_bytes
from fixtures.ingest.make_files import pdf_bytes
from rapidfuzz.distance import Levenshtein

from qa_app.ingest import IngestError, LoadCancelled, LoadOptions, load, ocr
from qa_app.ingest import image as image_loader
from qa_app.ingest import pdf_ocr as pdf_ocr_loader

MEMO = [
    "Storage memo",
    "The storage tank at the north depot holds 5,000 litres of diesel fuel and is checked every "
    "Thursday by the site engineer.",
]


def cer(found: str, expected: str) -> float:
    """Character error rate: edit distance over the expected length, spaces normalised."""
    found, expected = " ".join(found.split()), " ".join(expected.split())
    return Levenshtein.distance(found, expected) / len(expected)


class FakeRecogniser:
    """Stands in for the OCR engine: returns one paragraph per call, naming the call."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image: Any) -> list[str]:
        self.calls += 1
        return [f"Recognised text number {self.calls}."]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRecogniser:
    recogniser = FakeRecogniser()
    monkeypatch.setattr(pdf_ocr_loader, "recognise", recogniser)
    monkeypatch.setattr(image_loader, "recognise", recogniser)
    return recogniser


# -- around the engine (fast) ---------------------------------------------------------------


def test_pages_with_a_text_layer_are_never_ocred(tmp_path: Path, fake: FakeRecogniser) -> None:
    text_pdf = pdf_bytes([["A text page about the night trains."], [], ["Another text page."]])
    path = tmp_path / "mixed.pdf"
    path.write_bytes(mixed_pdf_bytes(text_pdf, scanned_pdf_bytes([render_page(MEMO)])))
    doc = load(path)
    # Pages 2 (a drawn rectangle, no text) and 4 (a scan) have no text layer: OCRed, once each.
    assert fake.calls == 2
    found = [(doc.text[b.start : b.end], b.page, b.ocr) for b in doc.blocks]
    assert ("A text page about the night trains.", 1, False) in found
    assert ("Another text page.", 3, False) in found
    assert [(page, flag) for _, page, flag in found if flag] == [(2, True), (4, True)]
    assert doc.pages == 4


def test_blank_pages_are_not_ocred(tmp_path: Path, fake: FakeRecogniser) -> None:
    from PIL import Image

    path = tmp_path / "blank-and-scan.pdf"
    path.write_bytes(scanned_pdf_bytes([Image.new("L", (600, 800), 255), render_page(MEMO)]))
    doc = load(path)
    assert fake.calls == 1 and {b.page for b in doc.blocks} == {2}


def test_ocr_progress_cancel_and_switch(tmp_path: Path, fake: FakeRecogniser) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf_bytes([render_page(MEMO)] * 3))
    ticks: list[tuple[int, int]] = []
    load(path, LoadOptions(progress=lambda done, total: ticks.append((done, total))))
    assert ticks == [(0, 3), (1, 3), (2, 3), (3, 3)]

    asked = iter([False, True])
    with pytest.raises(LoadCancelled):
        load(path, LoadOptions(cancel=lambda: next(asked)))
    assert fake.calls == 4  # three, then one before the cancel

    with pytest.raises(IngestError) as caught:
        load(path, LoadOptions(ocr=False))
    assert "OCR is switched off" in caught.value.reason
    png = tmp_path / "page.png"
    render_page(MEMO).save(png)
    with pytest.raises(IngestError) as caught:
        load(png, LoadOptions(ocr=False))
    assert "switched off" in caught.value.reason
    assert fake.calls == 4


def test_tiff_frames_are_pages(tmp_path: Path, fake: FakeRecogniser) -> None:
    path = tmp_path / "pages.tif"
    first, *rest = [render_page([f"Page {n}"], width=400, height=300) for n in (1, 2, 3)]
    first.save(path, save_all=True, append_images=rest)
    doc = load(path)
    assert doc.format == "image" and doc.pages == 3
    assert [(b.page, b.ocr) for b in doc.blocks] == [(1, True), (2, True), (3, True)]


def test_image_errors(tmp_path: Path, fake: FakeRecogniser) -> None:
    from PIL import Image

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(IngestError) as caught:
        load(broken)
    assert caught.value.reason.startswith("corrupt")
    huge = tmp_path / "huge.png"
    Image.new("1", (12_000, 8_000), 1).save(huge)  # 96 million pixels, a few kB on disk
    with pytest.raises(IngestError) as caught:
        load(huge)
    assert caught.value.reason.startswith("too large once decoded")
    assert fake.calls == 0


def test_missing_engine_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(image: Any) -> list[str]:
        raise ocr.OcrUnavailable("the OCR engine is not installed (no module named 'tesserocr')")

    monkeypatch.setattr(image_loader, "recognise", unavailable)
    path = tmp_path / "page.jpg"
    render_page(MEMO).save(path)
    with pytest.raises(IngestError) as caught:
        load(path)
    assert caught.value.reason == (
        "cannot run OCR: the OCR engine is not installed (no module named 'tesserocr')"
    )


def test_paragraph_lines_are_joined_and_noise_dropped() -> None:
    assert ocr.join_lines("The first para-\ngraph goes on\n\n  here.\n") == (
        "The first paragraph goes on here."
    )
    assert ocr.join_lines("North-\nEast") == "North- East"  # a capital: not a broken word
    assert ocr.keep("Storage memo", 91.0)
    assert not ocr.keep("Storage memo", 20.0)  # unsure: noise read into a picture
    assert not ocr.keep("|", 96.0)  # one stray mark


# -- the real engine (slower) ---------------------------------------------------------------


@pytest.mark.model
def test_scanned_pdf_is_read_with_pages_and_ocr_flag(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf_bytes([render_page(MEMO)]))
    doc = load(path)
    assert doc.format == "pdf" and doc.pages == 1
    assert all(block.ocr and block.page == 1 for block in doc.blocks)
    assert cer(doc.text, "\n".join(MEMO)) < 0.03, doc.text
    assert doc.title == "Storage memo"


@pytest.mark.model
def test_photo_of_a_printed_page(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    photo(render_page(MEMO)).save(path)
    doc = load(path)
    assert doc.format == "image" and all(block.ocr for block in doc.blocks)
    assert cer(doc.text, "\n".join(MEMO)) < 0.05, doc.text


@pytest.mark.model
def test_a_picture_without_text_is_reported(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (800, 600), (90, 140, 200))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((200, 150, 600, 450), fill=(240, 200, 60))
    draw.rectangle((0, 450, 800, 600), fill=(40, 120, 50))
    path = tmp_path / "sun.jpg"
    picture.save(path)
    with pytest.raises(IngestError) as caught:
        load(path)
    assert caught.value.reason.startswith("no text found")


def test_the_ocr_flag_reaches_the_passages(tmp_path: Path, fake: FakeRecogniser) -> None:
    from qa_app.engine import Engine
    from qa_app.testing import FakeEmbedder

    (tmp_path / "scan.pdf").write_bytes(scanned_pdf_bytes([render_page(MEMO)]))
    (tmp_path / "typed.pdf").write_bytes(pdf_bytes([["Recognised text typed by hand, not read."]]))
    with Engine("ocr", embedder=FakeEmbedder(32)) as engine:
        assert engine.add([tmp_path]).ok
        passages = engine.search("recognised text", k=5)
        flags = {Path(p.path).name: p.ocr for p in passages}
        assert flags == {"scan.pdf": True, "typed.pdf": False}
        scanned = next(p for p in passages if p.ocr)
        document = engine.library.store.document(scanned.doc_id)
        assert all(block.ocr for block in document.blocks)  # kept in the stored blocks too

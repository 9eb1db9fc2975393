"""Limits on what one file may expand to: zip bombs, runaway text, page counts."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from fixtures.ingest.make_files import pdf_bomb_bytes, pdf_bytes, write_docx_bomb

from qa_app.ingest import IngestError, limits, load
from qa_app.ingest.build import DocumentBuilder


def _refusal(path: Path) -> str:
    with pytest.raises(IngestError) as caught:
        load(path)
    return caught.value.reason


def test_docx_bomb_is_refused_quickly_in_bounded_memory(tmp_path: Path) -> None:
    bomb = write_docx_bomb(tmp_path / "bomb.docx", 250_000_000)
    assert bomb.stat().st_size < 2_000_000  # small on disk, 250 MB unzipped
    tracemalloc.start()
    started = time.perf_counter()
    try:
        reason = _refusal(bomb)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reason == "expands to more than 200 MB when unzipped (a decompression bomb?)"
    assert seconds < 10
    assert peak < 30_000_000


def test_a_member_past_its_own_limit_is_refused_and_reading_stops_at_the_budget(
    tmp_path: Path,
) -> None:
    bomb = write_docx_bomb(tmp_path / "bomb.docx", 5_000_000)
    with pytest.raises(IngestError) as caught:
        limits.check_zip(bomb.read_bytes(), bomb, max_member=2_000_000)
    assert "expands to more than 2 MB when unzipped" in str(caught.value)
    with zipfile.ZipFile(bomb) as archive:
        budget = limits.ZipBudget(bomb, max_total=1_000_000)
        with pytest.raises(IngestError):
            limits.read_member(archive, "word/document.xml", budget)
        assert budget.total <= 1_000_000 + (1 << 20)  # stopped within one piece of the limit


def test_check_zip_counts_all_members_together(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            archive.writestr(f"part{i}.xml", b"x" * 400_000)
    limits.check_zip(buffer.getvalue(), "ok.zip", max_total=1_300_000)
    with pytest.raises(IngestError, match="more than 1 MB"):
        limits.check_zip(buffer.getvalue(), "bomb.zip", max_total=1_000_000)
    with pytest.raises(IngestError, match="more than 2 packed files"):
        limits.check_zip(buffer.getvalue(), "many.zip", max_members=2)


def test_damaged_package_is_a_per_file_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>" * 1000)
    data = bytearray(buffer.getvalue())
    data[60:80] = b"\0" * 20  # inside the compressed stream
    with pytest.raises(IngestError, match="^broken.docx: corrupt or damaged package"):
        limits.check_zip(bytes(data), "broken.docx")


def test_text_past_the_character_limit_stops_while_it_is_built() -> None:
    builder = DocumentBuilder(Path("long.txt"), "txt", max_chars=1000)
    for _ in range(9):
        builder.add("word " * 20)
    with pytest.raises(IngestError, match="more than 1,000 characters of text"):
        builder.add("word " * 40)


def test_long_plain_text_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 10_000)
    path = tmp_path / "long.txt"
    path.write_text("".join(f"Sentence number {i} of running text.\n\n" for i in range(1000)))
    assert "more than 10,000 characters of text" in _refusal(path)


def test_pdf_with_too_many_pages_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_PDF_PAGES", 3)
    path = tmp_path / "many.pdf"
    path.write_bytes(pdf_bytes([[f"Page {i} has a sentence."] for i in range(5)]))
    assert _refusal(path) == "has 5 pages (the limit for one file is 3)"


def test_a_member_that_unzips_past_its_declared_size_is_damaged(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:t>spam</w:t>" * 100_000)
    data = bytearray(buffer.getvalue())
    # Make both headers claim 1,000 bytes: the rest must not be unzipped.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.infolist()[0]
    real = info.file_size.to_bytes(4, "little")
    data = bytearray(bytes(data).replace(real, (1000).to_bytes(4, "little")))
    with pytest.raises(IngestError, match="corrupt or damaged package"):
        limits.check_zip(bytes(data), tmp_path / "lying.docx")


def test_pdf_bomb_is_refused_before_the_pdf_library_inflates_it(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(pdf_bomb_bytes(250_000_000))
    assert path.stat().st_size < 2_000_000
    tracemalloc.start()
    started = time.perf_counter()
    try:
        reason = _refusal(path)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reason == (
        "expands to more than 200 MB when its streams are unpacked (a decompression bomb?)"
    )
    assert seconds < 10
    assert peak < 30_000_000


def test_pdf_stream_check_counts_contents_not_images() -> None:
    def pdf_object(dictionary: bytes) -> bytes:
        body = zlib.compress(b"\0" * 2_000_000)
        return b"1 0 obj\n" + dictionary + b"\nstream\n" + body + b"\nendstream\nendobj\n"

    image = pdf_object(b"<< /Type /XObject /Subtype /Image /Filter /FlateDecode >>")
    limits.check_pdf_streams(b"%PDF-1.4\n" + image, "photo.pdf", max_total=1_000_000)
    contents = pdf_object(b"<< /Filter /FlateDecode >>")
    with pytest.raises(IngestError, match="more than 1 MB when its streams are unpacked"):
        limits.check_pdf_streams(b"%PDF-1.4\n" + contents, "bomb.pdf", max_total=1_000_000)

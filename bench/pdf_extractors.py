"""PDF text extractors compared through the same document pipeline: text found, broken lines, warnings, time.

Usage: python bench/pdf_extractors.py --data ../shared/data [--runs 3] [--loader]

Every extractor's page lines go through qa_app.ingest.pdf.build_document (running lines stripped,
wrapped lines joined), so the rows differ only in the extractor. `--loader` instead times
qa_app.ingest.load itself on each file (run it with another tree on PYTHONPATH to compare).
A "mid-sentence break" is a line or paragraph break between a lowercase letter or comma and a
lowercase letter: a sentence cut in two in the stored text.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import logging
import re
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qa_app.ingest import IngestError, load
from qa_app.ingest.normalize import clean
from qa_app.records import Document

BROKEN = re.compile(r"[a-zà-ÿß,]\n+(?=[a-zà-ÿß])")
Extractor = Callable[[bytes, Path], list[Any]]


def pdfium_pages(data: bytes, path: Path) -> list[Any]:
    from qa_app.ingest.pdf import read_pages

    return read_pages(data, path)[0]


def pypdf_pages(data: bytes, path: Path) -> list[Any]:
    from pypdf import PdfReader

    from qa_app.ingest.pdf import Page

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise IngestError(path, "encrypted")
    return [Page(clean(page.extract_text() or "").split("\n")) for page in reader.pages]


def pdfplumber_pages(data: bytes, path: Path) -> list[Any]:
    import pdfplumber

    from qa_app.ingest.pdf import Page

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return [Page(clean(page.extract_text() or "").split("\n")) for page in pdf.pages]
    except Exception as exc:
        raise IngestError(path, f"{type(exc).__name__}") from None


EXTRACTORS: dict[str, Extractor] = {
    "pypdfium2": pdfium_pages,
    "pypdf": pypdf_pages,
    "pdfplumber": pdfplumber_pages,
}


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def run_one(read: Callable[[Path], Document], path: Path) -> tuple[Document | None, int, str]:
    """Return (document or None, warning lines that reached the user, error)."""
    counter = _Count()
    root = logging.getLogger()
    root.addHandler(counter)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                doc, error = read(path), ""
            except IngestError as exc:
                doc, error = None, exc.reason
            except Exception as exc:  # an extractor failing outright
                doc, error = None, f"{type(exc).__name__}: {exc}"
    finally:
        root.removeHandler(counter)
    return doc, counter.count + len(caught), error


def measure(name: str, read: Callable[[Path], Document], files: list[Path], runs: int) -> None:
    with_text = chars = broken = warned = 0
    seconds: list[float] = []
    for path in files:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            doc, warns, error = run_one(read, path)
            times.append(time.perf_counter() - started)
        seconds.append(statistics.median(times))
        warned += warns
        if doc is not None:
            with_text += 1
            chars += len(doc.text)
            broken += len(BROKEN.findall(doc.text))
        print(
            f"  {name:10} {path.name:34} "
            + (
                f"{len(doc.text):7} chars {len(BROKEN.findall(doc.text)):4} breaks"
                if doc
                else error[:48]
            )
            + f" {warns:5} warnings {seconds[-1]:6.2f}s"
        )
    print(
        f"{name:10} files with text {with_text}/{len(files)}, {chars:,} chars, "
        f"{broken} mid-sentence breaks, {warned} warnings, {sum(seconds):.2f}s in all "
        f"(median of {runs} per file)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loader", action="store_true", help="time qa_app.ingest.load only")
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.NullHandler())  # counted, not printed
    files = sorted((args.data / "realfiles" / "pdf").glob("*.pdf"))
    if args.loader:
        measure("load", load, files, args.runs)
        return
    from qa_app.ingest.pdf import build_document

    for name, extract in EXTRACTORS.items():
        if importlib.util.find_spec(name) is None:
            print(f"{name:10} not installed (pip install {name}), skipped\n")
            continue

        def read(path: Path, extract: Extractor = extract) -> Document:
            return build_document(path, extract(path.read_bytes(), path), None)

        measure(name, read, files, args.runs)


if __name__ == "__main__":
    main()

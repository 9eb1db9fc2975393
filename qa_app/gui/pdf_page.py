"""A PDF page as an image (pypdfium2) and where the cited words sit on it, one rectangle per line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from qa_app.ingest.pdfium_lock import pdfium_call

_WORD = re.compile(r"\w+")


def available() -> bool:
    """Return True when pypdfium2 (the page renderer) can be imported."""
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Match:
    """Where the cited words are on a page: their character range and one box per line, in the
    page's own units with the origin top left (``boxes``) and as PDF coordinates (left, bottom,
    right, top; ``page_boxes``) for drawing on the rendered, possibly rotated, page."""

    start: int
    end: int
    boxes: tuple[QRectF, ...]
    page_boxes: tuple[tuple[float, float, float, float], ...]


def _pattern(words: str) -> re.Pattern[str] | None:
    parts = [re.escape(p) for p in words.split()]
    if not parts:
        return None
    # Lines break anywhere between words, sometimes with a hyphen: match any run of space there.
    return re.compile(r"(?:-?\s+)".join(parts), re.IGNORECASE)


def _context_score(page_text: str, start: int, end: int, sentence: str) -> int:
    window = page_text[max(0, start - len(sentence)) : end + len(sentence)].casefold()
    seen = set(_WORD.findall(window))
    return sum(1 for w in _WORD.findall(sentence.casefold()) if w in seen)


def choose(
    page_text: str, words: str, sentence: str = "", near: float | None = None
) -> tuple[int, int] | None:
    """Return the (start, end) of the occurrence of ``words`` in ``page_text`` that the citation
    means: the one whose surroundings share most words with ``sentence``, then the one nearest
    ``near`` (the citation's relative position on the page, 0..1). None when it is not there."""
    pattern = _pattern(words)
    if pattern is None:
        return None
    found = [(m.start(), m.end()) for m in pattern.finditer(page_text)]
    if not found:
        return None
    length = max(len(page_text), 1)

    def rank(span: tuple[int, int]) -> tuple[int, float]:
        distance = abs(span[0] / length - near) if near is not None else 0.0
        return (-_context_score(page_text, *span, sentence) if sentence else 0, distance)

    return min(found, key=rank)


def relative_position(page_text: str, sentence: str, offset: int) -> float | None:
    """Return where (0..1) the cited words sit in ``page_text``, found through the start of their
    ``sentence`` (``offset``: the words' start inside it); None when the sentence is not there."""
    head = " ".join(sentence[:offset].split()[:8])
    pattern = _pattern(head) if head else None
    if pattern is None:
        return None
    found = pattern.search(page_text)
    if found is None:
        return None
    return (found.start() + offset) / max(len(page_text), 1)


def line_boxes(char_boxes: list[tuple[float, float, float, float]]) -> list[QRectF]:
    """Return one rectangle per line for consecutive character boxes (left, top, right, bottom,
    top-left origin); empty boxes (generated spaces and line breaks) are skipped."""
    lines: list[QRectF] = []
    for left, top, right, bottom in char_boxes:
        if right - left <= 0 or bottom - top <= 0:
            continue
        box = QRectF(left, top, right - left, bottom - top)
        if lines:
            last = lines[-1]
            same_line = abs(box.center().y() - last.center().y()) < max(last.height(), 1) / 2
            if same_line and box.left() >= last.left() - 1:
                lines[-1] = last.united(box)
                continue
        lines.append(box)
    return lines


class PdfPages:
    """One open PDF: page count, page images and the boxes of cited words. Close it when done."""

    @pdfium_call
    def __init__(self, path: str) -> None:
        import pypdfium2 as pdfium

        self.path = path
        self._pdf = pdfium.PdfDocument(path)

    @pdfium_call
    def __len__(self) -> int:
        return len(self._pdf)

    @pdfium_call
    def size(self, index: int) -> tuple[float, float]:
        """Return page ``index``'s (width, height) in points."""
        return self._pdf[index].get_size()

    @pdfium_call
    def render(
        self,
        index: int,
        scale: float,
        marks: tuple[tuple[float, float, float, float], ...] = (),
    ) -> tuple[QImage, list[QRectF]]:
        """Return page ``index`` (0-based) drawn at ``scale`` pixels per point, and where the
        ``marks`` (PDF coordinates: left, bottom, right, top) fall on that image, in pixels.

        The page's own rotation is applied to the image and to the marks alike.
        """
        page = self._pdf[index]
        # Four bytes a pixel, in the order QImage's RGBX8888 expects.
        bitmap = page.render(scale=scale, may_draw_forms=True, rev_byteorder=True, prefer_bgrx=True)
        try:
            convert = bitmap.get_posconv(page)
            pixels = []
            for left, bottom, right, top in marks:
                (x0, y0), (x1, y1) = convert.to_bitmap(left, bottom), convert.to_bitmap(right, top)
                pixels.append(QRectF(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)))
            data = bytes(bitmap.buffer)
            image = QImage(
                data, bitmap.width, bitmap.height, bitmap.stride, QImage.Format.Format_RGBX8888
            )
            return image.copy(), pixels  # copy: own the pixels, ``data`` goes with this frame
        finally:
            bitmap.close()

    @pdfium_call
    def find(self, index: int, words: str, sentence: str = "", *, offset: int = 0) -> Match | None:
        """Return where ``words`` (the answer) are on page ``index``, or None.

        ``sentence`` is the cited sentence and ``offset`` where ``words`` start in it: among
        several occurrences, the one at the sentence's place on the page is chosen.
        """
        page = self._pdf[index]
        text_page = page.get_textpage()
        try:
            text = text_page.get_text_range()
            span = choose(text, words, sentence, relative_position(text, sentence, offset))
            if span is None:
                return None
            height = page.get_size()[1]
            boxes = []
            for i in range(span[0], span[1]):
                left, bottom, right, top = text_page.get_charbox(i, loose=True)
                boxes.append((left, height - top, right, height - bottom))
            lines = line_boxes(boxes)
            in_pdf = tuple(
                (b.left(), height - b.bottom(), b.right(), height - b.top()) for b in lines
            )
            return Match(span[0], span[1], tuple(lines), in_pdf)
        finally:
            text_page.close()

    @pdfium_call
    def glyph_boxes(self, index: int, start: int, end: int) -> list[QRectF]:
        """Return the tight boxes of characters ``start:end`` of page ``index`` (for tests)."""
        page = self._pdf[index]
        text_page = page.get_textpage()
        try:
            height = page.get_size()[1]
            out = []
            for i in range(start, end):
                left, bottom, right, top = text_page.get_charbox(i)
                if right > left and top > bottom:
                    out.append(QRectF(left, height - top, right - left, top - bottom))
            return out
        finally:
            text_page.close()

    @pdfium_call
    def close(self) -> None:
        """Release the file."""
        self._pdf.close()

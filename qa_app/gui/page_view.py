"""The PDF page view: the cited page drawn with the answer's words marked; pages and zoom."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from qa_app.gui.pdf_page import Match, PdfPages
from qa_app.gui.plain import plain_label
from qa_app.gui.tasks import TaskContext, TaskRunner

ZOOMS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)  # pixels per point (1.0: 72 dpi)
FIT_MARGIN = 24  # pixels left beside the page when it is fitted to the width
PAGE_MARK, PAGE_MARK_EDGE = "#ffd54f", "#c79a00"  # the answer marker on a page, and its edge


class PageView(QWidget):
    """Shows one page of a PDF; the cited page carries the answer's highlight."""

    failed = Signal(str)  # the PDF could not be opened or drawn, and why

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("PDF page")
        self._runner = TaskRunner(self, max_threads=1)
        self._seq = 0  # bumped by every request; older results are dropped
        self._pages: PdfPages | None = None  # touched only by work on self._runner
        self._pages_path: str | None = None
        self._count = 0
        self.loading = False
        self.shown_index = 0
        self.zoom_fitted = True  # a new document is fitted to the width until zoomed by hand
        self._cited = -1  # 0-based index of the cited page
        self._match: Match | None = None
        self._mark_pixels: list[QRectF] = []
        self.index = 0
        self.zoom = 1.0
        self.previous = self._button("◀", "Previous page", "Previous page (Page Up)")
        self.next = self._button("▶", "Next page", "Next page (Page Down)")
        self.page_spin = QSpinBox()
        self.page_spin.setAccessibleName("Page number")
        self.page_spin.setToolTip("Go to a page")
        self.page_spin.setMinimum(1)
        self.page_count = plain_label(name="Page count")
        self.page_count.setWordWrap(False)
        self.zoom_out = self._button("−", "Zoom out", "Zoom out (Ctrl+-)")
        self.zoom_in = self._button("+", "Zoom in", "Zoom in (Ctrl++)")
        self.fit = self._button("Fit", "Fit the page to the width", "Fit the page to the width")
        self.zoom_label = plain_label(name="Zoom")
        self.zoom_label.setWordWrap(False)
        self.image = QLabel()
        self.image.setAccessibleName("Page image")
        self.image.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.image)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setAccessibleName("Page")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for widget in (self.previous, self.page_spin, self.page_count, self.next):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.zoom_out, self.zoom_label, self.zoom_in, self.fit):
            bar.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.scroll_area, 1)
        self.previous.clicked.connect(lambda: self.go_to(self.index - 1))
        self.next.clicked.connect(lambda: self.go_to(self.index + 1))
        self.page_spin.valueChanged.connect(lambda n: self.go_to(n - 1))
        self.zoom_in.clicked.connect(lambda: self.set_zoom(self._step(+1)))
        self.zoom_out.clicked.connect(lambda: self.set_zoom(self._step(-1)))
        self.fit.clicked.connect(lambda: self.fit_width())

    @staticmethod
    def _button(text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        return button

    # -- showing ----------------------------------------------------------------------------
    # Every pdfium call runs on the view's own runner, one at a time and in order (pdfium must
    # never be entered by two threads at once); results come back on the UI thread.

    def show_citation(
        self, path: str, page: int, words: str | None, sentence: str = "", offset: int = 0
    ) -> None:
        """Open ``path`` at ``page`` (1-based) with ``words`` marked where the citation has them.

        ``offset`` is where the words start inside ``sentence``. Drawn in the background;
        ``failed`` says why when the file cannot be shown (the viewer falls back to the text).
        """
        fit = self.zoom_fitted or self._pages_path != path
        viewport = self.scroll_area.viewport().width()
        self._pages_path = path
        self._seq += 1
        self.loading = True

        def work(_ctx: TaskContext) -> tuple[int, int, Match | None, float]:
            if self._pages is None or self._pages.path != path:
                if self._pages is not None:
                    self._pages.close()
                self._pages = None
                self._pages = PdfPages(path)
            pages = self._pages
            cited = max(0, min(page - 1, len(pages) - 1))
            match = pages.find(cited, words, sentence, offset=offset) if words else None
            zoom = self.zoom
            if fit and viewport > 100:
                zoom = _fitted(pages.size(cited)[0], viewport)
            return len(pages), cited, match, zoom

        def opened(value: tuple[int, int, Match | None, float]) -> None:
            count, self._cited, self._match, self.zoom = value
            self.zoom_fitted = fit
            self._count = count
            self.page_spin.blockSignals(True)
            self.page_spin.setMaximum(count)
            self.page_spin.blockSignals(False)
            self.page_count.setText(f"of {count}")
            self.go_to(self._cited)

        self._run(work, opened)

    def close_document(self) -> None:
        """Forget the open PDF (closed in the background, after any drawing still queued)."""
        self._seq += 1
        self._pages_path, self._match, self._cited, self._count = None, None, -1, 0
        self._mark_pixels = []
        self.image.clear()
        self.loading = False
        if not self._runner.closed:
            self._runner.submit(lambda _ctx: self._close_pages(), name="Closing a PDF", writer=True)

    def _close_pages(self) -> None:
        if self._pages is not None:
            self._pages.close()
            self._pages = None

    def shutdown(self) -> None:
        """Stop drawing and close the PDF (the window is closing)."""
        self._seq += 1
        self._runner.shutdown()
        self._close_pages()

    def go_to(self, index: int) -> None:
        """Show page ``index`` (0-based; out of range is clamped)."""
        if not self._count:
            return
        self.index = max(0, min(index, self._count - 1))
        self.page_spin.blockSignals(True)
        self.page_spin.setValue(self.index + 1)
        self.page_spin.blockSignals(False)
        self.previous.setEnabled(self.index > 0)
        self.next.setEnabled(self.index < self._count - 1)
        self._render()

    def set_zoom(self, zoom: float) -> None:
        """Draw pages at ``zoom`` pixels per point."""
        self.zoom = max(ZOOMS[0], min(zoom, ZOOMS[-1]))
        self.zoom_fitted = False
        self._render()

    def fit_width(self) -> None:
        """Zoom so the page fills the view's width."""
        if not self._count:
            return
        index, viewport = self.index, self.scroll_area.viewport().width()
        self.zoom_fitted = True
        self._seq += 1
        self.loading = True

        def work(_ctx: TaskContext) -> float:
            assert self._pages is not None
            return _fitted(self._pages.size(index)[0], viewport)

        def fitted(zoom: float) -> None:
            self.zoom = zoom
            self._render()

        self._run(work, fitted)

    def _step(self, direction: int) -> float:
        if direction > 0:
            return next((z for z in ZOOMS if z > self.zoom + 1e-6), ZOOMS[-1])
        return next((z for z in reversed(ZOOMS) if z < self.zoom - 1e-6), ZOOMS[0])

    def _render(self) -> None:
        if not self._count:
            return
        ratio = self.devicePixelRatioF()
        index, scale = self.index, self.zoom * ratio
        marks = self._match.page_boxes if index == self._cited and self._match is not None else ()
        self._seq += 1
        self.loading = True

        def work(_ctx: TaskContext) -> tuple[QImage, list[QRectF]]:
            assert self._pages is not None
            image, pixels = self._pages.render(index, scale, marks)
            _mark(image, pixels)
            return image, pixels

        def drawn(value: tuple[QImage, list[QRectF]]) -> None:
            image, self._mark_pixels = value
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(ratio)
            self.image.setPixmap(pixmap)
            self.shown_index = index
            self.zoom_label.setText(f"{round(self.zoom * 100)}%")
            self.image.adjustSize()
            self.loading = False
            if self._mark_pixels:
                centre = self._mark_pixels[0].center() / ratio
                self.scroll_area.ensureVisible(
                    int(centre.x()), int(centre.y()), 50, self.scroll_area.viewport().height() // 3
                )

        self._run(work, drawn)

    def _run(self, work: Callable[[TaskContext], Any], then: Callable[[Any], None]) -> None:
        """Run ``work`` after what is queued; ``then`` only when nothing newer was asked since."""
        if self._runner.closed:
            return
        seq = self._seq

        def done(value: Any) -> None:
            if seq == self._seq:
                then(value)

        def failed(exc: BaseException) -> None:
            if seq == self._seq:
                self.loading = False
                self.failed.emit(f"{self._pages_path}: {exc}")

        self._runner.submit(
            work, name="Drawing a PDF page", writer=True, on_result=done, on_error=failed
        )

    def mark_pixels(self) -> list[QRectF]:
        """Return where the marks are on the shown image, in its pixels."""
        return list(self._mark_pixels)

    # -- reading back (tests, accessibility) ------------------------------------------------

    def shown_page(self) -> int:
        """Return the page drawn on screen now, 1-based (0 when none)."""
        return self.shown_index + 1 if self._count and not self.loading else 0

    def highlight_boxes(self) -> list[QRectF]:
        """Return the marked rectangles on the cited page, in points (top-left origin)."""
        return list(self._match.boxes) if self._match is not None else []

    def match(self) -> Match | None:
        """Return where the cited words were found on their page."""
        return self._match

    def document(self) -> PdfPages | None:
        """Return the open PDF (for tests: use it only while nothing is being drawn)."""
        return self._pages


def _fitted(page_width: float, viewport: int) -> float:
    """Return the zoom at which a page ``page_width`` points wide fills ``viewport`` pixels."""
    available = max(viewport - FIT_MARGIN, 100)
    return max(ZOOMS[0], min(available / page_width, ZOOMS[-1]))


def _mark(image: QImage, rects: list[QRectF]) -> None:
    """Draw the answer marker over ``rects`` of a rendered page (any thread: QImage only)."""
    if not rects:
        return
    painter = QPainter(image)
    # Paper is light in either theme: the light marker, multiplied so the print stays black.
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
    painter.setPen(QColor(PAGE_MARK_EDGE))
    painter.setBrush(QColor(PAGE_MARK))
    for rect in rects:
        painter.drawRect(rect)
    painter.end()

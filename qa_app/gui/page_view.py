"""The PDF page view: the cited page as an image with the answer's words marked on it; page
navigation and zoom. Pages are drawn on the UI thread, one page at a time (tens of milliseconds)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
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

ZOOMS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)  # pixels per point (1.0: 72 dpi)
FIT_MARGIN = 24  # pixels left beside the page when it is fitted to the width
PAGE_MARK, PAGE_MARK_EDGE = "#ffd54f", "#c79a00"  # the answer marker on a page, and its edge


class PageView(QWidget):
    """Shows one page of a PDF; the cited page carries the answer's highlight."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("PDF page")
        self._pages: PdfPages | None = None
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
        self.fit.clicked.connect(self.fit_width)

    @staticmethod
    def _button(text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        return button

    # -- showing ----------------------------------------------------------------------------

    def show_citation(
        self, path: str, page: int, words: str | None, sentence: str = "", offset: int = 0
    ) -> None:
        """Open ``path`` at ``page`` (1-based) with ``words`` marked where the citation has them.

        ``offset`` is where the words start inside ``sentence``. Raises what pypdfium2 raises
        for a file it cannot open (the viewer falls back to the text).
        """
        if self._pages is None or self._pages.path != path:
            self.close_document()
            self._pages = PdfPages(path)
        pages = self._pages
        self._cited = max(0, min(page - 1, len(pages) - 1))
        self._match = pages.find(self._cited, words, sentence, offset=offset) if words else None
        self.page_spin.blockSignals(True)
        self.page_spin.setMaximum(len(pages))
        self.page_spin.blockSignals(False)
        self.page_count.setText(f"of {len(pages)}")
        if self.zoom == 1.0 and self.scroll_area.viewport().width() > 100:
            self.fit_width(render=False)
        self.go_to(self._cited)

    def close_document(self) -> None:
        """Forget the open PDF."""
        if self._pages is not None:
            self._pages.close()
        self._pages, self._match, self._cited = None, None, -1
        self.image.clear()

    def go_to(self, index: int) -> None:
        """Show page ``index`` (0-based; out of range is clamped)."""
        if self._pages is None:
            return
        self.index = max(0, min(index, len(self._pages) - 1))
        self.page_spin.blockSignals(True)
        self.page_spin.setValue(self.index + 1)
        self.page_spin.blockSignals(False)
        self.previous.setEnabled(self.index > 0)
        self.next.setEnabled(self.index < len(self._pages) - 1)
        self._render()

    def set_zoom(self, zoom: float) -> None:
        """Draw pages at ``zoom`` pixels per point."""
        self.zoom = max(ZOOMS[0], min(zoom, ZOOMS[-1]))
        self._render()

    def fit_width(self, *, render: bool = True) -> None:
        """Zoom so the page fills the view's width."""
        if self._pages is None:
            return
        width = self._pages.size(self.index if self._cited < 0 else self._cited)[0]
        available = max(self.scroll_area.viewport().width() - FIT_MARGIN, 100)
        self.zoom = max(ZOOMS[0], min(available / width, ZOOMS[-1]))
        if render:
            self._render()

    def _step(self, direction: int) -> float:
        if direction > 0:
            return next((z for z in ZOOMS if z > self.zoom + 1e-6), ZOOMS[-1])
        return next((z for z in reversed(ZOOMS) if z < self.zoom - 1e-6), ZOOMS[0])

    def _render(self) -> None:
        if self._pages is None:
            return
        ratio = self.devicePixelRatioF()
        cited = self.index == self._cited and self._match is not None
        marks = self._match.page_boxes if cited and self._match is not None else ()
        image, self._mark_pixels = self._pages.render(self.index, self.zoom * ratio, marks)
        self._mark(image, self._mark_pixels)
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        self.image.setPixmap(pixmap)
        self.zoom_label.setText(f"{round(self.zoom * 100)}%")
        self.image.adjustSize()
        if self._mark_pixels:
            centre = self._mark_pixels[0].center() / ratio
            self.scroll_area.ensureVisible(
                int(centre.x()), int(centre.y()), 50, self.scroll_area.viewport().height() // 3
            )

    @staticmethod
    def _mark(image: QImage, rects: list[QRectF]) -> None:
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

    def mark_pixels(self) -> list[QRectF]:
        """Return where the marks are on the shown image, in its pixels."""
        return list(self._mark_pixels)

    # -- reading back (tests, accessibility) ------------------------------------------------

    def shown_page(self) -> int:
        """Return the page shown, 1-based (0 when none)."""
        return self.index + 1 if self._pages is not None else 0

    def highlight_boxes(self) -> list[QRectF]:
        """Return the marked rectangles on the cited page, in points (top-left origin)."""
        return list(self._match.boxes) if self._match is not None else []

    def match(self) -> Match | None:
        """Return where the cited words were found on their page."""
        return self._match

    def document(self) -> PdfPages | None:
        """Return the open PDF."""
        return self._pages

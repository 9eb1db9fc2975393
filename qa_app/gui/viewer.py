"""The document viewer: a document's stored text, scrolled to a citation with its answer highlighted."""

from __future__ import annotations

import bisect
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPalette, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from qa_app.gui import pdf_page, theme
from qa_app.gui.find_bar import FindBar
from qa_app.gui.models import SourceRow, source_tip
from qa_app.gui.page_view import PageView
from qa_app.gui.plain import plain_label
from qa_app.records import source_name
from qa_app.render import OCR_LABEL, elide


def open_external(path: str) -> bool:
    """Hand ``path`` to the system's default application; return False when that fails."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def open_containing_folder(path: str) -> bool:
    """Show the folder that holds ``path`` in the file manager; return False when that fails."""
    return open_external(str(Path(path).parent))


class OffsetMap:
    """Converts Python string offsets to QTextDocument positions and back.

    Qt counts UTF-16 code units, so every character beyond U+FFFF takes two positions there.
    """

    def __init__(self, text: str) -> None:
        self._astral = (
            [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF] if not text.isascii() else []
        )
        self._qt = [i + n for n, i in enumerate(self._astral)]  # Qt position of each astral char

    def to_qt(self, offset: int) -> int:
        """Return the Qt position of Python offset ``offset``."""
        return offset + bisect.bisect_left(self._astral, offset)

    def from_qt(self, position: int) -> int:
        """Return the Python offset of Qt position ``position``."""
        return position - bisect.bisect_left(self._qt, position)


def displayable(text: str) -> str:
    """Return ``text`` as the viewer shows it: same length, "\\r\\n" kept as two positions."""
    # QTextDocument folds "\r\n" into one paragraph break, which would shift every later offset.
    return text.replace("\r\n", " \n")


def passage_lead(passage: str, limit: int = 120) -> str:
    """Return the first sentence of ``passage`` (at most ``limit`` characters): what to mark of a
    passage on a PDF page, where a whole passage would cross lines and columns."""
    head = " ".join(passage[: limit * 2].split())
    for end in (". ", "? ", "! "):
        cut = head.find(end)
        if 0 < cut < limit:
            return head[: cut + 1]
    return head[:limit].rsplit(" ", 1)[0] if len(head) > limit else head


class DocumentViewer(QWidget):
    """Shows one document as text and highlights a cited answer and its sentence."""

    open_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Document viewer")
        self.doc_id: int | None = None
        self.path: str | None = None
        self._map = OffsetMap("")
        self._row: SourceRow | None = None
        self._highlights: dict[str, tuple[int, int]] = {}
        self._marks: list[QTextEdit.ExtraSelection] = []  # a search hit's words
        self._text_ref: str | None = None

        self.title = plain_label("No document open", name="Document title")
        self.title.setObjectName("viewerTitle")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.location = plain_label(
            "Open a source or a library document to read it here.", name="Location in the document"
        )
        self.location.setObjectName("viewerLocation")
        self.location.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.open_button = QPushButton("Open &original")
        self.open_button.setAccessibleName("Open the original file")
        self.open_button.setToolTip("Open the file in its usual application (Ctrl+Shift+O)")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_original)
        self.mode_button = QPushButton("&Page view")
        self.mode_button.setCheckable(True)
        self.mode_button.setAccessibleName("Show the PDF page")
        self.mode_button.setToolTip("Switch between the PDF page and its text")
        self.mode_button.setVisible(False)
        self.mode_button.setChecked(True)  # PDFs open as pages until the user asks for text
        self.mode_button.toggled.connect(self._mode_changed)
        self.page_view = PageView()
        self.page_view.failed.connect(self._pages_failed)

        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Document text")
        self.text.setCenterOnScroll(True)
        self.text.setPlaceholderText("The cited document appears here.")
        self.text.setToolTip("The cited document; Ctrl+F finds in it")
        self.text.setTabChangesFocus(True)  # Tab moves on to the library, as everywhere else
        self._find_selection: QTextEdit.ExtraSelection | None = None
        self.find_bar = FindBar(self.text)
        self.find_bar.found.connect(self._show_find_match)

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.mode_button)
        header.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.location)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.text)
        self.stack.addWidget(self.page_view)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.find_bar)
        self.refresh_colours()

    # -- showing ----------------------------------------------------------------------------

    def show_source(self, row: SourceRow, text: str) -> None:
        """Show the document of ``row`` (its stored ``text``) scrolled to the cited passage."""
        if row.doc_id != self.doc_id or text is not self._text_ref:
            self.doc_id, self.path = row.doc_id, row.path
            self._text_ref = text
            self._map = OffsetMap(text)
            self.text.setPlainText(displayable(text))
        self._row = row
        name = source_name(row.path, row.attachment)
        self.title.setText(elide(row.title or name))
        self.title.setToolTip(source_tip(row.path, row.attachment, row.ocr))
        self.open_button.setEnabled(True)
        where = [name] if row.title and row.title != name else []  # which file, when not said
        where += [OCR_LABEL] if row.ocr else []
        where += [f"page {row.page}"] if row.page else []
        if row.kind == "document":
            where.append(f"{len(text):,} characters".replace(",", " "))
        elif row.kind == "match":
            end = row.passage_start + len(row.passage)
            found = len(row.marks)
            where.append(
                f"passage #{row.rank} at characters {row.passage_start}–{end}"
                + (f", {found} matching word{'s' if found != 1 else ''} marked" if found else "")
            )
        elif row.answer_start is not None:
            where.append(
                f"answer “{row.answer_text}” at characters {row.answer_start}–{row.answer_end}"
            )
        else:
            where.append(
                f"closest passage at characters {row.passage_start}–{row.passage_start + len(row.passage)}"
            )
        self.location.setText(elide(" · ".join(where)))
        self._apply_highlights()
        self._show_page_if_pdf(text)

    def clear(self) -> None:
        """Show nothing (the library changed)."""
        self.doc_id = self.path = self._row = self._text_ref = None
        self._highlights = {}
        self._marks = []
        self._find_selection = None
        self.text.clear()
        self.page_view.close_document()
        self.mode_button.setVisible(False)
        self.stack.setCurrentWidget(self.text)
        self.title.setText("No document open")
        self.location.setText("Open a source or a library document to read it here.")
        self.open_button.setEnabled(False)

    def recenter(self) -> None:
        """Scroll the highlighted answer (or passage) back into the middle of the view."""
        if self._row is not None:
            self._apply_highlights()

    def refresh_colours(self) -> None:
        """Re-apply highlights after the palette changed (light/dark)."""
        self._selection_in_answer_colour()
        if self._row is not None:
            self._apply_highlights(scroll=False)

    def _selection_in_answer_colour(self) -> None:
        # The selection is the answer span: draw it in the answer colour, not the system's blue.
        # Checked each time it is used: a style (re)polish can hand the widget a fresh palette.
        palette = self.text.palette()
        colours = {
            QPalette.ColorRole.Highlight: theme.answer_colour(),
            QPalette.ColorRole.HighlightedText: theme.answer_text_colour(),
        }
        groups = (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive)
        if all(palette.color(g, r) == c for g in groups for r, c in colours.items()):
            return
        for group in groups:
            for role, colour in colours.items():
                palette.setColor(group, role, colour)
        self.text.setPalette(palette)

    def _apply_highlights(self, *, scroll: bool = True) -> None:
        row = self._row
        assert row is not None
        self._selection_in_answer_colour()
        spans: dict[str, tuple[int, int]] = {}
        if row.sentence_start is not None and row.sentence_end is not None:
            spans["sentence"] = (row.sentence_start, row.sentence_end)
        else:
            spans["passage"] = (row.passage_start, row.passage_start + len(row.passage))
        if row.answer_start is not None and row.answer_end is not None:
            spans["answer"] = (row.answer_start, row.answer_end)
        if row.kind == "document":
            spans = {}
        self._highlights = spans
        colours = {
            "sentence": theme.sentence_colour(),
            "passage": theme.sentence_colour(),
            "answer": theme.answer_colour(),
        }
        selections = []
        for name in ("passage", "sentence", "answer"):  # answer last: drawn on top
            if name not in spans:
                continue
            selection = QTextEdit.ExtraSelection()
            selection.cursor = self._cursor(*spans[name])
            fmt = QTextCharFormat()
            fmt.setBackground(colours[name])
            fmt.setProperty(QTextFormat.Property.FullWidthSelection, False)
            if name == "answer":
                fmt.setFontWeight(700)
            selection.format = fmt
            selections.append(selection)
        self._marks = []
        for a, b in row.marks:  # a search hit's matched words, after the named spans
            selection = QTextEdit.ExtraSelection()
            selection.cursor = self._cursor(a, b)
            fmt = QTextCharFormat()
            fmt.setBackground(theme.answer_colour())
            fmt.setForeground(theme.answer_text_colour())
            selection.format = fmt
            self._marks.append(selection)
        self.text.setExtraSelections(selections + self._marks + self._find_extra())
        if not spans:  # a whole document: from its start
            self.text.setTextCursor(self._cursor(0, 0))
            if scroll:
                self.text.verticalScrollBar().setValue(0)
            return
        start, end = spans.get("answer") or (spans["passage"][0],) * 2
        self.text.setTextCursor(self._cursor(start, end))
        if scroll:
            self.text.centerCursor()

    # -- PDF pages --------------------------------------------------------------------------

    def is_paged(self) -> bool:
        """Return True when the shown document can be shown as pages (a PDF with a cited page)."""
        row = self._row
        return bool(
            row is not None
            and row.page
            and not row.attachment  # an attached PDF's pages are not a file to draw
            and row.path.lower().endswith(".pdf")
            and pdf_page.available()
        )

    def showing_page(self) -> bool:
        """Return True when the page view (not the text) is shown."""
        return self.stack.currentWidget() is self.page_view

    def _show_page_if_pdf(self, text: str) -> None:
        paged = self.is_paged()
        self.mode_button.setVisible(paged)
        if not paged or not self.mode_button.isChecked():
            self.stack.setCurrentWidget(self.text)
            return
        row = self._row
        assert row is not None and row.page is not None
        sentence, offset, words = "", 0, row.answer_text
        if row.sentence_start is not None and row.sentence_end is not None:
            sentence = text[row.sentence_start : row.sentence_end]
            offset = (row.answer_start or row.sentence_start) - row.sentence_start
        elif row.marks:  # a search hit: its first matched word, found by its passage
            sentence, (a, b) = row.passage, row.marks[0]
            words, offset = text[a:b], a - row.passage_start
        elif row.kind == "passage":  # a closest passage: the start of it, up to a sentence
            words, sentence = passage_lead(row.passage), row.passage
        self.page_view.show_citation(row.path, row.page, words, sentence, offset)
        self.stack.setCurrentWidget(self.page_view)

    def _pages_failed(self, reason: str) -> None:
        # Any PDF pdfium cannot draw: the text view still works.
        self.mode_button.setVisible(False)
        self.stack.setCurrentWidget(self.text)
        self.open_failed.emit(f"Could not show the pages of {reason}")

    def _mode_changed(self, pages: bool) -> None:
        if self._row is None or not self.is_paged():
            return
        if pages and self._text_ref is not None:
            self._show_page_if_pdf(self._text_ref)
        else:
            self.stack.setCurrentWidget(self.text)
            self._apply_highlights()

    # -- find -------------------------------------------------------------------------------

    def open_find(self) -> None:
        """Open the find bar (Ctrl+F); it searches the text, so the text view is shown."""
        if self.showing_page():
            self.mode_button.setChecked(False)
        self.find_bar.open_bar()

    def _find_extra(self) -> list[QTextEdit.ExtraSelection]:
        return [self._find_selection] if self._find_selection is not None else []

    def _show_find_match(self, cursor: QTextCursor) -> None:
        if cursor.isNull():
            self._find_selection = None
        else:
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setBackground(theme.find_colour())
            fmt.setForeground(theme.answer_text_colour())
            selection.format = fmt
            self._find_selection = selection
            caret = QTextCursor(cursor)
            caret.setPosition(cursor.selectionStart())
            self.text.setTextCursor(caret)
            self.text.centerCursor()
        answer_etc = self.text.extraSelections()[: len(self._highlights) + len(self._marks)]
        self.text.setExtraSelections(answer_etc + self._find_extra())

    def find_match(self) -> tuple[int, int] | None:
        """Return the current find match as Python offsets, or None."""
        if self._find_selection is None:
            return None
        c = self._find_selection.cursor
        return self._map.from_qt(c.selectionStart()), self._map.from_qt(c.selectionEnd())

    def _cursor(self, start: int, end: int) -> QTextCursor:
        cursor = QTextCursor(self.text.document())
        last = self.text.document().characterCount() - 1
        cursor.setPosition(min(self._map.to_qt(start), last))
        cursor.setPosition(min(self._map.to_qt(end), last), QTextCursor.MoveMode.KeepAnchor)
        return cursor

    # -- reading back (tests, accessibility) ------------------------------------------------

    def selection(self) -> tuple[int, int]:
        """Return the selected span as Python offsets into the document text."""
        cursor = self.text.textCursor()
        return self._map.from_qt(cursor.selectionStart()), self._map.from_qt(cursor.selectionEnd())

    def highlights(self) -> dict[str, tuple[int, int]]:
        """Return the highlighted spans by name ("answer", "sentence" or "passage"), Python offsets."""
        out: dict[str, tuple[int, int]] = {}
        names = [n for n in ("passage", "sentence", "answer") if n in self._highlights]
        shown = self.text.extraSelections()[: len(names)]
        for name, sel in zip(names, shown, strict=True):
            c = sel.cursor
            out[name] = (self._map.from_qt(c.selectionStart()), self._map.from_qt(c.selectionEnd()))
        return out

    def marks(self) -> list[tuple[int, int]]:
        """Return the marked words of a search hit, Python offsets."""
        return [
            (
                self._map.from_qt(m.cursor.selectionStart()),
                self._map.from_qt(m.cursor.selectionEnd()),
            )
            for m in self._marks
        ]

    def selected_text(self) -> str:
        """Return the selected text as the viewer shows it."""
        return self.text.textCursor().selectedText()

    def open_original(self) -> None:
        """Open the shown document's file in the system's default application."""
        if self.path and not open_external(self.path):
            self.open_failed.emit(f"Could not open {self.path}: no application is set up for it")

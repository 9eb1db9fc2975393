"""Find in the open document: a bar with the search text, next/previous and the match count."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QToolButton,
    QWidget,
)

from qa_app.gui.plain import plain_label

MAX_COUNTED = 10000  # matches counted for "3 of 120"; beyond this the count says "many"


class FindBar(QWidget):
    """Searches a QPlainTextEdit; ``found`` carries the cursor of the current match."""

    found = Signal(object)  # QTextCursor of the match (no match: a null cursor)
    closed = Signal()

    def __init__(self, text: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Find in the document")
        self._text = text
        self._at = -1  # document position of the current match's start
        self.field = QLineEdit()
        self.field.setAccessibleName("Find")
        self.field.setPlaceholderText("Find in the document")
        self.field.setClearButtonEnabled(True)
        self.field.setToolTip("Enter: next match · Shift+Enter: previous · Esc: close")
        self.previous = QToolButton()
        self.previous.setText("▲")
        self.previous.setAccessibleName("Previous match")
        self.previous.setToolTip("Previous match (Shift+F3)")
        self.next = QToolButton()
        self.next.setText("▼")
        self.next.setAccessibleName("Next match")
        self.next.setToolTip("Next match (F3)")
        self.count = plain_label(name="Matches")
        self.count.setWordWrap(False)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAccessibleName("Close find")
        self.close_button.setToolTip("Close (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.field, self.previous, self.next, self.count, self.close_button):
            layout.addWidget(widget, 1 if widget is self.field else 0)
        self.field.textChanged.connect(lambda _t: self._search(forward=True, restart=True))
        self.field.returnPressed.connect(self._return_pressed)
        self.next.clicked.connect(self.find_next)
        self.previous.clicked.connect(self.find_previous)
        self.close_button.clicked.connect(self.close_bar)
        self.setVisible(False)

    def open_bar(self) -> None:
        """Show the bar with the field focused (its text selected, ready to replace)."""
        self.setVisible(True)
        self.field.setFocus()
        self.field.selectAll()
        if self.field.text():
            self._search(forward=True, restart=True)

    def close_bar(self) -> None:
        """Hide the bar and give the focus back to the document."""
        self.setVisible(False)
        self.found.emit(QTextCursor())
        self.closed.emit()
        self._text.setFocus()

    def _return_pressed(self) -> None:
        shift = QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier
        self.find_previous() if shift else self.find_next()

    def find_next(self) -> None:
        """Go to the next match (wrapping round)."""
        self._search(forward=True)

    def find_previous(self) -> None:
        """Go to the previous match (wrapping round)."""
        self._search(forward=False)

    def _search(self, *, forward: bool, restart: bool = False) -> None:
        needle = self.field.text()
        doc = self._text.document()
        if not needle:
            self._at = -1
            self.count.setText("")
            self.found.emit(QTextCursor())
            return
        flags = QTextDocument.FindFlag(0) if forward else QTextDocument.FindFlag.FindBackward
        start = QTextCursor(doc)
        if restart:
            start.setPosition(
                self._at if self._at >= 0 else self._text.textCursor().selectionStart()
            )
        elif self._at >= 0:
            start.setPosition(self._at + (1 if forward else 0))
        match = doc.find(needle, start, flags)
        if match.isNull():  # wrap round
            edge = QTextCursor(doc)
            edge.movePosition(
                QTextCursor.MoveOperation.Start if forward else QTextCursor.MoveOperation.End
            )
            match = doc.find(needle, edge, flags)
        if match.isNull():
            self._at = -1
            self.count.setText("No matches")
            self.found.emit(QTextCursor())
            return
        self._at = match.selectionStart()
        self.count.setText(self._count_text(needle, self._at))
        self.found.emit(match)

    def _count_text(self, needle: str, at: int) -> str:
        doc = self._text.document()
        cursor, n, index = QTextCursor(doc), 0, 0
        while n < MAX_COUNTED:
            cursor = doc.find(needle, cursor)
            if cursor.isNull():
                break
            n += 1
            if cursor.selectionStart() == at:
                index = n
        return f"{index} of {n}" if n < MAX_COUNTED else f"{index} of many"

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
        else:
            super().keyPressEvent(event)

"""The question field, the answer card and the list of sources."""

from __future__ import annotations

import html
import os
from dataclasses import replace

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from qa_app.contracts import Scope
from qa_app.gui import theme
from qa_app.gui.answer_card import AnswerView
from qa_app.gui.models import (
    RowRole,
    SourceListModel,
    SourceRow,
    TitleRole,
    source_rows,
    untitled,
)
from qa_app.records import Result

ASK_PLACEHOLDER = "Ask a question about your documents and press Enter"
SEARCH_PLACEHOLDER = "Words to find in your documents (a name, a phrase) and press Enter"
_PAD = 6


class QuestionEdit(QLineEdit):
    """A one-line question box: Enter asks, Up/Down walk through earlier questions."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history: list[str] = []
        self._pos = 0
        self._draft = ""
        self.pass_through: list[QKeySequence] = []  # the window's shortcuts: not ours to take
        self.returnPressed.connect(self._submit)

    def history(self) -> list[str]:
        """Return earlier questions, oldest first."""
        return list(self._history)

    def set_history(self, questions: list[str]) -> None:
        """Replace the history (e.g. with the questions kept from earlier runs)."""
        self._history = [q for q in questions if q.strip()]
        self._pos = len(self._history)

    def remember(self, question: str) -> None:
        """Put ``question`` at the end of the history (once)."""
        self._history = [q for q in self._history if q != question] + [question]
        self._pos = len(self._history)

    def _submit(self) -> None:
        question = self.text().strip()
        if question:
            self.remember(question)
            self.submitted.emit(question)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            pressed = QKeySequence(event.keyCombination())
            if any(
                pressed.matches(k) == QKeySequence.SequenceMatch.ExactMatch
                for k in self.pass_through
            ):
                event.ignore()  # not accepted: the window's shortcut fires
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key == Qt.Key.Key_Escape and not event.modifiers():
            self.clear()  # Esc here clears the question; it never cancels anything else
            event.accept()
        elif key == Qt.Key.Key_Up and self._pos > 0:
            if self._pos == len(self._history):
                self._draft = self.text()
            self._pos -= 1
            self.setText(self._history[self._pos])
        elif key == Qt.Key.Key_Down and self._pos < len(self._history):
            self._pos += 1
            self.setText(
                self._history[self._pos] if self._pos < len(self._history) else self._draft
            )
        else:
            super().keyPressEvent(event)


class SourceDelegate(QStyledItemDelegate):
    """Draws a source as its title and a passage snippet with the answer highlighted."""

    def _document(self, index: QModelIndex, width: int) -> QTextDocument:
        row: SourceRow = index.data(RowRole)
        tag = {
            "answer": "",
            "possible": " · possible answer",
            "alternative": " · other answer",
            "passage": " · closest passage",
            "match": f" · #{row.rank}",
        }.get(row.kind, "")
        body = "".join(
            theme.html_mark(html.escape(text)) if marked else html.escape(text)
            for text, marked in row.segments()
        )
        doc = QTextDocument()
        doc.setDefaultFont(QApplication.font())
        doc.setHtml(f"<b>{html.escape(index.data(TitleRole))}</b><small>{tag}</small><br>{body}")
        doc.setTextWidth(max(width, 80))
        return doc

    def paint(self, painter, option, index) -> None:  # noqa: ANN001
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        doc = self._document(index, opt.rect.width() - 2 * _PAD)
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text, opt.palette.color(role))
        painter.save()
        painter.translate(opt.rect.topLeft() + QPoint(_PAD, _PAD))
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:  # noqa: ANN001, N802
        view = self.parent()
        width = view.viewport().width() if isinstance(view, QListView) else option.rect.width()
        doc = self._document(index, width - 2 * _PAD)
        return QSize(width, int(doc.size().height()) + 2 * _PAD)


class AskPanel(QWidget):
    """Question, answer and sources, stacked."""

    ask_requested = Signal(str)  # a question, or in search mode the words to find
    source_activated = Signal(object)  # SourceRow
    mode_changed = Signal(bool)  # True: search mode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = QuestionEdit()
        self.question.setObjectName("question")
        self.question.setAccessibleName("Question")
        self.question.setPlaceholderText(ASK_PLACEHOLDER)
        self.question.setClearButtonEnabled(True)
        self.question.setToolTip("Type a question and press Enter; Up and Down recall earlier ones")
        self.ask_button = QPushButton("&Ask")
        self.ask_button.setAccessibleName("Ask")
        self.ask_button.setDefault(True)
        self.ask_button.setToolTip("Answer the question from the open library (Enter)")
        self.mode = QComboBox()
        self.mode.addItems(["Ask", "Search"])
        self.mode.setAccessibleName("Ask or search")
        self.mode.setToolTip(
            "Ask: an answer with its sources. Search: ranked passages with the words marked, "
            "like qa-app search (Ctrl+K switches)"
        )
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.scope = QComboBox()
        self.scope.setAccessibleName("Look in")
        self.scope.setToolTip("Ask or search all documents, one added folder, or one format")
        self.scope.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.scope.setMinimumContentsLength(6)
        self.set_scopes([], [])
        self.titles: dict[int, str] = {}  # document id -> title, for documents with no headline
        self.answer = AnswerView()
        self.sources_label = QLabel("&Sources")
        self.sources_label.setObjectName("sectionLabel")
        self.sources = QListView()
        self.sources.setAccessibleName("Sources")
        self.sources.setToolTip("Where the answer was found; Enter opens one in the viewer")
        self.sources.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.sources_label.setBuddy(self.sources)
        self.sources.setWordWrap(True)
        self.sources.setResizeMode(QListView.ResizeMode.Adjust)
        self.sources.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.sources.setAlternatingRowColors(True)
        self.model = SourceListModel(self)
        self.sources.setModel(self.model)
        self.sources.setItemDelegate(SourceDelegate(self.sources))

        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        choices = QHBoxLayout()
        look_in = QLabel("&in:")
        look_in.setBuddy(self.scope)
        choices.addWidget(self.mode)
        choices.addWidget(look_in)
        choices.addWidget(self.scope, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(choices)
        layout.addWidget(self.answer)
        layout.addWidget(self.sources_label)
        layout.addWidget(self.sources, 1)

        self.question.submitted.connect(self.ask_requested)
        self.ask_button.clicked.connect(self.question._submit)
        self.sources.activated.connect(self._activate)
        self.sources.clicked.connect(self._activate)
        self.sources.selectionModel().currentChanged.connect(lambda cur, _prev: self._activate(cur))
        self.answer.alternative_activated.connect(self.select_answer)

    # -- search mode and scope ----------------------------------------------------------------

    def searching(self) -> bool:
        """Return True in search mode (Enter lists passages instead of answering)."""
        return self.mode.currentIndex() == 1

    def set_searching(self, on: bool) -> None:
        """Switch between asking and searching."""
        self.mode.setCurrentIndex(1 if on else 0)

    def _mode_changed(self, _index: int) -> None:
        on = self.searching()
        self.question.setPlaceholderText(SEARCH_PLACEHOLDER if on else ASK_PLACEHOLDER)
        self.ask_button.setText("Se&arch" if on else "&Ask")  # Alt+A either way
        self.ask_button.setToolTip(
            "List the passages that hold these words (Enter)"
            if on
            else "Answer the question from the open library (Enter)"
        )
        self.answer.setVisible(not on)
        self.clear_sources()
        self.mode_changed.emit(on)

    def set_scopes(self, folders: list[str], formats: list[str]) -> None:
        """Offer all documents, each added folder and each format found in the library."""
        current = self.current_scope()
        self.scope.blockSignals(True)
        self.scope.clear()
        self.scope.addItem("All documents", Scope())
        for folder in folders:
            name = os.path.basename(folder.rstrip(os.sep)) or folder
            self.scope.addItem(f"Folder {name}", Scope(folder=folder))
            self.scope.setItemData(self.scope.count() - 1, folder, Qt.ItemDataRole.ToolTipRole)
        for fmt in formats:
            self.scope.addItem(f"{fmt.upper()} files", Scope(formats=(fmt,)))
        found = self.scope.findData(current)
        self.scope.setCurrentIndex(max(found, 0))
        self.scope.blockSignals(False)

    def current_scope(self) -> Scope:
        """Return where to look (an empty Scope: everywhere)."""
        scope = self.scope.currentData() if self.scope.count() else None
        return scope if isinstance(scope, Scope) else Scope()

    def show_hits(self, query: str, rows: list[SourceRow]) -> None:
        """List a search's ranked passages; the first opens in the viewer."""
        rows = self._titled(rows)
        self.model.set_rows(rows)
        self.sources_label.setText(f"&Passages ({len(rows)})" if rows else "No passages found")
        if rows:
            self.sources.setCurrentIndex(self.model.index(0))

    def show_result(self, result: Result) -> None:
        """Show a result and list its sources; the first source opens in the viewer."""
        self.answer.show_result(result)
        self.model.set_rows(self._titled(source_rows(result)))
        self.sources_label.setText(
            f"&Sources ({self.model.rowCount()})"
            if result.answer is not None or result.possible is not None
            else f"Closest &passages ({self.model.rowCount()})"
        )
        if self.model.rowCount():
            self.sources.setCurrentIndex(self.model.index(0))

    def _titled(self, rows: list[SourceRow]) -> list[SourceRow]:
        return [
            replace(r, title=self.titles[r.doc_id])
            if r.doc_id in self.titles and untitled(r.title, r.path)
            else r
            for r in rows
        ]

    def show_waiting(self, question: str, message: str) -> None:
        """Show that ``question`` is being answered; the previous answer's sources go away."""
        self.answer.show_waiting(question, message)
        self.clear_sources()

    def clear_sources(self) -> None:
        """Empty the sources list."""
        self.model.set_rows([])
        self.sources_label.setText("&Sources")

    def select_answer(self, text: str) -> None:
        """Select the first source that gives the answer ``text``."""
        for i, row in enumerate(self.model.rows()):
            if row.answer_text == text:
                self.sources.setCurrentIndex(self.model.index(i))
                return

    def _activate(self, index: QModelIndex) -> None:
        row: SourceRow | None = index.data(RowRole) if index.isValid() else None
        if row is not None:
            self.source_activated.emit(row)

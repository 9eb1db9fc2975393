"""The answer card: answer, confidence and what it means, sentence, other answers, or "not found"."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from qa_app.answers import split_sentence
from qa_app.gui import theme
from qa_app.gui.export import NOT_FOUND, score_meaning
from qa_app.gui.models import (
    OCR_LABEL,
    OCR_TIP,
    confidence_word,
    distinct_alternatives,
    document_label,
    score_text,
)
from qa_app.gui.plain import elide, plain_label, tooltip
from qa_app.records import Answer, Result

EMPTY_HEADING = "Ask a question about your documents."
ALTERNATIVE_CHARS = 80  # a button's text is cut here; the tooltip has it all


def _mnemonic_safe(text: str) -> str:
    return text.replace("&", "&&")  # a button would read "&x" as a shortcut marker


class AnswerView(QFrame):
    """The answer in large type, its confidence, support and alternatives, or "not found"."""

    alternative_activated = Signal(str)
    alternatives_changed = Signal()  # new buttons: the window puts them in the Tab order

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answerCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Answer")
        self.heading = plain_label(EMPTY_HEADING, name="Question")
        self.heading.setObjectName("answerHeading")
        self.answer = plain_label(name="Answer text")
        self.answer.setObjectName("answerText")
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.answer.font()
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setBold(True)
        self.answer.setFont(font)
        self.meta = plain_label(name="Confidence")
        self.meta.setObjectName("answerMeta")
        self.meaning = plain_label(name="What the score means")
        self.meaning.setObjectName("answerMeaning")
        # The one rich-text label: every piece of document text in it is html-escaped.
        self.sentence = QLabel("")
        self.sentence.setObjectName("answerSentence")
        self.sentence.setAccessibleName("Supporting sentence")
        self.sentence.setWordWrap(True)
        self.sentence.setTextFormat(Qt.TextFormat.RichText)
        self.sentence.setOpenExternalLinks(False)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.alternatives_label = plain_label("Other possible answers:", name="")
        self.alternatives_label.setObjectName("answerMeta")
        self.alternatives = QWidget()
        self.alternatives.setAccessibleName("Other possible answers")
        self._alt_layout = QVBoxLayout(self.alternatives)
        self._alt_layout.setContentsMargins(0, 0, 0, 0)
        self._alt_layout.setSpacing(2)
        self.alternative_buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        for widget in (
            self.heading,
            self.answer,
            self.meta,
            self.meaning,
            self.sentence,
            self.alternatives_label,
            self.alternatives,
        ):
            # Long unbroken text must not widen the window: the labels take the width they get.
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            layout.addWidget(widget)
        self.clear()

    # -- states -----------------------------------------------------------------------------

    def clear(self) -> None:
        """Show the empty state."""
        self.state = "empty"
        self._set_heading(EMPTY_HEADING)
        for label in (self.answer, self.meta, self.sentence):
            label.setText("")
            label.setVisible(False)
        self.meaning.setVisible(False)
        self._set_alternatives([])

    def show_waiting(self, question: str, message: str) -> None:
        """Show that ``question`` is being (or will be) answered."""
        self.clear()
        self.state = "waiting"
        self._set_heading(f"{message}\n“{question}”")

    def show_error(self, question: str, message: str) -> None:
        """Show that answering failed, and why."""
        self.clear()
        self.state = "error"
        self._set_heading(f"Could not answer “{question}”")
        self.meta.setText(message)
        self.meta.setVisible(True)

    def show_result(self, result: Result) -> None:
        """Show ``result``: the answer with confidence and support, or the not-found state."""
        self.clear()
        self._set_heading(f"“{result.question}”")
        self.answer.setVisible(True)
        self.meta.setVisible(True)
        if result.answer is None:
            self.state = "not-found"
            self.answer.setText(NOT_FOUND)
            self.meta.setText(not_found_text(result))
            return
        self.state = "answer"
        answer = result.answer
        n = answer.documents
        self.answer.setText(answer.text)
        self.answer.setToolTip(tooltip(answer.text))
        self.meta.setText(
            f"{score_text(result, answer.score)} · found in {n} document{'' if n == 1 else 's'}"
        )
        self.meaning.setText(score_meaning(result, answer.score))
        self.meaning.setVisible(True)
        if answer.citations:
            self.sentence.setText(sentence_html(result))
            self.sentence.setToolTip(OCR_TIP if answer.citations[0].ocr else "")
            self.sentence.setVisible(True)
        self._set_alternatives(distinct_alternatives(result), calibrated=result.calibrated)

    # -- pieces -----------------------------------------------------------------------------

    def _set_heading(self, text: str) -> None:
        self.heading.setText(elide(text))
        self.heading.setToolTip(tooltip(text) if len(text) > len(elide(text)) else "")

    def _set_alternatives(self, alternatives: list[Answer], *, calibrated: bool = False) -> None:
        for button in self.alternative_buttons:
            self._alt_layout.removeWidget(button)
            button.deleteLater()
        self.alternative_buttons = []
        for alt in alternatives:
            word = f"{confidence_word(alt.score).lower()}, " if calibrated else ""
            label = f"{elide(alt.text, ALTERNATIVE_CHARS)} ({word}{alt.score:.2f})"
            button = QPushButton(_mnemonic_safe(label))
            button.setObjectName("alternativeButton")
            button.setFlat(True)
            button.setAccessibleName(f"Other possible answer: {alt.text}")
            button.setToolTip(tooltip(f"Show where “{alt.text}” was found"))
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _c=False, t=alt.text: self.alternative_activated.emit(t))
            self._alt_layout.addWidget(button)
            self.alternative_buttons.append(button)
        self.alternatives_label.setVisible(bool(alternatives))
        self.alternatives.setVisible(bool(alternatives))
        if alternatives:
            self.alternatives_changed.emit()


def sentence_html(result: Result) -> str:
    """Return the first citation's sentence, answer marked, and its source; every text escaped."""
    assert result.answer is not None
    c = result.answer.citations[0]
    head, answer, tail = split_sentence(c)  # the core's one way to find the answer in it
    body = html.escape(head) + theme.html_mark(html.escape(answer)) + html.escape(tail)
    where = html.escape(document_label(c.title, c.path, c.attachment))
    where += (f", page {c.page}" if c.page else "") + (f" · {OCR_LABEL}" if c.ocr else "")
    return f"{body}<br><small>— {where}</small>"


def _score(score: float) -> str:
    return f"{score:.2f}" if score >= 0.01 else "below 0.01"


def not_found_text(result: Result) -> str:
    """Return why nothing was answered, with the closest candidate and its score when there is one."""
    top = result.top
    lines = [f"No answer reached the threshold ({result.threshold:.2f})."]
    if top is not None:
        said = score_meaning(result, top.score) if result.calibrated else ""
        meaning = f"; {said[:1].lower()}{said[1:]}" if said else ""
        lines.append(
            f"Closest candidate: “{elide(top.text, ALTERNATIVE_CHARS)}” "
            f"({'confidence' if result.calibrated else 'score'} {_score(top.score)}), "
            f"not shown as the answer{meaning}" + ("" if meaning else ".")
        )
    lines.append(
        "The closest passages are listed below."
        if result.passages
        else "The library has no passages to search yet."
    )
    return " ".join(lines)

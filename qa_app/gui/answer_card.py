"""The answer card: answer, confidence and what it means, sentence, other answers, or "not found"."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from qa_app.answers import disagreeing
from qa_app.gui import theme
from qa_app.gui.models import OCR_TIP, distinct_alternatives
from qa_app.gui.plain import plain_label, tooltip
from qa_app.records import Answer, Result
from qa_app.render import (
    BADGE_WORDS,
    NOT_FOUND,
    alternative_text,
    citation_label,
    disagree_text,
    elide,
    evidence_words,
    not_found_text,
    score_meaning,
    score_text,
    split_sentence,
)

EMPTY_HEADING = "Ask a question about your documents."
# The verdict's badge: style.qss gives each object name its frame (the words: qa_app.render).
BADGE_NAMES = {
    "answer": "verdictAnswer",
    "possible": "verdictPossible",
    "not_found": "verdictNotFound",
}


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
        self.badge = plain_label(name="Verdict")
        self.badge.setObjectName("verdictAnswer")
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
        self.alternatives_label = plain_label("Other candidates:", name="")
        self.alternatives_label.setObjectName("answerMeta")
        self.alternatives = QWidget()
        self.alternatives.setAccessibleName("Other candidates")
        self._alt_layout = QVBoxLayout(self.alternatives)
        self._alt_layout.setContentsMargins(0, 0, 0, 0)
        self._alt_layout.setSpacing(2)
        self.alternative_buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        self.disagree = plain_label(name="Sources disagree")
        self.disagree.setObjectName("sourcesDisagree")
        for widget in (
            self.heading,
            self.badge,
            self.answer,
            self.meta,
            self.meaning,
            self.sentence,
            self.disagree,
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
        for label in (self.badge, self.answer, self.meta, self.sentence, self.disagree):
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
        """Show ``result``: an answer, a possible answer (to check against its source) or the
        not-found state, each with its badge, confidence in words and what it means."""
        self.clear()
        self._set_heading(f"“{result.question}”")
        kind = result.verdict.kind
        if (result.answer if kind == "answer" else result.possible) is None:
            kind = "not_found"  # a record whose verdict names nothing shown says "not found"
        self.badge.setText(BADGE_WORDS[kind])
        self._restyle(self.badge, BADGE_NAMES[kind])
        self.badge.setVisible(True)
        self.answer.setVisible(True)
        self.meta.setVisible(True)
        shown = result.answer if kind == "answer" else result.possible
        if shown is None:
            self.state = "not-found"
            self.answer.setText(NOT_FOUND)
            self._restyle(self.answer, "answerText")
            self.meta.setText(not_found_text(result))
            return
        self.state = "answer" if kind == "answer" else "possible"
        self.answer.setText(shown.text)
        self._restyle(self.answer, "answerText" if kind == "answer" else "possibleText")
        self.answer.setToolTip(tooltip(shown.text))
        self.meta.setText(f"{score_text(result, shown.score)} · {evidence_words(shown)}")
        self.meaning.setText(score_meaning(result))
        self.meaning.setVisible(True)
        if shown.citations:
            self.sentence.setText(sentence_html(result))
            self.sentence.setToolTip(OCR_TIP if shown.citations[0].ocr else "")
            self.sentence.setVisible(True)
        differ = disagreeing(result)
        if differ:
            self.disagree.setText(disagree_text(differ))
            self.disagree.setVisible(True)
        self._set_alternatives(distinct_alternatives(result), calibrated=result.calibrated)

    @staticmethod
    def _restyle(label: QLabel, name: str) -> None:
        if label.objectName() != name:
            label.setObjectName(name)
            label.style().unpolish(label)
            label.style().polish(label)

    # -- pieces -----------------------------------------------------------------------------

    def _set_heading(self, text: str) -> None:
        self.heading.setText(elide(text))
        self.heading.setToolTip(tooltip(text) if len(text) > len(elide(text)) else "")

    def _set_alternatives(self, alternatives: list[Answer], *, calibrated: bool = False) -> None:
        for button in self.alternative_buttons:
            self._alt_layout.removeWidget(button)
            button.hide()  # deleteLater waits for the event loop: never let it show meanwhile
            button.deleteLater()
        self.alternative_buttons = []
        for alt in alternatives:
            label = alternative_text(alt, calibrated=calibrated)
            button = QPushButton(_mnemonic_safe(label))
            button.setObjectName("alternativeButton")
            button.setFlat(True)
            button.setAccessibleName(f"Other candidate: {alt.text}")
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
    shown = result.answer or result.possible
    assert shown is not None
    c = shown.citations[0]
    head, answer, tail = split_sentence(c)  # the core's one way to find the answer in it
    body = html.escape(head) + theme.html_mark(html.escape(answer)) + html.escape(tail)
    return f"{body}<br><small>— {html.escape(citation_label(c, dot=True))}</small>"

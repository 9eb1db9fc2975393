"""Thin Qt models over plain records: sources of a result, library documents, file errors."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from qa_app.gui.plain import tooltip
from qa_app.records import Answer, DocumentInfo, FileError, Result, source_name

ModelIndex = QModelIndex | QPersistentModelIndex
SNIPPET_CHARS = 360  # enough for a sentence either side of the answer in a list row
OCR_LABEL = "read by OCR"
OCR_TIP = "Read from a scanned image by OCR; may contain recognition errors."

# Roles, named once and used by views, delegates and tests.
RowRole = Qt.ItemDataRole.UserRole + 1
TitleRole = Qt.ItemDataRole.UserRole + 2
PageRole = Qt.ItemDataRole.UserRole + 3
SnippetRole = Qt.ItemDataRole.UserRole + 4  # (before, highlighted, after) strings
KindRole = Qt.ItemDataRole.UserRole + 5
DocumentRole = Qt.ItemDataRole.UserRole + 10
PathRole = Qt.ItemDataRole.UserRole + 11
IdRole = Qt.ItemDataRole.UserRole + 12
ErrorRole = Qt.ItemDataRole.UserRole + 20


@dataclass(frozen=True)
class SourceRow:
    """One row of the sources list: a citation of an answer, or a closest passage when not found."""

    kind: str  # "answer" | "alternative" | "passage"
    doc_id: int
    path: str
    title: str
    page: int | None
    passage: str
    passage_start: int
    score: float
    answer_text: str | None = None
    answer_start: int | None = None  # offsets into the document text
    answer_end: int | None = None
    sentence_start: int | None = None
    sentence_end: int | None = None
    ocr: bool = False  # the passage was read by OCR
    attachment: str | None = None  # an e-mail attachment's name; ``path`` is then the message

    def snippet(self, limit: int = SNIPPET_CHARS) -> tuple[str, str, str]:
        """Return (before, answer, after) from the passage, cut to about ``limit`` characters."""
        text = self.passage
        if self.answer_start is None or self.answer_end is None:
            cut = text[:limit]
            return (cut + ("…" if len(text) > limit else ""), "", "")
        a = max(0, self.answer_start - self.passage_start)
        b = min(len(text), self.answer_end - self.passage_start)
        room = max(0, limit - (b - a)) // 2
        lo, hi = max(0, a - room), min(len(text), b + room)
        before = ("…" if lo > 0 else "") + text[lo:a]
        after = text[b:hi] + ("…" if hi < len(text) else "")
        return before, text[a:b], after


def source_rows(result: Result) -> list[SourceRow]:
    """Return the rows to list for ``result``: citations when answered, passages when not."""
    rows: list[SourceRow] = []
    answers = [("answer", result.answer)] if result.answer else []
    answers += [("alternative", alt) for alt in result.alternatives]
    for kind, answer in answers:
        for c in answer.citations:
            rows.append(
                SourceRow(
                    kind=kind,
                    doc_id=c.doc_id,
                    path=c.path,
                    title=c.title,
                    page=c.page,
                    passage=c.passage,
                    passage_start=c.passage_start,
                    score=c.score,
                    answer_text=answer.text,
                    answer_start=c.answer_start,
                    answer_end=c.answer_end,
                    sentence_start=c.sentence_start,
                    sentence_end=c.sentence_end,
                    ocr=c.ocr,
                    attachment=c.attachment,
                )
            )
    if result.answer is None:
        for p in result.passages:
            rows.append(
                SourceRow(
                    kind="passage",
                    doc_id=p.doc_id,
                    path=p.path,
                    title=p.title,
                    page=p.page,
                    passage=p.text,
                    passage_start=p.start,
                    score=p.score,
                    ocr=p.ocr,
                    attachment=p.attachment,
                )
            )
    return rows


def document_label(title: str, path: str, attachment: str | None) -> str:
    """Return how a document is named in lists: its title, and for an e-mail attachment which
    message it came with ("report.pdf (attached to message.eml)")."""
    if not attachment:
        return title or os.path.basename(path)
    linked = source_name(path, attachment)
    return linked if not title or title == attachment else f"{title} — {linked}"


def source_tip(path: str, attachment: str | None, ocr: bool) -> str:
    """Return a source's tooltip: its file (and attachment), and what OCR means when it was used."""
    where = f"{path}\nattachment: {attachment}" if attachment else path
    return tooltip(f"{where}\n{OCR_TIP}" if ocr else where)


def confidence_word(score: float) -> str:
    """Return "High", "Medium" or "Low" for a calibrated score."""
    return "High" if score >= 0.75 else "Medium" if score >= 0.5 else "Low"


def confidence(score: float) -> str:
    """Return a plain-language confidence for a calibrated score, e.g. "High (0.87)"."""
    return f"{confidence_word(score)} ({score:.2f})"


def score_text(result: Result, score: float) -> str:
    """Return how to show ``score``: "Confidence: High (0.87)" when calibrated, else "Score: 0.87"."""
    return f"Confidence: {confidence(score)}" if result.calibrated else f"Score: {score:.2f}"


_WORD = re.compile(r"\w+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.casefold() for w in _WORD.findall(text))


def _within(small: tuple[str, ...], big: tuple[str, ...]) -> bool:
    n = len(small)
    return any(big[i : i + n] == small for i in range(len(big) - n + 1))


def distinct_alternatives(result: Result) -> list[Answer]:
    """Return the alternatives worth offering beside the answer, best first.

    One that is a piece or an extension of the answer or of a better alternative ("weeks" after
    "within weeks", found in another document) says the same thing again and is left out.
    """
    said = [_words(result.answer.text)] if result.answer else []
    kept: list[Answer] = []
    for alt in result.alternatives:
        words = _words(alt.text)
        if words and not any(_within(words, s) or _within(s, words) for s in said):
            said.append(words)
            kept.append(alt)
    return kept


def _title_line(row: SourceRow) -> str:
    title = document_label(row.title, row.path, row.attachment)
    title = f"{title}, page {row.page}" if row.page else title
    return f"{title} · {OCR_LABEL}" if row.ocr else title


class SourceListModel(QAbstractListModel):
    """The sources of the current result."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[SourceRow] = []

    def set_rows(self, rows: list[SourceRow]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[SourceRow]:
        """Return the rows."""
        return list(self._rows)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            before, answer, after = row.snippet()
            return f"{_title_line(row)}: {before}{answer}{after}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return source_tip(row.path, row.attachment, row.ocr)
        return {
            RowRole: row,
            TitleRole: _title_line(row),
            PageRole: row.page,
            SnippetRole: row.snippet(),
            KindRole: row.kind,
        }.get(role)


class DocumentTableModel(QAbstractTableModel):
    """The documents of the open library, failed files included (a table: one column per field)."""

    COLUMNS = ("Title", "Format", "Pages", "Passages", "Status", "Problem")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._docs: list[DocumentInfo] = []

    def set_documents(self, docs: list[DocumentInfo]) -> None:
        """Replace every row (sorted by title)."""
        self.beginResetModel()
        self._docs = sorted(docs, key=lambda d: (d.status != "failed", d.title.lower(), d.path))
        self.endResetModel()

    def documents(self) -> list[DocumentInfo]:
        """Return the listed documents."""
        return list(self._docs)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._docs)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._docs):
            return None
        doc = self._docs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            failed = doc.status == "failed"
            return (
                document_label(doc.title, doc.path, doc.attachment),
                doc.format.upper() if doc.format else "",
                "" if doc.pages is None else str(doc.pages),
                "" if failed else str(doc.chunks),
                "Failed" if failed else doc.status.capitalize(),
                doc.error or "",
            )[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            where = doc.path
            if doc.attachment:
                where += (
                    f"\nattachment: {doc.attachment} (removing it removes the message with "
                    "all its attachments)"
                )
            return tooltip(f"{where}\n{doc.error}" if doc.error else where)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return {DocumentRole: doc, PathRole: doc.path, IdRole: doc.id}.get(role)


class FileErrorListModel(QAbstractListModel):
    """Files the last indexing run could not read, each with its reason."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._errors: list[FileError] = []

    def set_errors(self, errors: list[FileError]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._errors = list(errors)
        self.endResetModel()

    def errors(self) -> list[FileError]:
        """Return the listed errors."""
        return list(self._errors)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._errors)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._errors):
            return None
        error = self._errors[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{os.path.basename(error.path) or error.path}: {error.reason}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(f"{error.path}\n{error.reason}")
        return {ErrorRole: error, PathRole: error.path}.get(role)

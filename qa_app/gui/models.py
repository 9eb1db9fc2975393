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
    QSortFilterProxyModel,
    Qt,
)

from qa_app.gui.plain import tooltip
from qa_app.records import Answer, DocumentInfo, FileError, Result
from qa_app.render import citation_label, source_label

ModelIndex = QModelIndex | QPersistentModelIndex
SNIPPET_CHARS = 360  # enough for a sentence either side of the answer in a list row
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
SortRole = Qt.ItemDataRole.UserRole + 13  # a key that sorts a column naturally
MarksRole = Qt.ItemDataRole.UserRole + 6  # matched words in a search hit's snippet
ErrorRole = Qt.ItemDataRole.UserRole + 20


@dataclass(frozen=True)
class SourceRow:
    """One row of the sources list: a citation of an answer, or a closest passage when not found."""

    # "answer" | "possible" | "alternative" | "passage" | "match" (a search hit) | "document"
    kind: str
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
    marks: tuple[tuple[int, int], ...] = ()  # a search hit's matched words (document offsets)
    rank: int = 0  # a search hit's place in the ranking (1: best)

    def segments(self, limit: int = SNIPPET_CHARS) -> list[tuple[str, bool]]:
        """Return the snippet as (text, marked) pieces: the answer, or a search hit's words."""
        if not self.marks:
            before, answer, after = self.snippet(limit)
            return [(t, m) for t, m in ((before, False), (answer, True), (after, False)) if t]
        text, base = self.passage, self.passage_start
        cut = min(len(text), limit)
        pieces: list[tuple[str, bool]] = []
        pos = 0
        for a, b in self.marks:
            a, b = max(pos, a - base), min(cut, b - base)
            if a >= b:
                continue
            pieces += [(text[pos:a], False), (text[a:b], True)]
            pos = b
        pieces.append((text[pos:cut] + ("…" if len(text) > cut else ""), False))
        return [(t, m) for t, m in pieces if t]

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
    shown = result.answer or result.possible
    answers = [("answer" if result.answer else "possible", shown)] if shown else []
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
    if shown is None:  # "not found": the closest passages, to look for oneself
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


def source_tip(path: str, attachment: str | None, ocr: bool) -> str:
    """Return a source's tooltip: its file (and attachment), and what OCR means when it was used."""
    where = f"{path}\nattachment: {attachment}" if attachment else path
    return tooltip(f"{where}\n{OCR_TIP}" if ocr else where)


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
    shown = result.answer or result.possible
    said = [_words(shown.text)] if shown else []
    kept: list[Answer] = []
    for alt in result.alternatives:
        words = _words(alt.text)
        if words and not any(_within(words, s) or _within(s, words) for s in said):
            said.append(words)
            kept.append(alt)
    return kept


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
            return f"{citation_label(row, dot=True)}: {before}{answer}{after}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return source_tip(row.path, row.attachment, row.ocr)
        return {
            RowRole: row,
            TitleRole: citation_label(row, dot=True),
            PageRole: row.page,
            SnippetRole: row.snippet(),
            KindRole: row.kind,
        }.get(role)


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Return a key that sorts numbers inside text by value ("part 2" before "part 10")."""
    return tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in _DIGITS.split(text) if p
    )


_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)|\n")
SHOWN_TITLE_CHARS = 70  # a title made from a document's first sentence is cut here


def untitled(title: str, path: str) -> bool:
    """Return True when ``title`` is only the file's name: the document had no headline."""
    name = os.path.basename(path)
    return not title or title in (name, os.path.splitext(name)[0])


def first_sentence_title(text: str, limit: int = SHOWN_TITLE_CHARS) -> str:
    """Return the start of ``text``'s first sentence as a title ("" when there is no text)."""
    lines = text[: limit * 4].strip().split("\n")
    head = " ".join(lines[0].split())  # a line break ends it too
    end = _SENTENCE_END.search(head)
    sentence = head[: end.start()] if end else head
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    return (cut[: cut.rfind(" ")] if " " in cut[limit // 2 :] else cut).rstrip(" ,;:") + "…"


STATUS_WORDS = {"failed": "Failed", "pending": "Waiting", "excluded": "Excluded"}


class DocumentTableModel(QAbstractTableModel):
    """The documents of the open library, failed files included (a table: one column per field).

    ``titles`` (document id -> title) names documents that have no headline by their first
    sentence; ``excluded_titles`` (path -> title) keeps the title of a document after it was
    excluded, when the store only keeps its path.
    """

    COLUMNS = ("Title", "Format", "Pages", "Passages", "Status", "Problem")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._docs: list[DocumentInfo] = []
        self.titles: dict[int, str] = {}
        self.excluded_titles: dict[str, str] = {}

    def set_documents(self, docs: list[DocumentInfo]) -> None:
        """Replace every row (in the natural order of their titles)."""
        self.beginResetModel()
        for d in docs:  # remembered, so a document excluded later keeps its title
            if d.status not in ("excluded", "failed") and d.attachment is None:
                untitled_ = untitled(d.title, d.path)
                self.excluded_titles[d.path] = (
                    self.titles.get(d.id, d.title) if untitled_ else d.title
                )
        self._docs = sorted(docs, key=lambda d: (self.sort_key(d, 0), d.path))
        self.endResetModel()

    def set_titles(self, titles: dict[int, str]) -> None:
        """Name untitled documents by ``titles`` (document id -> the start of their first sentence)."""
        changed = any(self.titles.get(k) != v for k, v in titles.items())
        self.titles.update(titles)
        if changed and self._docs:  # no reset: the selection and the current row stay
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._docs) - 1, 0))

    def documents(self) -> list[DocumentInfo]:
        """Return the listed documents."""
        return list(self._docs)

    def title(self, doc: DocumentInfo) -> str:
        """Return how ``doc`` is named in the list."""
        title = doc.title
        if doc.status == "excluded":
            title = self.excluded_titles.get(doc.path, title)
        elif untitled(title, doc.path) and doc.id in self.titles:
            title = self.titles[doc.id]
        return source_label(title, doc.path, doc.attachment)

    def sort_key(self, doc: DocumentInfo, column: int) -> Any:
        """Return what sorts ``doc`` by ``column``: titles and text naturally, numbers by value."""
        if column == 2:
            return -1 if doc.pages is None else doc.pages
        if column == 3:
            return -1 if doc.status == "failed" else doc.chunks
        text = (self.title(doc), doc.format, "", "", self._status(doc), doc.error or "")[column]
        return natural_key(text)

    @staticmethod
    def _status(doc: DocumentInfo) -> str:
        return STATUS_WORDS.get(doc.status, doc.status.capitalize())

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
                self.title(doc),
                doc.format.upper() if doc.format else "",
                "" if doc.pages is None else str(doc.pages),
                "" if failed else str(doc.chunks),
                self._status(doc),
                doc.error or "",
            )[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            where = doc.path
            if doc.attachment:
                where += (
                    f"\nattachment: {doc.attachment} (removing it removes the message with "
                    "all its attachments)"
                )
            if doc.status == "pending":
                where += "\nWaiting for its embedding: keyword search finds it; Re-sync finishes it"
            return tooltip(f"{where}\n{doc.error}" if doc.error else where)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == SortRole:
            return self.sort_key(doc, index.column())
        return {DocumentRole: doc, PathRole: doc.path, IdRole: doc.id}.get(role)


class DocumentFilter(QSortFilterProxyModel):
    """The documents list as shown: filtered by words (title, file name, folder, format) and
    sorted by the clicked column, naturally."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(True)

    def set_text(self, text: str) -> None:
        """Show only documents whose title, file name, nearest folders or format hold every word."""
        self._words = text.casefold().split()
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: ModelIndex) -> bool:  # noqa: N802
        if not self._words:
            return True
        model = self.sourceModel()
        doc: DocumentInfo | None = model.index(row, 0, parent).data(DocumentRole)
        if doc is None:
            return False
        shown = model.index(row, 0, parent).data()
        # The file's name and its two nearest folders: the rest of a path (a home folder, a
        # temporary folder) would match words, digits above all, in every row.
        folders = os.path.dirname(doc.path).split(os.sep)[-2:]
        parts = (shown, doc.title, os.path.basename(doc.path), *folders, doc.format)
        hay = " ".join((*parts, doc.attachment or "")).casefold()
        return all(w in hay for w in self._words)

    def lessThan(self, left: ModelIndex, right: ModelIndex) -> bool:  # noqa: N802
        a, b = left.data(SortRole), right.data(SortRole)
        if a == b:  # ties in order of the title (so a column sort stays readable)
            model = self.sourceModel()
            a = model.index(left.row(), 0).data(SortRole)
            b = model.index(right.row(), 0).data(SortRole)
        return bool(a < b)


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

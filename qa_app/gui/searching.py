"""Search mode: ranked passages for a few words (like ``qa-app search``), the matched words marked."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from qa_app.contracts import Scope
from qa_app.gui.library_state import LibraryState
from qa_app.gui.lifecycle import LibraryLifecycle
from qa_app.gui.messages import Messages, message
from qa_app.gui.models import SourceRow
from qa_app.records import Passage
from qa_app.render import plural
from qa_app.text_norm import STOPWORDS

SEARCH_K = 30  # passages listed for a search
_WORD = re.compile(r"\w+", re.UNICODE)


def _base(word: str) -> str:
    # A rough stem, for marking only (the keyword index stems with Porter): plurals and -ing/-ed.
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def query_terms(query: str) -> list[str]:
    """Return the words of ``query`` worth marking (function words left out unless all are)."""
    words = list(dict.fromkeys(w.casefold() for w in _WORD.findall(query)))
    kept = [w for w in words if w not in STOPWORDS]
    return kept or words


def match_marks(terms: Sequence[str], text: str, start: int = 0) -> tuple[tuple[int, int], ...]:
    """Return the spans (offset by ``start``) of the words in ``text`` that match ``terms``."""
    bases = {_base(t) for t in terms}
    return tuple(
        (start + m.start(), start + m.end())
        for m in _WORD.finditer(text)
        if _base(m.group().casefold()) in bases
        or any(m.group().casefold().startswith(b) for b in bases if len(b) >= 4)
    )


def hit_rows(query: str, passages: Sequence[Passage]) -> list[SourceRow]:
    """Return the sources-list rows for a search's ranked ``passages`` (best first)."""
    terms = query_terms(query)
    return [
        SourceRow(
            kind="match",
            doc_id=p.doc_id,
            path=p.path,
            title=p.title,
            page=p.page,
            passage=p.text,
            passage_start=p.start,
            score=p.score,
            ocr=p.ocr,
            attachment=p.attachment,
            marks=match_marks(terms, p.text, p.start),
            rank=rank,
        )
        for rank, p in enumerate(passages, 1)
    ]


class Searching(QObject):
    """Runs searches in the background; only the latest one's hits are shown."""

    started = Signal(str)  # the query
    hits_ready = Signal(str, list)  # the query, list[SourceRow]
    failed = Signal(str, str)  # the query, the reason

    def __init__(
        self, library: LibraryLifecycle, messages: Messages, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._library, self._messages = library, messages
        self._latest = 0

    def search(self, query: str, scope: Scope | None = None, k: int = SEARCH_K) -> None:
        """List the passages that match ``query`` (within ``scope``), best first."""
        query, library = query.strip(), self._library
        engine = library.engine
        if not query or engine is None or library.state is LibraryState.CLOSED:
            if query:
                self.failed.emit(query, "the library is still opening; search again in a moment")
            return
        self._latest += 1
        number, pressed = self._latest, time.monotonic()
        self.started.emit(query)

        def shown(passages: list[Passage]) -> None:
            if number != self._latest:
                return
            rows = hit_rows(query, passages)
            self.hits_ready.emit(query, rows)
            self._messages.status.emit(
                f"{plural(len(rows), 'passage')} found in {time.monotonic() - pressed:.1f} s."
            )

        def failed(exc: BaseException) -> None:
            if number == self._latest:
                self.failed.emit(query, message(exc))

        library.submit(
            lambda _ctx: engine.search(query, k, scope=scope),
            name="Searching",
            on_result=shown,
            on_error=failed,
        )

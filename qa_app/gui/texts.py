"""The text of documents shown in the viewer, fetched in the background and the last few kept."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal

from qa_app.gui.lifecycle import LibraryLifecycle
from qa_app.gui.models import SourceRow

TEXT_CACHE = 8  # documents kept for the viewer


class DocumentTexts(QObject):
    """Loads a cited document's text for the viewer; forget() when the library's documents change."""

    document_ready = Signal(object, str)  # SourceRow, the document's text

    def __init__(self, library: LibraryLifecycle, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._texts: dict[int, str] = {}

    def load(self, row: SourceRow) -> None:
        """Fetch the text of ``row``'s document and emit document_ready (cached)."""
        text = self._texts.get(row.doc_id)
        if text is not None:
            self.document_ready.emit(row, text)
            return
        engine = self._library.engine
        if engine is None:
            return

        def got(text: str) -> None:
            if len(self._texts) >= TEXT_CACHE:
                self._texts.pop(next(iter(self._texts)))
            self._texts[row.doc_id] = text
            self.document_ready.emit(row, text)

        self._library.submit(
            lambda _ctx: engine.document_text(row.doc_id),
            name=f"Opening {os.path.basename(row.path)}",
            on_result=got,
        )

    def forget(self, *_changed: object) -> None:
        """Drop the kept texts (documents were removed or re-read, or another library opened)."""
        self._texts.clear()

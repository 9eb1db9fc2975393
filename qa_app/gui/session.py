"""The window's session: the open library's lifecycle, asking and indexing, wired over one task runner."""

from __future__ import annotations

from PySide6.QtCore import QObject

from qa_app.gui.asking import Asking
from qa_app.gui.backend import Backend
from qa_app.gui.indexing import Indexing
from qa_app.gui.libraries import LibraryCatalog
from qa_app.gui.lifecycle import LibraryLifecycle
from qa_app.gui.messages import Messages
from qa_app.gui.searching import Searching
from qa_app.gui.settings import AppSettings
from qa_app.gui.tasks import TaskRunner
from qa_app.gui.texts import DocumentTexts


class Session(QObject):
    """Builds the parts and owns them; the window talks to the parts, not to this.

    ``library`` owns the open engine and its LibraryState; ``asking``, ``indexing``, ``texts`` and
    ``libraries`` each get the lifecycle (and what else they need) and follow its state_changed.
    Every slow step runs on ``runner``, through ``library.submit``.
    """

    def __init__(self, backend: Backend, settings: AppSettings, parent: QObject | None = None):
        super().__init__(parent)
        self.backend, self.settings = backend, settings
        self.runner = TaskRunner(self)
        self.messages = Messages(self)
        self.library = LibraryLifecycle(backend, settings, self.runner, self.messages, self)
        self.libraries = LibraryCatalog(self.library, backend, self.messages, self)
        self.indexing = Indexing(self.library, self.messages, self)
        self.asking = Asking(self.library, settings, self.messages, self)
        self.searching = Searching(self.library, self.messages, self)
        self.texts = DocumentTexts(self.library, self)
        # A new listing (after a run, a removal, or another library opened): texts may be stale.
        self.indexing.documents_changed.connect(self.texts.forget)

    def start(self) -> None:
        """Open the library used last (or the default one) in the background."""
        self.library.start()

    def stop(self) -> None:
        """Cancel all work and start no more: the window is closing."""
        self.library.stop()

    def close(self) -> None:
        """Close the libraries; call after stop(), once the runner is idle."""
        self.library.close()

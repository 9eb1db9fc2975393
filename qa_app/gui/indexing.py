"""Indexing the open library (add, re-sync, include, prepare), removing documents, the watched folders."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from qa_app.gui.library_state import LibraryState
from qa_app.gui.lifecycle import LibraryLifecycle
from qa_app.gui.messages import Messages, message
from qa_app.gui.models import first_sentence_title, untitled
from qa_app.gui.tasks import Task, TaskContext
from qa_app.gui.watcher import FolderWatcher, watch_list
from qa_app.records import DocumentInfo, FileError, Progress, SyncReport
from qa_app.render import plural

LIVE_REFRESH_S = 1.0  # at most this often the document list refreshes while indexing
TITLE_TEXT_CHARS = 400  # of a document's text, enough for the start of its first sentence


# A listing: the documents, the added folders, the paths to watch, titles made for documents
# with no headline ((id, content hash) -> title).
Listing = tuple[list[DocumentInfo], list[str], list[str], dict[tuple[int, str], str]]


def waiting_paths(docs: Sequence[DocumentInfo]) -> set[str]:
    """Return the paths of the documents still waiting for their embeddings."""
    return {d.path for d in docs if d.status == "pending"}


@dataclass
class _Run:
    """Indexing tasks started back to back; the window sees them as one run with one report."""

    tasks: list[Task] = field(default_factory=list)
    failed: list[FileError] = field(default_factory=list)
    report: SyncReport | None = None
    error: str | None = None
    waiting_before: set[str] = field(default_factory=set)  # documents waiting at the start


class Indexing(QObject):
    """Indexing runs are writers, one at a time, shown as one run until none is left; cancel()
    stops them. It lists the documents (live while a run goes on) and watches added folders."""

    started = Signal(str)  # what the run does
    progress = Signal(object)  # Progress
    finished = Signal(object, object)  # SyncReport | None, error text | None
    documents_changed = Signal(list)  # list[DocumentInfo]
    titles_found = Signal(object)  # document id -> the start of its first sentence (no headline)
    folders_changed = Signal(list)  # the added folders, list[str]

    def __init__(
        self, library: LibraryLifecycle, messages: Messages, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._library, self._messages = library, messages
        self.watcher = FolderWatcher(self)
        self.watcher.changed.connect(self._folders_changed)
        self._run: _Run | None = None
        self.docs: list[DocumentInfo] = []  # the last listing
        self._titled: dict[tuple[int, str], str] = {}  # (id, content hash) -> title made
        # Documents waiting for embedding after the last run, those of them from that run, and
        # the documents it finished (what finish messages say; see progress.report_text).
        self.waiting: tuple[int, int, int] = (0, 0, 0)
        self._resync_wanted = False  # files changed while a run went on: re-sync after it
        self._last_refresh = 0.0
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh_documents)
        library.state_changed.connect(self._state_changed)

    @property
    def running(self) -> bool:
        """Return True while an add, sync or preparing run is running or queued."""
        return self._run is not None

    def _state_changed(self, state: LibraryState) -> None:
        if (
            state is LibraryState.OPENING
        ):  # the old library's lists must not show under the new name
            self.documents_changed.emit([])
            self.folders_changed.emit([])
            self.watcher.set_paths([])
            if self._run is not None:
                self.cancel()
                self._run = None  # its callbacks belong to the old library and are dropped
                self.finished.emit(None, "Stopped: another library was opened.")
        elif state is LibraryState.STARTING:
            engine = self._library.engine
            assert engine is not None, "STARTING means an engine is open"
            self.refresh_documents()
            self._index(
                "Preparing the library",
                lambda ctx: engine.ensure_ready(ctx.progress, ctx.cancelled),
                then=self._library.prepared,
            )
        elif state is LibraryState.CLOSED:
            self._refresh_timer.stop()
            self._run, self._resync_wanted = None, False
            self.watcher.set_paths([])
            self.docs, self._titled = [], {}

    # -- the document list --------------------------------------------------------------------

    def refresh_documents(self, then: Callable[[], None] | None = None) -> None:
        """Re-list the library's documents and re-aim the folder watcher (then call ``then``)."""
        engine = self._library.engine
        if engine is None:
            if then is not None:
                then()
            return
        self._last_refresh = time.monotonic()
        titled = dict(self._titled)

        def work(_ctx: TaskContext) -> Listing:
            docs = engine.documents()
            folders = engine.folders()
            inside = [
                d.path
                for d in docs
                if any(d.path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)
            ]
            # A document with no headline is named by the start of its first sentence (once).
            for d in docs:
                key = (d.id, d.content_hash)
                if d.id > 0 and key not in titled and untitled(d.title, d.path):
                    try:
                        head = engine.document_text(d.id)[:TITLE_TEXT_CHARS]
                    except KeyError:  # removed meanwhile
                        continue
                    titled[key] = first_sentence_title(head) or d.title
            return docs, folders, watch_list(folders, inside), titled

        def got(value: Listing) -> None:
            docs, folders, watched, made = value
            self.docs, self._titled = docs, made
            self.titles_found.emit({i: t for (i, _h), t in made.items()})
            self.documents_changed.emit(docs)
            self.folders_changed.emit(folders)
            self.watcher.set_paths(watched)

        self._library.submit(
            work, name="Listing documents", on_result=got, on_done=then or (lambda: None)
        )

    def refresh_documents_soon(self) -> None:
        """Re-list the documents now, or once LIVE_REFRESH_S has passed since the last listing.

        The last file of a run is listed too, even when no progress tick follows it for a while
        (on first start the seed files are read in a second; embedding then waits for the model).
        """
        wait = LIVE_REFRESH_S - (time.monotonic() - self._last_refresh)
        if wait <= 0:
            self._refresh_timer.stop()
            self.refresh_documents()
        elif not self._refresh_timer.isActive():
            self._refresh_timer.start(int(wait * 1000) + 1)

    # -- changing the documents ---------------------------------------------------------------

    def add(self, items: Sequence[str]) -> None:
        """Add files and folders to the open library, indexing them in the background."""
        engine, items = self._library.engine, [str(i) for i in items]
        if not items:
            return
        if engine is None:
            self._messages.error.emit(
                "The library is still opening; add the documents again in a moment."
            )
            return
        label = f"Adding {os.path.basename(items[0].rstrip(os.sep))}" + (
            f" and {len(items) - 1} more" if len(items) > 1 else ""
        )
        self._index(label, lambda ctx: engine.add(items, ctx.progress, ctx.cancelled))

    def sync(self) -> None:
        """Re-read the library's files and folders in the background."""
        engine = self._library.engine
        if engine is not None:
            self._index(
                "Re-syncing the library", lambda ctx: engine.sync(ctx.progress, ctx.cancelled)
            )

    def set_ocr(self, enabled: bool) -> None:
        """Switch OCR for the open library, then re-read the files it changes (an indexing run)."""
        engine = self._library.engine
        if engine is not None:
            self._index(
                f"Switching OCR {'on' if enabled else 'off'}",
                lambda ctx: (
                    engine.sync(ctx.progress, ctx.cancelled) if engine.set_ocr(enabled) else None
                ),
            )

    def remove(self, items: Sequence[str]) -> None:
        """Remove documents (or folders) from the library; the files themselves stay."""
        engine, items = self._library.engine, list(items)
        if engine is None or not items:
            return

        def done(removed: list[str]) -> None:
            self._messages.status.emit(
                f"Removed {plural(len(removed), 'document')} from the library."
            )
            self.refresh_documents()

        self._library.submit(
            lambda _ctx: engine.remove(items),
            name="Removing documents",
            writer=True,
            on_result=done,
        )

    def can_exclude(self) -> bool:
        """Return True when a library is open (it can keep chosen files of a folder out of re-syncs)."""
        return self._library.engine is not None

    def exclude(self, items: Sequence[str]) -> None:
        """Remove documents found in added folders and keep them out when the folders re-sync."""
        engine, items = self._library.engine, list(items)
        if engine is None or not items:
            return

        def done(excluded: list[str]) -> None:
            n = len(excluded)
            self._messages.status.emit(
                f"Excluded {plural(n, 'document')}; re-syncing will not add "
                f"{'it' if n == 1 else 'them'} back."
            )
            self.refresh_documents()

        self._library.submit(
            lambda _ctx: engine.exclude(items),
            name="Excluding documents",
            writer=True,
            on_result=done,
        )

    def can_include(self) -> bool:
        """Return True when a library is open (it can take excluded files back)."""
        return self._library.engine is not None

    def include(self, items: Sequence[str]) -> None:
        """Stop excluding ``items`` and re-sync, so they are indexed again."""
        engine, items = self._library.engine, list(items)
        if engine is None or not items:
            return

        def include_and_sync(ctx: TaskContext) -> SyncReport:
            engine.include(items)
            return engine.sync(ctx.progress, ctx.cancelled)

        self._index("Including files again", include_and_sync)

    def cancel(self) -> None:
        """Stop the running and queued indexing runs (what is indexed so far is kept)."""
        for task in list(self._run.tasks if self._run is not None else ()):
            task.cancel()

    # -- runs ---------------------------------------------------------------------------------

    def _folders_changed(self) -> None:
        if self._library.state is LibraryState.CLOSED:
            return
        if self.running:
            self._resync_wanted = True
        else:
            self._messages.status.emit("Files changed in a watched folder; re-syncing…")
            self.sync()

    def _index(
        self, what: str, fn: Callable[[TaskContext], Any], *, then: Callable[[], None] | None = None
    ) -> None:
        if self._run is None:
            run = self._run = _Run(waiting_before=waiting_paths(self.docs))
            self.started.emit(what)
        else:
            run = self._run
        task: Task | None = None

        def got(report: SyncReport | None) -> None:
            run.report = report
            if report is not None:
                run.failed.extend(report.failed)

        def failed(exc: BaseException) -> None:
            run.error = f"{what} failed: {message(exc)}"
            self._messages.error.emit(run.error)

        def progressed(progress: Progress) -> None:
            self.progress.emit(progress)
            if progress.stage == "index" and progress.done > 0:
                self.refresh_documents_soon()  # a file was committed: list it

        def done() -> None:  # only while the same library is open (the lifecycle drops it else)
            if task in run.tasks:
                run.tasks.remove(task)
            if then is not None:
                then()
            if not run.tasks and run is self._run:
                self._finish(run)  # lists the documents, then says what the run did
            else:
                self.refresh_documents()

        task = self._library.submit(
            fn,
            name=what,
            writer=True,
            on_result=got,
            on_error=failed,
            on_progress=progressed,
            on_done=done,
        )
        if task is not None and task.state != "done":
            run.tasks.append(task)
        elif not run.tasks:
            self._run = None

    def _finish(self, run: _Run) -> None:
        report = run.report
        if report is not None and list(report.failed) != run.failed:
            report = replace(report, failed=tuple(run.failed))

        def listed() -> None:  # the counts of the fresh listing go into the finish message
            if run is not self._run or run.tasks:  # gone, or more work joined the run
                return
            self._run = None
            waiting = waiting_paths(self.docs)
            here = set(report.added) | set(report.updated) if report is not None else set()
            present = {d.path for d in self.docs}
            finished = len((run.waiting_before - waiting) & present)
            self.waiting = (len(waiting), len(waiting & here), finished)
            self.finished.emit(report, run.error)
            if self._resync_wanted:
                self._resync_wanted = False
                self.sync()

        self.refresh_documents(then=listed)

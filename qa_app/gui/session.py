"""The open library and all work on it, run in the background through the one task runner."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from qa_app import paths
from qa_app.gui.backend import FALLBACK_READERS, Backend
from qa_app.gui.libraries import LibraryOps, message
from qa_app.gui.models import SourceRow
from qa_app.gui.settings import AppSettings
from qa_app.gui.tasks import Task, TaskContext, TaskRunner
from qa_app.gui.watcher import FolderWatcher, watch_list
from qa_app.records import FileError, Progress, Result, SyncReport

TEXT_CACHE = 8  # documents kept for the viewer
LIVE_REFRESH_S = 2.0  # how often the document list refreshes while indexing


class Session(LibraryOps, QObject):
    """Opens libraries, answers questions, indexes; every slow step runs off the UI thread."""

    status = Signal(str)
    model_state = Signal(str)  # "loading" | "ready" | "failed"
    library_opened = Signal(str)
    libraries_changed = Signal(list, str)  # names, current
    documents_changed = Signal(list)  # list[DocumentInfo]
    asking = Signal(str, str)  # question, what is happening
    result_ready = Signal(object)  # Result
    ask_failed = Signal(str, str)  # question, reason
    indexing_started = Signal(str)
    indexing_progress = Signal(object)  # Progress
    indexing_finished = Signal(object, object)  # SyncReport | None, error text | None
    document_ready = Signal(object, str)  # SourceRow, document text
    error = Signal(str)

    def __init__(self, backend: Backend, settings: AppSettings, parent: QObject | None = None):
        super().__init__(parent)
        self.backend = backend
        self.settings = settings
        self.runner = TaskRunner(self)
        self.watcher = FolderWatcher(self)
        self.watcher.changed.connect(self._folders_changed)
        self.engine: Any = None
        self.name = ""
        self.readers: list[str] = list(FALLBACK_READERS)
        self.last_result: Result | None = None
        self._epoch = 0  # bumped when the library changes; older callbacks are dropped
        self._warm = False
        self._prepared = False
        self._pending: str | None = None
        self._broken: str | None = None  # why the models could not load, said to every question
        self._ask_seq = 0
        self._index_tasks: list[Task] = []
        self._run_failed: list[FileError] = []
        self._run_report: SyncReport | None = None
        self._run_error: str | None = None
        self._resync_wanted = False
        self._last_refresh = 0.0
        self._texts: dict[int, str] = {}

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Return True once the library is prepared and the models are loaded."""
        return self.engine is not None and self._warm and self._prepared

    def indexing(self) -> bool:
        """Return True while an add, sync or seeding run is running or queued."""
        return bool(self._index_tasks)

    def _submit(
        self,
        fn: Callable[[TaskContext], Any],
        *,
        name: str,
        writer: bool = False,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> Task:
        epoch = self._epoch

        def current(callback: Callable[..., None] | None) -> Callable[..., None] | None:
            if callback is None:
                return None
            return lambda *args: callback(*args) if epoch == self._epoch else None

        def report(exc: BaseException) -> None:
            self.error.emit(f"{name} failed: {message(exc)}")

        return self.runner.submit(
            fn,
            name=name,
            writer=writer,
            on_result=current(on_result),
            on_error=current(on_error or report),
            on_progress=current(on_progress),
            on_done=on_done,
        )

    # -- libraries --------------------------------------------------------------------------

    def start(self) -> None:
        """Open the library used last (or the default one) in the background."""
        self.open_library(self.settings.library)

    def _reset(self, label: str) -> Any:
        self._epoch += 1
        old, self.engine = self.engine, None
        self._warm = self._prepared = False
        self._broken = None
        self._texts.clear()
        if self._index_tasks:
            self.cancel_indexing()
            self._index_tasks = []  # their callbacks belong to the old library and are dropped
            self.indexing_finished.emit(None, "Stopped: another library was opened.")
        self.model_state.emit("loading")
        self.status.emit(label)
        return old

    def open_library(self, name: str | None) -> None:
        """Close the open library and open ``name`` (None: the default library)."""
        old = self._reset(f"Opening library “{name or paths.DEFAULT_LIBRARY}”…")

        def work(_ctx: TaskContext) -> Any:
            if old is not None:
                old.close()
            return self.backend.open(name)

        self._submit(
            work,
            name="Opening the library",
            writer=True,
            on_result=self._opened,
            on_error=self._open_failed,
        )

    def _open_failed(self, exc: BaseException) -> None:
        self.model_state.emit("failed")
        self.error.emit(f"The library could not be opened: {message(exc)}")

    def _opened(self, engine: Any) -> None:
        self.engine = engine
        self.name = engine.name
        self.settings.library = engine.name
        self.library_opened.emit(engine.name)
        self.status.emit(f"Library “{engine.name}” is open; loading the models…")
        for notice in getattr(engine, "notices", []):
            self.error.emit(notice)
        self.refresh_libraries()
        self.refresh_documents()
        self._submit(
            lambda _ctx: (engine.warm_up(), self.backend.readers())[1],
            name="Loading the models",
            on_result=self._warmed,
            on_error=self._warm_failed,
        )
        self._index(
            "Preparing the library",
            lambda ctx: engine.ensure_ready(ctx.progress, ctx.cancelled),
            then=self._prepared_now,
        )

    def _warmed(self, readers: list[str]) -> None:
        self.readers = readers
        self._warm = True
        self._maybe_ready()

    def _warm_failed(self, exc: BaseException) -> None:
        self._broken = message(exc)
        self.model_state.emit("failed")
        self.error.emit(f"The models could not be loaded: {message(exc)}")
        if self._pending:
            self.ask_failed.emit(self._pending, message(exc))
            self._pending = None

    def _prepared_now(self) -> None:
        self._prepared = True
        self._maybe_ready()

    def _maybe_ready(self) -> None:
        if not self.ready:
            return
        self.model_state.emit("ready")
        self.status.emit(f"Ready: ask a question about “{self.name}”.")
        if self._pending:
            question, self._pending = self._pending, None
            self.ask(question)

    # -- questions --------------------------------------------------------------------------

    def ask(self, question: str) -> None:
        """Answer ``question`` in the background; queue it while the models are still loading."""
        question = question.strip()
        if not question:
            return
        if self._broken is not None:
            self.ask_failed.emit(question, f"the models could not be loaded: {self._broken}")
            return
        if not self.ready:
            self._pending = question
            self.asking.emit(
                question,
                "Getting ready; your question will be answered as soon as the models are loaded…",
            )
            return
        self._ask_seq += 1
        seq, engine = self._ask_seq, self.engine
        k, threshold, reader = self.settings.k, self.settings.threshold, self.settings.reader
        self.asking.emit(question, "Looking for the answer…")

        def shown(result: Result) -> None:
            if seq == self._ask_seq:
                self.last_result = result
                self.result_ready.emit(result)
                total = result.timings.get("total_ms")
                self.status.emit(f"Answered in {total / 1000:.1f} s." if total else "Answered.")

        def failed(exc: BaseException) -> None:
            if seq == self._ask_seq:
                self.ask_failed.emit(question, message(exc))

        self._submit(
            lambda _ctx: engine.ask(question, k, reader=reader, threshold=threshold),
            name="Answering",
            on_result=shown,
            on_error=failed,
        )

    def load_document(self, row: SourceRow) -> None:
        """Fetch the text of ``row``'s document and emit document_ready (cached)."""
        text = self._texts.get(row.doc_id)
        if text is not None:
            self.document_ready.emit(row, text)
            return
        if self.engine is None:
            return
        engine = self.engine

        def got(text: str) -> None:
            if len(self._texts) >= TEXT_CACHE:
                self._texts.pop(next(iter(self._texts)))
            self._texts[row.doc_id] = text
            self.document_ready.emit(row, text)

        self._submit(
            lambda _ctx: engine.document_text(row.doc_id),
            name=f"Opening {os.path.basename(row.path)}",
            on_result=got,
        )

    # -- documents --------------------------------------------------------------------------

    def refresh_documents(self) -> None:
        """Re-list the library's documents and re-aim the folder watcher."""
        engine = self.engine
        if engine is None:
            return
        self._last_refresh = time.monotonic()

        def work(_ctx: TaskContext) -> tuple[list[Any], list[str]]:
            docs = engine.documents()
            folders = engine.folders()
            inside = [
                d.path
                for d in docs
                if any(d.path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)
            ]
            return docs, watch_list(folders, inside)

        def got(value: tuple[list[Any], list[str]]) -> None:
            docs, watched = value
            self.documents_changed.emit(docs)
            self.watcher.set_paths(watched)

        self._submit(work, name="Listing documents", on_result=got)

    def add(self, items: Sequence[str]) -> None:
        """Add files and folders to the open library, indexing them in the background."""
        engine, items = self.engine, [str(i) for i in items]
        if not items:
            return
        if engine is None:
            self.error.emit("The library is still opening; add the documents again in a moment.")
            return
        label = f"Adding {os.path.basename(items[0].rstrip(os.sep))}" + (
            f" and {len(items) - 1} more" if len(items) > 1 else ""
        )
        self._index(label, lambda ctx: engine.add(items, ctx.progress, ctx.cancelled))

    def sync(self) -> None:
        """Re-read the library's files and folders in the background."""
        if self.engine is None:
            return
        engine = self.engine
        self._index("Re-syncing the library", lambda ctx: engine.sync(ctx.progress, ctx.cancelled))

    def remove(self, items: Sequence[str]) -> None:
        """Remove documents (or folders) from the library; the files themselves stay."""
        engine, items = self.engine, list(items)
        if engine is None or not items:
            return

        def done(removed: list[str]) -> None:
            self.status.emit(
                f"Removed {len(removed)} document{'' if len(removed) == 1 else 's'} from the library."
            )
            self._texts.clear()
            self.refresh_documents()

        self._submit(
            lambda _ctx: engine.remove(items),
            name="Removing documents",
            writer=True,
            on_result=done,
        )

    def cancel_indexing(self) -> None:
        """Stop the running and queued indexing runs (what is indexed so far is kept)."""
        for task in list(self._index_tasks):
            task.cancel()

    def _folders_changed(self) -> None:
        if self.indexing():
            self._resync_wanted = True
        else:
            self.status.emit("Files changed in a watched folder; re-syncing…")
            self.sync()

    def _index(
        self, what: str, fn: Callable[[TaskContext], Any], *, then: Callable[[], None] | None = None
    ) -> None:
        if not self._index_tasks:
            self._run_failed, self._run_report, self._run_error = [], None, None
            self.indexing_started.emit(what)
        task: Task | None = None

        def got(report: SyncReport | None) -> None:
            self._run_report = report
            if report is not None:
                self._run_failed.extend(report.failed)

        def failed(exc: BaseException) -> None:
            self._run_error = f"{what} failed: {message(exc)}"
            self.error.emit(self._run_error)

        def progressed(progress: Progress) -> None:
            self.indexing_progress.emit(progress)
            if time.monotonic() - self._last_refresh > LIVE_REFRESH_S:
                self.refresh_documents()

        epoch = self._epoch

        def done() -> None:
            if task in self._index_tasks:
                self._index_tasks.remove(task)
            if epoch != self._epoch:
                return
            if then is not None:
                then()
            self.refresh_documents()
            if not self._index_tasks:
                self._finish_run()

        task = self._submit(
            fn,
            name=what,
            writer=True,
            on_result=got,
            on_error=failed,
            on_progress=progressed,
            on_done=done,
        )
        if task.state != "done":
            self._index_tasks.append(task)

    def _finish_run(self) -> None:
        report = self._run_report
        if report is not None and list(report.failed) != self._run_failed:
            from dataclasses import replace

            report = replace(report, failed=tuple(self._run_failed))
        self.indexing_finished.emit(report, self._run_error)
        if self._resync_wanted:
            self._resync_wanted = False
            self.sync()

    # -- closing ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the engine; call only when the runner is idle."""
        self.runner.shutdown(0)
        if self.engine is not None:
            self.engine.close()
            self.engine = None

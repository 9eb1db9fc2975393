"""The open library and all work on it, run in the background through the one task runner."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from qa_app import paths
from qa_app.gui.backend import FALLBACK_READERS, Backend
from qa_app.gui.indexing import IndexingOps
from qa_app.gui.libraries import LibraryOps, message
from qa_app.gui.models import SourceRow
from qa_app.gui.settings import AppSettings
from qa_app.gui.tasks import Task, TaskContext, TaskRunner
from qa_app.gui.watcher import FolderWatcher
from qa_app.records import FileError, Result, SyncReport

log = logging.getLogger(__name__)

TEXT_CACHE = 8  # documents kept for the viewer


class Session(LibraryOps, IndexingOps, QObject):
    """Opens libraries, answers questions, indexes; every slow step runs off the UI thread."""

    status = Signal(str)
    model_state = Signal(str)  # "loading" | "ready" | "failed"
    library_opened = Signal(str)
    libraries_changed = Signal(list, str)  # names, current
    documents_changed = Signal(list)  # list[DocumentInfo]
    folders_changed = Signal(list)  # the added folders, list[str]
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
        self.default_reader: str | None = None  # known once the readers are listed
        self.thresholds: dict[str, float] = {}  # reader -> the threshold it uses (once known)
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
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh_documents)
        self._texts: dict[int, str] = {}
        self._stopping = False
        self._orphans: list[Any] = []  # engines opened too late to be used; closed by close()

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
        opened: Callable[[Any], Any] | None = None,
        retire: Any = None,
    ) -> Task | None:
        """Run ``fn`` through the runner; return its Task, or None once the session is stopping.

        Callbacks of work submitted before the library changed (or before stop()) are dropped.
        ``opened(value)`` returns the engine a result carries, so a dropped one is still closed.
        ``retire`` is an engine ``fn`` closes first; it is closed anyway if ``fn`` never runs.
        """
        if self._stopping:
            log.debug("not starting %r: the window is closing", name)
            if retire is not None:
                self._discard(retire)
            return None
        epoch = self._epoch
        started: list[bool] = []

        def run(ctx: TaskContext) -> Any:
            started.append(True)
            return fn(ctx)

        def done() -> None:
            if retire is not None and not started:  # cancelled before it began
                self._discard(retire)
            if on_done is not None:
                on_done()

        def current(callback: Callable[..., None] | None) -> Callable[..., None] | None:
            if callback is None:
                return None
            return lambda *args: callback(*args) if epoch == self._epoch else None

        def result(value: Any) -> None:
            if epoch == self._epoch:
                if on_result is not None:
                    on_result(value)
            elif opened is not None:
                self._discard(opened(value))

        def report(exc: BaseException) -> None:
            self.error.emit(f"{name} failed: {message(exc)}")

        return self.runner.submit(
            run,
            name=name,
            writer=writer,
            on_result=result,
            on_error=current(on_error or report),
            on_progress=current(on_progress),
            on_done=done,
        )

    def _discard(self, engine: Any) -> None:
        """Close an engine that was opened for a library no longer wanted."""
        if engine is None:
            return
        if self._stopping:
            self._orphans.append(engine)
        else:
            self._submit(
                lambda _ctx: engine.close(), name="Closing a library", writer=True, retire=engine
            )

    # -- libraries --------------------------------------------------------------------------

    def start(self) -> None:
        """List the readers and open the library used last (or the default one) in the background."""
        if self._stopping:
            return
        self.open_library(self.settings.library)
        self._submit(  # after open_library(), whose new epoch would drop the result
            lambda _ctx: self._list_readers(),
            name="Listing readers",
            on_result=self._listed_readers,
        )

    def _list_readers(self) -> tuple[list[str], str]:
        """Return the reader names and the default one (imports the reader registry: a worker)."""
        return self.backend.readers(), self.backend.default_reader()

    def _listed_readers(self, value: tuple[list[str], str]) -> None:
        self.readers, self.default_reader = list(value[0]), value[1]

    def _reset(self, label: str) -> Any:
        self._epoch += 1
        old, self.engine = self.engine, None
        self._warm = self._prepared = False
        self._broken = None
        self._texts.clear()
        self.documents_changed.emit([])  # the old library's list must not show under the new name
        self.folders_changed.emit([])
        self.watcher.set_paths([])
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
            opened=lambda engine: engine,
            retire=old,
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
            lambda _ctx: (engine.warm_up(), self._list_readers(), self._thresholds(engine))[1:],
            name="Loading the models",
            on_result=self._warmed,
            on_error=self._warm_failed,
        )
        self._index(
            "Preparing the library",
            lambda ctx: engine.ensure_ready(ctx.progress, ctx.cancelled),
            then=self._prepared_now,
        )

    def _thresholds(self, engine: Any) -> dict[str, float]:
        """Return the thresholds of the readers already loaded (the default and the chosen one)."""
        out: dict[str, float] = {}
        for name in {None, self.settings.reader}:
            try:
                reader = engine.reader(name)
                out[reader.name] = float(reader.threshold)
            except Exception:  # noqa: BLE001 - a reader that fails says so when asked
                log.debug("threshold of reader %r unknown", name, exc_info=True)
        return out

    def _warmed(self, value: tuple[tuple[list[str], str], dict[str, float]]) -> None:
        readers, thresholds = value
        self.thresholds.update(thresholds)
        self._listed_readers(readers)  # known for certain once ready, even if listing them lagged
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
            self.thresholds.setdefault(result.reader, result.threshold)
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

    # -- closing ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Cancel all work and start no more: the window is closing.

        Work already running finishes (indexing stops at its next file and keeps what it did);
        its results are dropped, except that engines it opened are kept for close().
        """
        self._stopping = True
        self._epoch += 1
        self._refresh_timer.stop()
        self._pending = None
        self._resync_wanted = False
        self.watcher.set_paths([])
        self.runner.cancel_all()

    def close(self) -> None:
        """Close the engine and any orphaned ones; call after stop(), once the runner is idle."""
        self._stopping = True
        self.runner.shutdown(0)
        engines, self._orphans = [self.engine, *self._orphans], []
        self.engine = None
        for engine in engines:
            if engine is None:
                continue
            try:
                engine.close()
            except Exception:  # noqa: BLE001 - the others must still be closed
                log.exception("closing library %r failed", getattr(engine, "name", "?"))

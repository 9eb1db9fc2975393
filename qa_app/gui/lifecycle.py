"""The open library's lifecycle: opening, getting ready, switching and closing it, in one state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from qa_app import paths
from qa_app.gui.backend import Backend
from qa_app.gui.library_state import Event, LibraryState, next_state
from qa_app.gui.messages import Messages, message
from qa_app.gui.readers import Readers, list_readers, thresholds
from qa_app.gui.settings import AppSettings
from qa_app.gui.tasks import Task, TaskContext, TaskRunner

if TYPE_CHECKING:
    from qa_app.contracts import Engine

log = logging.getLogger(__name__)

# What a library switch does on disk before the library it names is opened (on a worker, with
# no library open): the name to open (None: the default) and a problem to report, or None.
Change = Callable[[], tuple[str | None, str | None]]


class LibraryLifecycle(QObject):
    """Owns the open library's engine and its LibraryState; every slow step runs on the runner.

    The other parts of the session run their work through submit(), so what they started for a
    library is dropped once another one is opened or the window closes. Indexing reports the end
    of the preparing run with prepared(); everything else about the state is decided here.
    """

    state_changed = Signal(object)  # LibraryState, after every transition

    def __init__(
        self,
        backend: Backend,
        settings: AppSettings,
        runner: TaskRunner,
        messages: Messages,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.settings = backend, settings
        self.runner, self.messages = runner, messages
        self.state = LibraryState.NO_LIBRARY
        self.engine: Engine | None = None
        self.name = ""  # the library opened last
        self.problem: str | None = None  # why, in OPEN_FAILED and MODELS_FAILED
        # The library whose database is damaged (OPEN_FAILED on damage): `repair` fixes it.
        self.damaged: str | None = None
        self._wanted: str | None = None  # the library the last switch opens
        self.readers = Readers()
        self._generation = 0  # bumped when the library changes or the session stops
        self._orphans: list[Engine] = []  # engines that arrived after stop(); closed by close()

    @property
    def ready(self) -> bool:
        """Return True in READY: the library is prepared and the models are loaded."""
        return self.state is LibraryState.READY

    def _move(self, event: Event) -> None:
        self.state = next_state(self.state, event)  # raises IllegalTransition: a bug, not input
        self.state_changed.emit(self.state)

    # -- running work for the open library -----------------------------------------------------

    def submit(
        self,
        fn: Callable[[TaskContext], Any],
        *,
        name: str,
        writer: bool = False,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> Task | None:
        """Run ``fn`` for the open library; return its Task, or None once the session stopped.

        The callbacks are dropped once another library is opened or the session stops. A failure
        with no ``on_error`` is reported as "<name> failed: <reason>".
        """
        return self._submit(
            fn,
            name=name,
            writer=writer,
            on_result=on_result,
            on_error=on_error,
            on_progress=on_progress,
            on_done=on_done,
        )

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
        opened: Callable[[Any], Engine | None] | None = None,
        retire: Engine | None = None,
    ) -> Task | None:
        # ``opened(value)`` returns the engine a result carries, so a dropped one is still closed;
        # ``retire`` is an engine ``fn`` closes first, closed anyway if ``fn`` never runs.
        if self.state is LibraryState.CLOSED:
            log.debug("not starting %r: the window is closing", name)
            if retire is not None:
                self._discard(retire)
            return None
        generation = self._generation
        started: list[bool] = []

        def current(callback: Callable[..., None] | None) -> Callable[..., None] | None:
            if callback is None:
                return None
            return lambda *args: callback(*args) if generation == self._generation else None

        def run(ctx: TaskContext) -> Any:
            started.append(True)
            return fn(ctx)

        def result(value: Any) -> None:
            if generation == self._generation:
                if on_result is not None:
                    on_result(value)
            elif opened is not None:
                self._discard(opened(value))

        def done() -> None:
            if retire is not None and not started:  # cancelled before it began
                self._discard(retire)
            if on_done is not None and generation == self._generation:
                on_done()

        def report(exc: BaseException) -> None:
            self.messages.error.emit(f"{name} failed: {message(exc)}")

        return self.runner.submit(
            run,
            name=name,
            writer=writer,
            on_result=result,
            on_error=current(on_error or report),
            on_progress=current(on_progress),
            on_done=done,
        )

    def _discard(self, engine: Engine | None) -> None:
        """Close an engine that was opened for a library no longer wanted."""
        if engine is None:
            return
        if self.state is LibraryState.CLOSED:
            self._orphans.append(engine)
        else:
            self._submit(
                lambda _ctx: engine.close(), name="Closing a library", writer=True, retire=engine
            )

    # -- opening ------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the library used last (or the default one) and list the readers, in the background."""
        if self.state is LibraryState.CLOSED:
            return
        self.open(self.settings.library)
        backend = self.backend  # work never holds the lifecycle: see TaskRunner.submit
        self.submit(  # after open(), whose new generation would drop the result
            lambda _ctx: list_readers(backend),
            name="Listing readers",
            on_result=self._listed_readers,
        )

    def open(self, name: str | None) -> None:
        """Close the open library and open ``name`` (None: the default library)."""
        self.switch(f"Opening library “{name or paths.DEFAULT_LIBRARY}”…", lambda: (name, None))

    def switch(self, label: str, change: Change, *, task: str = "Opening the library") -> None:
        """Close the open library, run ``change`` on a worker, then open the library it names.

        ``label`` is shown meanwhile; a problem ``change`` returns is reported as an error. When
        opening fails, the state is OPEN_FAILED.
        """
        if self.state is LibraryState.CLOSED:
            return
        self._generation += 1
        old, self.engine, self.problem = self.engine, None, None
        self._move(Event.OPEN)
        self.messages.status.emit(label)

        backend = self.backend

        def work(_ctx: TaskContext) -> tuple[Engine, str | None]:
            if old is not None:
                old.close()
            target, problem = change()
            self._wanted = target
            return backend.open(target), problem

        def done(value: tuple[Engine, str | None]) -> None:
            engine, problem = value
            if problem is not None:
                self.messages.error.emit(problem)
            self._opened(engine)

        self._submit(
            work,
            name=task,
            writer=True,
            on_result=done,
            on_error=self._open_failed,
            opened=lambda value: value[0],
            retire=old,
        )

    def _open_failed(self, exc: BaseException) -> None:
        from qa_app.index.database import StoreDamaged

        self.problem = message(exc)
        damaged = isinstance(exc, StoreDamaged)
        self.damaged = (self._wanted or paths.DEFAULT_LIBRARY) if damaged else None
        self._move(Event.OPEN_FAILED)
        self.messages.error.emit(f"The library could not be opened: {self.problem}")

    def repair(self) -> None:
        """Rebuild the damaged library's database from its added files (the damaged file is kept
        beside it), then open it; what was recovered, and what was not, is shown in the banner."""
        name = self.damaged
        if name is None:
            return
        self.damaged = None
        backend = self.backend

        def change() -> tuple[str | None, str | None]:
            return name, backend.repair_library(name)

        self.switch(f"Repairing library “{name}”…", change, task="Repairing the library")

    def _opened(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.name
        self.settings.library = engine.name
        self._move(Event.OPENED)  # indexing lists the documents and starts preparing the library
        self.messages.status.emit(f"Library “{engine.name}” is open; loading the models…")
        for notice in engine.notices:
            self.messages.error.emit(notice)

        backend, chosen = self.backend, self.settings.reader

        def warm_up(_ctx: TaskContext) -> tuple[tuple[list[str], str], dict[str, float]]:
            engine.warm_up()
            return list_readers(backend), thresholds(engine, chosen)

        self.submit(
            warm_up,
            name="Loading the models",
            on_result=self._warmed,
            on_error=self._warm_failed,
        )

    # -- getting ready ------------------------------------------------------------------------

    def _listed_readers(self, value: tuple[list[str], str]) -> None:
        self.readers.names, self.readers.default = list(value[0]), value[1]

    def _warmed(self, value: tuple[tuple[list[str], str], dict[str, float]]) -> None:
        readers, thresholds = value
        self.readers.thresholds.update(thresholds)
        self._listed_readers(readers)  # known for certain once ready, even if listing them lagged
        self._move(Event.MODELS_LOADED)
        self._say_ready()

    def _warm_failed(self, exc: BaseException) -> None:
        self.problem = message(exc)
        self.messages.error.emit(f"The models could not be loaded: {self.problem}")
        self._move(Event.MODELS_FAILED)

    def prepared(self) -> None:
        """Record that the run preparing the open library ended (Indexing calls this)."""
        self._move(Event.PREPARED)
        self._say_ready()

    def _say_ready(self) -> None:
        if self.ready:
            self.messages.status.emit(f"Ready: ask a question about “{self.name}”.")

    # -- closing ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Cancel all work and start no more: the window is closing.

        Work already running finishes (indexing stops at its next file and keeps what it did);
        its results are dropped, except that engines it opened are kept for close().
        """
        if self.state is LibraryState.CLOSED:
            return
        self._generation += 1
        self._move(Event.STOP)
        self.runner.cancel_all()

    def close(self) -> None:
        """Close the engine and any orphaned ones; call after stop(), once the runner is idle."""
        self.stop()
        self.runner.shutdown(0)
        engines, self._orphans = [self.engine, *self._orphans], []
        self.engine = None
        for engine in engines:
            if engine is None:
                continue
            try:
                engine.close()
            except Exception:  # noqa: BLE001 - the others must still be closed
                log.exception("closing library %r failed", engine.name)

"""The one way work leaves the UI thread: run a callable on a pool, get its result or error back on the UI thread."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = (
    0.05  # seconds between progress deliveries; more would only flood the event loop
)


class TaskContext:
    """What worker code sees: report progress and ask whether to stop. It never touches widgets."""

    def __init__(self, emit: Callable[[object], None], stop: threading.Event) -> None:
        self._emit = emit
        self._stop = stop
        self._last = 0.0

    def progress(self, value: object) -> None:
        """Deliver ``value`` to the task's progress callback on the UI thread (throttled)."""
        done, total = getattr(value, "done", None), getattr(value, "total", None)
        final = done is not None and total is not None and done >= total
        now = time.monotonic()
        if final or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self._emit(value)

    def cancelled(self) -> bool:
        """Return True once the task has been asked to stop."""
        return self._stop.is_set()


class _Signals(QObject):
    progress = Signal(object)
    result = Signal(object)
    error = Signal(object)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[TaskContext], Any], signals: _Signals, stop: threading.Event):
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._signals = signals
        self._stop = stop

    def run(self) -> None:
        context = TaskContext(self._signals.progress.emit, self._stop)
        try:
            value = self._fn(context)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the UI thread
            self._signals.error.emit(exc)
        else:
            self._signals.result.emit(value)


class Task(QObject):
    """A handle on one piece of background work; its callbacks run on the UI thread."""

    finished = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        fn: Callable[[TaskContext], Any],
        *,
        name: str,
        writer: bool,
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        on_progress: Callable[[Any], None] | None,
        on_done: Callable[[], None] | None,
    ) -> None:
        super().__init__()  # owned by Python, not by the runner: it lives as long as someone holds it
        self.name = name
        self.writer = writer
        self.state = "queued"  # "queued" | "running" | "done"
        self._runner = runner
        self._fn = fn
        self._stop = threading.Event()
        self._on_result, self._on_error = on_result, on_error
        self._on_progress, self._on_done = on_progress, on_done
        self._signals = _Signals()
        queued = Qt.ConnectionType.QueuedConnection
        self._signals.progress.connect(self._deliver_progress, queued)
        self._signals.result.connect(self._deliver_result, queued)
        self._signals.error.connect(self._deliver_error, queued)

    def cancel(self) -> None:
        """Ask the work to stop; it stops at its next cancel check. Queued work never starts."""
        self._stop.set()
        if self.state == "queued":
            self._runner._forget(self)

    def is_cancelled(self) -> bool:
        """Return True once cancel() was called."""
        return self._stop.is_set()

    def _start(self, pool: QThreadPool) -> None:
        self.state = "running"
        pool.start(_Runnable(self._fn, self._signals, self._stop))

    @Slot(object)
    def _deliver_progress(self, value: object) -> None:
        if self.state == "running" and self._on_progress and not self._runner.closed:
            self._on_progress(value)

    @Slot(object)
    def _deliver_result(self, value: object) -> None:
        try:
            if self._on_result and not self._runner.closed:
                self._on_result(value)
        finally:
            self._runner._finish(self)

    @Slot(object)
    def _deliver_error(self, exc: BaseException) -> None:
        try:
            if self._runner.closed:
                return
            if self._on_error:
                self._on_error(exc)
            else:
                log.error("background task %r failed", self.name, exc_info=exc)
        finally:
            self._runner._finish(self)

    def _complete(self) -> None:
        self.state = "done"
        try:
            if self._on_done and not self._runner.closed:
                self._on_done()
        finally:
            self.finished.emit()


class TaskRunner(QObject):
    """Runs callables off the UI thread; readers run side by side, writers one at a time in order."""

    idle = Signal()
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 3) -> None:
        super().__init__(parent)
        self.closed = False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._running: list[Task] = []
        self._writers: deque[Task] = deque()

    def submit(
        self,
        fn: Callable[[TaskContext], Any],
        *,
        name: str = "",
        writer: bool = False,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> Task:
        """Run ``fn(context)`` in the background and return its Task.

        ``on_result(value)`` or ``on_error(exception)`` runs on the UI thread when it ends, then
        ``on_done()``. Writer tasks run one at a time, in submission order. Raises RuntimeError
        after shutdown().
        """
        if self.closed:
            raise RuntimeError("the task runner has been shut down")
        task = Task(
            self,
            fn,
            name=name or getattr(fn, "__name__", "task"),
            writer=writer,
            on_result=on_result,
            on_error=on_error,
            on_progress=on_progress,
            on_done=on_done,
        )
        was_busy = self.is_busy()
        if writer:
            self._writers.append(task)
            self._start_next_writer()
        else:
            self._running.append(task)
            task._start(self._pool)
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def tasks(self) -> list[Task]:
        """Return running and queued tasks (running first)."""
        return [*self._running, *self._writers]

    def is_busy(self) -> bool:
        """Return True while any task runs or waits."""
        return bool(self._running or self._writers)

    def writer_running(self) -> Task | None:
        """Return the writer task that is running now, if any."""
        return next((t for t in self._running if t.writer), None)

    def cancel_all(self) -> None:
        """Cancel every running and queued task."""
        for task in self.tasks():
            task.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until running work ends (for shutdown and tests); return False on time-out."""
        return self._pool.waitForDone(msecs)

    def shutdown(self, msecs: int = 30000) -> bool:
        """Cancel everything, wait for workers and drop any callbacks still to come."""
        self.cancel_all()
        finished = self.wait(msecs)
        self.closed = True
        return finished

    # -- bookkeeping (UI thread only) -------------------------------------------------------

    def _start_next_writer(self) -> None:
        if self.writer_running() is not None or self.closed:
            return
        while self._writers:
            task = self._writers.popleft()
            if task.is_cancelled():
                task._complete()
                continue
            self._running.append(task)
            task._start(self._pool)
            return

    def _forget(self, task: Task) -> None:
        if task in self._writers:
            self._writers.remove(task)
            task._complete()
            self._check_idle()

    def _finish(self, task: Task) -> None:
        if task in self._running:
            self._running.remove(task)
        task._complete()
        if task.writer:
            self._start_next_writer()
        self._check_idle()

    def _check_idle(self) -> None:
        if not self.is_busy():
            self.busy_changed.emit(False)
            self.idle.emit()

"""The one way work leaves the UI thread: run a callable on a pool, get its result or error back on the UI thread."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal, Slot

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


class _Mailbox(QObject):
    """Carries workers' messages to the UI thread. One per application, owned by it.

    Workers hold no QObject of their own: a per-task QObject could be deleted on a worker thread
    (by Python's garbage collector, which runs wherever it happens to be triggered) while the UI
    thread still delivers to it, and it could outlive the window it reports to.
    """

    posted = Signal(object)

    def __init__(self, parent: QObject | None) -> None:
        super().__init__(parent)
        self.posted.connect(self._open, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _open(self, message: Callable[[], None]) -> None:
        message()


_mailbox: _Mailbox | None = None


def _the_mailbox() -> _Mailbox:
    """Return the application's mailbox, creating it (call on the UI thread)."""
    global _mailbox
    if _mailbox is None or not shiboken6.isValid(_mailbox):
        _mailbox = _Mailbox(QCoreApplication.instance())
    return _mailbox


class _Runnable(QRunnable):
    """Runs one task's callable on a pool thread and posts what came of it."""

    def __init__(
        self,
        fn: Callable[[TaskContext], Any],
        post: Callable[[str, object], None],
        stop: threading.Event,
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._post = post
        self._stop = stop

    def run(self) -> None:
        context = TaskContext(lambda value: self._post("progress", value), self._stop)
        try:
            value = self._fn(context)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the UI thread
            self._post("error", exc)
        else:
            self._post("result", value)


class Task:
    """A handle on one piece of background work; its callbacks run on the UI thread."""

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
        self.name = name
        self.writer = writer
        self.state = "queued"  # "queued" | "running" | "done"
        self._runner = weakref.ref(runner)  # the worker must never be the one to free the runner
        self._fn: Callable[[TaskContext], Any] | None = fn
        self._stop = threading.Event()
        self._on_result, self._on_error = on_result, on_error
        self._on_progress, self._on_done = on_progress, on_done

    def cancel(self) -> None:
        """Ask the work to stop; it stops at its next cancel check. Queued work never starts."""
        self._stop.set()
        runner = self._runner()
        if self.state == "queued" and runner is not None:
            runner._forget(self)

    def is_cancelled(self) -> bool:
        """Return True once cancel() was called."""
        return self._stop.is_set()

    def _start(self, pool: QThreadPool, mailbox: _Mailbox) -> None:
        self.state = "running"
        # The worker keeps only weak references to the task and its runner, so whatever they
        # own is always freed on the UI thread, never on the worker's.
        runner, task = self._runner, weakref.ref(self)

        def post(kind: str, value: object) -> None:  # on the worker thread
            with contextlib.suppress(RuntimeError):  # the application is gone: no one to tell
                mailbox.posted.emit(lambda: _deliver(runner, task, kind, value))

        fn, self._fn = self._fn, None
        assert fn is not None, "a task starts once"
        pool.start(_Runnable(fn, post, self._stop))


def _deliver(
    runner_ref: weakref.ref[TaskRunner], task_ref: weakref.ref[Task], kind: str, value: Any
) -> None:
    """Hand a worker's message to its runner, unless the runner (and its owner) is gone."""
    runner, task = runner_ref(), task_ref()
    if runner is not None and task is not None and shiboken6.isValid(runner):
        runner._deliver(task, kind, value)


class TaskRunner(QObject):
    """Runs callables off the UI thread; readers run side by side, writers one at a time in order."""

    idle = Signal()

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 3) -> None:
        super().__init__(parent)
        self.closed = False
        # A child of the runner: if the runner is destroyed with work running, the pool's
        # destructor waits for that work instead of leaving it running with no one to report to.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._mailbox = _the_mailbox()
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
        ``on_done()``. Writer tasks run one at a time, in submission order. ``fn`` is released on
        the worker thread, so it must not be the last owner of a QObject. Raises RuntimeError
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
        if writer:
            self._writers.append(task)
            self._start_next_writer()
        else:
            self._running.append(task)
            task._start(self._pool, self._mailbox)
        return task

    def tasks(self) -> list[Task]:
        """Return running and queued tasks (running first)."""
        return [*self._running, *self._writers]

    def is_busy(self) -> bool:
        """Return True while any task runs or waits."""
        return bool(self._running or self._writers)

    def has_writers(self) -> bool:
        """Return True while a writer runs or waits (a library is being changed)."""
        return self.writer_running() is not None or bool(self._writers)

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

    def _deliver(self, task: Task, kind: str, value: Any) -> None:
        if kind == "progress":
            if task.state == "running" and task._on_progress and not self.closed:
                task._on_progress(value)
            return
        try:
            if self.closed:
                return
            if kind == "result":
                if task._on_result:
                    task._on_result(value)
            elif task._on_error:
                task._on_error(value)
            else:
                log.error("background task %r failed", task.name, exc_info=value)
        finally:
            self._finish(task)  # even when a callback raised: the next writer must still start

    def _start_next_writer(self) -> None:
        if self.writer_running() is not None or self.closed:
            return
        while self._writers:
            task = self._writers.popleft()
            if task.is_cancelled():
                self._complete(task)
                continue
            self._running.append(task)
            task._start(self._pool, self._mailbox)
            return

    def _forget(self, task: Task) -> None:
        if task in self._writers:
            self._writers.remove(task)
            try:
                self._complete(task)
            finally:
                self._check_idle()

    def _finish(self, task: Task) -> None:
        if task in self._running:
            self._running.remove(task)
        try:
            self._complete(task)
        finally:
            if task.writer:
                self._start_next_writer()
            self._check_idle()

    def _complete(self, task: Task) -> None:
        task.state = "done"
        if task._on_done and not self.closed:
            task._on_done()

    def _check_idle(self) -> None:
        if not self.is_busy():
            self.idle.emit()

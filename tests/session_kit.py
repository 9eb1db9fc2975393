"""The window's session parts built without a window, over the GUI tests' fake engine (tests only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import shiboken6
from gui_fakes import FakeBackend, FakeEngine
from PySide6.QtCore import QObject

from qa_app.gui.library_state import LibraryState
from qa_app.gui.lifecycle import LibraryLifecycle
from qa_app.gui.messages import Messages
from qa_app.gui.settings import AppSettings
from qa_app.gui.tasks import TaskContext, TaskRunner


@dataclass
class Kit:
    """A lifecycle over a FakeBackend, with what it said recorded.

    Every part is a child of ``root``, deleted by finish() on the UI thread: a QObject without a
    parent could otherwise be freed by Python's garbage collector on a worker thread.
    """

    root: QObject
    backend: FakeBackend
    runner: TaskRunner
    messages: Messages
    library: LibraryLifecycle
    states: list[LibraryState] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    def engine(self) -> FakeEngine:
        """Return the open engine (a FakeEngine)."""
        engine = self.library.engine
        assert isinstance(engine, FakeEngine)
        return engine

    def prepare_on_open(self) -> None:
        """Do what Indexing does when a library opens: run ensure_ready, then say prepared()."""

        def opened(state: LibraryState) -> None:
            if state is LibraryState.STARTING:
                engine = self.engine()

                def work(ctx: TaskContext) -> object:
                    return engine.ensure_ready(ctx.progress, ctx.cancelled)

                self.library.submit(
                    work, name="Preparing", writer=True, on_done=self.library.prepared
                )

        self.library.state_changed.connect(opened)


def make_kit(backend: FakeBackend | None = None) -> Kit:
    """Return a Kit; call finish() at the end of the test."""
    backend = backend or FakeBackend()
    root = QObject()
    runner, messages = TaskRunner(root), Messages(root)
    library = LibraryLifecycle(backend, AppSettings(), runner, messages, root)
    kit = Kit(root, backend, runner, messages, library)
    library.state_changed.connect(kit.states.append)
    messages.error.connect(kit.errors.append)
    messages.status.connect(kit.statuses.append)
    return kit


def finish(qtbot, kit: Kit) -> None:  # noqa: ANN001 - pytest-qt's qtbot
    """Release every gate, stop and close like the window does, and check every engine closed."""
    backend = kit.backend
    for gate in (backend.gate, backend.warm_gate, backend.open_gate, backend.text_gate):
        if gate is not None:
            gate.set()
    if backend.finish_gate is not None:
        backend.finish_gate.set()
    kit.library.stop()
    qtbot.waitUntil(lambda: not kit.runner.is_busy(), timeout=10000)
    kit.library.close()
    assert kit.library.state is LibraryState.CLOSED and kit.library.engine is None
    assert all(engine.closed for engine in backend.engines)
    shiboken6.delete(kit.root)

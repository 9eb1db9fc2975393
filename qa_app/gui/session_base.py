"""What the session's parts (library and indexing operations) use of the Session, for mypy only."""

# The parts are mixins of Session; at run time their base is ``object``. For the type checker they
# derive from SessionBase, which declares the Session's state, signals and the methods the parts
# call (on Session or on each other), so each part is checked without importing Session (a cycle).

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtCore import QObject, QTimer, Signal

    from qa_app.gui.backend import Backend
    from qa_app.gui.tasks import Task, TaskContext
    from qa_app.gui.watcher import FolderWatcher
    from qa_app.records import FileError, SyncReport

    class SessionBase(QObject):
        status: Signal
        error: Signal
        libraries_changed: Signal
        documents_changed: Signal
        folders_changed: Signal
        indexing_started: Signal
        indexing_progress: Signal
        indexing_finished: Signal

        engine: Any
        name: str
        backend: Backend
        watcher: FolderWatcher
        _epoch: int
        _stopping: bool
        _texts: dict[int, str]
        _index_tasks: list[Task]
        _run_failed: list[FileError]
        _run_report: SyncReport | None
        _run_error: str | None
        _resync_wanted: bool
        _last_refresh: float
        _refresh_timer: QTimer

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
        ) -> Task | None: ...
        def _reset(self, label: str) -> Any: ...
        def _opened(self, engine: Any) -> None: ...
        def _open_failed(self, exc: BaseException) -> None: ...
        def open_library(self, name: str | None) -> None: ...
        def indexing(self) -> bool: ...
        # Each part calls the other's:
        def refresh_libraries(self) -> None: ...
        def refresh_documents(self) -> None: ...
        def sync(self) -> None: ...

else:
    SessionBase = object

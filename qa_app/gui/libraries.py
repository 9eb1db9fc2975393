"""Creating, renaming and deleting libraries: the part of the session that manages libraries."""

from __future__ import annotations

from typing import Any

from qa_app import paths
from qa_app.gui.session_base import SessionBase
from qa_app.gui.tasks import TaskContext


def message(exc: BaseException) -> str:
    """Return an exception as a sentence for a person."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


class LibraryOps(SessionBase):
    """Library management for Session; every step that touches disk runs as a background task."""

    def refresh_libraries(self) -> None:
        """Re-list the libraries on disk."""
        self._submit(
            lambda _ctx: self.backend.libraries(),
            name="Listing libraries",
            on_result=lambda names: self.libraries_changed.emit(names, self.name),
        )

    def create_library(self, name: str) -> None:
        """Create library ``name`` and open it (an error is emitted for a bad or taken name)."""
        try:
            paths.check_library_name(name)
        except ValueError as exc:
            self.error.emit(message(exc))
            return
        self._submit(
            lambda _ctx: self.backend.libraries(),
            name="Creating a library",
            on_result=lambda names: (
                self.error.emit(f"A library called “{name}” already exists.")
                if name in names
                else self.open_library(name)
            ),
        )

    def rename_library(self, old: str, new: str) -> None:
        """Rename library ``old`` to ``new``, reopening it when it is the open one."""
        try:
            paths.check_library_name(new)
        except ValueError as exc:
            self.error.emit(message(exc))
            return
        is_open = old == self.name
        engine = self._reset(f"Renaming “{old}” to “{new}”…") if is_open else None

        def work(_ctx: TaskContext) -> tuple[Any, BaseException | None]:
            if engine is not None:
                engine.close()
            try:
                self.backend.rename_library(old, new)
                target, problem = new, None
            except Exception as exc:  # noqa: BLE001 - reopen the old library, then report
                target, problem = old, exc
            return (self.backend.open(target) if is_open else None), problem

        def done(value: tuple[Any, BaseException | None]) -> None:
            opened, problem = value
            if problem is not None:
                self.error.emit(f"Could not rename “{old}”: {message(problem)}")
            if opened is not None:
                self._opened(opened)
            else:
                self.refresh_libraries()

        self._submit(
            work,
            name="Renaming the library",
            writer=True,
            on_result=done,
            on_error=self._open_failed,
            opened=lambda value: value[0],
            retire=engine,
        )

    def delete_library(self, name: str) -> None:
        """Delete library ``name``; when it is the open one, open the default library after."""
        is_open = name == self.name
        engine = self._reset(f"Deleting “{name}”…") if is_open else None

        def work(_ctx: TaskContext) -> tuple[Any, BaseException | None]:
            if engine is not None:
                engine.close()
            try:
                self.backend.delete_library(name)
                problem = None
            except Exception as exc:  # noqa: BLE001 - a library must be open again, then report
                problem = exc
            return (
                self.backend.open(None if problem is None else name) if is_open else None
            ), problem

        def done(value: tuple[Any, BaseException | None]) -> None:
            opened, problem = value
            if problem is not None:
                self.error.emit(f"Could not delete “{name}”: {message(problem)}")
            else:
                self.status.emit(f"Deleted library “{name}”.")
            if opened is not None:
                self._opened(opened)
            else:
                self.refresh_libraries()

        self._submit(
            work,
            name=f"Deleting “{name}”",
            writer=True,
            on_result=done,
            on_error=self._open_failed if is_open else None,
            opened=lambda value: value[0],
            retire=engine,
        )

"""The libraries on disk: listing, creating, renaming and deleting them, in the background."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from qa_app import paths
from qa_app.gui.backend import Backend
from qa_app.gui.library_state import LibraryState
from qa_app.gui.lifecycle import LibraryLifecycle
from qa_app.gui.messages import Messages, message


class LibraryCatalog(QObject):
    """Manages the libraries on disk; renaming or deleting the open one switches the lifecycle."""

    changed = Signal(list, str)  # the names on disk, the open one

    def __init__(
        self,
        library: LibraryLifecycle,
        backend: Backend,
        messages: Messages,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._library, self._backend, self._messages = library, backend, messages
        library.state_changed.connect(self._state_changed)

    def _state_changed(self, state: LibraryState) -> None:
        if state is LibraryState.STARTING:  # a library was opened: it may be a new one
            self.refresh()

    def refresh(self) -> None:
        """Re-list the libraries on disk."""
        backend = self._backend  # work never holds a QObject: see TaskRunner.submit
        self._library.submit(
            lambda _ctx: backend.libraries(),
            name="Listing libraries",
            on_result=lambda names: self.changed.emit(names, self._library.name),
        )

    def create(self, name: str) -> None:
        """Create library ``name`` and open it (an error is emitted for a bad or taken name)."""
        try:
            paths.check_library_name(name)
        except ValueError as exc:
            self._messages.error.emit(message(exc))
            return
        backend = self._backend
        self._library.submit(
            lambda _ctx: backend.libraries(),
            name="Creating a library",
            on_result=lambda names: (
                self._messages.error.emit(f"A library called “{name}” already exists.")
                if name in names
                else self._library.open(name)
            ),
        )

    def rename(self, old: str, new: str) -> None:
        """Rename library ``old`` to ``new``, reopening it when it is the open one."""
        try:
            paths.check_library_name(new)
        except ValueError as exc:
            self._messages.error.emit(message(exc))
            return
        backend = self._backend

        def change() -> tuple[str, str | None]:
            try:
                backend.rename_library(old, new)
            except Exception as exc:  # noqa: BLE001 - reopen the old library, then report
                return old, f"Could not rename “{old}”: {message(exc)}"
            return new, None

        if old == self._library.name:
            self._library.switch(
                f"Renaming “{old}” to “{new}”…", change, task="Renaming the library"
            )
        else:
            self._library.submit(
                lambda _ctx: change()[1],
                name="Renaming the library",
                writer=True,
                on_result=self._changed,
            )

    def delete(self, name: str) -> None:
        """Delete library ``name``; when it is the open one, open the default library after."""
        backend = self._backend

        def change() -> tuple[str | None, str | None]:
            try:
                backend.delete_library(name)
            except Exception as exc:  # noqa: BLE001 - a library must be open again, then report
                return name, f"Could not delete “{name}”: {message(exc)}"
            return None, None

        if name == self._library.name:
            self._library.switch(f"Deleting “{name}”…", change, task=f"Deleting “{name}”")
        else:
            self._library.submit(
                lambda _ctx: change()[1],
                name=f"Deleting “{name}”",
                writer=True,
                on_result=lambda problem: self._changed(problem, f"Deleted library “{name}”."),
            )

    def _changed(self, problem: str | None, done: str | None = None) -> None:
        if problem is not None:
            self._messages.error.emit(problem)
        elif done is not None:
            self._messages.status.emit(done)
        self.refresh()

"""What the window does when asked: add documents, manage libraries, copy, export, settings, help."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox

from qa_app import APP_DESCRIPTION, APP_DISPLAY_NAME, __version__, logfile, render
from qa_app.gui import dialogs, export
from qa_app.gui.settings import SettingsDialog
from qa_app.gui.shortcuts_dialog import ShortcutsDialog

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMainWindow

    from qa_app.gui.ask_panel import AskPanel
    from qa_app.gui.library_panel import LibraryPanel
    from qa_app.gui.models import SourceRow
    from qa_app.gui.session import Session
    from qa_app.gui.settings import AppSettings
    from qa_app.gui.viewer import DocumentViewer

    class _Window(QMainWindow):
        """What the commands and menus use of MainWindow (for mypy; MainWindow imports this
        module, the menus and the context menus, so none of them imports it back)."""

        session: Session
        settings: AppSettings
        ask_panel: AskPanel
        viewer: DocumentViewer
        library_panel: LibraryPanel
        named_actions: dict[str, QAction]
        _add_on_open: list[str]

        def show_error(self, text: str) -> None: ...
        def remove_documents(self, paths: list[str]) -> None: ...
        def open_source(self, row: SourceRow) -> None: ...
        def focus_question(self) -> None: ...
        def toggle_search_mode(self) -> None: ...
        def focus_filter(self) -> None: ...

else:
    _Window = object


class WindowActions(_Window):
    """The menu commands of MainWindow (a mixin: it uses the window's panels and session)."""

    def add_files(self) -> None:
        """Ask for documents and add them."""
        self.session.indexing.add(dialogs.pick_files(self))

    def add_paths(self, paths: Sequence[str]) -> None:
        """Add files and folders named on the command line ("Open with" in a file manager) to the
        library, as soon as it is open. Paths that do not exist are reported by name."""
        found: list[str] = []
        missing: list[str] = []
        for p in paths:
            (found if os.path.exists(p) else missing).append(p)
        if missing:
            self.show_error("Not added, no such file or folder: " + ", ".join(missing))
        found = [os.path.abspath(p) for p in found]
        if not found:
            return
        if self.session.library.engine is None:
            self._add_on_open.extend(found)
        else:
            self.session.indexing.add(found)

    def add_folder(self) -> None:
        """Ask for a folder and add it (it is then watched for changes)."""
        folder = dialogs.pick_folder(self)
        if folder:
            self.session.indexing.add([folder])

    def new_library(self) -> None:
        """Ask for a name and create a library."""
        name = dialogs.ask_text(self, "New library", "Name of the new library:")
        if name:
            self.session.libraries.create(name)

    def rename_library(self) -> None:
        """Ask for a new name for the open library."""
        old = self.session.library.name
        new = dialogs.ask_text(self, "Rename library", f"New name for “{old}”:", old)
        if old and new and new != old:
            self.session.libraries.rename(old, new)

    def delete_library(self) -> None:
        """Delete the open library after confirmation."""
        name = self.session.library.name
        text = (
            f"Delete the library “{name}” and its index? Your documents themselves are not touched."
        )
        if name and dialogs.confirm(self, "Delete library", text):
            self.session.libraries.delete(name)

    def copy_answer(self) -> None:
        """Copy the answer with its citation to the clipboard."""
        result = self.session.asking.last_result
        if result is not None:
            QGuiApplication.clipboard().setText(render.clipboard_text(result))
            self.statusBar().showMessage("Copied the answer with its citation.", 5000)

    def export_result(self) -> None:
        """Save the current result as Markdown or JSON (chosen by the file's extension)."""
        result = self.session.asking.last_result
        if result is None:
            return
        target = dialogs.save_file(
            self, "Export result", "answer.md", "Markdown (*.md);;JSON (*.json)"
        )
        if not target:
            return
        text = (
            render.to_json(result)
            if target.lower().endswith(".json")
            else render.to_markdown(result)
        )
        self.session.runner.submit(
            lambda _ctx: export.save(target, text),
            name="Exporting",
            on_result=lambda _n: self.statusBar().showMessage(f"Saved {target}.", 5000),
            on_error=lambda exc: self.show_error(f"Could not save {target}: {exc}"),
        )

    def settings_dialog(self) -> SettingsDialog:
        """Return a settings dialog listing the readers the engine has."""
        readers = self.session.library.readers
        return SettingsDialog(
            self.settings,
            readers.names,
            self,
            default_reader=readers.default,
            thresholds=readers.thresholds,
        )

    def show_settings(self) -> None:
        """Edit the settings."""
        dialog = self.settings_dialog()
        dialog.exec()
        dialog.deleteLater()

    def show_shortcuts(self) -> ShortcutsDialog:
        """Show the list of keyboard shortcuts (non-modal); return the dialog."""
        dialog = ShortcutsDialog(list(self.named_actions.values()), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def find_in_document(self) -> None:
        """Open the find bar over the document text."""
        self.viewer.open_find()

    def open_log_folder(self) -> bool:
        """Show the folder of the log file in the file manager (to attach the log to a bug
        report); return whether it opened. A folder that cannot be shown is said in the banner."""
        folder = logfile.log_file().parent
        with contextlib.suppress(OSError):  # a read-only home: there is no log to show then
            folder.mkdir(parents=True, exist_ok=True)
        opened = folder.is_dir() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        if not opened:
            self.show_error(f"Could not open the log folder {folder}")
        return bool(opened)

    def about(self) -> None:
        """Say what this is."""
        QMessageBox.about(
            self,
            f"About {APP_DISPLAY_NAME}",
            f"<b>{APP_DISPLAY_NAME}</b> {__version__}<p>{APP_DESCRIPTION}</p>",
        )

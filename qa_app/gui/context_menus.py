"""Right-click (and Menu key) menus on sources, documents and problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QMenu

from qa_app.gui.models import PathRole, RowRole, SourceRow
from qa_app.gui.viewer import open_containing_folder, open_external
from qa_app.render import citation_label

if TYPE_CHECKING:
    from qa_app.gui.window_actions import WindowActions


def citation_text(row: SourceRow) -> str:
    """Return a one-line citation of ``row``: title, page, file and the cited words."""
    where = citation_label(row)
    quoted = row.answer_text if row.answer_text is not None else row.passage.strip()
    return f"“{quoted}” — {where} ({row.path})"


class ContextMenus(QObject):
    """Builds each menu when asked for it; ``last_menu`` is kept so tests can read and run it."""

    def __init__(self, window: WindowActions) -> None:
        super().__init__(window)
        self.window = window
        self.last_menu: QMenu | None = None
        sources = window.ask_panel.sources
        sources.customContextMenuRequested.connect(
            lambda pos: self._popup(sources, pos, self.source_menu())
        )
        table = window.library_panel.table
        table.customContextMenuRequested.connect(
            lambda pos: self._popup(table, pos, self.document_menu())
        )
        errors = window.library_panel.errors
        errors.customContextMenuRequested.connect(
            lambda pos: self._popup(errors, pos, self.problem_menu())
        )

    def _popup(self, view: QAbstractItemView, pos: QPoint, menu: QMenu | None) -> None:
        if menu is not None:
            menu.popup(view.viewport().mapToGlobal(pos))

    def _menu(self) -> QMenu:
        if self.last_menu is not None:
            self.last_menu.deleteLater()
        self.last_menu = QMenu(self.window)
        return self.last_menu

    def _open(self, path: str) -> None:
        if not open_external(path):
            self.window.show_error(f"Could not open {path}: no application is set up for it")

    def _show_folder(self, path: str) -> None:
        if not open_containing_folder(path):
            self.window.show_error(f"Could not open the folder of {path}")

    @staticmethod
    def _copy(text: str) -> None:
        QGuiApplication.clipboard().setText(text)

    def source_menu(self) -> QMenu | None:
        """Return the menu for the current source, or None when no source is selected."""
        index = self.window.ask_panel.sources.currentIndex()
        row: SourceRow | None = index.data(RowRole) if index.isValid() else None
        if row is None:
            return None
        menu = self._menu()
        menu.addAction("&Show in the viewer", lambda: self.window.open_source(row))
        menu.addAction("&Open original", lambda: self._open(row.path))
        menu.addAction("Open containing &folder", lambda: self._show_folder(row.path))
        menu.addSeparator()
        menu.addAction("Copy &path", lambda: self._copy(row.path))
        menu.addAction("Copy &citation", lambda: self._copy(citation_text(row)))
        menu.addSeparator()
        menu.addAction(
            "&Remove this document from the library",
            lambda: self.window.remove_documents([row.path]),
        )
        return menu

    def document_menu(self) -> QMenu | None:
        """Return the menu for the selected documents, or None when none is selected."""
        panel = self.window.library_panel
        paths = panel.selected_paths()
        if not paths:
            return None
        menu = self._menu()
        first = paths[0]
        docs = panel.selected_documents()
        show = menu.addAction("&Show in the viewer", panel.show_selected)
        show.setEnabled(docs[0].status not in ("failed", "excluded"))
        menu.setDefaultAction(show)
        menu.addSeparator()
        excluded = [d.path for d in docs if d.status == "excluded"]
        if excluded:
            include = menu.addAction(
                "&Include again (indexed at the next re-sync, which starts now)",
                lambda: self.window.session.indexing.include(excluded),
            )
            include.setEnabled(self.window.session.indexing.can_include())
            menu.addSeparator()
        menu.addAction("&Open original", lambda: self._open(first))
        menu.addAction("Open containing &folder", lambda: self._show_folder(first))
        menu.addAction(
            "Copy &path" + ("s" if len(paths) > 1 else ""), lambda: self._copy("\n".join(paths))
        )
        menu.addSeparator()
        n = len(paths)
        menu.addAction(
            f"&Remove {'document' if n == 1 else f'{n} documents'} from the library",
            panel.remove_selected,
        )
        folder = panel.folder_of(first)
        if folder is not None:
            exclude = menu.addAction(
                "E&xclude from the folder (stays out after re-sync)", panel.exclude_selected
            )
            exclude.setEnabled(panel.can_exclude)
            if not panel.can_exclude:
                exclude.setToolTip("No library is open")
            menu.addAction(
                f"Remove the whole folder {folder.replace('&', '&&')}",
                lambda: panel.remove_requested.emit([folder]),
            )
        return menu

    def problem_menu(self) -> QMenu | None:
        """Return the menu for the selected problem, or None."""
        index = self.window.library_panel.errors.currentIndex()
        path = index.data(PathRole) if index.isValid() else None
        if not path:
            return None
        menu = self._menu()
        menu.addAction("Open containing &folder", lambda: self._show_folder(path))
        menu.addAction("Copy &path", lambda: self._copy(path))
        menu.addAction("&Remove from the library", lambda: self.window.remove_documents([path]))
        return menu

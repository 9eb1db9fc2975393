"""The library panel: choose a library, list its documents, add/remove/re-sync, progress and errors."""

from __future__ import annotations

import os

from PySide6.QtCore import QModelIndex, QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from qa_app.gui.models import (
    DocumentFilter,
    DocumentRole,
    DocumentTableModel,
    FileErrorListModel,
    PathRole,
)
from qa_app.gui.plain import plain_label, tooltip
from qa_app.gui.progress import IndexProgress, report_text
from qa_app.records import DocumentInfo, FileError, Progress, SyncReport
from qa_app.render import plural

ERRORS_MAX_PX = 110  # the Problems list never takes more height than this


def summary_text(docs: list[DocumentInfo]) -> str:
    """Return the library's counts, those still waiting for their embeddings included."""
    stored = [d for d in docs if d.status not in ("failed", "excluded")]
    waiting = sum(d.status == "pending" for d in stored)
    failed = sum(d.status == "failed" for d in docs)
    excluded = sum(d.status == "excluded" for d in docs)
    text = plural(len(stored), "document")
    text += f" ({waiting} waiting for embedding)" if waiting else ""
    text += f" · {sum(d.chunks for d in stored)} passages"
    text += f" · {failed} could not be read" if failed else ""
    return text + (f" · {excluded} excluded" if excluded else "")


class LibraryPanel(QWidget):
    """Everything about the open library; it only emits requests, the window carries them out."""

    library_chosen = Signal(str)
    new_library_requested = Signal()
    rename_library_requested = Signal()
    delete_library_requested = Signal()
    add_files_requested = Signal()
    add_folder_requested = Signal()
    remove_requested = Signal(list)  # paths of documents or folders
    exclude_requested = Signal(list)  # paths of documents to keep out of their folders
    resync_requested = Signal()
    cancel_requested = Signal()
    ocr_toggled = Signal(bool)  # the user switched OCR for this library
    show_requested = Signal(object)  # DocumentInfo: open it in the viewer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Library")
        self.combo = QComboBox()
        self.combo.setAccessibleName("Library")
        self.combo.setToolTip("The library questions are answered from")
        self.combo.activated.connect(lambda i: self.library_chosen.emit(self.combo.itemText(i)))
        label = QLabel("&Library:")
        label.setBuddy(self.combo)
        self.menu = QMenu(self)
        self.new_action = self.menu.addAction("&New library…", self.new_library_requested.emit)
        self.rename_action = self.menu.addAction(
            "&Rename library…", self.rename_library_requested.emit
        )
        self.delete_action = self.menu.addAction(
            "&Delete library…", self.delete_library_requested.emit
        )
        self.menu.addSeparator()
        self.folders_menu = self.menu.addMenu("Remove a &folder")
        self.folders_menu.setToolTipsVisible(True)
        self.folders: list[str] = []
        self.can_exclude = False  # the engine can keep files of a folder out (set by the window)
        self.manage = QToolButton()
        self.manage.setText("Manage ▾")
        self.manage.setAccessibleName("Manage libraries")
        self.manage.setToolTip("New, rename or delete a library; remove an added folder")
        # Opened by hand, right-aligned under the button: at the window's right edge a menu
        # opened the default way would run against the screen's edge.
        self.manage.clicked.connect(self.show_manage_menu)

        self.add_files = QPushButton("Add &files…")
        self.add_folder = QPushButton("Add fol&der…")
        self.remove = QPushButton("&Remove")
        self.resync = QPushButton("Re-s&ync")
        for button, name, tip in (
            (self.add_files, "Add files", "Add documents to this library (Ctrl+O)"),
            (
                self.add_folder,
                "Add folder",
                "Add a folder; it is watched for changes (Ctrl+Shift+A)",
            ),
            (
                self.remove,
                "Remove selected documents",
                "Remove the selected documents from the library; the files stay (Delete)",
            ),
            (self.resync, "Re-sync library", "Re-read added files and folders (F5)"),
        ):
            button.setAccessibleName(name)
            button.setToolTip(tip)
        self.ocr = QCheckBox("Read scans (OCR)")
        self.ocr.setChecked(True)
        self.ocr.setAccessibleName("Read scanned pages and images by OCR")
        self.ocr.setToolTip(
            "Read the text of scanned PDF pages, images and scanned attachments by OCR in this "
            "library (slow: a few seconds a page). Switching it re-reads the files it changes."
        )
        self.ocr.clicked.connect(lambda *_: self.ocr_toggled.emit(self.ocr.isChecked()))
        self.add_files.clicked.connect(self.add_files_requested.emit)
        self.add_folder.clicked.connect(self.add_folder_requested.emit)
        self.remove.clicked.connect(self.remove_selected)
        self.resync.clicked.connect(self.resync_requested.emit)

        self.model = DocumentTableModel(self)
        self.proxy = DocumentFilter(self)
        self.proxy.setSourceModel(self.model)
        self.filter = QLineEdit()
        self.filter.setAccessibleName("Filter documents")
        self.filter.setPlaceholderText("Filter by title, file name, folder or format")
        self.filter.setToolTip(
            "Show only the documents whose title, file name, folder or format hold these words "
            "(Ctrl+Shift+F); Down goes to the list, Enter opens the first one"
        )
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        self.filter.returnPressed.connect(self._open_first)
        self.filter.installEventFilter(self)
        self.table = QTableView()
        self.table.setAccessibleName("Documents")
        self.table.setToolTip("Enter or double-click opens a document in the viewer")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.activated.connect(self._activated)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(40)
        header.setSortIndicatorShown(True)
        # Size columns from the first rows only: measuring thousands of rows stalls the UI.
        header.setResizeContentsPrecision(100)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.summary = plain_label("Opening the library…", name="Library summary")
        self.progress = IndexProgress()
        self.progress.cancel_requested.connect(self.cancel_requested.emit)
        self.errors_label = QLabel("")
        self.errors_label.setObjectName("sectionLabel")
        self.error_model = FileErrorListModel(self)
        self.errors = QListView()
        self.errors.setAccessibleName("Files that could not be indexed")
        self.errors.setModel(self.error_model)
        self.errors.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._run_errors: list[FileError] = []  # the last run's problems in this library
        self.errors_label.setBuddy(self.errors)

        top = QHBoxLayout()
        top.addWidget(label)
        top.addWidget(self.combo, 1)
        top.addWidget(self.manage)
        buttons = QHBoxLayout()
        for button in (self.add_files, self.add_folder, self.remove, self.resync):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.ocr)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.errors_label)
        layout.addWidget(self.errors)
        self.set_errors([])
        self._busy = False
        self._update_buttons()

    # -- filling ----------------------------------------------------------------------------

    def set_libraries(self, names: list[str], current: str) -> None:
        """List library ``names`` with ``current`` selected."""
        with QSignalBlocker(self.combo):
            self.combo.clear()
            self.combo.addItems(sorted(set(names) | {current}) if current else names)
            self.combo.setCurrentText(current)

    def library_changed(self) -> None:
        """Forget everything about the previous library (its problems included)."""
        self._run_errors = []
        self.set_errors([])
        self.set_folders([])
        self.filter.clear()
        self.model.titles.clear()  # document ids and paths belong to the library
        self.model.excluded_titles.clear()

    def set_ocr(self, enabled: bool) -> None:
        """Show whether the open library reads scans by OCR (without asking to change it)."""
        with QSignalBlocker(self.ocr):
            self.ocr.setChecked(enabled)

    def set_folders(self, folders: list[str]) -> None:
        """Offer the library's added ``folders`` for removal."""
        self.folders = list(folders)
        self.folders_menu.clear()
        for folder in self.folders:
            action = self.folders_menu.addAction(folder.replace("&", "&&"))
            action.setToolTip(tooltip(f"Remove {folder} and every document in it"))
            action.triggered.connect(lambda _c=False, f=folder: self.remove_requested.emit([f]))
        self.folders_menu.setEnabled(bool(self.folders))

    def folder_of(self, path: str) -> str | None:
        """Return the added folder ``path`` was found in, or None (a file added by itself)."""
        inside = [f for f in self.folders if path.startswith(f.rstrip(os.sep) + os.sep)]
        return max(inside, key=len) if inside else None

    def set_documents(self, docs: list[DocumentInfo]) -> None:
        """List ``docs`` and summarise them; their stored failures are this library's problems."""
        self.model.set_documents(docs)
        self._show_problems()
        self.summary.setText(summary_text(docs))
        # The Problem column only when a document has a problem: its room goes to the titles.
        self.table.setColumnHidden(5, not any(d.error for d in docs))
        self._update_buttons()

    def _show_problems(self) -> None:
        stored = [
            FileError(d.path, d.error or "could not be read")
            for d in self.model.documents()
            if d.status == "failed"
        ]
        seen = {e.path for e in stored}
        self.set_errors(stored + [e for e in self._run_errors if e.path not in seen])

    def set_errors(self, errors: list[FileError]) -> None:
        """List the files that could not be read (hidden when there are none)."""
        self.error_model.set_errors(errors)
        # As tall as its rows (up to ERRORS_MAX_PX): one problem must not squeeze the documents.
        rows = max(1, min(len(errors), 5))
        row_px = self.errors.sizeHintForRow(0) if errors else self.errors.fontMetrics().height()
        frame = 2 * self.errors.frameWidth() + 4
        self.errors.setMaximumHeight(min(ERRORS_MAX_PX, rows * max(row_px, 1) + frame))
        self.errors_label.setText(f"&Problems ({len(errors)})")
        self.errors_label.setVisible(bool(errors))
        self.errors.setVisible(bool(errors))

    def selected_paths(self) -> list[str]:
        """Return the paths of the selected documents."""
        return [r.data(PathRole) for r in self.table.selectionModel().selectedRows()]

    def row_of(self, path: str) -> int:
        """Return the row (as shown: sorted and filtered) of the document at ``path``, or -1."""
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(PathRole) == path:
                return row
        return -1

    def shown_titles(self) -> list[str]:
        """Return the titles as listed, top to bottom."""
        return [self.proxy.index(r, 0).data() for r in range(self.proxy.rowCount())]

    def show_manage_menu(self) -> None:
        """Open the Manage menu under its button, its right edge on the button's right edge."""
        width = self.menu.sizeHint().width()
        where = self.manage.mapToGlobal(QPoint(self.manage.width() - width, self.manage.height()))
        self.menu.popup(where)

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.table.setAccessibleDescription(f"{shown} of {total} documents shown" if text else "")

    def _open_first(self) -> None:
        if self.proxy.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)
            self._activated(self.proxy.index(0, 0))

    def _activated(self, index: QModelIndex) -> None:
        doc = index.siblingAtColumn(0).data(DocumentRole) if index.isValid() else None
        if doc is not None:
            self.show_requested.emit(doc)

    def show_selected(self) -> None:
        """Ask to open the current (or else the first selected) document in the viewer."""
        current = self.table.currentIndex()
        rows = self.table.selectionModel().selectedRows()
        if rows and not any(r.row() == current.row() for r in rows):
            current = rows[0]
        self._activated(current)

    def eventFilter(self, watched, event) -> bool:  # noqa: ANN001, N802
        # Down in the filter box goes to the (filtered) list, as in a search field.
        if (
            watched is self.filter
            and event.type() == event.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
            and self.proxy.rowCount()
        ):
            self.table.setFocus()
            if not self.table.selectionModel().selectedRows():
                self.table.selectRow(0)
            return True
        return super().eventFilter(watched, event)

    # -- indexing ---------------------------------------------------------------------------

    def start_indexing(self, what: str) -> None:
        """Show progress for a new run."""
        self._busy = True
        self.progress.start(what)

    def update_progress(self, progress: Progress) -> None:
        """Show a progress tick."""
        self.progress.update_progress(progress)

    def finish_indexing(
        self,
        report: SyncReport | None,
        error: str | None = None,
        waiting: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        """Hide progress and summarise the run (its failures listed with their reasons);
        ``waiting``: documents waiting for embedding, those of them from this run, and documents
        the run finished embedding (see Indexing.waiting)."""
        self._busy = False
        message = error or report_text(report, *waiting)
        self.progress.finish(message)
        self.summary.setText(f"{self.summary.text().split(' — ')[0]} — {message}")
        if report is not None:
            self._run_errors = list(report.failed)
            self._show_problems()

    def remove_selected(self) -> None:
        """Ask to remove the selected documents from the library (the files stay)."""
        paths = self.selected_paths()
        if paths:
            self.remove_requested.emit(paths)

    def selected_documents(self) -> list[DocumentInfo]:
        """Return the selected rows' records."""
        return [r.data(DocumentRole) for r in self.table.selectionModel().selectedRows()]

    def exclude_selected(self) -> None:
        """Ask to remove the selected documents and keep them out of their folders' re-syncs."""
        paths = [p for p in self.selected_paths() if self.folder_of(p)]
        if paths and self.can_exclude:
            self.exclude_requested.emit(paths)

    def _update_buttons(self) -> None:
        self.remove.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802
        if event.key() == Qt.Key.Key_Delete and self.table.hasFocus():
            self.remove_selected()
        else:
            super().keyPressEvent(event)

"""The main window: question and answer, the cited document, the library; menus and shortcuts."""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from qa_app import APP_DISPLAY_NAME
from qa_app.gui import dialogs, theme
from qa_app.gui.ask_panel import AskPanel
from qa_app.gui.backend import Backend, EngineBackend
from qa_app.gui.banner import Banner
from qa_app.gui.context_menus import ContextMenus
from qa_app.gui.library_panel import LibraryPanel
from qa_app.gui.library_state import LibraryState
from qa_app.gui.menus import build_menus
from qa_app.gui.models import SourceRow, untitled
from qa_app.gui.session import Session
from qa_app.gui.settings import AppSettings
from qa_app.gui.viewer import DocumentViewer
from qa_app.gui.window_actions import WindowActions
from qa_app.records import DocumentInfo, Result, SyncReport

ERROR_MS = 15000  # how long a problem stays in the status bar (it stays in the banner)
DEFAULT_SIZE = (1280, 800)
SCREEN_SHARE = 0.9  # the default size never takes more of the available screen than this
MODEL_LABELS = {  # the status bar's word on the library and its models (the others keep it)
    LibraryState.OPENING: "Loading models…",
    LibraryState.READY: "Ready",
    LibraryState.MODELS_FAILED: "Models unavailable",
    LibraryState.OPEN_FAILED: "Models unavailable",
}


class MainWindow(WindowActions, QMainWindow):
    """Ask on the left; the cited document above the library on the right."""

    closed = Signal()  # after background work stopped and the window really closed
    closing = Signal()  # the user closed the window; it is hidden, waiting for work to stop

    def __init__(self, backend: Backend | None = None, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle(APP_DISPLAY_NAME)
        self.setWindowIcon(theme.app_icon())
        self.setAccessibleName(APP_DISPLAY_NAME)
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.session = Session(backend or EngineBackend(), self.settings, self)
        self.last_error = ""
        self._wanted: SourceRow | None = None
        self._closing = False  # close() was asked for; waiting for the workers to stop
        self._closed = False
        self._splitters_restored = False
        self._add_on_open: list[str] = []  # files given at start, added once the library is open
        self._indexing_what = ""  # what the indexing run does (said in the status bar)
        self._search_running = False

        self.ask_panel = AskPanel()
        self.viewer = DocumentViewer()
        self.library_panel = LibraryPanel()
        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.addWidget(self.viewer)
        self.right.addWidget(self.library_panel)
        self.right.setStretchFactor(0, 3)
        self.right.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.ask_panel)
        self.splitter.addWidget(self.right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        for splitter in (self.splitter, self.right):
            splitter.setChildrenCollapsible(False)
            splitter.setHandleWidth(8)
        self.splitter.setContentsMargins(8, 8, 8, 0)
        self.banner = Banner()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self._dark = theme.is_dark()

        self.model_label = QLabel("Starting…")
        self.model_label.setAccessibleName("Model status")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(100)
        self.busy.setAccessibleName("Loading")
        self.statusBar().addPermanentWidget(self.busy)
        self.statusBar().addPermanentWidget(self.model_label)

        self._make_actions()
        self.context_menus = ContextMenus(self)
        self._connect()
        self._set_tab_order()
        self.ask_panel.question.set_history(self.settings.history())
        self._restore_layout()
        self.ask_panel.question.setFocus()
        QTimer.singleShot(0, self.session.start)  # after the window is on screen

    # -- building ---------------------------------------------------------------------------

    def _make_actions(self) -> None:
        # Not "actions": that would hide QWidget.actions().
        self.named_actions = build_menus(self)
        a = self.named_actions
        self.add_files_action, self.add_folder_action = a["add_files"], a["add_folder"]
        self.export_action, self.copy_action = a["export"], a["copy"]
        self.open_original_action, self.settings_action = a["open_original"], a["settings"]
        self.resync_action, self.cancel_action = a["resync"], a["cancel"]
        self.find_action = a["find"]
        # Keys the question field would otherwise keep for itself (Ctrl+E: end of line, ...).
        window_wide = (Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.ApplicationShortcut)
        self.ask_panel.question.pass_through = [
            k
            for action in a.values()
            if action.shortcutContext() in window_wide
            for k in action.shortcuts()
            if not k.isEmpty()
        ]

    def _set_tab_order(self) -> None:
        """Question → Ask → answer's other answers → sources → document → library, in reading order."""
        ask, lib, viewer = self.ask_panel, self.library_panel, self.viewer
        chain = [
            ask.question,
            ask.ask_button,
            ask.mode,
            ask.scope,
            ask.sources,
            viewer.open_button,
            viewer.mode_button,
            viewer.text,
            lib.combo,
            lib.manage,
            lib.add_files,
            lib.add_folder,
            lib.remove,
            lib.resync,
            lib.ocr,
            lib.filter,
            lib.table,
            lib.progress.cancel_button,
            lib.errors,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        s, ask, lib = self.session, self.ask_panel, self.library_panel
        s.messages.status.connect(lambda text: self.statusBar().showMessage(text))
        s.messages.error.connect(self.show_error)
        s.library.state_changed.connect(self._library_state)
        s.libraries.changed.connect(lib.set_libraries)
        s.indexing.titles_found.connect(self._titles_found)
        s.indexing.documents_changed.connect(lib.set_documents)
        s.indexing.documents_changed.connect(self._offer_scopes)
        s.indexing.folders_changed.connect(lib.set_folders)
        s.indexing.folders_changed.connect(self._offer_scopes)
        s.indexing.started.connect(self._indexing_started)
        s.indexing.progress.connect(lib.update_progress)
        s.indexing.finished.connect(self._indexing_finished)
        s.asking.started.connect(self._asking)
        s.asking.result_ready.connect(self._show_result)
        s.asking.failed.connect(self._ask_failed)
        s.searching.started.connect(self._searching)
        s.searching.hits_ready.connect(self._show_hits)
        s.searching.failed.connect(self._search_failed)
        ask.mode_changed.connect(lambda _on: self._show_activity())
        s.texts.document_ready.connect(self._document_ready)
        ask.ask_requested.connect(self.ask)
        ask.source_activated.connect(self.open_source)
        ask.answer.alternatives_changed.connect(self._set_tab_order_alternatives)
        self.viewer.open_failed.connect(self.show_error)
        lib.library_chosen.connect(self._library_chosen)
        lib.new_library_requested.connect(self.new_library)
        lib.rename_library_requested.connect(self.rename_library)
        lib.delete_library_requested.connect(self.delete_library)
        lib.add_files_requested.connect(self.add_files)
        lib.add_folder_requested.connect(self.add_folder)
        lib.remove_requested.connect(self.remove_documents)
        lib.show_requested.connect(self.show_document)
        lib.exclude_requested.connect(s.indexing.exclude)
        lib.resync_requested.connect(s.indexing.sync)
        lib.cancel_requested.connect(s.indexing.cancel)
        lib.ocr_toggled.connect(s.indexing.set_ocr)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            # A bound method, not a lambda: the connection ends with this window.
            hints.colorSchemeChanged.connect(self._color_scheme_changed)

    # -- session events ---------------------------------------------------------------------

    def _library_state(self, state: LibraryState) -> None:
        if state is LibraryState.STARTING:
            self._library_opened(self.session.library.name)
        self._show_activity()

    def _library_opened(self, name: str) -> None:
        self.setWindowTitle(f"{name} — {APP_DISPLAY_NAME}")
        engine = self.session.library.engine  # open: the state is STARTING
        self.library_panel.set_ocr(engine.ocr if engine is not None else True)
        if self._add_on_open:
            items, self._add_on_open = self._add_on_open, []
            self.session.indexing.add(items)
        self.library_panel.set_libraries(
            [self.library_panel.combo.itemText(i) for i in range(self.library_panel.combo.count())],
            name,
        )
        self.viewer.clear()
        self._wanted = None
        self.ask_panel.clear_sources()
        self.library_panel.library_changed()
        self.library_panel.can_exclude = self.session.indexing.can_exclude()
        self.named_actions["exclude"].setEnabled(self.library_panel.can_exclude)
        if self.ask_panel.answer.state != "waiting":
            self.ask_panel.answer.clear()
        self.export_action.setEnabled(False)
        self.copy_action.setEnabled(False)

    def _library_chosen(self, name: str) -> None:
        if name != self.session.library.name:
            self.session.library.open(name)

    def _asking(self, question: str, message: str) -> None:
        self.ask_panel.show_waiting(question, message)  # the old answer's sources go
        self.export_action.setEnabled(False)
        self.copy_action.setEnabled(False)
        self._show_activity()

    def _set_tab_order_alternatives(self) -> None:
        buttons = self.ask_panel.answer.alternative_buttons
        chain = [self.ask_panel.scope, *buttons, self.ask_panel.sources]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _show_result(self, result: Result) -> None:
        self.ask_panel.show_result(result)
        self.export_action.setEnabled(True)
        self.copy_action.setEnabled(True)
        self._show_activity()

    def _ask_failed(self, question: str, reason: str) -> None:
        self.ask_panel.answer.show_error(question, reason)
        self.show_error(f"Could not answer: {reason}")
        self._show_activity()

    def _searching(self, _query: str) -> None:
        self._search_running = True
        self.ask_panel.clear_sources()
        self.ask_panel.sources_label.setText("Searching…")
        self._show_activity()

    def _show_hits(self, query: str, rows: list[SourceRow]) -> None:
        self._search_running = False
        self.ask_panel.show_hits(query, rows)
        self._show_activity()

    def _search_failed(self, query: str, reason: str) -> None:
        self._search_running = False
        self.ask_panel.sources_label.setText("&Passages")
        self.show_error(f"Could not search for “{query}”: {reason}")
        self._show_activity()

    def _titles_found(self, titles: dict[int, str]) -> None:
        self.ask_panel.titles = dict(titles)
        self.library_panel.model.set_titles(titles)

    def _offer_scopes(self, *_changed: object) -> None:
        docs = self.session.indexing.docs
        formats = sorted({d.format.lower() for d in docs if d.format and d.status != "failed"})
        self.ask_panel.set_scopes(self.library_panel.folders, formats)

    def _show_activity(self, asking: bool = False) -> None:
        """Say in the status bar what is running (indexing, answering, searching) or the models'
        state ("Ready" only when nothing runs)."""
        state = self.session.library.state
        running = self._running
        if running:
            self.model_label.setText(running)
            self.busy.setVisible(True)
            return
        text = MODEL_LABELS.get(state)
        if text is not None:
            self.model_label.setText(text)
            self.busy.setVisible(state.is_loading)

    @property
    def _running(self) -> str:
        if self.session.indexing.running:
            return self._indexing_what + "…"
        if self.ask_panel.answer.state == "waiting" and self.session.library.ready:
            return "Answering…"
        if self._search_running:
            return "Searching…"
        return ""

    def _indexing_started(self, what: str) -> None:
        self._indexing_what = what
        self.library_panel.start_indexing(what)
        self.cancel_action.setEnabled(True)
        self._show_activity()

    def _indexing_finished(self, report: SyncReport | None, error: str | None) -> None:
        self.library_panel.finish_indexing(report, error, self.session.indexing.waiting)
        self.cancel_action.setEnabled(False)
        self._show_activity()
        if error:
            self.show_error(error)
        elif report is not None:
            self.statusBar().showMessage(self.library_panel.progress.label.text(), ERROR_MS)

    def _document_ready(self, row: SourceRow, text: str) -> None:
        if row == self._wanted:
            self.viewer.show_source(row, text)
            self.open_original_action.setEnabled(True)

    def show_error(self, text: str) -> None:
        """Show a problem in the banner (until dismissed) and the status bar."""
        self.last_error = text
        library = self.session.library
        repair = ("&Repair library", library.repair) if library.damaged else None
        self.banner.show_message(text, repair)
        self.statusBar().showMessage(text, ERROR_MS)

    # -- user actions -----------------------------------------------------------------------

    def ask(self, question: str) -> None:
        """Ask ``question`` (remembered in the history kept between runs), or in search mode list
        the passages that hold its words; within the chosen scope."""
        self.ask_panel.question.remember(question)
        self.settings.set_history(self.ask_panel.question.history())
        scope = self.ask_panel.current_scope()
        if self.ask_panel.searching():
            self.session.searching.search(question, scope)
        else:
            self.session.asking.ask(question, scope)

    def show_document(self, doc: DocumentInfo) -> None:
        """Open a library document in the viewer, from its start."""
        if doc.status in ("failed", "excluded") or doc.id <= 0:
            reason = "it could not be read" if doc.status == "failed" else "it is excluded"
            self.statusBar().showMessage(f"{doc.path} has no stored text: {reason}.", ERROR_MS)
            return
        title = self.library_panel.model.titles.get(doc.id, doc.title)
        row = SourceRow(
            kind="document",
            doc_id=doc.id,
            path=doc.path,
            title=title if untitled(doc.title, doc.path) else doc.title,
            page=1 if doc.pages else None,
            passage="",
            passage_start=0,
            score=0.0,
            attachment=doc.attachment,
        )
        self.open_source(row)

    def remove_documents(self, paths: list[str]) -> None:
        """Remove documents or folders from the library, after asking (unless told not to ask)."""
        if not paths:
            return
        if self.settings.confirm_removal:
            folders = [p for p in paths if p in self.library_panel.folders]
            what = (
                f"the folder {folders[0]} and every document in it"
                if len(paths) == 1 and folders
                else f"“{self._name_of(paths[0])}”"
                if len(paths) == 1
                else f"{len(paths)} documents"
            )
            agreed, stop_asking = dialogs.confirm_once(
                self,
                "Remove from the library",
                f"Remove {what} from the library? The files themselves are not touched; "
                "adding them again brings them back.",
                "Remove",
            )
            if not agreed:
                return
            if stop_asking:
                self.settings.confirm_removal = False
        self.session.indexing.remove(paths)

    def _name_of(self, path: str) -> str:
        row = self.library_panel.row_of(path)
        return self.library_panel.shown_titles()[row] if row >= 0 else os.path.basename(path)

    def open_source(self, row: SourceRow) -> None:
        """Open ``row``'s document in the viewer, at the cited passage."""
        if row == self._wanted and self.viewer.doc_id == row.doc_id:
            self.viewer.recenter()  # the same source again: bring the answer back into view
            return
        self._wanted = row
        self.session.texts.load(row)

    def focus_question(self) -> None:
        """Put the cursor in the question field."""
        self.ask_panel.question.setFocus()
        self.ask_panel.question.selectAll()

    def toggle_search_mode(self) -> None:
        """Switch between asking and searching, and go to the question field."""
        self.ask_panel.set_searching(not self.ask_panel.searching())
        self.focus_question()

    def focus_filter(self) -> None:
        """Go to the documents' filter box."""
        self.library_panel.filter.setFocus()
        self.library_panel.filter.selectAll()

    # -- drag and drop ----------------------------------------------------------------------

    @staticmethod
    def _dropped(event: QDragEnterEvent | QDropEvent) -> list[str]:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return [
            u.toLocalFile() for u in urls if u.isLocalFile() and os.path.exists(u.toLocalFile())
        ]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._dropped(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        items = self._dropped(event)
        if items:
            event.acceptProposedAction()
            self.session.indexing.add(items)

    # -- look and layout --------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._palette_changed()
        super().changeEvent(event)

    def _color_scheme_changed(self, _scheme: object) -> None:
        self._palette_changed()

    def _palette_changed(self) -> None:
        dark = theme.is_dark()
        if dark != self._dark:
            # palette(...) colours in the style sheet are resolved when it is applied: re-apply.
            self._dark = dark
            app = QApplication.instance()
            if isinstance(app, QApplication):
                app.setStyleSheet(theme.style_sheet() + " ")
                app.setStyleSheet(theme.style_sheet())
        self.viewer.refresh_colours()
        self.ask_panel.sources.viewport().update()
        result = self.session.asking.last_result
        if result is not None and self.ask_panel.answer.state in ("answer", "possible"):
            self.ask_panel.answer.show_result(result)

    def _restore_layout(self) -> None:
        geometry = self.settings.blob("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        self.fit_to_screen()

    def available_size(self) -> tuple[int, int]:
        """Return the width and height free on the window's screen (in device-independent pixels)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        return area.width(), area.height()

    def fit_to_screen(self) -> None:
        """Shrink the window to fit its screen (SCREEN_SHARE of it when it was larger)."""
        width, height = self.available_size()
        if self.width() > width or self.height() > height:
            self.resize(
                min(self.width(), int(width * SCREEN_SHARE)),
                min(self.height(), int(height * SCREEN_SHARE)),
            )

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802
        super().resizeEvent(event)
        width, height = self.available_size()
        if (self.width() > width or self.height() > height) and not self.isFullScreen():
            QTimer.singleShot(0, self.fit_to_screen)  # never grow past the screen

    def showEvent(self, event) -> None:  # noqa: ANN001, N802
        super().showEvent(event)
        if not self._splitters_restored:
            # Splitter sizes only stick once the window is laid out at its real size.
            self._splitters_restored = True
            QTimer.singleShot(0, self._restore_splitters)

    def _restore_splitters(self) -> None:
        for key, splitter in (("splitter", self.splitter), ("right_splitter", self.right)):
            state = self.settings.blob(key)
            if state is not None:
                splitter.restoreState(state)

    def _save_layout(self) -> None:
        self.settings.set_blob("geometry", self.saveGeometry())
        self.settings.set_blob("splitter", self.splitter.saveState())
        self.settings.set_blob("right_splitter", self.right.saveState())

    # -- closing ----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Stop background work; close for real (and close the library) once the workers stopped."""
        if self._closed:
            super().closeEvent(event)
            return
        runner = self.session.runner
        if not self._closing:
            self._closing = True
            self._save_layout()
            self.session.stop()  # cancels everything; nothing new starts, not even follow-up work
            if runner.is_busy():
                self.statusBar().showMessage("Stopping background work…")
                self.hide()  # the user asked to close; don't make them watch the workers stop
                runner.idle.connect(self.close, Qt.ConnectionType.SingleShotConnection)
                self.closing.emit()
        if runner.is_busy():
            event.ignore()
            return
        self.session.close()
        self.viewer.page_view.shutdown()
        self._closed = True
        super().closeEvent(event)
        self.closed.emit()

"""The menu bar: every main action with its keyboard shortcut, built from one table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from qa_app.gui.window_actions import WindowActions

Key = QKeySequence.StandardKey
SEPARATOR = None
DISABLED_AT_START = ("export", "copy", "cancel", "open_original")


# Actions whose keys only work where the focus is (Esc must not cancel indexing from the question
# field): name -> the widget (with its children) they belong to.
def _local(w: WindowActions) -> dict[str, QWidget]:
    return {"cancel": w.library_panel}


Shortcut = str | QKeySequence.StandardKey | None
Entry = tuple[str, str, Callable[[], object], Shortcut, str]


def _table(w: WindowActions) -> dict[str, list[Entry | None]]:
    """Return menu title -> [(name, text, slot, shortcut, tip) or SEPARATOR]."""
    return {
        "&File": [
            ("add_files", "Add &files…", w.add_files, Key.Open, "Add documents to the library"),
            (
                "add_folder",
                "Add fol&der…",
                w.add_folder,
                "Ctrl+Shift+A",
                "Add a folder; it is watched for changes",
            ),
            SEPARATOR,
            (
                "export",
                "&Export result…",
                w.export_result,
                "Ctrl+E",
                "Save the answer and its sources as Markdown or JSON",
            ),
            (
                "open_original",
                "&Open original",
                w.viewer.open_original,
                "Ctrl+Shift+O",
                "Open the shown document in its usual application",
            ),
            SEPARATOR,
            (
                "settings",
                "&Settings…",
                w.show_settings,
                "Ctrl+,",
                "Passages to retrieve, answer threshold, reader",
            ),
            SEPARATOR,
            ("quit", "&Quit", w.close, Key.Quit, "Close the window"),
        ],
        "&Edit": [
            (
                "copy",
                "&Copy answer with citation",
                w.copy_answer,
                "Ctrl+Shift+C",
                "Copy the answer and where it came from, for a report",
            ),
            (
                "focus_question",
                "Ask a &question",
                w.focus_question,
                "Ctrl+L",
                "Put the cursor in the question field",
            ),
            (
                "search_mode",
                "Ask or &search",
                w.toggle_search_mode,
                "Ctrl+K",
                "Switch between asking a question and searching for words",
            ),
            SEPARATOR,
            (
                "find",
                "&Find in document…",
                w.find_in_document,
                Key.Find,
                "Find text in the open document",
            ),
            (
                "find_next",
                "Find &next",
                w.viewer.find_bar.find_next,
                Key.FindNext,
                "Go to the next match",
            ),
            (
                "find_previous",
                "Find pre&vious",
                w.viewer.find_bar.find_previous,
                Key.FindPrevious,
                "Go to the previous match",
            ),
        ],
        "&Library": [
            (
                "resync",
                "&Re-sync",
                w.session.indexing.sync,
                Key.Refresh,
                "Re-read added files and folders",
            ),
            (
                "cancel",
                "&Cancel indexing",
                w.session.indexing.cancel,
                "Esc",
                "Stop indexing; what is done is kept (Esc in the library panel)",
            ),
            (
                "remove",
                "Re&move selected documents",
                w.library_panel.remove_selected,
                None,
                "Remove the selected documents (Delete in the list)",
            ),
            (
                "exclude",
                "E&xclude selected from their folder",
                w.library_panel.exclude_selected,
                None,
                "Remove the selected documents and keep them out when the folder is re-synced",
            ),
            SEPARATOR,
            (
                "new_library",
                "&New library…",
                w.new_library,
                "Ctrl+Shift+N",
                "Create an empty library",
            ),
            (
                "rename_library",
                "Re&name library…",
                w.rename_library,
                "Ctrl+Shift+R",
                "Rename the open library",
            ),
            (
                "delete_library",
                "&Delete library…",
                w.delete_library,
                "Ctrl+Shift+Del",
                "Delete the open library's index",
            ),
        ],
        "&View": [
            ("view_question", "&Question", w.focus_question, "Ctrl+1", "Go to the question field"),
            (
                "view_sources",
                "&Sources",
                w.ask_panel.sources.setFocus,
                "Ctrl+2",
                "Go to the list of sources",
            ),
            (
                "view_document",
                "&Document",
                w.viewer.text.setFocus,
                "Ctrl+3",
                "Go to the document text",
            ),
            (
                "view_library",
                "&Library documents",
                w.library_panel.table.setFocus,
                "Ctrl+4",
                "Go to the library's documents",
            ),
            (
                "filter_documents",
                "&Filter documents",
                w.focus_filter,
                "Ctrl+Shift+F",
                "Type words to list only the documents that hold them in their title, file name, "
                "folder or format",
            ),
        ],
        "&Help": [
            (
                "shortcuts",
                "&Keyboard shortcuts",
                w.show_shortcuts,
                "F1",
                "Every keyboard shortcut",
            ),
            (
                "log_folder",
                "Open &log folder",
                w.open_log_folder,
                None,
                "Show the folder of the log file, to attach the log to a bug report",
            ),
            ("about", "&About", w.about, None, "What this application is"),
        ],
    }


def build_menus(window: WindowActions) -> dict[str, QAction]:
    """Fill the window's menu bar and return its actions by name (shortcuts work window-wide)."""
    actions: dict[str, QAction] = {}
    local = _local(window)
    for title, entries in _table(window).items():
        menu = window.menuBar().addMenu(title)
        for entry in entries:
            if entry is SEPARATOR:
                menu.addSeparator()
                continue
            name, text, slot, shortcut, tip = entry
            action = QAction(text, window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            menu.addAction(action)
            owner = local.get(name)
            if owner is None:
                window.addAction(action)  # works wherever the focus is in the window
            else:
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                owner.addAction(action)
            actions[name] = action
    for name in DISABLED_AT_START:
        actions[name].setEnabled(False)
    return actions

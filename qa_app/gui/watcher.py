"""Watches added folders and says, once things settle, that the library should be re-synced."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

DEBOUNCE_MS = 2000  # editors save in bursts; one re-sync after the burst is enough
MAX_WATCHED = 4000  # inotify watches are a limited per-user resource


class FolderWatcher(QObject):
    """Emits ``changed`` once, DEBOUNCE_MS after the last change under any watched folder."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None, *, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.changed.emit)
        self._watcher.directoryChanged.connect(self._poke)
        self._watcher.fileChanged.connect(self._poke)

    def set_paths(self, wanted: list[str]) -> None:
        """Watch exactly ``wanted`` (folders and files, from watch_list() run off the UI thread)."""
        current = set(self._watcher.directories()) | set(self._watcher.files())
        stale = sorted(current - set(wanted))
        if stale:
            self._watcher.removePaths(stale)
        fresh = [p for p in wanted if p not in current]
        if fresh:
            self._watcher.addPaths(fresh)

    def watched(self) -> list[str]:
        """Return every watched path."""
        return sorted(self._watcher.directories() + self._watcher.files())

    def _poke(self, _path: str) -> None:
        self._timer.start()  # restarts the wait: re-sync after the last change


def watch_list(folders: Sequence[str], files: Sequence[str] = ()) -> list[str]:
    """Return the folders (and their sub-folders) and files to watch, at most MAX_WATCHED.

    Walks the folders, so call it off the UI thread.
    """
    out: list[str] = []
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        for root, dirs, _names in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            out.append(root)
            if len(out) >= MAX_WATCHED:
                return out
    for path in files:
        if len(out) >= MAX_WATCHED:
            break
        if os.path.isfile(path):
            out.append(path)
    return out

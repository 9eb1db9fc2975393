"""Documents of the open library: listing, adding, re-syncing, removing; the part of the session that indexes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from qa_app.gui.libraries import message
from qa_app.gui.session_base import SessionBase
from qa_app.gui.tasks import Task, TaskContext
from qa_app.gui.watcher import watch_list
from qa_app.records import Progress, SyncReport

LIVE_REFRESH_S = 1.0  # at most this often the document list refreshes while indexing


class IndexingOps(SessionBase):
    """Document work for Session; indexing runs are writers, one at a time, and can be cancelled."""

    def refresh_documents(self) -> None:
        """Re-list the library's documents and re-aim the folder watcher."""
        engine = self.engine
        if engine is None:
            return
        self._last_refresh = time.monotonic()

        def work(_ctx: TaskContext) -> tuple[list[Any], list[str], list[str]]:
            docs = engine.documents()
            folders = engine.folders()
            inside = [
                d.path
                for d in docs
                if any(d.path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)
            ]
            return docs, folders, watch_list(folders, inside)

        def got(value: tuple[list[Any], list[str], list[str]]) -> None:
            docs, folders, watched = value
            self.documents_changed.emit(docs)
            self.folders_changed.emit(folders)
            self.watcher.set_paths(watched)

        self._submit(work, name="Listing documents", on_result=got)

    def refresh_documents_soon(self) -> None:
        """Re-list the documents now, or once LIVE_REFRESH_S has passed since the last listing.

        The last file of a run is listed too, even when no progress tick follows it for a while
        (on first start the seed files are read in a second; embedding then waits for the model).
        """
        wait = LIVE_REFRESH_S - (time.monotonic() - self._last_refresh)
        if wait <= 0:
            self._refresh_timer.stop()
            self.refresh_documents()
        elif not self._refresh_timer.isActive():
            self._refresh_timer.start(int(wait * 1000) + 1)

    def add(self, items: Sequence[str]) -> None:
        """Add files and folders to the open library, indexing them in the background."""
        engine, items = self.engine, [str(i) for i in items]
        if not items:
            return
        if engine is None:
            self.error.emit("The library is still opening; add the documents again in a moment.")
            return
        label = f"Adding {os.path.basename(items[0].rstrip(os.sep))}" + (
            f" and {len(items) - 1} more" if len(items) > 1 else ""
        )
        self._index(label, lambda ctx: engine.add(items, ctx.progress, ctx.cancelled))

    def sync(self) -> None:
        """Re-read the library's files and folders in the background."""
        if self.engine is None:
            return
        engine = self.engine
        self._index("Re-syncing the library", lambda ctx: engine.sync(ctx.progress, ctx.cancelled))

    def set_ocr(self, enabled: bool) -> None:
        """Switch OCR for the open library, then re-read the files it changes (an indexing run)."""
        engine = self.engine
        if engine is None:
            return
        self._index(
            f"Switching OCR {'on' if enabled else 'off'}",
            lambda ctx: (
                engine.sync(ctx.progress, ctx.cancelled) if engine.set_ocr(enabled) else None
            ),
        )

    def remove(self, items: Sequence[str]) -> None:
        """Remove documents (or folders) from the library; the files themselves stay."""
        engine, items = self.engine, list(items)
        if engine is None or not items:
            return

        def done(removed: list[str]) -> None:
            self.status.emit(
                f"Removed {len(removed)} document{'' if len(removed) == 1 else 's'} from the library."
            )
            self._texts.clear()
            self.refresh_documents()

        self._submit(
            lambda _ctx: engine.remove(items),
            name="Removing documents",
            writer=True,
            on_result=done,
        )

    def can_exclude(self) -> bool:
        """Return True when the open library can keep chosen files of a folder out of re-syncs."""
        return self.engine is not None and callable(getattr(self.engine, "exclude", None))

    def exclude(self, items: Sequence[str]) -> None:
        """Remove documents found in added folders and keep them out when the folders re-sync."""
        engine, items = self.engine, list(items)
        if engine is None or not items:
            return
        if not self.can_exclude():
            self.error.emit("This version of the library cannot exclude files from a folder.")
            return

        def done(excluded: list[str]) -> None:
            n = len(excluded)
            self.status.emit(
                f"Excluded {n} document{'' if n == 1 else 's'}; re-syncing will not add "
                f"{'it' if n == 1 else 'them'} back."
            )
            self._texts.clear()
            self.refresh_documents()

        self._submit(
            lambda _ctx: engine.exclude(items),
            name="Excluding documents",
            writer=True,
            on_result=done,
        )

    def can_include(self) -> bool:
        """Return True when the open library can take excluded files back."""
        return self.engine is not None and callable(getattr(self.engine, "include", None))

    def include(self, items: Sequence[str]) -> None:
        """Stop excluding ``items`` and re-sync, so they are indexed again."""
        engine, items = self.engine, list(items)
        if engine is None or not items or not self.can_include():
            return
        self._index(
            "Including files again",
            lambda ctx: (engine.include(items), engine.sync(ctx.progress, ctx.cancelled))[1],
        )

    def cancel_indexing(self) -> None:
        """Stop the running and queued indexing runs (what is indexed so far is kept)."""
        for task in list(self._index_tasks):
            task.cancel()

    def _folders_changed(self) -> None:
        if self._stopping:
            return
        if self.indexing():
            self._resync_wanted = True
        else:
            self.status.emit("Files changed in a watched folder; re-syncing…")
            self.sync()

    def _index(
        self, what: str, fn: Callable[[TaskContext], Any], *, then: Callable[[], None] | None = None
    ) -> None:
        if not self._index_tasks:
            self._run_failed, self._run_report, self._run_error = [], None, None
            self.indexing_started.emit(what)
        task: Task | None = None

        def got(report: SyncReport | None) -> None:
            self._run_report = report
            if report is not None:
                self._run_failed.extend(report.failed)

        def failed(exc: BaseException) -> None:
            self._run_error = f"{what} failed: {message(exc)}"
            self.error.emit(self._run_error)

        def progressed(progress: Progress) -> None:
            self.indexing_progress.emit(progress)
            if progress.stage == "index" and progress.done > 0:
                self.refresh_documents_soon()  # a file was committed: list it

        epoch = self._epoch

        def done() -> None:
            if task in self._index_tasks:
                self._index_tasks.remove(task)
            if epoch != self._epoch:
                return
            if then is not None:
                then()
            self.refresh_documents()
            if not self._index_tasks:
                self._finish_run()

        task = self._submit(
            fn,
            name=what,
            writer=True,
            on_result=got,
            on_error=failed,
            on_progress=progressed,
            on_done=done,
        )
        if task is not None and task.state != "done":
            self._index_tasks.append(task)

    def _finish_run(self) -> None:
        report = self._run_report
        if report is not None and list(report.failed) != self._run_failed:
            from dataclasses import replace

            report = replace(report, failed=tuple(self._run_failed))
        self.indexing_finished.emit(report, self._run_error)
        if self._resync_wanted:
            self._resync_wanted = False
            self.sync()

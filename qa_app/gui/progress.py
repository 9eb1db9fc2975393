"""The indexing progress strip: a bar, counts, time left and a Cancel button."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from qa_app.gui.plain import plain_label
from qa_app.records import Progress, SyncReport
from qa_app.render import ocr_text, plural

UNITS = {"embed": "passages", "rechunk": "passages"}  # other stages count files
ONE = {"passages": "passage", "files": "file"}
# Time left is shown only once it can be estimated: enough items done, over enough time.
ETA_MIN_DONE = 3
ETA_MIN_SECONDS = 3.0
# The stages a library reports ("model": loading the embedding model, which has no count).
STAGES = {"index": "Indexing", "embed": "Embedding passages", "rechunk": "Re-reading passages"}
DONE_WORDS = {"index": "read", "embed": "embedded", "rechunk": "re-read"}
TICK_MS = 500  # between the core's ticks, the bar moves on at the measured rate this often
MODEL_NOTE_MS = 400  # "Loading the embedding model" is said only when loading takes this long


def eta_text(seconds: float) -> str:
    """Return a rough, human time left, e.g. "about 40 s left" or "about 3 min left"."""
    if seconds < 10:
        return "a few seconds left"
    if seconds < 90:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def report_text(
    report: SyncReport | None, waiting: int = 0, waiting_here: int = 0, finished: int = 0
) -> str:
    """Return a one-line summary of an indexing run.

    ``waiting``: documents of the library still waiting for their embeddings after the run
    (``waiting_here`` of them added or updated by it); ``finished``: documents that waited before
    and are ready now. What is left undone is always said, with what finishes it.
    """
    if report is None:
        if waiting:
            return f"{plural(waiting, 'document')} wait for embedding (Re-sync finishes them)."
        return "Nothing to do: the library is up to date."
    parts = []
    read = len(report.added) + len(report.updated)
    if read and waiting_here:
        parts.append(f"{read - waiting_here} of {read} ready")
    else:
        for label, items in (("added", report.added), ("updated", report.updated)):
            if items:
                parts.append(f"{len(items)} {label}")
    if report.removed:
        parts.append(f"{len(report.removed)} removed")
    if report.unchanged:
        parts.append(f"{report.unchanged} unchanged")
    if report.failed:
        parts.append(f"{len(report.failed)} could not be read")
    if finished:
        parts.append(
            f"finished embedding {plural(finished, 'document')} "
            f"({plural(report.chunks_embedded, 'passage')})"
        )
    elif report.chunks_embedded and not read:
        parts.append(f"{plural(report.chunks_embedded, 'passage')} embedded")
    summary = ", ".join(parts) or "no changes"
    if waiting:
        summary += (
            f"; {waiting} wait{'s' if waiting == 1 else ''} for embedding (Re-sync finishes "
            f"{'it' if waiting == 1 else 'them'})"
        )
    prefix = "Cancelled" if report.cancelled else "Done"
    return f"{prefix}: {summary} ({report.seconds:.1f} s)."


class IndexProgress(QFrame):
    """Shows one indexing run: what it is doing, how far, how long is left; Cancel stops it."""

    cancel_requested = Signal()

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.monotonic
    ):
        super().__init__(parent)
        self.setObjectName("indexProgress")
        self.setAccessibleName("Indexing progress")
        self._clock = clock
        self._stage = ""
        self._t0 = 0.0
        self._done0 = 0
        self._total0 = 0
        self._done = self._total = self._step = 0  # the last tick's count, total and increase
        self._at = 0.0  # when the last tick came
        self._loading_model = False
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._advance)
        self.label = plain_label(name="Indexing status")
        self.label.setWordWrap(False)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Indexing progress bar")
        # The percentage is said in the counts line: drawn on the bar it turns unreadable where
        # the filled part meets the empty one.
        self.bar.setTextVisible(False)
        self.counts = plain_label(name="Indexing counts and time left")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel indexing")
        self.cancel_button.setToolTip("Stop indexing (Esc); what is indexed so far is kept")
        self.cancel_button.clicked.connect(self._cancel)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.label)
        layout.addLayout(row)
        layout.addWidget(self.counts)
        self.setVisible(False)

    def start(self, what: str) -> None:
        """Show the strip for a new run described by ``what``."""
        self._stage = ""
        self.label.setText(what)
        self.bar.setRange(0, 0)  # busy until the first tick says how much there is
        self.counts.setText("Starting…")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self._loading_model = False
        self._ticker.start()
        self.setVisible(True)

    def update_progress(self, progress: Progress) -> None:
        """Show a progress tick from the core ("ocr" ticks: the page of the file being read)."""
        if progress.stage == "ocr":
            # Pages of one file: said in the label; the bar and time left keep counting files.
            if progress.total and progress.done < progress.total:
                self.label.setText(ocr_text(progress))
            return
        if progress.stage == "model":
            # Said only when it takes a while: the window's loaded model is reused, and then
            # this stage passes in an instant.
            self._loading_model = progress.done < progress.total
            if self._loading_model:
                QTimer.singleShot(MODEL_NOTE_MS, self._say_loading_model)
            return
        self._loading_model = False
        now = self._clock()
        fresh = progress.stage != self._stage or progress.done < self._done0
        if fresh:
            self._stage, self._t0, self._done0, self._total0 = (
                progress.stage,
                now,
                progress.done,
                progress.total,
            )
        unit = UNITS.get(progress.stage, "files")
        stage = STAGES.get(progress.stage, progress.stage.capitalize())
        item = os.path.basename(progress.item) if progress.item else ""
        total = max(progress.total, 0)
        if progress.stage == "index" and total and progress.done >= total:
            # Files are read; the last passages are still being embedded, which has no count.
            self.label.setText("Finishing: embedding the last passages…")
            self.bar.setRange(0, 0)
            self.counts.setText(f"{total} of {total} files read")
            return
        # ``done`` counts finished items; ``item`` is the one being worked on (number done + 1).
        if item and progress.done < total:
            self.label.setText(f"{stage} {ONE[unit]} {progress.done + 1} of {total}: {item}")
        else:
            self.label.setText(f"{stage}…")
        done = min(progress.done, total)
        self._step = 0 if fresh else max(0, done - self._done)
        self._done, self._total, self._at = done, total, now
        if progress.stage == "embed" and done == 0:
            self.bar.setRange(0, 0)  # moving, until the first batch says how fast it goes
        else:
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(done)
        percent = f" ({100 * done // total}%)" if total else ""
        text = (
            f"{progress.done} of {total} {unit} {DONE_WORDS.get(progress.stage, 'done')}{percent}"
        )
        rate_done, elapsed = progress.done - self._done0, now - self._t0
        if (
            rate_done >= ETA_MIN_DONE
            and elapsed >= ETA_MIN_SECONDS
            and total == self._total0
            and progress.done < total
        ):
            text += f" · {eta_text(elapsed / rate_done * (total - progress.done))}"
        self.counts.setText(text)

    def _say_loading_model(self) -> None:
        if self._loading_model and self.isVisible():
            self.label.setText("Loading the embedding model…")
            self.bar.setRange(0, 0)
            self.counts.setText("")

    def _advance(self) -> None:
        """Move the bar on between two ticks at the rate measured so far, never past the next tick.

        Embedding commits a batch of passages at a time, seconds apart; the bar shows the work
        going on in between (the counts line keeps the committed figure).
        """
        if self._stage != "embed" or self._step <= 0 or self.bar.maximum() == 0:
            return
        elapsed, done = self._at - self._t0, self._done - self._done0  # up to the last tick
        if elapsed <= 0 or done <= 0:
            return
        guess = self._done + done / elapsed * (self._clock() - self._at)
        ceiling = min(self._total, self._done + self._step) - 1
        value = int(min(guess, ceiling))
        if value > self.bar.value():
            self.bar.setValue(value)

    def finish(self, message: str) -> None:
        """Hide the strip; ``message`` goes to whoever shows summaries (see LibraryPanel)."""
        self._ticker.stop()
        self._loading_model = False
        self.setVisible(False)
        self.label.setText(message)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancel_requested.emit()

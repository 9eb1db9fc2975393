"""The indexing progress strip: a bar, counts, time left and a Cancel button."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from qa_app.console import ocr_text
from qa_app.gui.plain import plain_label
from qa_app.records import Progress, SyncReport

UNITS = {"embed": "passages", "rechunk": "passages"}  # other stages count files
ONE = {"passages": "passage", "files": "file"}
# Time left is shown only once it can be estimated: enough items done, over enough time.
ETA_MIN_DONE = 3
ETA_MIN_SECONDS = 3.0
# The stages a library reports ("model": loading the embedding model, which has no count).
STAGES = {"index": "Indexing", "embed": "Embedding passages", "rechunk": "Re-reading passages"}


def eta_text(seconds: float) -> str:
    """Return a rough, human time left, e.g. "about 40 s left" or "about 3 min left"."""
    if seconds < 10:
        return "a few seconds left"
    if seconds < 90:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def report_text(report: SyncReport | None) -> str:
    """Return a one-line summary of an indexing run."""
    if report is None:
        return "Nothing to do: the library is up to date."
    parts = []
    for label, items in (
        ("added", report.added),
        ("updated", report.updated),
        ("removed", report.removed),
    ):
        if items:
            parts.append(f"{len(items)} {label}")
    if report.unchanged:
        parts.append(f"{report.unchanged} unchanged")
    if report.failed:
        parts.append(f"{len(report.failed)} could not be read")
    if report.chunks_embedded and not parts:
        parts.append(f"{report.chunks_embedded} passages embedded")
    summary = ", ".join(parts) or "no changes"
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
        self.label = plain_label(name="Indexing status")
        self.label.setWordWrap(False)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Indexing progress bar")
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
        self.setVisible(True)

    def update_progress(self, progress: Progress) -> None:
        """Show a progress tick from the core ("ocr" ticks: the page of the file being read)."""
        if progress.stage == "ocr":
            # Pages of one file: said in the label; the bar and time left keep counting files.
            if progress.total and progress.done < progress.total:
                self.label.setText(ocr_text(progress))
            return
        if progress.stage == "model":
            self.label.setText("Loading the embedding model…")
            self.bar.setRange(0, 0)
            self.counts.setText("")
            return
        now = self._clock()
        if progress.stage != self._stage or progress.done < self._done0:
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
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(progress.done, total))
        text = f"{progress.done} of {total} {unit} done"
        rate_done, elapsed = progress.done - self._done0, now - self._t0
        if (
            rate_done >= ETA_MIN_DONE
            and elapsed >= ETA_MIN_SECONDS
            and total == self._total0
            and progress.done < total
        ):
            text += f" · {eta_text(elapsed / rate_done * (total - progress.done))}"
        self.counts.setText(text)

    def finish(self, message: str) -> None:
        """Hide the strip; ``message`` goes to whoever shows summaries (see LibraryPanel)."""
        self.setVisible(False)
        self.label.setText(message)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancel_requested.emit()

"""Captures the README screenshots from the real window (run under Xvfb: see the bottom of this file)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent
EXAMPLE = "When did Russia receive the first shipment?"
UNANSWERABLE = "What is the airspeed velocity of an unladen swallow?"
PDF_QUESTION = "Who signed the inspection report for depot 12?"
# A small report whose answer is on page 2 (drawn with Qt's PDF writer: no other tool needed).
REPORT_PAGES = [
    [
        "Depot Inspection Report",
        "Northern district, spring round",
        "",
        "This report covers the spring inspections of the northern depots.",
        "Each depot was visited once; counts are of sealed crates.",
    ],
    [
        "Findings",
        "",
        "Depot 11 held 212 crates and two damaged pallets.",
        "The inspection of depot 12 found 340 crates in good order.",
        "Inspector Maria Lindqvist signed the report for depot 12 on 3 April.",
        "The next delivery to depot 12 is due in week 16.",
    ],
    ["Annex", "", "Photographs of the damaged pallets are kept at the district office."],
]


def write_report(path: Path) -> None:
    """Write REPORT_PAGES to ``path`` as a three-page A4 PDF."""
    from PySide6.QtCore import QMarginsF, QPointF
    from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPainter, QPdfWriter

    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setResolution(72)
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Point)
    writer.setTitle("Depot Inspection Report")
    painter = QPainter(writer)
    for number, lines in enumerate(REPORT_PAGES):
        if number:
            writer.newPage()
        y = 90.0
        for i, line in enumerate(lines):
            font = QFont("DejaVu Sans")
            font.setPointSizeF(20 if i == 0 else 12)
            font.setBold(i == 0)
            painter.setFont(font)
            painter.drawText(QPointF(72, y), line)
            y += 34 if i == 0 else 22
    painter.end()


def main() -> int:
    os.environ.setdefault("QA_APP_HOME", tempfile.mkdtemp(prefix="qa_shots_"))
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from qa_app.gui.app import make_application
    from qa_app.gui.main_window import MainWindow

    app = make_application(sys.argv[:1])
    if "--dark" in sys.argv:
        # Xvfb has no desktop theme to follow, so stand in for a dark system palette.
        from PySide6.QtGui import QColor, QPalette

        dark = QPalette()
        for role, colour in {
            "Window": "#2b2b2b",
            "WindowText": "#e0e0e0",
            "Base": "#1e1e1e",
            "AlternateBase": "#262626",
            "Text": "#e0e0e0",
            "Button": "#353535",
            "ButtonText": "#e0e0e0",
            "Highlight": "#3d6fa5",
            "HighlightedText": "#ffffff",
            "PlaceholderText": "#9a9a9a",
            "Link": "#6fb1ff",
            "Mid": "#555555",
            "ToolTipBase": "#353535",
            "ToolTipText": "#e0e0e0",
        }.items():
            dark.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
        for role in ("WindowText", "Text", "ButtonText"):
            dark.setColor(
                QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, role), QColor("#777777")
            )
        app.setPalette(dark)

    def wait_until(cond, timeout: float = 600.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("the window did not get there in time")
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    window = MainWindow()
    window.resize(1400, 860)
    window.show()
    wait_until(lambda: window.session.library.ready and not window.session.indexing.running)
    suffix = "-dark" if "--dark" in sys.argv else ""

    def ask(question: str) -> None:
        window.ask_panel.question.setText(question)
        window.ask(question)
        wait_until(
            lambda: window.ask_panel.answer.state in ("answer", "possible", "not-found", "error")
        )

    ask(EXAMPLE)
    row = window.ask_panel.model.rows()[0]
    wait_until(lambda: window.viewer.doc_id == row.doc_id)
    for _ in range(10):
        QCoreApplication.processEvents()
    window.grab().save(str(OUT / f"answer{suffix}.png"))

    ask(UNANSWERABLE)
    wait_until(lambda: window.viewer.doc_id is not None)
    for _ in range(10):
        QCoreApplication.processEvents()
    window.grab().save(str(OUT / f"not-found{suffix}.png"))

    report = Path(os.environ["QA_APP_HOME"]) / "depot-inspection.pdf"
    write_report(report)
    window.session.indexing.add([str(report)])
    wait_until(lambda: not window.session.indexing.running)
    ask(PDF_QUESTION)
    wait_until(lambda: window.viewer.showing_page() and window.viewer.page_view.shown_page() > 0)
    for _ in range(10):
        QCoreApplication.processEvents()
    window.grab().save(str(OUT / f"pdf-page{suffix}.png"))

    folder = Path(os.environ["QA_APP_HOME"]) / "field-reports"
    folder.mkdir(exist_ok=True)
    for i in range(1200):
        (folder / f"report{i:04}.txt").write_text(
            f"Field report {i}.\n\nDepot {i} holds {i * 7} crates; the inspector signed on day "
            f"{i % 28 + 1}.\n\nThe next delivery to depot {i} is due in week {i % 52 + 1}.\n",
            encoding="utf-8",
        )
    (folder / "damaged-scan.pdf").write_bytes(b"not really a pdf")  # read first: listed as failed
    window.session.indexing.add([str(folder)])
    # Half-way through embedding the passages (files are read first), with a time left estimate.
    strip = window.library_panel.progress
    wait_until(lambda: strip.label.text().startswith("Embedding") and strip.bar.value() >= 600)
    window.grab().save(str(OUT / f"indexing{suffix}.png"))
    window.session.indexing.cancel()
    wait_until(lambda: not window.session.indexing.running)
    window.close()
    wait_until(lambda: not window.session.runner.is_busy() and not window.isVisible())
    print("saved to", OUT)
    return 0


if __name__ == "__main__":
    # xvfb-run -a -s "-screen 0 1600x1000x24" python resources/screenshots/capture.py [--dark]
    sys.exit(main())

"""Captures browse.png, search.png and cancel.png from the real window (run under Xvfb, see below)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent
SIZE = (1280, 720)


def main() -> int:
    os.environ.setdefault("QA_APP_HOME", tempfile.mkdtemp(prefix="qa_shots_"))
    from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
    from PySide6.QtTest import QTest

    from qa_app.gui.app import make_application
    from qa_app.gui.main_window import MainWindow

    _app = make_application(sys.argv[:1])  # kept for as long as the window runs

    def wait_until(cond, timeout: float = 900.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("the window did not get there in time")
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def settle() -> None:
        for _ in range(20):
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

    window = MainWindow()
    window.settings.confirm_removal = True
    window.resize(*SIZE)
    window.show()
    wait_until(lambda: window.session.library.ready and not window.session.indexing.running)

    # A case file of numbered parts, added to the demo library.
    home = Path(os.environ["QA_APP_HOME"])
    case = home / "case-files"
    case.mkdir(exist_ok=True)
    for n in range(1, 13):
        (case / f"part{n}.txt").write_text(
            f"Harbour inquiry, part {n}\n\nWitness {n} saw the freighter Aurora leave the harbour "
            f"at {n % 12 + 1} o'clock.\n\nThe harbour master logged {n * 3} crates that day.\n",
            encoding="utf-8",
        )
    window.session.indexing.add([str(case)])
    wait_until(lambda: not window.session.indexing.running)
    panel = window.library_panel
    wait_until(lambda: panel.proxy.rowCount() >= 17)

    # browse.png: the keyboard path: Ctrl+Shift+F, "part 1", Enter opens the first match.
    window.named_actions["filter_documents"].trigger()
    QTest.keyClicks(panel.filter, "inquiry part 1")
    QTest.keyClick(panel.filter, Qt.Key.Key_Return)
    wait_until(lambda: window.viewer.doc_id is not None)
    QTest.keyClick(panel.table, Qt.Key.Key_Down)  # part 10
    QTest.keyClick(panel.table, Qt.Key.Key_Return)
    wait_until(lambda: "part 10" in window.viewer.title.text())
    settle()
    window.grab().save(str(OUT / "browse.png"))
    panel.filter.clear()

    # search.png: search mode, ranked passages with the words marked.
    window.toggle_search_mode()
    QTest.keyClicks(window.ask_panel.question, "freighter Aurora harbour")
    QTest.keyClick(window.ask_panel.question, Qt.Key.Key_Return)
    wait_until(lambda: window.ask_panel.model.rowCount() > 0)
    first = window.ask_panel.model.rows()[0]
    wait_until(lambda: window.viewer.doc_id == first.doc_id and bool(window.viewer.marks()))
    settle()
    window.grab().save(str(OUT / "search.png"))
    window.toggle_search_mode()

    # cancel.png: a big folder cancelled while its passages are embedded.
    folder = home / "field-reports"
    folder.mkdir(exist_ok=True)
    for i in range(600):
        (folder / f"report{i:04}.txt").write_text(
            f"Field report {i}.\n\nDepot {i} holds {i * 7} crates; the inspector signed on day "
            f"{i % 28 + 1}.\n\nThe next delivery to depot {i} is due in week {i % 52 + 1}.\n",
            encoding="utf-8",
        )
    window.session.indexing.add([str(folder)])
    strip = panel.progress
    wait_until(lambda: strip.label.text().startswith("Embedding") and strip.bar.value() >= 200)
    strip.cancel_button.click()
    wait_until(lambda: not window.session.indexing.running)
    panel.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)  # the waiting documents first
    settle()
    window.grab().save(str(OUT / "cancel.png"))
    print("cancel message:", strip.label.text())
    print("summary:", panel.summary.text())
    window.close()
    wait_until(lambda: not window.session.runner.is_busy() and not window.isVisible())
    print("saved to", OUT)
    return 0


if __name__ == "__main__":
    # xvfb-run -a -s "-screen 0 1440x900x24" python resources/screenshots/capture_browse.py
    sys.exit(main())

"""Captures the verdict screenshots (a possible answer; sources that disagree) from the real window.

Run under Xvfb: xvfb-run -a -s "-screen 0 1600x1000x24" python resources/screenshots/capture_verdicts.py
The possible answer is the first of POSSIBLE_QUESTIONS that the bundled demo library answers in
the possible-answer band; the disagreement is asked of two short reports written here that give
different dates for one delivery.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent
POSSIBLE_QUESTIONS = [
    "Who spoke alongside Blinken in London?",
    "Which city did Blinken visit?",
    "Who is the British Foreign Secretary?",
    "Which airline did the allies say they would work towards sanctioning?",
    "Which Iranian proxy is based in Lebanon?",
]
REPORTS = {
    "harbour-log.txt": (
        "Harbour log, northern quay.\n\nThe grain ship Aurora docked at the northern quay on "
        "12 March, the harbour master said, and her cargo was unloaded within two days.\n"
    ),
    "customs-note.txt": (
        "Customs note on the Aurora.\n\nAccording to the customs office, the grain ship Aurora "
        "docked at the northern quay on 19 March, a week later than planned.\n"
    ),
}
DISAGREE_QUESTION = "When did the grain ship Aurora dock?"


def main() -> int:
    os.environ.setdefault("QA_APP_HOME", tempfile.mkdtemp(prefix="qa_shots_"))
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from qa_app.gui.app import make_application
    from qa_app.gui.main_window import MainWindow

    app = make_application(sys.argv[:1])
    assert app is not None

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
    done = ("answer", "possible", "not-found", "error")

    def ask(question: str) -> str:
        window.ask_panel.answer.clear()
        window.ask_panel.question.setText(question)
        window.ask(question)
        wait_until(lambda: window.ask_panel.answer.state in done)
        return str(window.ask_panel.answer.state)

    def settle() -> None:
        for _ in range(20):
            QCoreApplication.processEvents()

    for question in POSSIBLE_QUESTIONS:
        if ask(question) == "possible":
            wait_until(lambda: window.viewer.doc_id is not None)
            settle()
            window.grab().save(str(OUT / "possible-answer.png"))
            print("possible answer:", question)
            break
    else:
        print("none of the questions gave a possible answer", file=sys.stderr)

    folder = Path(os.environ["QA_APP_HOME"]) / "aurora"
    folder.mkdir(exist_ok=True)
    for name, text in REPORTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    window.session.indexing.add([str(folder)])
    wait_until(lambda: not window.session.indexing.running)
    ask(DISAGREE_QUESTION)
    settle()
    shown = window.ask_panel.answer.disagree.isVisibleTo(window.ask_panel.answer)
    print("sources disagree shown:", shown)
    window.grab().save(str(OUT / "sources-disagree.png"))
    window.close()
    wait_until(lambda: not window.session.runner.is_busy() and not window.isVisible())
    return 0


if __name__ == "__main__":
    sys.exit(main())

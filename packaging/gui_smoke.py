"""Smoke-test hook for the bundled window: types a question like a person, waits for the answer, quits.

Enabled only when QA_APP_SMOKE_QUESTION is set (launch.py checks, in the window program only). Other settings:
  QA_APP_SMOKE_EXPECT   text the window must show (the test passes when any visible text contains it)
  QA_APP_SMOKE_FAIL_ON  text that means the window gave up (stop at once instead of waiting)
  QA_APP_SMOKE_TIMEOUT  seconds to wait for it (default 180)
  QA_APP_SMOKE_T0       the launcher's time.time() at start, so reported times include unpacking
It prints lines starting with "SMOKE-" (window shown, question typed, answer seen, or a failure with
everything the window showed) and ends the event loop: exit code 0 on success, 3 on failure.
Run from a source tree, ``python packaging/gui_smoke.py`` opens the window with the hook installed
(the start-up measurements in the README are taken this way); it prints "SMOKE-CLOSE <epoch>" when
it closes the window, so quit time is the gap between that and the process's end.
It relies on no private name in qa_app.gui: the question box is the widget named "question" if there
is one, else the first visible, enabled line edit of the main window; the answer must show in the
widget named "answer" or "answerText" if there is one, else anywhere in the window.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

POLL_MS = 50
# objectNames of the widget that shows the answer: a generic one, then the window's own.
ANSWER_NAMES = ("answer", "answerText")
FAIL_CODE = 3


def _now() -> float:
    start = float(os.environ.get("QA_APP_SMOKE_T0", "0") or 0) or _STARTED
    return time.time() - start


_STARTED = time.time()


def _say(line: str) -> None:
    print(f"SMOKE-{line}", flush=True)


class Driver:
    """Polls the running window from the event loop (never blocks it)."""

    def __init__(self, question: str, expect: str, fail_on: str, timeout: float) -> None:
        from PySide6 import QtCore

        self.question, self.expect, self.fail_on = question, expect, fail_on
        self.deadline = time.time() + timeout
        self.window: Any = None
        self.asked = False
        self.finished = False
        self.timer = QtCore.QTimer()
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        try:
            self._tick()
        except Exception as exc:  # a driver bug must end the run, not hang it
            self.finish(False, f"driver error: {exc!r}")

    def _tick(self) -> None:
        if self.finished:
            return
        if time.time() > self.deadline:
            step = "answer" if self.asked else "question box"
            self.finish(False, f"timed out waiting for the {step}")
            return
        if self.window is None:
            self.window = _main_window()
            if self.window is None:
                return
            _say(f"WINDOW-SHOWN {_now():.2f}s title={self.window.windowTitle()!r}")
        if not self.asked:
            box = _question_box(self.window)
            if box is None:
                return
            _type_and_enter(box, self.question)
            self.asked = True
            self.asked_at = time.time()
            _say(f"ASKED {_now():.2f}s {self.question!r}")
            return
        # The answer widget is where the answer must show; without one, anywhere visible.
        named = next(
            (w for w in (_named(self.window, n) for n in ANSWER_NAMES) if w is not None), None
        )
        texts = [_text_of(named)] if named is not None else _visible_texts(self.window)
        hit = next((t for t in texts if self.expect and self.expect in t), None)
        gave_up = self.fail_on and any(self.fail_on in t for t in _visible_texts(self.window))
        if hit is None and gave_up:
            self.finish(False, f"the window shows {self.fail_on!r}")
            return
        if hit is not None:
            answer = hit
            _say(f"ANSWER {_now():.2f}s (+{time.time() - self.asked_at:.2f}s) {answer!r}")
            self.finish(True, "")

    def finish(self, ok: bool, reason: str) -> None:
        from PySide6 import QtWidgets

        self.finished = True
        self.timer.stop()
        if not ok:
            _say(f"FAIL {reason}")
            if self.window is not None:
                for text in _visible_texts(self.window):
                    _say(f"TEXT {text[:300]!r}")
            # A failed run need not close cleanly, and the window may end the process with
            # status 0 once nothing writes (qa_app.gui.app.run): leave with the failure's code now.
            sys.stdout.flush()
            os._exit(FAIL_CODE)
        # Close the window the way a person would (so the app's own clean-up runs), then end the loop.
        _say(f"CLOSE {time.time():.3f}")
        code = 0 if ok else FAIL_CODE
        closed = getattr(self.window, "closed", None)  # the window says when its work has stopped
        if closed is not None:
            closed.connect(lambda: QtWidgets.QApplication.exit(code))
        for widget in QtWidgets.QApplication.topLevelWidgets():
            if widget.isVisible():
                widget.close()
        if closed is None:
            QtWidgets.QApplication.exit(code)


def _main_window() -> Any:
    from PySide6 import QtWidgets

    windows = [w for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible()]
    mains = [w for w in windows if isinstance(w, QtWidgets.QMainWindow)]
    return (mains or windows or [None])[0]


def _question_box(window: Any) -> Any:
    from PySide6 import QtWidgets

    named = _named(window, "question")
    if isinstance(named, QtWidgets.QComboBox) and named.isEditable():
        named = named.lineEdit()
    if isinstance(named, QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit | QtWidgets.QTextEdit):
        return named if named.isVisible() and named.isEnabled() else None
    for box in window.findChildren(QtWidgets.QLineEdit):
        if box.isVisible() and box.isEnabled() and not box.isReadOnly():
            return box
    return None


def _type_and_enter(box: Any, text: str) -> None:
    """Put the text in the box and press Return through Qt's event system, as a keyboard would."""
    from PySide6 import QtCore, QtGui, QtWidgets

    box.setFocus()
    if isinstance(box, QtWidgets.QLineEdit):
        box.setText(text)
    else:
        box.setPlainText(text)
    for kind in (QtCore.QEvent.Type.KeyPress, QtCore.QEvent.Type.KeyRelease):
        event = QtGui.QKeyEvent(
            kind, QtCore.Qt.Key.Key_Return, QtCore.Qt.KeyboardModifier.NoModifier
        )
        QtWidgets.QApplication.sendEvent(box, event)


def _named(window: Any, name: str) -> Any:
    from PySide6 import QtWidgets

    return window.findChild(QtWidgets.QWidget, name)


def _text_of(widget: Any) -> str:
    from PySide6 import QtWidgets

    if isinstance(widget, QtWidgets.QLabel | QtWidgets.QLineEdit):
        return widget.text()
    if isinstance(widget, QtWidgets.QTextEdit | QtWidgets.QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QtWidgets.QAbstractItemView) and widget.model() is not None:
        model, lines = widget.model(), []
        for row in range(min(model.rowCount(), 50)):
            lines.append(str(model.index(row, 0).data() or ""))
        return "\n".join(lines)
    return ""


def _visible_texts(window: Any) -> list[str]:
    """Every non-empty text the window shows: labels, text views, line edits and list rows."""
    from PySide6 import QtWidgets

    texts = []
    for widget in window.findChildren(QtWidgets.QWidget):
        if widget.isVisible():
            text = _text_of(widget).strip()
            if text:
                texts.append(text)
    return texts


def install() -> None:
    """Arrange for the driver to start when the app enters its event loop (QApplication.exec)."""
    import faulthandler

    faulthandler.enable()  # a crash in a test run should leave every thread's stack on stderr
    from PySide6 import QtWidgets

    question = os.environ["QA_APP_SMOKE_QUESTION"]
    expect = os.environ.get("QA_APP_SMOKE_EXPECT", "")
    fail_on = os.environ.get("QA_APP_SMOKE_FAIL_ON", "")
    timeout = float(os.environ.get("QA_APP_SMOKE_TIMEOUT", "180"))
    original = QtWidgets.QApplication.exec
    drivers: list[Driver] = []

    def exec_with_driver(*_args: Any) -> int:
        drivers.append(
            Driver(question, expect, fail_on, timeout)
        )  # kept alive for the loop's lifetime
        _say(f"EVENT-LOOP {_now():.2f}s")
        return original()

    # exec is static in PySide6; patching the class reaches app.exec() and QApplication.exec() alike.
    QtWidgets.QApplication.exec = staticmethod(exec_with_driver)  # type: ignore[method-assign]
    print(f"SMOKE-HOOK installed in {sys.executable}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("QA_APP_SMOKE_QUESTION", "When did Russia receive the first shipment?")
    os.environ.setdefault("QA_APP_SMOKE_EXPECT", "earlier this month")
    install()
    from qa_app.gui.app import main as gui_main

    sys.exit(gui_main([sys.argv[0]]))

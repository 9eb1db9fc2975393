"""Questions to the open library: each one a background task; only the latest one's answer is shown."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from qa_app.contracts import Scope
from qa_app.gui.library_state import LibraryState
from qa_app.gui.lifecycle import LibraryLifecycle
from qa_app.gui.messages import Messages, message
from qa_app.gui.settings import AppSettings
from qa_app.records import Result

_clock = time.monotonic  # when Enter was pressed, when the answer came (tests replace it)
WAITING = "Getting ready; your question will be answered as soon as the models are loaded…"


class Asking(QObject):
    """Answers questions with the settings' reader, k and threshold.

    A question asked before the library is ready waits (the latest one only) and is answered once
    it is. An answer that arrives after a newer question, or for a library no longer open, is
    dropped.
    """

    started = Signal(str, str)  # question, what is happening
    result_ready = Signal(object)  # Result
    failed = Signal(str, str)  # question, reason

    def __init__(
        self,
        library: LibraryLifecycle,
        settings: AppSettings,
        messages: Messages,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._library, self._settings, self._messages = library, settings, messages
        self.last_result: Result | None = None
        self._waiting: str | None = None  # the question asked before the library was ready
        self._waiting_scope: Scope | None = None
        self._pressed = 0.0  # when the waiting question was asked (its time counts from there)
        self._latest = 0  # number of the latest question asked; older answers are dropped
        library.state_changed.connect(self._state_changed)

    def _state_changed(self, state: LibraryState) -> None:
        question, self._waiting = self._waiting, None
        if question is None:
            return
        if state is LibraryState.READY:
            self.ask(question, self._waiting_scope, pressed=self._pressed)
        elif state in (LibraryState.MODELS_FAILED, LibraryState.OPEN_FAILED):
            self.failed.emit(question, self._library.problem or "unknown")
        elif state is not LibraryState.CLOSED:
            self._waiting = question  # still getting ready, or another library is opening

    def ask(
        self, question: str, scope: Scope | None = None, *, pressed: float | None = None
    ) -> None:
        """Answer ``question`` (from documents in ``scope``) in the background; keep it while the
        library gets ready. The time said counts from ``pressed`` (default: now), when the person
        pressed Enter, waiting for the models included."""
        question = question.strip()
        pressed = _clock() if pressed is None else pressed
        library = self._library
        if not question or library.state is LibraryState.CLOSED:
            return
        if library.state is LibraryState.MODELS_FAILED:
            self.failed.emit(question, f"the models could not be loaded: {library.problem}")
            return
        if library.state is LibraryState.OPEN_FAILED:
            self.failed.emit(question, f"the library could not be opened: {library.problem}")
            return
        engine = library.engine
        if not library.ready or engine is None:
            self._waiting, self._waiting_scope, self._pressed = question, scope, pressed
            self.started.emit(question, WAITING)
            return
        self._latest += 1
        number = self._latest
        k, threshold, reader = self._settings.k, self._settings.threshold, self._settings.reader
        self.started.emit(question, "Looking for the answer…")

        def shown(result: Result) -> None:
            library.readers.learn(result.reader, result.threshold)
            if number == self._latest:
                self.last_result = result
                self.result_ready.emit(result)
                self._messages.status.emit(f"Answered in {_clock() - pressed:.1f} s.")

        def failed(exc: BaseException) -> None:
            if number == self._latest:
                self.failed.emit(question, message(exc))

        library.submit(
            lambda _ctx: engine.ask(
                question, k, reader=reader, threshold=threshold, scope=scope or None
            ),
            name="Answering",
            on_result=shown,
            on_error=failed,
        )

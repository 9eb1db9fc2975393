"""Asking and indexing on their own, each over a library lifecycle and the fake engine, without a window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from pathlib import Path

import pytest
from session_kit import Kit, finish, make_kit

from qa_app.gui.asking import WAITING, Asking
from qa_app.gui.indexing import Indexing
from qa_app.gui.library_state import LibraryState
from qa_app.gui.settings import AppSettings

pytestmark = pytest.mark.gui
EXAMPLE = "When did Russia receive the first shipment?"
OTHER = "Who is the Kremlin spokesman?"


class Heard:
    """Every signal of an Asking or an Indexing, as (signal name, arguments)."""

    def __init__(self, part: Asking | Indexing, *names: str) -> None:
        self.events: list[tuple[str, tuple]] = []
        for name in names:
            getattr(part, name).connect(lambda *args, n=name: self.events.append((n, args)))

    def of(self, name: str) -> list[tuple]:
        return [args for n, args in self.events if n == name]


def asking_kit() -> tuple[Kit, Asking, Heard]:
    kit = make_kit()
    kit.prepare_on_open()
    asking = Asking(kit.library, AppSettings(), kit.messages, kit.root)
    return kit, asking, Heard(asking, "started", "result_ready", "failed")


def hold_answers(kit: Kit, question: str) -> threading.Event:
    """Make the open engine wait at ``gate`` before answering ``question``."""
    engine, gate = kit.engine(), threading.Event()
    real_ask = engine.ask

    def ask(q, *args, **kwargs):
        if q == question:
            gate.wait(10)
        return real_ask(q, *args, **kwargs)

    engine.ask = ask
    return gate


# -- asking -----------------------------------------------------------------------------------


def test_a_question_asked_while_getting_ready_is_answered_once_ready(qtbot):
    kit, asking, heard = asking_kit()
    kit.library.start()
    asking.ask(f"  {EXAMPLE} ")
    assert heard.of("started") == [(EXAMPLE, WAITING)] and kit.runner.tasks()[0].name != "Answering"
    with qtbot.waitSignal(asking.result_ready, timeout=5000) as answered:
        pass
    assert kit.library.ready and answered.args[0].answer.text == "earlier this month"
    assert asking.last_result is answered.args[0]
    assert heard.of("started")[-1] == (EXAMPLE, "Looking for the answer…")
    assert kit.statuses[-1].startswith("Answered")
    asking.ask("   ")  # nothing to ask
    assert len(heard.of("started")) == 2
    finish(qtbot, kit)


def test_only_the_latest_question_is_answered(qtbot):
    kit, asking, heard = asking_kit()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.ready, timeout=5000)
    gate = hold_answers(kit, EXAMPLE)
    asking.ask(EXAMPLE)
    with qtbot.waitSignal(asking.result_ready, timeout=5000):
        asking.ask(OTHER)
    gate.set()  # the first answer arrives after the second one: it is stale
    qtbot.waitUntil(lambda: not kit.runner.is_busy(), timeout=5000)
    assert [r[0].question for r in heard.of("result_ready")] == [OTHER]
    assert asking.last_result.question == OTHER and not heard.of("failed")
    assert kit.library.readers.thresholds["fake"] == 0.45
    finish(qtbot, kit)


def test_an_answer_for_a_library_no_longer_open_is_dropped(qtbot):
    kit, asking, heard = asking_kit()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.ready, timeout=5000)
    gate = hold_answers(kit, EXAMPLE)
    asking.ask(EXAMPLE)
    kit.library.open("Work")  # the answer's library closes while it is being answered
    gate.set()
    qtbot.waitUntil(lambda: kit.library.ready and not kit.runner.is_busy(), timeout=5000)
    assert not heard.of("result_ready") and not heard.of("failed")
    assert asking.last_result is None
    finish(qtbot, kit)


def test_questions_fail_with_the_reason_when_the_models_cannot_load(qtbot, monkeypatch):
    from gui_fakes import FakeEngine

    from qa_app.models.weights import ModelError

    def broken(self):
        raise ModelError("weights are missing")

    monkeypatch.setattr(FakeEngine, "warm_up", broken)
    kit, asking, heard = asking_kit()
    kit.library.start()
    asking.ask(EXAMPLE)  # waits, then fails with the models
    qtbot.waitUntil(lambda: kit.library.state is LibraryState.MODELS_FAILED, timeout=5000)
    assert heard.of("failed") == [(EXAMPLE, "weights are missing")]
    asking.ask(OTHER)
    assert heard.of("failed")[-1] == (OTHER, "the models could not be loaded: weights are missing")
    finish(qtbot, kit)


def test_a_question_fails_when_the_library_cannot_be_opened(qtbot):
    kit, asking, heard = asking_kit()
    kit.library.open("bad/name")
    asking.ask(EXAMPLE)
    qtbot.waitUntil(lambda: bool(heard.of("failed")), timeout=5000)
    assert "invalid library name" in heard.of("failed")[0][1]
    asking.ask(OTHER)
    assert heard.of("failed")[-1][1].startswith("the library could not be opened:")
    finish(qtbot, kit)


# -- indexing ---------------------------------------------------------------------------------


def indexing_kit() -> tuple[Kit, Indexing, Heard]:
    kit = make_kit()
    indexing = Indexing(kit.library, kit.messages, kit.root)
    heard = Heard(indexing, "started", "progress", "finished", "documents_changed")
    return kit, indexing, heard


def notes(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir(exist_ok=True)
    for i in range(n):
        (folder / f"note{i:03}.txt").write_text(f"Note {i} is about otters.\n", encoding="utf-8")
    return folder


def listed(heard: Heard) -> list[str]:
    return sorted(Path(d.path).name for d in heard.of("documents_changed")[-1][0])


def test_opening_prepares_the_library_as_an_indexing_run(qtbot):
    kit, indexing, heard = indexing_kit()
    with qtbot.waitSignal(indexing.finished, timeout=5000) as finished:
        kit.library.start()
    report, error = finished.args
    assert heard.of("started") == [("Preparing the library",)] and error is None
    assert len(report.added) == 5 and heard.of("progress")
    qtbot.waitUntil(lambda: kit.library.ready and not indexing.running, timeout=5000)
    qtbot.waitUntil(lambda: len(listed(heard)) == 5, timeout=5000)
    finish(qtbot, kit)


def test_add_remove_and_two_runs_back_to_back_report_once(qtbot, tmp_path):
    kit, indexing, heard = indexing_kit()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.ready and not kit.runner.is_busy(), timeout=5000)
    folder = notes(tmp_path, 3)
    with qtbot.waitSignal(indexing.finished, timeout=5000) as finished:
        indexing.add([str(folder)])
        indexing.add([str(tmp_path / "gone.txt")])  # joins the run: one report, both failures
        assert indexing.running
    report, error = finished.args
    assert [s[0] for s in heard.of("started")][-1] == "Adding notes" and len(
        heard.of("started")
    ) == 2
    assert len(report.failed) == 1 and "gone.txt" in report.failed[0].path and error is None
    qtbot.waitUntil(lambda: "note002.txt" in listed(heard), timeout=5000)
    assert str(folder) in indexing.watcher.watched()
    with qtbot.waitSignal(indexing.documents_changed, timeout=5000):
        indexing.remove([str(folder / "note000.txt")])
    # Inside an added folder: excluded, so re-syncing the folder leaves it out (as in the library).
    note = str(folder / "note000.txt")
    shown = lambda: {d.path: d.status for d in heard.of("documents_changed")[-1][0]}  # noqa: E731
    qtbot.waitUntil(lambda: shown().get(note) == "excluded", timeout=5000)
    assert kit.statuses[-1] == "Removed 1 document from the library."
    finish(qtbot, kit)


def test_cancel_stops_the_run_and_keeps_what_was_done(qtbot, tmp_path):
    kit, indexing, heard = indexing_kit()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.ready and not kit.runner.is_busy(), timeout=5000)
    kit.backend.gate = threading.Event()
    with qtbot.waitSignal(indexing.progress, timeout=5000):
        indexing.add([str(notes(tmp_path, 4))])
    with qtbot.waitSignal(indexing.finished, timeout=5000) as finished:
        indexing.cancel()
    assert finished.args[0].cancelled and not finished.args[0].added and not indexing.running
    finish(qtbot, kit)


def test_files_changed_during_a_run_are_resynced_after_it(qtbot, tmp_path):
    kit, indexing, heard = indexing_kit()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.ready and not kit.runner.is_busy(), timeout=5000)
    kit.backend.gate = threading.Event()
    with qtbot.waitSignal(indexing.progress, timeout=5000):
        indexing.add([str(notes(tmp_path, 2))])
    indexing.watcher.changed.emit()  # as the watcher does after a burst of changes
    assert len(heard.of("started")) == 2  # not now: after the run
    with qtbot.waitSignal(indexing.started, timeout=5000) as started:
        kit.backend.gate.set()
    assert started.args == ["Re-syncing the library"]
    qtbot.waitUntil(lambda: not indexing.running and not kit.runner.is_busy(), timeout=5000)
    finish(qtbot, kit)


def test_opening_another_library_stops_the_run_and_empties_the_lists(qtbot, tmp_path):
    kit, indexing, heard = indexing_kit()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.ready and not kit.runner.is_busy(), timeout=5000)
    kit.backend.gate = threading.Event()
    with qtbot.waitSignal(indexing.progress, timeout=5000):
        indexing.add([str(notes(tmp_path, 3))])
    with qtbot.waitSignal(indexing.finished, timeout=5000) as finished:
        kit.library.open("Work")
    assert finished.args == [None, "Stopped: another library was opened."]
    assert heard.of("documents_changed")[-1] == ([],) and not indexing.running
    qtbot.waitUntil(lambda: kit.library.ready and not kit.runner.is_busy(), timeout=5000)
    assert kit.library.name == "Work" and listed(heard) == []
    finish(qtbot, kit)


def test_without_an_open_library_adding_says_so(qtbot, tmp_path):
    kit, indexing, heard = indexing_kit()
    indexing.add([str(tmp_path)])
    assert kit.errors == ["The library is still opening; add the documents again in a moment."]
    assert not heard.events and not indexing.running and not kit.runner.is_busy()
    finish(qtbot, kit)

"""The library lifecycle's one state: the transition table, and the lifecycle driven over the fake engine."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
import threading

import pytest
from session_kit import finish, make_kit

from qa_app.gui.library_state import (
    TRANSITIONS,
    Event,
    IllegalTransition,
    LibraryState,
    next_state,
)

pytestmark = pytest.mark.gui
S, E = LibraryState, Event

# Every way the window moves its library, as the events the lifecycle sees.
APP_PATHS: list[tuple[list[Event], LibraryState]] = [
    ([E.OPEN, E.OPENED, E.PREPARED, E.MODELS_LOADED], S.READY),  # the library is ready first
    ([E.OPEN, E.OPENED, E.MODELS_LOADED, E.PREPARED], S.READY),  # the models are ready first
    ([E.OPEN, E.OPENED, E.MODELS_FAILED, E.PREPARED], S.MODELS_FAILED),
    ([E.OPEN, E.OPENED, E.PREPARED, E.MODELS_FAILED], S.MODELS_FAILED),
    ([E.OPEN, E.OPEN_FAILED, E.OPEN, E.OPENED], S.STARTING),  # another library after a failure
    ([E.OPEN, E.OPEN], S.OPENING),  # another library chosen while one opens
]
STATES_ON_THE_WAY = [S.NO_LIBRARY, S.OPENING, S.STARTING, S.PREPARING, S.LOADING_MODELS]


def walk(events: list[Event], state: LibraryState = S.NO_LIBRARY) -> list[LibraryState]:
    seen = [state]
    for event in events:
        seen.append(next_state(seen[-1], event))
    return seen


@pytest.mark.parametrize(("events", "end"), APP_PATHS)
def test_the_paths_the_app_takes_end_where_they_should(events, end):
    assert walk(events)[-1] is end


def test_every_transition_in_the_table_is_one_the_app_uses():
    used: set[tuple[LibraryState, Event]] = set()
    for events, _end in APP_PATHS:
        states = walk(events)
        used |= set(zip(states, events, strict=False))
    # A switch (open, rename or delete the open library) and closing the window can happen in
    # any state the window can be in; after closing only closing again is allowed.
    for state in S:
        used.add((state, E.STOP))
        if state is not S.CLOSED:
            used.add((state, E.OPEN))
    assert used == set(TRANSITIONS)


def test_every_other_event_is_refused():
    refused = 0
    for state in S:
        for event in E:
            if (state, event) in TRANSITIONS:
                continue
            with pytest.raises(IllegalTransition, match=event.value):
                next_state(state, event)
            refused += 1
    assert refused == len(S) * len(E) - len(TRANSITIONS) > 30
    with pytest.raises(IllegalTransition):
        walk([E.OPEN, E.OPENED, E.PREPARED, E.PREPARED])  # prepared twice: a bug
    with pytest.raises(IllegalTransition):
        walk([E.STOP, E.OPEN])  # nothing opens once the window closes


def test_what_each_state_allows():
    assert {s for s in S if s.is_open} == {
        S.STARTING,
        S.PREPARING,
        S.LOADING_MODELS,
        S.READY,
        S.MODELS_FAILED,
    }
    assert {s for s in S if s.is_loading} == {
        S.OPENING,
        S.STARTING,
        S.PREPARING,
        S.LOADING_MODELS,
    }


def test_the_state_table_needs_no_qt():
    code = "import sys, qa_app.gui.library_state; print('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# -- the lifecycle over the fake engine -----------------------------------------------------------


def test_opening_with_the_models_ready_first(qtbot):
    kit = make_kit()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.state is S.PREPARING, timeout=5000)
    assert kit.library.engine is not None and kit.library.name == "seeds"
    assert (
        kit.library.readers.names == ["fake", "sentence"] and kit.library.readers.default == "fake"
    )
    assert kit.library.readers.thresholds["fake"] == 0.45
    kit.library.prepared()  # what Indexing says when its preparing run ends
    assert kit.states == [S.OPENING, S.STARTING, S.PREPARING, S.READY] and kit.library.ready
    assert kit.statuses[-1] == "Ready: ask a question about “seeds”."
    with pytest.raises(IllegalTransition):
        kit.library.prepared()  # twice: a programming error, and the state stays
    assert kit.library.state is S.READY
    finish(qtbot, kit)
    assert kit.states[-1] is S.CLOSED


def test_opening_with_the_library_ready_first(qtbot):
    kit = make_kit()
    kit.backend.warm_gate = threading.Event()
    kit.prepare_on_open()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.state is S.LOADING_MODELS, timeout=5000)
    assert kit.engine().lib.seeded  # the preparing run seeded the default library
    kit.backend.warm_gate.set()
    qtbot.waitUntil(lambda: kit.library.ready, timeout=5000)
    assert kit.states == [S.OPENING, S.STARTING, S.LOADING_MODELS, S.READY]
    finish(qtbot, kit)


def test_models_that_fail_leave_the_library_open_without_answers(qtbot, monkeypatch):
    from gui_fakes import FakeEngine

    from qa_app.models.weights import ModelError

    def broken(self):
        raise ModelError("reader.safetensors: weights are missing")

    monkeypatch.setattr(FakeEngine, "warm_up", broken)
    kit = make_kit()
    kit.backend.finish_gate = threading.Event()  # the preparing run ends after the failure
    kit.prepare_on_open()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.state is S.MODELS_FAILED, timeout=5000)
    assert kit.library.engine is not None
    assert kit.library.problem == "reader.safetensors: weights are missing"
    assert "The models could not be loaded: reader.safetensors" in kit.errors[-1]
    kit.backend.finish_gate.set()
    qtbot.waitUntil(lambda: kit.engine().lib.seeded and not kit.runner.is_busy(), timeout=5000)
    # The library is prepared (its documents work); without models it never becomes READY.
    assert kit.states == [S.OPENING, S.STARTING, S.MODELS_FAILED, S.MODELS_FAILED]
    finish(qtbot, kit)


def test_a_library_that_cannot_be_opened_then_another_that_can(qtbot):
    kit = make_kit()
    kit.library.open("bad/name")
    qtbot.waitUntil(lambda: kit.library.state is S.OPEN_FAILED, timeout=5000)
    assert kit.library.engine is None and "invalid library name" in kit.library.problem
    assert kit.errors[-1].startswith("The library could not be opened:")
    kit.library.open("Work")
    qtbot.waitUntil(lambda: kit.library.state is S.PREPARING, timeout=5000)
    assert kit.library.name == "Work" and kit.library.problem is None
    assert kit.states == [S.OPENING, S.OPEN_FAILED, S.OPENING, S.STARTING, S.PREPARING]
    finish(qtbot, kit)


def test_switching_while_opening_keeps_only_the_last_library(qtbot):
    kit = make_kit()
    kit.backend.open_gate = threading.Event()
    kit.library.open("First")
    kit.library.open("Second")  # queued behind the first open; the first result is dropped
    assert kit.states == [S.OPENING, S.OPENING]
    kit.backend.open_gate.set()
    qtbot.waitUntil(lambda: kit.library.state is S.PREPARING, timeout=5000)
    qtbot.waitUntil(lambda: not kit.runner.is_busy(), timeout=5000)
    first, second = kit.backend.engines
    assert kit.library.engine is second and kit.library.name == "Second"
    assert first.closed and not second.closed  # the unwanted engine was closed, not leaked
    finish(qtbot, kit)


def test_after_stop_nothing_opens_and_close_closes_the_engine(qtbot):
    kit = make_kit()
    kit.library.start()
    qtbot.waitUntil(lambda: kit.library.state is S.PREPARING, timeout=5000)
    engine = kit.engine()
    kit.library.stop()
    assert kit.library.state is S.CLOSED
    assert all(task.is_cancelled() for task in kit.runner.tasks())
    kit.library.open("Work")  # ignored: the window is closing
    kit.library.start()
    assert kit.library.submit(lambda _ctx: 1, name="late") is None
    assert kit.states == [S.OPENING, S.STARTING, S.PREPARING, S.CLOSED]
    finish(qtbot, kit)
    assert engine.closed and [e.name for e in kit.backend.engines] == ["seeds"]

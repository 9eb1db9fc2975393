"""The background task runner: results and errors arrive on the UI thread; writers run one at a time."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
import time
import weakref

import pytest
from PySide6.QtCore import QCoreApplication

from qa_app.gui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_result_and_error_are_delivered_on_the_ui_thread(qtbot):
    runner = TaskRunner()
    seen = []
    main = threading.current_thread()

    def ok(ctx):
        seen.append(("worker", threading.current_thread() is main))
        return 42

    def bad(ctx):
        raise ValueError("report.pdf: not a PDF")

    runner.submit(
        ok, on_result=lambda v: seen.append(("result", v, threading.current_thread() is main))
    )
    runner.submit(
        bad, on_error=lambda e: seen.append(("error", str(e), threading.current_thread() is main))
    )
    with qtbot.waitSignal(runner.idle, timeout=5000):
        pass
    assert ("worker", False) in seen
    assert ("result", 42, True) in seen
    assert ("error", "report.pdf: not a PDF", True) in seen


def test_writers_run_one_at_a_time_in_order(qtbot):
    runner = TaskRunner(max_threads=4)
    spans: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def writer(name):
        def work(ctx):
            start = time.monotonic()
            time.sleep(0.05)  # worker-side work; the test itself waits with waitSignal
            with lock:
                spans.append((name, start, time.monotonic()))

        return work

    for name in "abc":
        runner.submit(writer(name), writer=True)
    with qtbot.waitSignal(runner.idle, timeout=5000):
        pass
    assert [s[0] for s in spans] == ["a", "b", "c"]
    for (_, _, end), (_, start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end


def test_progress_arrives_and_cancel_stops_the_work(qtbot):
    runner = TaskRunner()
    ticks = []
    started = threading.Event()

    def work(ctx):
        started.set()
        n = 0
        while not ctx.cancelled():
            ctx.progress(n)
            n += 1
            time.sleep(0.001)
        return "stopped"

    results = []
    task = runner.submit(work, writer=True, on_progress=ticks.append, on_result=results.append)
    qtbot.waitUntil(lambda: bool(ticks), timeout=5000)
    task.cancel()
    with qtbot.waitSignal(runner.idle, timeout=5000):
        pass
    assert results == ["stopped"]
    assert task.is_cancelled() and task.state == "done"


def test_a_cancelled_queued_writer_never_starts(qtbot):
    runner = TaskRunner()
    release = threading.Event()
    ran = []
    runner.submit(lambda ctx: release.wait(5), writer=True)
    queued = runner.submit(
        lambda ctx: ran.append(1), writer=True, on_done=lambda: ran.append("done")
    )
    queued.cancel()
    release.set()
    with qtbot.waitSignal(runner.idle, timeout=5000):
        pass
    assert ran == ["done"]


def test_shutdown_drops_late_callbacks(qtbot):
    runner = TaskRunner()
    got = []
    runner.submit(lambda ctx: 1, on_result=got.append)
    assert runner.shutdown(5000)
    QCoreApplication.sendPostedEvents()  # deliver anything queued; it must be dropped
    QCoreApplication.processEvents()
    assert got == []
    with pytest.raises(RuntimeError):
        runner.submit(lambda ctx: 1)


def test_a_failing_callback_does_not_stall_the_writers(qtbot):
    runner = TaskRunner()
    ran = []

    def broken(*_args):
        raise ValueError("a bug in a callback")

    runner.submit(lambda ctx: 1, writer=True, on_result=broken)
    runner.submit(lambda ctx: 2, writer=True, on_done=broken)
    runner.submit(lambda ctx: ran.append("third"), writer=True)
    with qtbot.captureExceptions() as exceptions, qtbot.waitSignal(runner.idle, timeout=5000):
        pass
    assert ran == ["third"]
    assert [str(e[1]) for e in exceptions] == ["a bug in a callback"] * 2


def test_a_runner_let_go_of_waits_for_its_work_then_drops_the_result(qtbot):
    release = threading.Event()
    got = []
    runner = TaskRunner()
    runner.submit(lambda ctx: release.wait(5) and "late", on_result=got.append)
    gone = weakref.ref(runner)
    threading.Timer(0.2, release.set).start()
    del runner  # neither its tasks nor its workers hold it: it goes now, on this thread
    assert gone() is None and release.is_set()
    QCoreApplication.sendPostedEvents()
    QCoreApplication.processEvents()
    assert got == []


def test_qt_bindings_keep_none_alive(qtbot):
    """PySide6 6.12.0 on Python 3.11 loses a reference to None per void call and later crashes."""
    import sys

    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("x")
        QCoreApplication.processEvents()
    assert sys.getrefcount(None) >= before - 50, "this PySide6 build corrupts None's refcount"

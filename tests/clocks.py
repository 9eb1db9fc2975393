"""A clock for the window's responsiveness tests: the UI thread's time, less its waits for a CPU."""

from __future__ import annotations

import threading
import time


class UnstarvedClock:
    """Seconds on the calling thread's clock, less the time it was ready to run but had no CPU.

    On a loaded machine the OS can keep any thread off the CPU for a while; a gap between event
    loop ticks measured on this clock counts only the time the UI thread was busy or blocked,
    which is what the window's code is answerable for. Linux reports the wait in
    /proc/<pid>/task/<tid>/schedstat; elsewhere this is plain wall time.
    """

    def __init__(self) -> None:
        try:
            self._stat = open(f"/proc/self/task/{threading.get_native_id()}/schedstat")  # noqa: SIM115
        except OSError:
            self._stat = None

    def waited(self) -> float:
        """Return the seconds this thread has so far spent waiting for a CPU (0 when unknown)."""
        if self._stat is None:
            return 0.0
        self._stat.seek(0)
        return int(self._stat.read().split()[1]) / 1e9

    def __call__(self) -> float:
        return time.perf_counter() - self.waited()

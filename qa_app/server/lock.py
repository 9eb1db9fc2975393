"""One writer per server library: a PostgreSQL advisory lock, refused with the local message."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from types import TracebackType

from qa_app.index.locking import LibraryBusy, WriterLock
from qa_app.server.connection import Connections, translate_errors

LOCK_CLASS = 0x7161  # "qa": the first key of every qa-app writer lock; the second is the library

_held: set[tuple[str, int]] = set()
_held_guard = threading.Lock()


class AdvisoryWriterLock(WriterLock):
    """The library's writer lock, held by the writing connection's session.

    The server releases it when that connection ends, so a killed writer leaves no stale lock;
    the writes go through the same connection, so they never outlive it.
    """

    def __init__(self, connections: Connections, library_id: int, library: str) -> None:
        super().__init__(Path(os.devnull), library)
        self.connections = connections
        self.library_id = int(library_id)
        self._key = (connections.settings.without_password, self.library_id)
        self._taken = False

    def __enter__(self) -> AdvisoryWriterLock:
        with _held_guard:
            if self._key in _held:
                raise LibraryBusy(
                    f"library '{self.library}' is already being updated in this program; "
                    "wait for that to finish"
                )
            _held.add(self._key)
        try:
            self._acquire()
        except BaseException:
            with _held_guard:
                _held.discard(self._key)
            raise
        return self

    def _acquire(self) -> None:
        conn = self.connections.writer()
        with translate_errors(self.connections.settings):
            conn.execute(
                "SELECT set_config('application_name', %s, false)",
                (f"qa-app writer (pid {os.getpid()} on {socket.gethostname()})"[:63],),
            )
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, self.library_id)
            ).fetchone()
            if row and row[0]:
                self.connections.locked += 1
                self._taken = True
                return
            owner = conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = %s "
                "AND l.objid = %s AND l.granted LIMIT 1",
                (LOCK_CLASS, self.library_id),
            ).fetchone()
        hint = owner[0].removeprefix("qa-app writer ") if owner and owner[0] else ""
        raise LibraryBusy(
            f"library '{self.library}' is being updated by another qa-app process"
            f"{f' {hint}' if hint else ''}; try again when it finishes"
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._taken:
                self._taken = False
                self.connections.locked -= 1
                conn = self.connections.writer_if_open()
                if conn is not None:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, self.library_id))
        except Exception:  # noqa: BLE001 - a lost connection released the lock already
            pass
        finally:
            with _held_guard:
                _held.discard(self._key)

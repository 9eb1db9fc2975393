"""One writer per library across processes: an advisory file lock with a clear message when taken."""

from __future__ import annotations

import errno
import os
import sys
import threading
from pathlib import Path
from types import TracebackType

from qa_app.errors import QaAppError


class LibraryBusy(QaAppError, RuntimeError):
    """Another process (or thread) is already writing to this library."""


_held: set[str] = set()
_held_guard = threading.Lock()


class WriterLock:
    """Exclusive, non-blocking writer lock on ``path``; released on exit or when the process dies."""

    def __init__(self, path: Path, library: str) -> None:
        self.path = path
        self.library = library
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        key = str(self.path.resolve())
        with _held_guard:
            if key in _held:
                raise LibraryBusy(
                    f"library '{self.library}' is already being updated in this program; "
                    "wait for that to finish"
                )
            _held.add(key)
        try:
            self._acquire()
        except BaseException:
            with _held_guard:
                _held.discard(key)
            raise
        return self

    def _acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only or full library folder: said in one line
            reason = (
                "the library folder is read-only; it can be searched but not changed"
                if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
                else f"cannot write ({exc.strerror or exc})"
            )
            raise OSError(exc.errno, reason, str(self.path.parent)) from exc
        try:
            _lock_fd(fd)
        except OSError:
            owner = _read_owner(fd)
            os.close(fd)
            raise LibraryBusy(
                f"library '{self.library}' is being updated by another qa-app process"
                f"{f' (pid {owner})' if owner else ''}; try again when it finishes"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError:
            pass  # the owner's pid is only a hint in the busy message
        self._fd = fd

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            _unlock_fd(self._fd)
            os.close(self._fd)
            self._fd = None
        with _held_guard:
            _held.discard(str(self.path.resolve()))


def _read_owner(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 32).decode(errors="replace").strip()
    except OSError:
        return ""


if sys.platform == "win32":  # pragma: no cover - exercised on Windows builds only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

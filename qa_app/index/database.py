"""One library's SQLite connections: a read connection per thread, one writer, and errors for people."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa_app.index import schema as store_schema

__all__ = ["Database", "StoreError", "StoreMissing", "describe_os_error", "snapshot"]

BUSY_TIMEOUT = 30.0  # seconds a write waits for another program's transaction to end


class StoreError(RuntimeError):
    """The library database cannot be used as asked (damaged, full, read-only, locked, missing)."""


class StoreMissing(StoreError):
    """There is no library database at the path (and none was to be created)."""


def describe_os_error(exc: OSError, where: Path) -> str:
    """Return a one-line message for an OS error while writing under ``where``."""
    if exc.errno == errno.ENOSPC:
        return f"{where}: the disk is full; free some space and try again (nothing saved was lost)"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{where}: the library folder is read-only; it can be searched but not changed"
    return f"{where}: cannot write ({exc.strerror or exc})"


def _describe_sqlite(exc: sqlite3.Error, path: Path) -> str:
    text = str(exc).lower()
    folder = path.parent
    if "full" in text:
        return describe_os_error(OSError(errno.ENOSPC, "disk full"), folder)
    if "readonly" in text or "read-only" in text:
        return describe_os_error(OSError(errno.EROFS, "read-only"), folder)
    if "locked" in text or "busy" in text:
        return f"{path}: the library database is locked by another program; try again"
    return f"{path}: the library database cannot be written ({exc})"


class Database:
    """The connections to one library's SQLite file (WAL).

    Reading uses read-only connections, one per thread, so readers never wait for the writer and
    work on a read-only folder. The write connection opens on the first write.
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_guard = threading.Lock()
        self._write_lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._closed = False
        self._columns: set[tuple[str, str]] = set()  # migrated columns known to be there
        if not path.is_file():
            if not create:
                raise StoreMissing(f"{path}: there is no library database here")
            self.writer()
        self.read()  # fail now, with a clear message, if it cannot be read

    # -- connections ------------------------------------------------------------------------

    def read(self) -> sqlite3.Connection:
        """Return this thread's read-only connection (opened on first use)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise StoreError(f"{self.path}: the library is closed")
            db = self._open_reader()
            self._local.db = db
            with self._readers_guard:
                self._readers.append(db)
        return db

    def _open_reader(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        try:
            db = sqlite3.connect(
                f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError as exc:
            # WAL needs a -shm file; on a read-only folder without one, only an immutable open
            # works, and it is safe only when no -wal holds committed pages.
            wal = Path(f"{self.path}-wal")
            folder_writable = os.access(self.path.parent, os.W_OK)
            if folder_writable or (wal.exists() and wal.stat().st_size > 0):
                raise StoreError(
                    f"{self.path}: the library database cannot be read ({exc})"
                ) from exc
        try:
            db = sqlite3.connect(
                f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: the library database cannot be read ({exc})") from exc

    def writer(self) -> sqlite3.Connection:
        """Return the write connection, opening it (and creating the schema) on first use."""
        with self._write_lock:
            if self._db is not None:
                return self._db
            if self._closed:
                raise StoreError(f"{self.path}: the library is closed")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(describe_os_error(exc, self.path.parent)) from exc
            db: sqlite3.Connection | None = None
            try:
                db = sqlite3.connect(
                    str(self.path),
                    timeout=BUSY_TIMEOUT,
                    isolation_level=None,
                    check_same_thread=False,
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA foreign_keys=ON")
                store_schema.create(db)
            except sqlite3.DatabaseError as exc:
                if db is not None:
                    db.close()
                raise StoreError(_describe_sqlite(exc, self.path)) from exc
            self._db = db
            return db

    def close(self) -> None:
        """Close every connection (idempotent)."""
        self._closed = True
        # Readers first: the last connection to close checkpoints the WAL, which only the
        # writer can do.
        with self._readers_guard:
            for db in self._readers:
                db.close()
            self._readers.clear()
        with self._write_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @property
    def writable(self) -> bool:
        """Return whether the write connection is open (a write happened through this store)."""
        return self._db is not None

    # -- transactions and queries -----------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield the write connection inside BEGIN IMMEDIATE … COMMIT; roll back on any exception.

        Raises StoreError with a one-line reason (disk full, read-only, locked) when SQLite refuses.
        """
        with self._write_lock:
            db = self.writer()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(_describe_sqlite(exc, self.path)) from exc
            try:
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    # SQLite may have rolled back already (e.g. after SQLITE_FULL).
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise StoreError(_describe_sqlite(exc, self.path)) from exc
                raise

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Return every row of a read on this thread's read connection."""
        return self.read().execute(sql, args).fetchall()

    def optional(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Query a table added after version 1 (absent until a writer opened the library)."""
        try:
            return self.query(sql, args)
        except sqlite3.OperationalError as exc:
            if "no such" in str(exc):
                return []
            raise

    def has(self, table: str, column: str) -> bool:
        """Return whether ``table`` has ``column`` (added by a migration a writer applies; once
        there it stays, so only its presence is remembered)."""
        if (table, column) in self._columns:
            return True
        found = any(r[1] == column for r in self.query(f"PRAGMA table_info({table})"))
        if found:
            self._columns.add((table, column))
        return found


@contextmanager
def snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """Run several reads on one consistent snapshot (a read transaction)."""
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("COMMIT")

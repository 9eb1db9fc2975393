"""One library's SQLite connections: a read connection per thread, one writer, and errors for people."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa_app.errors import QaAppError
from qa_app.index import schema as store_schema

__all__ = [
    "Database",
    "StoreDamaged",
    "StoreError",
    "StoreMissing",
    "damaged_message",
    "describe_os_error",
    "is_damage",
    "snapshot",
]

log = logging.getLogger(__name__)

BUSY_TIMEOUT = 30.0  # seconds a write waits for another program's transaction to end


class StoreError(QaAppError, RuntimeError):
    """The library database cannot be used as asked (damaged, full, read-only, locked, missing)."""


class StoreMissing(StoreError):
    """There is no library database at the path (and none was to be created)."""


class StoreDamaged(StoreError):
    """The library database is damaged (not a database, truncated, malformed pages)."""


def is_damage(exc: BaseException) -> bool:
    """Return whether an SQLite error means the database file itself is damaged."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc).lower()
    return name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or any(
        word in text for word in ("malformed", "not a database", "corrupt")
    )


def damaged_message(path: Path, exc: BaseException | None = None) -> str:
    """Return the one line that says a library database is damaged, where, and what to do."""
    why = f" ({exc})" if exc is not None else ""
    return (
        f"{path}: the library database is damaged{why}; 'qa-app repair --library "
        f"{path.parent.name}' rebuilds it from its files and folders (the damaged file is kept)"
    )


# Names that are not UTF-8 reach Python as lone surrogates (surrogateescape), which SQLite's
# UTF-8 text cannot hold. Every connection writes them as ESC "x" + 4 hex digits (ESC itself,
# U+10FFFF, a noncharacter, as ESC ESC) and reads them back: stored losslessly, with every
# other text (all of it, in practice) unchanged.
_ESC = "\U0010ffff"
_NEEDS_ESCAPE = re.compile("[\ud800-\udfff\U0010ffff]")
_ESCAPED = re.compile("\U0010ffff(\U0010ffff|x[0-9a-f]{4})")


def to_db_text(value: str) -> str:
    """Return ``value`` as it is stored (lone surrogates and ESC escaped)."""

    def one(match: re.Match[str]) -> str:
        char = match.group()
        return _ESC + _ESC if char == _ESC else f"{_ESC}x{ord(char):04x}"

    return _NEEDS_ESCAPE.sub(one, value)


def from_db_text(raw: bytes) -> str:
    """Return stored text as the str it was (the text factory of every connection)."""
    text = raw.decode("utf-8", "surrogateescape")  # bytes written by another program too
    if _ESC not in text:
        return text
    return _ESCAPED.sub(
        lambda m: _ESC if m.group(1) == _ESC else chr(int(m.group(1)[1:], 16)), text
    )


def _bound(value: Any) -> Any:
    return to_db_text(value) if type(value) is str and _NEEDS_ESCAPE.search(value) else value


def _bound_all(args: Any) -> Any:
    if isinstance(args, dict):
        return {k: _bound(v) for k, v in args.items()}
    return [_bound(v) for v in args]


class _Connection(sqlite3.Connection):
    """A connection whose bound text may hold lone surrogates (see ``to_db_text``)."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return super().execute(sql, _bound_all(parameters))

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        return super().executemany(sql, (_bound_all(p) for p in parameters))


def _connect(target: str, **kw: Any) -> sqlite3.Connection:
    db = sqlite3.connect(target, factory=_Connection, **kw)
    db.text_factory = from_db_text
    return db


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
    work on a read-only folder. The write connection opens on the first write and migrates the
    library; a reader of a library not migrated yet reads it through views (see ``_fit``).
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_guard = threading.Lock()
        self._write_lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._closed = False
        if not path.is_file():
            if not create:
                raise StoreMissing(f"{path}: there is no library database here")
            self.writer()
        elif path.stat().st_size == 0:
            self._finish("it is empty")  # before any reader: WAL is switched on by the writer
        # Fail now, with a clear message, if it cannot be read.
        if not self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"):
            self._finish("it has no tables")

    def _finish(self, why: str) -> None:
        """Finish creating a library database left half-created (a full disk, a kill)."""
        log.info("%s was left half-created (%s); finishing it", self.path, why)
        try:
            self.writer()
        except StoreError as exc:
            raise StoreError(
                f"{self.path}: the library was left half-created ({why}) and cannot be finished "
                f"now: {exc}"
            ) from exc

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
            self._local.cookie = self._fit(db)
        elif self._local.cookie is not None and self._cookie(db) != self._local.cookie:
            self._local.cookie = self._fit(db)  # a writer migrated it meanwhile
        return db

    def _fit(self, db: sqlite3.Connection) -> int | None:
        """Let a reader read a library whose migrations no writer has applied yet (through
        views with the old meaning of what is missing: ``schema.reader_views``); return the
        schema cookie they were made for, or None when none is needed."""
        try:
            cookie = self._cookie(db)  # first: a migration after it makes them again
            return cookie if store_schema.reader_views(db) else None
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise StoreDamaged(damaged_message(self.path, exc)) from exc
            raise StoreError(f"{self.path}: the library database cannot be read ({exc})") from exc

    @staticmethod
    def _cookie(db: sqlite3.Connection) -> int:
        """Return the database's schema cookie (changed by every change to its tables)."""
        return int(db.execute("PRAGMA main.schema_version").fetchone()[0])

    def _open_reader(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        try:
            db = _connect(
                f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.DatabaseError as exc:
            if is_damage(exc) or not isinstance(exc, sqlite3.OperationalError):
                raise StoreDamaged(damaged_message(self.path, exc)) from exc
            # WAL needs a -shm file; on a read-only folder without one, only an immutable open
            # works, and it is safe only when no -wal holds committed pages.
            wal = Path(f"{self.path}-wal")
            folder_writable = os.access(self.path.parent, os.W_OK)
            if folder_writable or (wal.exists() and wal.stat().st_size > 0):
                raise StoreError(
                    f"{self.path}: the library database cannot be read ({exc})"
                ) from exc
        try:
            db = _connect(
                f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise StoreDamaged(damaged_message(self.path, exc)) from exc
            raise StoreError(f"{self.path}: the library database cannot be read ({exc})") from exc

    def writer(self) -> sqlite3.Connection:
        """Return the write connection, opening it on first use and applying the migrations
        the library lacks (``schema.create``); raise StoreError when a newer qa-app changed it."""
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
                db = _connect(
                    str(self.path),
                    timeout=BUSY_TIMEOUT,
                    isolation_level=None,
                    check_same_thread=False,
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA foreign_keys=ON")
                if newer := store_schema.newer(db):
                    db.close()
                    raise StoreError(
                        f"{self.path}: this library was changed by a newer qa-app (it has "
                        f"{', '.join(newer)}); update qa-app to change it (it can still be read)"
                    )
                store_schema.create(db)
            except sqlite3.DatabaseError as exc:
                if db is not None:
                    db.close()
                if is_damage(exc):
                    raise StoreDamaged(damaged_message(self.path, exc)) from exc
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
                if is_damage(exc):
                    raise StoreDamaged(damaged_message(self.path, exc)) from exc
                if isinstance(exc, sqlite3.OperationalError):
                    raise StoreError(_describe_sqlite(exc, self.path)) from exc
                raise

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Return every row of a read on this thread's read connection (StoreDamaged when the
        file turns out to be damaged)."""
        try:
            return self.read().execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise StoreDamaged(damaged_message(self.path, exc)) from exc
            raise


@contextmanager
def snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """Run several reads on one consistent snapshot (a read transaction)."""
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("COMMIT")

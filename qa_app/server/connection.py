"""Connections to the server: one per thread for reading, one for writing; text kept lossless."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from qa_app.server.settings import ServerError, ServerSettings, require_driver

if TYPE_CHECKING:
    import psycopg

# PostgreSQL text holds neither NUL nor lone surrogates (names that are not UTF-8 reach Python
# so); both are written as ESC "x" + 4 hex digits (ESC, U+10FFFF, a noncharacter, as ESC ESC) and
# read back, as the local store does. Every other text (all of it, in practice) is unchanged.
_ESC = "\U0010ffff"
_NEEDS_ESCAPE = re.compile("[\x00\ud800-\udfff\U0010ffff]")
_ESCAPED = re.compile("\U0010ffff(\U0010ffff|x[0-9a-f]{4})")


def to_server_text(value: str) -> str:
    """Return ``value`` as it is stored (NUL, lone surrogates and ESC escaped)."""
    if not _NEEDS_ESCAPE.search(value):
        return value
    return _NEEDS_ESCAPE.sub(
        lambda m: _ESC + _ESC if m.group() == _ESC else f"{_ESC}x{ord(m.group()):04x}", value
    )


def from_server_text(text: str) -> str:
    """Return stored text as the str it was."""
    if _ESC not in text:
        return text
    return _ESCAPED.sub(
        lambda m: _ESC if m.group(1) == _ESC else chr(int(m.group(1)[1:], 16)), text
    )


def _register_text_codec(conn: psycopg.Connection[Any]) -> None:
    from psycopg.types.string import StrDumperUnknown, TextLoader

    class Dumper(StrDumperUnknown):
        def dump(self, obj: str) -> bytes:
            return to_server_text(obj).encode("utf-8")

    class Loader(TextLoader):
        def load(self, data: Any) -> str:
            return from_server_text(bytes(data).decode("utf-8"))

    conn.adapters.register_dumper(str, Dumper)
    for name in ("text", "varchar"):
        conn.adapters.register_loader(name, Loader)


def connect(settings: ServerSettings, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """Open a connection to the named server, and only to it; raise ServerError in one line."""
    require_driver()
    import psycopg

    try:
        conn = psycopg.connect(
            settings.dsn,
            autocommit=autocommit,
            prepare_threshold=None,  # one-shot plans: the values are known when planning
            **settings.connect_arguments(),
        )
    except psycopg.Error as exc:
        raise ServerError(f"cannot connect to {settings.masked}: {first_line(exc)}") from None
    _register_text_codec(conn)
    return conn


def first_line(exc: BaseException) -> str:
    """Return the first line of a driver's message (libpq's never holds the password)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Connections:
    """A server library's connections: one reader per thread (autocommit: a reader never waits
    for a writer), and one writer, opened by the first write."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._all: list[psycopg.Connection[Any]] = []
        self._guard = threading.Lock()
        self._writer: psycopg.Connection[Any] | None = None
        self.locked = 0  # writer locks held on the writing connection (it must not be replaced)

    def reader(self) -> psycopg.Connection[Any]:
        """Return this thread's reading connection (opened on first use, reopened if broken)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = connect(self.settings)
            self._local.conn = conn
            with self._guard:
                self._all.append(conn)
        return conn

    def writer(self) -> psycopg.Connection[Any]:
        """Return the writing connection (one per library object; transactions are explicit)."""
        with self._guard:
            if self._writer is None or self._writer.closed or self._writer.broken:
                if self._writer is not None and self.locked:
                    # A new connection would write without the lock the old one held.
                    raise ServerError(
                        f"the connection to {self.settings.masked} was lost while writing; "
                        "what was committed is kept: run the command again"
                    )
                self._writer = connect(self.settings)
                self._all.append(self._writer)
            return self._writer

    def writer_if_open(self) -> psycopg.Connection[Any] | None:
        """Return the writing connection if it is open and sound (None otherwise)."""
        with self._guard:
            conn = self._writer
        return conn if conn is not None and not conn.closed and not conn.broken else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """Yield the writer inside BEGIN … COMMIT (rolled back on an exception)."""
        conn = self.writer()
        with translate_errors(self.settings), conn.transaction():
            yield conn

    def query(self, sql: Any, args: Any = None) -> list[tuple[Any, ...]]:
        """Run one reading statement on this thread's connection and return its rows."""
        with translate_errors(self.settings):
            return self.reader().execute(sql, args).fetchall()

    def close(self) -> None:
        """Close every connection (idempotent)."""
        with self._guard:
            conns, self._all = self._all, []
            self._writer = None
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()


@contextlib.contextmanager
def translate_errors(settings: ServerSettings) -> Iterator[None]:
    """Turn a lost connection or a server-side failure into ServerError (one line, masked)."""
    import psycopg

    try:
        yield
    except psycopg.OperationalError as exc:
        raise ServerError(f"the server {settings.masked} failed: {first_line(exc)}") from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ServerError(
            f"the server {settings.masked} refused: {first_line(exc)} (ask its administrator "
            "for the rights)"
        ) from None

"""The library database's tables, built by numbered migrations, and its named rows."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from qa_app.index.migrations import Migration, applied, migrate, split_script, unknown

# The tables as version 1 shipped them. Every change since is a migration below, applied once by
# a writer and recorded in the ledger (``migrations``); a change that is not additive is one
# more migration too, never a re-read and re-embedding of the library.
_VERSION_1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots (
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    content_hash TEXT NOT NULL,
    pages INTEGER,
    text TEXT NOT NULL,
    blocks TEXT NOT NULL,
    indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    page INTEGER,
    text TEXT NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(id) WHERE embedding IS NULL;
CREATE TABLE IF NOT EXISTS failures (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    size INTEGER,
    mtime REAL,
    at REAL NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
"""
# Every embedding change is logged with a random mark: a vector cache stamped with (seq, mark)
# can tell the history it followed from another one that reused the same numbers (a database
# restored from an older copy and written since).
_VECTOR_LOG = """
CREATE TABLE IF NOT EXISTS vector_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL
);
"""
_VECTOR_TRIGGERS = """
DROP TRIGGER IF EXISTS chunks_vector_insert;
DROP TRIGGER IF EXISTS chunks_vector_update;
DROP TRIGGER IF EXISTS chunks_vector_delete;
CREATE TRIGGER chunks_vector_insert AFTER INSERT ON chunks
    WHEN new.embedding IS NOT NULL
    BEGIN INSERT INTO vector_log(chunk_id, mark) VALUES (new.id, random()); END;
CREATE TRIGGER chunks_vector_update AFTER UPDATE OF embedding ON chunks
    BEGIN INSERT INTO vector_log(chunk_id, mark) VALUES (new.id, random()); END;
CREATE TRIGGER chunks_vector_delete AFTER DELETE ON chunks
    WHEN old.embedding IS NOT NULL
    BEGIN INSERT INTO vector_log(chunk_id, mark) VALUES (old.id, random()); END;
"""
LIBRARY_ID_KEY = "library_id"  # meta: this library's random id, made once (vector caches name it)

# Migrations 1 to 8 are the changes made before the ledger existed: a library made then holds
# some or all of them unrecorded, so each checks before it adds (IF NOT EXISTS, ``_add_column``).
# Migrations after them are applied to ledgered libraries only and need no such care.


def m001_initial(db: sqlite3.Connection) -> None:
    """The tables of version 1."""
    _run(db, _VERSION_1)


def m002_exclusions(db: sqlite3.Connection) -> None:
    """Files and folders removed from inside added folders (so sync does not bring them back)."""
    db.execute("CREATE TABLE IF NOT EXISTS exclusions (path TEXT PRIMARY KEY, added REAL NOT NULL)")


def m003_vector_log(db: sqlite3.Connection) -> None:
    """The log of embedding changes that vector caches follow, each change randomly marked."""
    _run(db, _VECTOR_LOG)
    _add_column(db, "vector_log", "mark", "INTEGER")
    _run(db, _VECTOR_TRIGGERS)  # made again: those of a log made before marks lack them


def m004_library_id(db: sqlite3.Connection) -> None:
    """The library's random id (a vector cache names the library it was built from)."""
    db.execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES (?, lower(hex(randomblob(16))))",
        (LIBRARY_ID_KEY,),
    )


def m005_failure_hashes(db: sqlite3.Connection) -> None:
    """A failed file's content hash (a touched but unchanged file is not tried again)."""
    _add_column(db, "failures", "content_hash", "TEXT")


def m006_ocr(db: sqlite3.Connection) -> None:
    """Whether a passage's text was recognised from an image (older ones were all read)."""
    _add_column(db, "chunks", "ocr", "INTEGER NOT NULL DEFAULT 0")


def m007_attachments(db: sqlite3.Connection) -> None:
    """E-mail attachments as documents of their own.

    parent_id is the message's document and attachment its name (its path column only keeps
    rows apart: "MESSAGE#attachment-N"); an attachment that could not be read is a failure
    whose parent is the message's path.
    """
    _add_column(db, "documents", "parent_id", "INTEGER")
    _add_column(db, "documents", "attachment", "TEXT")
    _add_column(db, "failures", "parent", "TEXT")
    db.execute("CREATE INDEX IF NOT EXISTS documents_parent ON documents(parent_id)")
    db.execute("CREATE INDEX IF NOT EXISTS failures_parent ON failures(parent)")


def m008_left_out(db: sqlite3.Connection) -> None:
    """What a loader left out on purpose: JSON [[rule, count, example], …] (NULL: stored
    before it was counted), shown by `qa-app show`."""
    _add_column(db, "documents", "left_out", "TEXT")


MIGRATIONS: tuple[Migration, ...] = tuple(
    (step.__name__, step)
    for step in (
        m001_initial,
        m002_exclusions,
        m003_vector_log,
        m004_library_id,
        m005_failure_hashes,
        m006_ocr,
        m007_attachments,
        m008_left_out,
    )
)
# The schema a library of this app has: the number of migrations applied (the manifest's
# "schema_version"). A library with a higher one was written by a newer qa-app.
SCHEMA_VERSION = len(MIGRATIONS)


def create(db: sqlite3.Connection) -> list[str]:
    """Bring a writer's database to this app's schema: apply, in order and once each, the
    migrations its ledger does not record; return their names (none, once migrated)."""
    return migrate(db, MIGRATIONS)


def newer(db: sqlite3.Connection) -> list[str]:
    """Return the migrations recorded in the database that this app does not know (applied by
    a newer qa-app, whose schema this app must not write to)."""
    return unknown(applied(db), MIGRATIONS)


# What a reader sees of columns and tables that migrations after the first add, in a library
# whose writer has not applied them yet (an old library opened read-only: reading never writes).
# Each default says what the old library meant: no parent, not OCR, nothing excluded.
_LATER_COLUMNS: dict[str, dict[str, str]] = {
    "documents": {"parent_id": "NULL", "attachment": "NULL", "left_out": "NULL"},
    "chunks": {"ocr": "0"},
    "failures": {"content_hash": "NULL", "parent": "NULL"},
    "vector_log": {"mark": "NULL"},
}
_LATER_TABLES = {"exclusions": "SELECT NULL AS path, NULL AS added WHERE 0"}


def reader_views(db: sqlite3.Connection) -> bool:
    """Give a read connection on a library not yet migrated the latest schema to read: a TEMP
    view per table that lacks a later column (shadowing it, with the old meaning as default)
    or that is missing; return whether any was made. Writes nothing to the database."""
    for table in (*_LATER_COLUMNS, *_LATER_TABLES):
        db.execute(f"DROP VIEW IF EXISTS temp.{table}")
    done = set(applied(db))
    if all(name in done for name, _ in MIGRATIONS):
        return False
    made = False
    for table, later in _LATER_COLUMNS.items():
        have = {str(r[1]) for r in db.execute(f"PRAGMA main.table_info({table})")}
        missing = [f"{default} AS {column}" for column, default in later.items()
                   if column not in have]  # fmt: skip
        if have and missing:
            db.execute(
                f"CREATE TEMP VIEW {table} AS SELECT *, {', '.join(missing)} FROM main.{table}"
            )
            made = True
    for table, empty in _LATER_TABLES.items():
        if not db.execute(f"PRAGMA main.table_info({table})").fetchall():
            db.execute(f"CREATE TEMP VIEW {table} AS {empty}")
            made = True
    return made


def attachment_key(message: str, number: int, *, failed: bool = False) -> str:
    """Return the key (documents.path, or failures.path when ``failed``) of a message's
    ``number``-th attachment read (or not read)."""
    return f"{message}#{'unread' if failed else 'attachment'}-{number}"


def _run(db: sqlite3.Connection, script: str) -> None:
    for statement in split_script(script):
        db.execute(statement)


def _add_column(db: sqlite3.Connection, table: str, column: str, kind: str) -> None:
    """Add a column unless a library made before the ledger already has it."""
    columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    if column not in columns:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class Root(NamedTuple):
    """A file or folder the user added."""

    path: str
    kind: str  # "file" | "folder"


class KnownFile(NamedTuple):
    """What the store remembers of an indexed file."""

    id: int
    size: int
    mtime: float
    content_hash: str


class Failure(NamedTuple):
    """A file that could not be indexed, as it was when it failed."""

    reason: str
    size: int | None
    mtime: float | None
    content_hash: str | None


class PendingChunk(NamedTuple):
    """A passage still waiting for its embedding."""

    id: int
    text: str


class PassageRow(NamedTuple):
    """A passage with the document it belongs to."""

    doc_id: int
    path: str
    title: str
    page: int | None
    start: int
    end: int
    text: str
    ocr: bool = False  # some of its text was recognised from an image of the page
    attachment: str | None = None  # an e-mail attachment's name (``path``: its message)


class Counts(NamedTuple):
    """Sizes of a library."""

    documents: int
    chunks: int
    pending: int


class VectorState(NamedTuple):
    """Where the embeddings stand: the epoch (bumped when all are cleared) and the last change."""

    epoch: int
    seq: int
    oldest: int  # the oldest change still logged; older caches must be rebuilt
    mark: int | None = None  # change ``seq``'s random mark (None: none, or logged before marks)
    library: str | None = None  # the library's id (None: made before ids, not written since)


class VectorChanges(NamedTuple):
    """Embeddings changed since a given point: ids to drop, then ids and vectors to add."""

    state: VectorState
    touched: list[int]
    ids: list[int]
    blobs: list[bytes]

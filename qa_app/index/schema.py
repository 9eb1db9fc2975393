"""The library database's tables, the additive migrations a writer applies, and its named rows."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

SCHEMA_VERSION = 1

_SCHEMA = """
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
    embedding BLOB,
    ocr INTEGER NOT NULL DEFAULT 0
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

# Added after version 1 shipped; created by the first writer, absent tables read as empty.
_ADDITIONS = """
CREATE TABLE IF NOT EXISTS exclusions (path TEXT PRIMARY KEY, added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS vector_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL
);
"""
# Every embedding change is logged with a random mark: a vector cache stamped with (seq, mark)
# can tell the history it followed from another one that reused the same numbers (a database
# restored from an older copy and written since).
_TRIGGERS = """
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


def create(db: sqlite3.Connection) -> None:
    """Create the tables (idempotent) and apply the additive migrations."""
    db.executescript(_SCHEMA + _ADDITIONS)
    _add_column(db, "vector_log", "mark", "INTEGER")
    triggers = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'chunks_vector_insert'"
    ).fetchone()
    if triggers is None or "mark" not in triggers[0]:
        db.executescript("BEGIN;" + _TRIGGERS + "COMMIT;")
    # Made when the library is created, or by the first writer of a library made before ids.
    db.execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES (?, lower(hex(randomblob(16))))",
        (LIBRARY_ID_KEY,),
    )
    _add_column(db, "failures", "content_hash", "TEXT")
    # Libraries made before OCR have no chunks.ocr; their chunks were all read, not OCRed.
    _add_column(db, "chunks", "ocr", "INTEGER NOT NULL DEFAULT 0")
    # An e-mail attachment is a document of its own: parent_id is its message's document, and
    # attachment its name (its path column only keeps rows apart: "MESSAGE#attachment-N").
    # An attachment that could not be read is a failure whose parent is the message's path.
    _add_column(db, "documents", "parent_id", "INTEGER")
    _add_column(db, "documents", "attachment", "TEXT")
    _add_column(db, "failures", "parent", "TEXT")
    # What a loader left out on purpose (boilerplate, collapsed rows): JSON [[rule, count,
    # example], …], shown by `qa-app show`; NULL for documents stored before it was counted.
    _add_column(db, "documents", "left_out", "TEXT")
    db.execute("CREATE INDEX IF NOT EXISTS documents_parent ON documents(parent_id)")
    db.execute("CREATE INDEX IF NOT EXISTS failures_parent ON failures(parent)")


def attachment_key(message: str, number: int, *, failed: bool = False) -> str:
    """Return the key (documents.path, or failures.path when ``failed``) of a message's
    ``number``-th attachment read (or not read)."""
    return f"{message}#{'unread' if failed else 'attachment'}-{number}"


def _add_column(db: sqlite3.Connection, table: str, column: str, kind: str) -> None:
    columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    if column not in columns:
        try:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except sqlite3.OperationalError as exc:  # another writer added it meanwhile
            if "duplicate column" not in str(exc):
                raise


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

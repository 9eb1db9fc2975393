"""A library's bookkeeping tables: meta and generation, added roots, exclusions and failures."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

from qa_app.index.database import Database
from qa_app.index.schema import Failure, Root


def meta(database: Database) -> dict[str, str]:
    """Return every meta key/value."""
    return {str(k): str(v) for k, v in database.query("SELECT key, value FROM meta")}


def set_meta(db: sqlite3.Connection, **values: str) -> None:
    """Set meta keys inside an open transaction."""
    db.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        list(values.items()),
    )


def generation(database: Database) -> int:
    """Return the library's generation: bumped by every write that changes chunks."""
    rows = database.query("SELECT value FROM meta WHERE key = 'generation'")
    return int(rows[0][0]) if rows else 0


def bump_generation(db: sqlite3.Connection) -> None:
    """Increase the generation inside an open transaction."""
    db.execute(
        "INSERT INTO meta(key, value) VALUES ('generation', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


# -- roots and exclusions -------------------------------------------------------------------


def roots(database: Database) -> list[Root]:
    """Return every added file and folder."""
    return [
        Root(str(p), str(k))
        for p, k in database.query("SELECT path, kind FROM roots ORDER BY path")
    ]


def add_root(database: Database, path: str, kind: str) -> None:
    """Remember an added file or folder (and stop excluding it)."""
    with database.transaction() as db:
        db.execute(
            "INSERT OR IGNORE INTO roots(path, kind, added) VALUES (?, ?, ?)",
            (path, kind, time.time()),
        )
        db.execute("DELETE FROM exclusions WHERE path = ?", (path,))


def remove_root(database: Database, path: str) -> bool:
    """Forget an added file or folder; return True if it was there."""
    with database.transaction() as db:
        return db.execute("DELETE FROM roots WHERE path = ?", (path,)).rowcount > 0


def exclusions(database: Database) -> list[str]:
    """Return the files and folders inside added folders that the user removed."""
    return [str(r[0]) for r in database.query("SELECT path FROM exclusions ORDER BY path")]


def set_excluded(database: Database, paths: Iterable[str], excluded: bool) -> None:
    """Exclude (or include again) files or folders that lie inside added folders."""
    with database.transaction() as db:
        for path in paths:
            if excluded:
                db.execute(
                    "INSERT OR IGNORE INTO exclusions(path, added) VALUES (?, ?)",
                    (path, time.time()),
                )
            else:
                db.execute("DELETE FROM exclusions WHERE path = ?", (path,))


# -- failures -------------------------------------------------------------------------------


def attachment_reason(name: str, reason: str) -> str:
    """Return how an attachment's failure is said: "attachment NAME: REASON"."""
    return f"attachment {name}: {reason}"


def record_failure(
    database: Database,
    path: str,
    reason: str,
    size: int | None,
    mtime: float | None,
    content_hash: str | None = None,
) -> None:
    """Remember that a file could not be indexed (its previous good version, if any, is kept)."""
    with database.transaction() as db:
        db.execute(
            "INSERT INTO failures(path, reason, size, mtime, at, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, size = excluded.size, "
            "mtime = excluded.mtime, at = excluded.at, content_hash = excluded.content_hash",
            (path, reason, size, mtime, time.time(), content_hash),
        )


def failures(database: Database) -> dict[str, Failure]:
    """Return the files that failed to index, by path (for attachments see
    ``attachment_failures``)."""
    rows = database.query(
        "SELECT path, reason, size, mtime, content_hash FROM failures WHERE parent IS NULL"
    )
    return {str(r[0]): Failure(str(r[1]), r[2], r[3], r[4]) for r in rows}


def attachment_failures(database: Database) -> dict[str, list[str]]:
    """Return, by message path, why its attachments could not be read (each reason names
    the attachment: "attachment report.pdf: …")."""
    found: dict[str, list[str]] = {}
    for parent, reason in database.query(
        "SELECT parent, reason FROM failures WHERE parent IS NOT NULL ORDER BY path"
    ):
        found.setdefault(str(parent), []).append(str(reason))
    return found

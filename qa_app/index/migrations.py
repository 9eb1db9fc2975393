"""A migration ledger: numbered schema changes applied once each, in order, and recorded."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence

__all__ = ["LEDGER", "Migration", "applied", "migrate", "split_script", "unknown"]

# (name, function): the name is what the ledger records, so a migration is never renamed, and
# new ones are only ever appended (a library's schema is "the first N migrations").
Migration = tuple[str, Callable[[sqlite3.Connection], None]]
LEDGER = "_migrations"


def applied(db: sqlite3.Connection, ledger: str = LEDGER) -> list[str]:
    """Return the names of the migrations recorded in ``ledger``, oldest first ([] when the
    ledger is not there: a database made before it, or a new one)."""
    try:
        rows = db.execute(f"SELECT name FROM {ledger} ORDER BY applied_at, rowid").fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    return [str(r[0]) for r in rows]


def unknown(done: Iterable[str], migrations: Sequence[Migration]) -> list[str]:
    """Return the recorded names that ``migrations`` does not hold (a newer program's)."""
    known = {name for name, _ in migrations}
    return [name for name in done if name not in known]


def migrate(
    db: sqlite3.Connection, migrations: Sequence[Migration], ledger: str = LEDGER
) -> list[str]:
    """Apply the migrations not yet recorded, in order, each in its own transaction with its
    record (so a crash leaves every migration either done and recorded or not begun); return
    the names applied. ``db`` must be in autocommit mode (isolation_level None).

    Safe beside another writer doing the same: the ledger is read again inside each
    ``BEGIN IMMEDIATE``, so a migration another connection just applied is skipped.
    """
    done = set(applied(db, ledger))
    if all(name in done for name, _ in migrations):
        return []  # the usual case: one read, nothing written
    ran: list[str] = []
    for name, step in migrations:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {ledger} "
                "(name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            if db.execute(f"SELECT 1 FROM {ledger} WHERE name = ?", (name,)).fetchone() is None:
                step(db)
                db.execute(
                    f"INSERT INTO {ledger}(name, applied_at) VALUES (?, ?)", (name, time.time())
                )
                ran.append(name)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    return ran


def split_script(script: str) -> list[str]:
    """Return the statements of an SQL script one by one (``executescript`` would commit the
    migration's transaction first)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):  # triggers' inner ";" do not end one
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements

"""Whole team libraries on a server: list them, delete one (under its writer lock)."""

from __future__ import annotations

from qa_app.errors import NotFound
from qa_app.server import schema
from qa_app.server.connection import Connections, translate_errors
from qa_app.server.lock import AdvisoryWriterLock
from qa_app.server.settings import ServerSettings


def library_names(dsn: str) -> list[str]:
    """Return the names of the team libraries on a server (none when it has no tables yet)."""
    settings = ServerSettings(dsn)
    conns = Connections(settings)
    try:
        conn = conns.reader()
        with translate_errors(settings):
            if schema.applied(conn) == 0:
                return []
            rows = conn.execute("SELECT name FROM qa_libraries ORDER BY name").fetchall()
            return [str(r[0]) for r in rows]
    finally:
        conns.close()


def delete_library(dsn: str, name: str) -> None:
    """Delete a team library with everything in it; raise NotFound (a KeyError) if the server
    has none by that name, LibraryBusy while another process writes to it."""
    settings = ServerSettings(dsn)
    conns = Connections(settings)
    try:
        conn = conns.reader()
        with translate_errors(settings):
            row = None
            if schema.applied(conn):
                row = conn.execute(
                    "SELECT id FROM qa_libraries WHERE name = %s", (name,)
                ).fetchone()
        if row is None:
            raise NotFound(f"there is no library called '{name}' on {settings.masked}")
        with AdvisoryWriterLock(conns, int(row[0]), name), conns.transaction() as db:
            schema.drop_vector_indexes(db, int(row[0]))
            db.execute("DELETE FROM qa_libraries WHERE id = %s", (row[0],))
    finally:
        conns.close()

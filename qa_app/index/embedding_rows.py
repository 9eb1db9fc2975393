"""A library's stored embeddings: pending passages, writes, and the change log vector caches follow."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa_app.index.bookkeeping import bump_generation
from qa_app.index.database import Database, snapshot
from qa_app.index.schema import LIBRARY_ID_KEY, PendingChunk, VectorChanges, VectorState

if TYPE_CHECKING:
    import numpy as np

_IN_BATCH = 900  # below SQLite's default limit of bound parameters


def pending_chunks(database: Database, limit: int) -> list[PendingChunk]:
    """Return up to ``limit`` passages whose embedding is still missing, oldest first."""
    rows = database.query(
        "SELECT id, text FROM chunks WHERE embedding IS NULL ORDER BY id LIMIT ?", (limit,)
    )
    return [PendingChunk(int(r[0]), str(r[1])) for r in rows]


def put_embeddings(database: Database, ids: Sequence[int], vectors: np.ndarray) -> None:
    """Store float32 embeddings for chunks in one transaction (missing chunk ids are skipped)."""
    import numpy as np

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    with database.transaction() as db:
        db.executemany(
            "UPDATE chunks SET embedding = ? WHERE id = ?",
            [(vectors[i].tobytes(), int(cid)) for i, cid in enumerate(ids)],
        )
        bump_generation(db)


def clear_embeddings(database: Database) -> None:
    """Drop every embedding (after a model change) so all chunks are re-embedded."""
    with database.transaction() as db:
        db.execute("UPDATE chunks SET embedding = NULL")
        _reset_vector_log(db)
        bump_generation(db)


def _reset_vector_log(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM vector_log")
    db.execute(
        "INSERT INTO meta(key, value) VALUES ('vector_epoch', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def prune_vector_log(database: Database, keep: int) -> None:
    """Forget all but the last ``keep`` embedding changes (caches older than that rebuild)."""
    with database.transaction() as db:
        db.execute(
            "DELETE FROM vector_log WHERE seq <= (SELECT MAX(seq) FROM vector_log) - ?",
            (keep,),
        )


def _vector_state(db: sqlite3.Connection) -> VectorState:
    rows = dict(
        db.execute(
            "SELECT key, value FROM meta WHERE key IN ('vector_epoch', ?)", (LIBRARY_ID_KEY,)
        ).fetchall()
    )
    epoch = int(rows.get("vector_epoch", 0))
    library = rows.get(LIBRARY_ID_KEY)
    try:
        seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").fetchone()
        oldest = db.execute("SELECT MIN(seq) FROM vector_log").fetchone()
    except sqlite3.OperationalError:  # no change log yet: only a full build is possible
        return VectorState(epoch, -1, 0, None, library)
    last = int(seq[0]) if seq else 0
    return VectorState(
        epoch, last, int(oldest[0]) if oldest[0] else last + 1, _mark(db, last), library
    )


def _mark(db: sqlite3.Connection, seq: int) -> int | None:
    """Return the random mark of change ``seq`` (None if not logged, or logged before marks)."""
    try:
        row = db.execute("SELECT mark FROM vector_log WHERE seq = ?", (seq,)).fetchone()
    except sqlite3.OperationalError:  # a log made before marks, not written since
        return None
    return None if row is None or row[0] is None else int(row[0])


def vector_mark(database: Database, seq: int) -> int | None:
    """Return the random mark of change ``seq`` (None if not logged, or logged before marks)."""
    return _mark(database.read(), seq)


def vector_state(database: Database) -> VectorState:
    """Return the embeddings' epoch and last change (what a vector cache is stamped with)."""
    return _vector_state(database.read())


def embeddings(database: Database, dimension: int) -> tuple[VectorState, np.ndarray, np.ndarray]:
    """Return (state, chunk ids as int64, float32 matrix) of every embedded chunk, consistently."""
    import numpy as np

    db = database.read()
    with snapshot(db):
        state = _vector_state(db)
        ids: list[int] = []
        blobs: list[bytes] = []
        for cid, blob in db.execute("SELECT id, embedding FROM chunks WHERE embedding IS NOT NULL"):
            ids.append(cid)
            blobs.append(blob)
    matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dimension)
    return state, np.asarray(ids, dtype=np.int64), matrix


def vector_changes(
    database: Database, since: int, limit: int, mark: int | None = None
) -> VectorChanges | None:
    """Return embedding changes after change ``since``; None if they are no longer all logged,
    more than ``limit`` chunks changed (a full rebuild is then the cheaper way), or change
    ``since`` is not the one the caller saw (its ``mark`` differs: another history)."""
    db = database.read()
    with snapshot(db):
        state = _vector_state(db)
        if state.seq < 0 or since + 1 < state.oldest or since > state.seq:
            return None
        if since > 0 and _mark(db, since) != mark:
            return None
        touched = [
            int(r[0])
            for r in db.execute(
                "SELECT DISTINCT chunk_id FROM vector_log WHERE seq > ? AND seq <= ?",
                (since, state.seq),
            )
        ]
        if len(touched) > limit:
            return None
        ids: list[int] = []
        blobs: list[bytes] = []
        for lo in range(0, len(touched), _IN_BATCH):
            part = touched[lo : lo + _IN_BATCH]
            marks = ",".join("?" * len(part))
            for cid, blob in db.execute(
                f"SELECT id, embedding FROM chunks WHERE id IN ({marks}) AND embedding IS NOT NULL",
                part,
            ):
                ids.append(int(cid))
                blobs.append(blob)
    return VectorChanges(state, touched, ids, blobs)

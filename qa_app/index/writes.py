"""Writing documents and their passages (with full-text rows) to a library: put, re-read, delete."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence

from qa_app.index.bookkeeping import attachment_reason, bump_generation
from qa_app.index.database import Database
from qa_app.index.schema import attachment_key
from qa_app.records import Chunk, Document


def put_document(
    database: Database,
    doc: Document,
    chunks: Sequence[Chunk],
    *,
    size: int,
    mtime: float,
    content_hash: str,
    attachments: Sequence[tuple[Document, Sequence[Chunk]]] = (),
) -> int:
    """Store (insert or replace) a document and its chunks in one transaction; return its id.

    ``attachments`` (an e-mail's, each with its chunks) are stored as documents of their own
    linked to it, and ``doc.attachment_errors`` as failures of the message; whatever the
    old version had of either is replaced. A passage whose text the old version had keeps
    its embedding; the others start pending and are filled by ``put_embeddings``.
    """
    with database.transaction() as db:
        old = db.execute("SELECT id FROM documents WHERE path = ?", (doc.path,)).fetchone()
        reuse: dict[str, bytes] = {}
        if old is not None:
            for member in [old[0], *_children(db, old[0])]:
                reuse.update(
                    db.execute(
                        "SELECT text, embedding FROM chunks WHERE doc_id = ? "
                        "AND embedding IS NOT NULL",
                        (member,),
                    ).fetchall()
                )
            _delete_doc(db, old[0])
        doc_id = _insert_document(db, doc, doc.path, size, mtime, content_hash)
        _insert_chunks(db, doc_id, chunks, reuse)
        for number, (child, child_chunks) in enumerate(attachments, 1):
            key = attachment_key(doc.path, number)
            child_id = _insert_document(db, child, key, size, mtime, content_hash)
            db.execute(
                "UPDATE documents SET parent_id = ?, attachment = ? WHERE id = ?",
                (doc_id, child.attachment, child_id),
            )
            _insert_chunks(db, child_id, child_chunks, reuse)
        db.execute("DELETE FROM failures WHERE path = ? OR parent = ?", (doc.path, doc.path))
        for number, error in enumerate(doc.attachment_errors, 1):
            db.execute(
                "INSERT OR REPLACE INTO failures(path, reason, size, mtime, at, content_hash, "
                "parent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    attachment_key(doc.path, number, failed=True),
                    attachment_reason(error.path, error.reason),
                    size,
                    mtime,
                    time.time(),
                    content_hash,
                    doc.path,
                ),
            )
        bump_generation(db)
    return doc_id


def mark_unread(database: Database, formats: Sequence[str] | None) -> int:
    """Make the next sync read files again; return how many. With ``formats``: every file
    of those formats, and every file that failed. Without (OCR switched off): every file
    with OCRed text, in itself or in an attachment; one whose text is all OCR is deleted at
    once (read again without OCR it has none, and its old text must not stay searchable).
    """
    with database.transaction() as db:
        if formats is not None:
            marks = ",".join("?" * len(formats))
            count = db.execute(
                "UPDATE documents SET content_hash = '', mtime = 0 WHERE parent_id IS NULL "
                f"AND format IN ({marks})",
                list(formats),
            ).rowcount
            count += db.execute("DELETE FROM failures WHERE parent IS NULL").rowcount
            return int(count)
        ocred = "SELECT doc_id FROM chunks WHERE ocr = 1"
        only_ocr = [
            int(r[0])
            for r in db.execute(
                f"SELECT id FROM documents WHERE parent_id IS NULL AND id IN ({ocred}) "
                "AND id NOT IN (SELECT doc_id FROM chunks WHERE ocr = 0) "
                "AND id NOT IN (SELECT parent_id FROM documents WHERE parent_id IS NOT NULL)"
            )
        ]
        for doc_id in only_ocr:
            _delete_doc(db, doc_id)
        count = db.execute(
            "UPDATE documents SET content_hash = '', mtime = 0 WHERE parent_id IS NULL "
            f"AND (id IN ({ocred}) OR id IN "
            f"(SELECT parent_id FROM documents WHERE id IN ({ocred})))"
        ).rowcount
        if only_ocr:
            bump_generation(db)
        return len(only_ocr) + int(count)


def touch_document(database: Database, path: str, size: int, mtime: float) -> None:
    """Record a new size/mtime for a document whose content hash did not change."""
    with database.transaction() as db:
        db.execute("UPDATE documents SET size = ?, mtime = ? WHERE path = ?", (size, mtime, path))
        db.execute("DELETE FROM failures WHERE path = ?", (path,))


def delete_documents(database: Database, paths: Iterable[str]) -> list[str]:
    """Delete documents (and their chunks and failures) by path in one transaction."""
    removed: list[str] = []
    with database.transaction() as db:
        for path in paths:
            row = db.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()
            if row is not None:
                _delete_doc(db, row[0])
                removed.append(path)
            db.execute("DELETE FROM failures WHERE parent = ?", (path,))
            dropped = db.execute("DELETE FROM failures WHERE path = ?", (path,)).rowcount
            if dropped and row is None:
                removed.append(path)
        if removed:
            bump_generation(db)
    return removed


def rechunk(database: Database, doc_id: int, chunks: Sequence[Chunk]) -> None:
    """Replace one document's chunks (after a chunking change), keeping embeddings by text."""
    with database.transaction() as db:
        reuse = dict(
            db.execute(
                "SELECT text, embedding FROM chunks WHERE doc_id = ? AND embedding IS NOT NULL",
                (doc_id,),
            ).fetchall()
        )
        _delete_chunks(db, doc_id)
        _insert_chunks(db, doc_id, chunks, reuse)
        bump_generation(db)


def _insert_document(
    db: sqlite3.Connection, doc: Document, key: str, size: int, mtime: float, digest: str
) -> int:
    blocks = json.dumps(
        [[b.start, b.end, b.page, b.kind, *([1] if b.ocr else [])] for b in doc.blocks]
    )
    cur = db.execute(
        "INSERT INTO documents(path, title, format, size, mtime, content_hash, pages, text, "
        "blocks, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (key, doc.title, doc.format, size, mtime, digest, doc.pages, doc.text, blocks,
         time.time()),
    )  # fmt: skip
    doc_id = int(cur.lastrowid or 0)
    if doc.left_out:
        left_out = json.dumps([[x.rule, x.count, x.example] for x in doc.left_out])
        db.execute("UPDATE documents SET left_out = ? WHERE id = ?", (left_out, doc_id))
    return doc_id


def _children(db: sqlite3.Connection, doc_id: int) -> list[int]:
    rows = db.execute("SELECT id FROM documents WHERE parent_id = ?", (doc_id,)).fetchall()
    return [int(r[0]) for r in rows]


def _insert_chunks(
    db: sqlite3.Connection,
    doc_id: int,
    chunks: Sequence[Chunk],
    reuse: dict[str, bytes] | None = None,
) -> None:
    """Insert a document's chunks and their full-text rows (embeddings reused by text)."""
    for chunk in chunks:
        cur = db.execute(
            'INSERT INTO chunks(doc_id, ordinal, start, "end", page, text, embedding, ocr) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc_id,
                chunk.ordinal,
                chunk.start,
                chunk.end,
                chunk.page,
                chunk.text,
                (reuse or {}).get(chunk.text),
                int(chunk.ocr),
            ),
        )
        db.execute("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)", (cur.lastrowid, chunk.text))


def _delete_chunks(db: sqlite3.Connection, doc_id: int) -> None:
    # External-content FTS5 needs the old text to remove a row from the index.
    db.execute(
        "INSERT INTO chunks_fts(chunks_fts, rowid, text) "
        "SELECT 'delete', id, text FROM chunks WHERE doc_id = ?",
        (doc_id,),
    )
    db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))


def _delete_doc(db: sqlite3.Connection, doc_id: int) -> None:
    """Delete a document with its chunks, and its attachments and their failures."""
    for child in _children(db, doc_id):
        _delete_doc(db, child)
    row = db.execute("SELECT path FROM documents WHERE id = ?", (doc_id,)).fetchone()
    if row is not None:
        db.execute("DELETE FROM failures WHERE parent = ?", (row[0],))
    _delete_chunks(db, doc_id)
    db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

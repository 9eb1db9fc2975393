"""Writing a server library: documents with their passages, deletions, re-chunking, embeddings."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qa_app.index.bookkeeping import attachment_reason
from qa_app.index.schema import attachment_key
from qa_app.records import Chunk, Document

if TYPE_CHECKING:
    import numpy as np
    import psycopg


def bump_generation(db: psycopg.Connection[Any], lib: int) -> None:
    """Increase the library's generation inside an open transaction."""
    db.execute(
        "INSERT INTO qa_meta(library_id, key, value) VALUES (%s, 'generation', '1') "
        "ON CONFLICT (library_id, key) DO UPDATE SET value = "
        "(qa_meta.value::bigint + 1)::text",
        (lib,),
    )


def suffix(name: str) -> str:
    """Return the format suffix a scope compares (as ``Scope.admits``): "pdf", "" for none."""
    return os.path.splitext(name)[1].lstrip(".").lower()


def put_document(
    db: psycopg.Connection[Any],
    lib: int,
    doc: Document,
    chunks: Sequence[Chunk],
    *,
    size: int,
    mtime: float,
    content_hash: str,
    attachments: Sequence[tuple[Document, Sequence[Chunk]]] = (),
) -> int:
    """Store (insert or replace) a document, its passages and attachments inside the open
    transaction; return its id. Passages whose text the old version had keep their embedding."""
    old = db.execute(
        "SELECT id FROM qa_documents WHERE library_id = %s AND path = %s", (lib, doc.path)
    ).fetchone()
    reuse: dict[str, str] = {}
    if old is not None:
        reuse = dict(
            db.execute(
                "SELECT text, embedding::text FROM qa_chunks WHERE embedding IS NOT NULL AND "
                "doc_id IN (SELECT id FROM qa_documents WHERE id = %s OR parent_id = %s)",
                (old[0], old[0]),
            ).fetchall()
        )
        _delete_doc(db, lib, int(old[0]))
    doc_id = _insert_document(db, lib, doc, doc.path, None, size, mtime, content_hash)
    _insert_chunks(db, lib, doc_id, chunks, reuse)
    for number, (child, child_chunks) in enumerate(attachments, 1):
        key = attachment_key(doc.path, number)
        child_id = _insert_document(db, lib, child, key, doc_id, size, mtime, content_hash)
        _insert_chunks(db, lib, child_id, child_chunks, reuse)
    db.execute(
        "DELETE FROM qa_failures WHERE library_id = %s AND (path = %s OR parent = %s)",
        (lib, doc.path, doc.path),
    )
    for number, error in enumerate(doc.attachment_errors, 1):
        db.execute(
            "INSERT INTO qa_failures(library_id, path, reason, size, mtime, at, content_hash, "
            "parent) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (library_id, path) "
            "DO UPDATE SET reason = excluded.reason, parent = excluded.parent",
            (
                lib,
                attachment_key(doc.path, number, failed=True),
                attachment_reason(error.path, error.reason),
                size,
                mtime,
                time.time(),
                content_hash,
                doc.path,
            ),
        )
    bump_generation(db, lib)
    return doc_id


def _insert_document(
    db: psycopg.Connection[Any],
    lib: int,
    doc: Document,
    key: str,
    parent: int | None,
    size: int,
    mtime: float,
    digest: str,
) -> int:
    blocks = json.dumps(
        [[b.start, b.end, b.page, b.kind, *([1] if b.ocr else [])] for b in doc.blocks]
    )
    left_out = (
        json.dumps([[x.rule, x.count, x.example] for x in doc.left_out]) if doc.left_out else None
    )
    attachment = doc.attachment if parent is not None else None
    # What a scope compares: the message's path for an attachment, and the attachment's name.
    row = db.execute(
        "INSERT INTO qa_documents(library_id, path, title, format, size, mtime, content_hash, "
        "pages, text, blocks, indexed_at, parent_id, attachment, left_out, scope_path, suffix) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (lib, key, doc.title, doc.format, size, mtime, digest, doc.pages, doc.text, blocks,
         time.time(), parent, attachment, left_out, doc.path, suffix(attachment or doc.path)),
    ).fetchone()  # fmt: skip
    assert row is not None
    return int(row[0])


def _insert_chunks(
    db: psycopg.Connection[Any],
    lib: int,
    doc_id: int,
    chunks: Sequence[Chunk],
    reuse: dict[str, str],
) -> None:
    """Insert a document's passages in one statement (the full-text column fills itself)."""
    if not chunks:
        return
    db.execute(
        'INSERT INTO qa_chunks(library_id, doc_id, ordinal, start, "end", page, text, ocr, '
        "embedding) SELECT %s, %s, o, s, e, p, t, r, v::vector FROM unnest(%s::int[], "
        "%s::int[], %s::int[], %s::int[], %s::text[], %s::bool[], %s::text[]) AS "
        "u(o, s, e, p, t, r, v)",
        (
            lib,
            doc_id,
            [c.ordinal for c in chunks],
            [c.start for c in chunks],
            [c.end for c in chunks],
            [c.page for c in chunks],
            [c.text for c in chunks],
            [bool(c.ocr) for c in chunks],
            [reuse.get(c.text) for c in chunks],
        ),
    )


def _delete_doc(db: psycopg.Connection[Any], lib: int, doc_id: int) -> None:
    """Delete a document with its passages and attachments (cascade) and their failures."""
    db.execute(
        "DELETE FROM qa_failures WHERE library_id = %s AND parent = "
        "(SELECT path FROM qa_documents WHERE id = %s)",
        (lib, doc_id),
    )
    db.execute("DELETE FROM qa_documents WHERE library_id = %s AND id = %s", (lib, doc_id))


def mark_unread(db: psycopg.Connection[Any], lib: int, formats: Sequence[str] | None) -> int:
    """Make the next sync read files again; return how many (see ``index.writes.mark_unread``)."""
    if formats is not None:
        count = db.execute(
            "UPDATE qa_documents SET content_hash = '', mtime = 0 WHERE library_id = %s "
            "AND parent_id IS NULL AND format = ANY(%s)",
            (lib, list(formats)),
        ).rowcount
        count += db.execute(
            "DELETE FROM qa_failures WHERE library_id = %s AND parent IS NULL", (lib,)
        ).rowcount
        return int(count)
    ocred = "SELECT doc_id FROM qa_chunks WHERE library_id = %(l)s AND ocr"
    only_ocr = [
        int(r[0])
        for r in db.execute(
            f"SELECT id FROM qa_documents d WHERE library_id = %(l)s AND parent_id IS NULL "
            f"AND id IN ({ocred}) AND id NOT IN (SELECT doc_id FROM qa_chunks WHERE "
            "library_id = %(l)s AND NOT ocr) AND NOT EXISTS (SELECT 1 FROM qa_documents c "
            "WHERE c.parent_id = d.id)",
            {"l": lib},
        ).fetchall()
    ]
    for doc_id in only_ocr:
        _delete_doc(db, lib, doc_id)
    count = db.execute(
        "UPDATE qa_documents SET content_hash = '', mtime = 0 WHERE library_id = %(l)s AND "
        f"parent_id IS NULL AND (id IN ({ocred}) OR id IN (SELECT parent_id FROM qa_documents "
        f"WHERE id IN ({ocred})))",
        {"l": lib},
    ).rowcount
    if only_ocr:
        bump_generation(db, lib)
    return len(only_ocr) + int(count)


def delete_documents(db: psycopg.Connection[Any], lib: int, paths: Iterable[str]) -> list[str]:
    """Delete documents (and their passages and failures) by path inside the open transaction."""
    removed: list[str] = []
    for path in paths:
        row = db.execute(
            "SELECT id FROM qa_documents WHERE library_id = %s AND path = %s", (lib, path)
        ).fetchone()
        if row is not None:
            _delete_doc(db, lib, int(row[0]))
            removed.append(path)
        db.execute("DELETE FROM qa_failures WHERE library_id = %s AND parent = %s", (lib, path))
        dropped = db.execute(
            "DELETE FROM qa_failures WHERE library_id = %s AND path = %s", (lib, path)
        ).rowcount
        if dropped and row is None:
            removed.append(path)
    if removed:
        bump_generation(db, lib)
    return removed


def rechunk(db: psycopg.Connection[Any], lib: int, doc_id: int, chunks: Sequence[Chunk]) -> None:
    """Replace one document's passages (after a chunking change), keeping embeddings by text."""
    reuse = dict(
        db.execute(
            "SELECT text, embedding::text FROM qa_chunks WHERE doc_id = %s "
            "AND embedding IS NOT NULL",
            (doc_id,),
        ).fetchall()
    )
    db.execute("DELETE FROM qa_chunks WHERE library_id = %s AND doc_id = %s", (lib, doc_id))
    _insert_chunks(db, lib, doc_id, chunks, reuse)
    bump_generation(db, lib)


def vector_text(vector: np.ndarray) -> str:
    """Return a float32 vector in pgvector's text form (every value exactly, as a double)."""
    return "[" + ",".join(map(repr, vector.tolist())) + "]"


def put_embeddings(
    db: psycopg.Connection[Any], lib: int, ids: Sequence[int], vectors: np.ndarray
) -> None:
    """Store embeddings for passages in one statement (passages gone meanwhile are skipped)."""
    import numpy as np

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    db.execute(
        "UPDATE qa_chunks c SET embedding = u.v::vector FROM unnest(%s::bigint[], %s::text[]) "
        "AS u(id, v) WHERE c.id = u.id AND c.library_id = %s",
        ([int(i) for i in ids], [vector_text(v) for v in vectors], lib),
    )
    bump_generation(db, lib)

"""Reading a library back: its documents, their texts, passages by id and FTS5 keyword search."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from qa_app.errors import NotFound
from qa_app.index.bookkeeping import attachment_failures, exclusions, failures
from qa_app.index.database import Database
from qa_app.index.schema import Counts, KnownFile, PassageRow
from qa_app.records import Block, Document, DocumentInfo, LeftOut


def known_files(database: Database) -> dict[str, KnownFile]:
    """Return what is stored of each indexed file, by path."""
    rows = database.query(
        "SELECT path, id, size, mtime, content_hash FROM documents WHERE parent_id IS NULL"
    )
    return {str(r[0]): KnownFile(int(r[1]), int(r[2]), float(r[3]), str(r[4])) for r in rows}


def documents(database: Database) -> list[DocumentInfo]:
    """Return every stored document (e-mail attachments after their message), every file or
    attachment that failed and every exclusion, sorted by path."""
    rows = database.query(
        "SELECT d.id, COALESCE(p.path, d.path), d.title, d.format, d.size, d.mtime, "
        "d.content_hash, d.pages, "
        "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id), "
        "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id AND c.embedding IS NULL), "
        "f.reason, d.attachment, d.parent_id, d.left_out FROM documents d "
        "LEFT JOIN failures f ON f.path = d.path LEFT JOIN documents p ON p.id = d.parent_id"
    )
    infos = [
        DocumentInfo(
            id=int(r[0]),
            path=str(r[1]),
            title=str(r[2]),
            format=str(r[3]),
            size=int(r[4]),
            mtime=float(r[5]),
            content_hash=str(r[6]),
            pages=r[7],
            chunks=int(r[8]),
            status="failed" if r[10] else ("pending" if r[9] else "indexed"),
            error=r[10],
            attachment=r[11],
            parent_id=r[12],
            left_out=_left_out(r[13]),
        )
        for r in rows
    ]
    stored = {i.path for i in infos}
    for path, failure in failures(database).items():
        if path not in stored:
            infos.append(_unstored(path, "failed", failure.reason, failure.size, failure.mtime))
    ids = {i.path: i.id for i in infos if i.attachment is None}
    for path, reasons in attachment_failures(database).items():
        for reason in reasons:
            name = reason.removeprefix("attachment ").split(": ", 1)[0]
            info = _unstored(path, "failed", reason, None, None)
            infos.append(
                replace(
                    info,
                    title=name,
                    format=Path(name).suffix.lstrip(".").lower(),
                    attachment=name,
                    parent_id=ids.get(path, -1),
                )
            )
    for path in exclusions(database):
        infos.append(_unstored(path, "excluded", None, None, None))
    return sorted(infos, key=lambda i: (i.path, i.attachment is not None, i.attachment or ""))


def _left_out(stored: str | None) -> tuple[LeftOut, ...]:
    """Return the left-out records stored as JSON [[rule, count, example], …]."""
    if not stored:
        return ()
    return tuple(LeftOut(str(r[0]), int(r[1]), str(r[2])) for r in json.loads(stored))


def document(database: Database, doc_id: int) -> Document:
    """Return the stored Document; raise NotFound (a KeyError) if there is none with that id."""
    rows = database.query(
        "SELECT path, title, format, text, blocks, pages FROM documents WHERE id = ?", (doc_id,)
    )
    if not rows:
        raise NotFound(f"no document with id {doc_id}")
    path, title, fmt, text, blocks, pages = rows[0]
    attachment = None
    link = database.query(
        "SELECT p.path, d.attachment FROM documents d JOIN documents p "
        "ON p.id = d.parent_id WHERE d.id = ?",
        (doc_id,),
    )
    if link:
        path, attachment = link[0]
    return Document(
        path=path,
        title=title,
        format=fmt,
        text=text,
        blocks=tuple(Block(r[0], r[1], r[2], r[3], bool(r[4:])) for r in json.loads(blocks)),
        pages=pages,
        attachment=attachment,
    )


def document_text(database: Database, doc_id: int) -> str:
    """Return a document's stored text; raise NotFound (a KeyError) if none has that id."""
    rows = database.query("SELECT text FROM documents WHERE id = ?", (doc_id,))
    if not rows:
        raise NotFound(f"no document with id {doc_id}")
    return str(rows[0][0])


def document_ids(database: Database) -> list[int]:
    """Return the ids of every stored document."""
    return [int(r[0]) for r in database.query("SELECT id FROM documents ORDER BY id")]


def counts(database: Database) -> Counts:
    """Return (documents, chunks, chunks still waiting for an embedding)."""
    row = database.query(
        "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM chunks), "
        "(SELECT COUNT(*) FROM chunks WHERE embedding IS NULL)"
    )[0]
    return Counts(int(row[0]), int(row[1]), int(row[2]))


def passages(database: Database, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
    """Return the passage row of each given chunk id that still exists."""
    if not chunk_ids:
        return {}
    marks = ",".join("?" * len(chunk_ids))
    args = [int(i) for i in chunk_ids]
    rows = database.query(
        'SELECT c.id, c.doc_id, COALESCE(p.path, d.path), d.title, c.page, c.start, c."end", '
        "c.text, c.ocr, d.attachment FROM chunks c JOIN documents d ON d.id = c.doc_id "
        f"LEFT JOIN documents p ON p.id = d.parent_id WHERE c.id IN ({marks})",
        args,
    )
    return {
        int(r[0]): PassageRow(
            int(r[1]),
            str(r[2]),
            str(r[3]),
            r[4],
            int(r[5]),
            int(r[6]),
            str(r[7]),
            bool(r[8]),
            r[9],
        )  # fmt: skip
        for r in rows
    }


def keyword_search(database: Database, match: str, limit: int) -> list[tuple[int, float]]:
    """Return (chunk id, BM25 score, higher is better) for an FTS5 MATCH expression."""
    if not match:
        return []
    try:
        rows = database.query(
            "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY bm25(chunks_fts) LIMIT ?",
            (match, limit),
        )
    except sqlite3.OperationalError as exc:
        if is_query_syntax_error(exc):  # a MATCH expression FTS5 cannot parse finds nothing
            return []
        raise  # a missing table, a locked or full database: not "no hits"
    return [(int(r[0]), -float(r[1])) for r in rows]


# What SQLite says about a MATCH expression it cannot parse (and only that): "fts5: syntax
# error near …", "unterminated string", "unknown special query: …", and "no such column: x"
# for a column filter "x:term" on a column the table does not have.
_SYNTAX_MESSAGES = ("fts5: ", "unterminated string", "unknown special query", "no such column")


def is_query_syntax_error(exc: sqlite3.OperationalError) -> bool:
    """Return whether ``exc`` says an FTS5 MATCH expression could not be parsed."""
    return str(exc).lower().startswith(_SYNTAX_MESSAGES)


def _unstored(
    path: str, status: str, error: str | None, size: int | None, mtime: float | None
) -> DocumentInfo:
    return DocumentInfo(
        id=-1,
        path=path,
        title=Path(path).name,
        format=Path(path).suffix.lstrip(".").lower(),
        size=size or 0,
        mtime=mtime or 0.0,
        content_hash="",
        pages=None,
        chunks=0,
        status=status,
        error=error,
    )

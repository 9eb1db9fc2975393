"""Reading a server library back: its documents, their texts and passages by id."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa_app.errors import NotFound
from qa_app.index.schema import Counts, Failure, KnownFile, PassageRow
from qa_app.records import Block, Document, DocumentInfo, LeftOut
from qa_app.server.connection import Connections


def known_files(db: Connections, lib: int) -> dict[str, KnownFile]:
    """Return what is stored of each indexed file, by path."""
    rows = db.query(
        "SELECT path, id, size, mtime, content_hash FROM qa_documents "
        "WHERE library_id = %s AND parent_id IS NULL",
        (lib,),
    )
    return {str(r[0]): KnownFile(int(r[1]), int(r[2]), float(r[3]), str(r[4])) for r in rows}


def failures(db: Connections, lib: int) -> dict[str, Failure]:
    """Return the files that failed to index, by path (attachments: ``attachment_failures``)."""
    rows = db.query(
        "SELECT path, reason, size, mtime, content_hash FROM qa_failures "
        "WHERE library_id = %s AND parent IS NULL",
        (lib,),
    )
    return {str(r[0]): Failure(str(r[1]), r[2], r[3], r[4]) for r in rows}


def attachment_failures(db: Connections, lib: int) -> dict[str, list[str]]:
    """Return, by message path, why its attachments could not be read."""
    found: dict[str, list[str]] = {}
    for parent, reason in db.query(
        "SELECT parent, reason FROM qa_failures WHERE library_id = %s AND parent IS NOT NULL "
        "ORDER BY path",
        (lib,),
    ):
        found.setdefault(str(parent), []).append(str(reason))
    return found


def exclusions(db: Connections, lib: int) -> list[str]:
    """Return the files and folders inside added folders that the user removed."""
    rows = db.query("SELECT path FROM qa_exclusions WHERE library_id = %s ORDER BY path", (lib,))
    return [str(r[0]) for r in rows]


def documents(db: Connections, lib: int) -> list[DocumentInfo]:
    """Return every stored document (attachments after their message), every file or
    attachment that failed and every exclusion, sorted by path (as the local store does)."""
    rows = db.query(
        "SELECT d.id, COALESCE(p.path, d.path), d.title, d.format, d.size, d.mtime, "
        "d.content_hash, d.pages, COALESCE(c.n, 0), COALESCE(c.waiting, 0), f.reason, "
        "d.attachment, d.parent_id, d.left_out FROM qa_documents d "
        "LEFT JOIN (SELECT doc_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE embedding IS NULL) "
        "AS waiting FROM qa_chunks WHERE library_id = %s GROUP BY doc_id) c ON c.doc_id = d.id "
        "LEFT JOIN qa_failures f ON f.library_id = d.library_id AND f.path = d.path "
        "LEFT JOIN qa_documents p ON p.id = d.parent_id WHERE d.library_id = %s",
        (lib, lib),
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
    for path, failure in failures(db, lib).items():
        if path not in stored:
            infos.append(_unstored(path, "failed", failure.reason, failure.size, failure.mtime))
    ids = {i.path: i.id for i in infos if i.attachment is None}
    for path, reasons in attachment_failures(db, lib).items():
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
    for path in exclusions(db, lib):
        infos.append(_unstored(path, "excluded", None, None, None))
    return sorted(infos, key=lambda i: (i.path, i.attachment is not None, i.attachment or ""))


def _left_out(stored: str | None) -> tuple[LeftOut, ...]:
    if not stored:
        return ()
    return tuple(LeftOut(str(r[0]), int(r[1]), str(r[2])) for r in json.loads(stored))


def document(db: Connections, lib: int, doc_id: int) -> Document:
    """Return the stored Document; raise NotFound (a KeyError) if there is none with
    that id."""
    rows = db.query(
        "SELECT COALESCE(p.path, d.path), d.title, d.format, d.text, d.blocks, d.pages, "
        "CASE WHEN p.id IS NULL THEN NULL ELSE d.attachment END FROM qa_documents d "
        "LEFT JOIN qa_documents p ON p.id = d.parent_id WHERE d.library_id = %s AND d.id = %s",
        (lib, doc_id),
    )
    if not rows:
        raise NotFound(f"no document with id {doc_id}")
    path, title, fmt, text, blocks, pages, attachment = rows[0]
    return Document(
        path=path,
        title=title,
        format=fmt,
        text=text,
        blocks=tuple(Block(r[0], r[1], r[2], r[3], bool(r[4:])) for r in json.loads(blocks)),
        pages=pages,
        attachment=attachment,
    )


def document_text(db: Connections, lib: int, doc_id: int) -> str:
    """Return a document's stored text; raise NotFound (a KeyError) if there is none with
    that id."""
    rows = db.query(
        "SELECT text FROM qa_documents WHERE library_id = %s AND id = %s", (lib, doc_id)
    )
    if not rows:
        raise NotFound(f"no document with id {doc_id}")
    return str(rows[0][0])


def document_ids(db: Connections, lib: int) -> list[int]:
    """Return the ids of every stored document."""
    rows = db.query("SELECT id FROM qa_documents WHERE library_id = %s ORDER BY id", (lib,))
    return [int(r[0]) for r in rows]


def counts(db: Connections, lib: int) -> Counts:
    """Return (documents, chunks, chunks still waiting for an embedding)."""
    row = db.query(
        "SELECT (SELECT COUNT(*) FROM qa_documents WHERE library_id = %(l)s), "
        "(SELECT COUNT(*) FROM qa_chunks WHERE library_id = %(l)s), "
        "(SELECT COUNT(*) FROM qa_chunks WHERE library_id = %(l)s AND embedding IS NULL)",
        {"l": lib},
    )[0]
    return Counts(int(row[0]), int(row[1]), int(row[2]))


PASSAGE_COLUMNS = (
    'c.doc_id, COALESCE(p.path, d.path), d.title, c.page, c.start, c."end", c.text, c.ocr, '
    "CASE WHEN p.id IS NULL THEN NULL ELSE d.attachment END"
)
PASSAGE_JOINS = (
    "JOIN qa_documents d ON d.id = c.doc_id LEFT JOIN qa_documents p ON p.id = d.parent_id"
)


def passage_row(r: Sequence[Any]) -> PassageRow:
    """Return the PassageRow of PASSAGE_COLUMNS' values."""
    return PassageRow(
        int(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]), int(r[5]), str(r[6]), bool(r[7]), r[8]
    )


def passages(db: Connections, lib: int, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
    """Return the passage row of each given chunk id that still exists."""
    if not chunk_ids:
        return {}
    rows = db.query(
        f"SELECT c.id, {PASSAGE_COLUMNS} FROM qa_chunks c {PASSAGE_JOINS} "
        "WHERE c.library_id = %s AND c.id = ANY(%s)",
        (lib, [int(i) for i in chunk_ids]),
    )
    return {int(r[0]): passage_row(r[1:]) for r in rows}


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

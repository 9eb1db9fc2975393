"""Repairing a damaged library: a new database rebuilt from its added files, the damaged one kept."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa_app.index.database import StoreError, describe_os_error, from_db_text
from qa_app.index.indexing import CancelFn, ProgressFn
from qa_app.index.library import DB_FILE, OCR_KEY, ROOTS_FILE, Library
from qa_app.index.locking import WriterLock
from qa_app.index.vectors import INDEX_FILE
from qa_app.models.embedding import Embedder
from qa_app.records import SyncReport

# Settings of the library (not of its index) carried over when they can be read.
KEPT_META = (OCR_KEY, "seeded_from")
_MAGIC = b"SQLite format 3\x00"
ROOTS_LOST = "the added files and folders"


@dataclass
class Salvage:
    """What could be read back from a damaged database."""

    roots: list[tuple[str, str]] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    documents: list[str] = field(default_factory=list)  # indexed files, for the report
    unreadable: list[str] = field(default_factory=list)  # what could not be read, in words


@dataclass(frozen=True)
class RepairReport:
    """What ``repair`` did: where the damaged file went, what was recovered, and what was not."""

    kept: Path  # the damaged database, renamed beside the new one
    roots: tuple[str, ...]  # added files and folders recovered (and indexed again)
    sync: SyncReport
    lost: tuple[str, ...]  # documents of the damaged library that are not in the new one
    unreadable: tuple[str, ...]  # parts of the damaged database that could not be read


def _read(path: Path, found: Salvage) -> None:
    uri = path.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    db.text_factory = from_db_text
    reads: list[tuple[str, str, Callable[[list[tuple[object, ...]]], None]]] = [
        (ROOTS_LOST, "SELECT path, kind FROM roots",
         lambda rows: found.roots.extend((str(p), str(k)) for p, k in rows)),
        ("the exclusions", "SELECT path FROM exclusions",
         lambda rows: found.exclusions.extend(str(r[0]) for r in rows)),
        ("the settings", "SELECT key, value FROM meta",
         lambda rows: found.meta.update({str(k): str(v) for k, v in rows})),
        ("the list of documents", "SELECT path FROM documents WHERE path NOT LIKE '%#attachment-%'",
         lambda rows: found.documents.extend(str(r[0]) for r in rows)),
    ]  # fmt: skip
    try:
        for what, sql, keep in reads:
            try:
                keep(db.execute(sql).fetchall())
            except sqlite3.DatabaseError as exc:
                found.unreadable.append(f"{what} ({exc})")
    finally:
        db.close()


def _attempt(path: Path) -> tuple[int, Salvage]:
    found = Salvage()
    try:
        _read(path, found)
    except sqlite3.DatabaseError as exc:  # not even its list of tables can be read
        return 0, Salvage(unreadable=[f"the whole database ({exc})"])
    return 4 - len(found.unreadable), found


def salvage(path: Path, scratch: Path) -> Salvage:
    """Return what can be read from the damaged database at ``path`` (never raises for damage).

    A file whose header was overwritten is also read from a copy with the header restored, and
    whichever reads more is kept.
    """
    score, found = _attempt(path)
    if not found.unreadable:
        return found
    copy = scratch / "salvage.db"
    try:
        shutil.copyfile(path, copy)
        with open(copy, "r+b") as handle:
            handle.write(_MAGIC)
    except OSError:
        return found
    again, restored = _attempt(copy)
    return restored if again > score else found


def from_roots_file(directory: Path, found: Salvage) -> None:
    """Take the added files, folders, exclusions and OCR setting from roots.json when the damaged
    database could not give them back (a library made before roots.json has none: left as is)."""
    if not any(u.startswith(ROOTS_LOST) for u in found.unreadable) and found.roots:
        return
    try:
        record = json.loads((directory / ROOTS_FILE).read_text(encoding="utf-8"))
        roots = [(str(p), str(k)) for p, k in record["roots"]]
        exclusions = [str(e) for e in record.get("exclusions", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return
    if not roots:
        return
    found.roots = roots
    found.exclusions = found.exclusions or exclusions
    if OCR_KEY in record:
        found.meta.setdefault(OCR_KEY, str(record[OCR_KEY]))
    # Recovered after all: the report lists them among the recovered roots, not the losses.
    found.unreadable = [u for u in found.unreadable if not u.startswith(ROOTS_LOST)]


def repair(
    directory: Path,
    embedder: Embedder,
    *,
    name: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> RepairReport:
    """Rebuild a damaged library's database from its added files and folders.

    The damaged ``library.db`` is renamed ``library.db.damaged-TIME`` (never deleted); a new
    one gets the added files, folders, exclusions and settings that could be read, and a sync
    indexes them again. Raises StoreError when the folder cannot be written, LibraryBusy when
    another program writes the library.
    """
    name = name or directory.name
    db = directory / DB_FILE
    if not db.is_file():
        raise StoreError(f"{db}: there is no library database here to repair")
    with WriterLock(directory / "write.lock", name):
        with tempfile.TemporaryDirectory(prefix="qa-repair-") as scratch:
            found = salvage(db, Path(scratch))
        from_roots_file(directory, found)
        kept = db.with_name(f"{DB_FILE}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(db, kept)
            for suffix in ("-wal", "-shm"):  # they belong to the damaged file: kept with it
                part = Path(f"{db}{suffix}")
                if part.exists():
                    os.replace(part, Path(f"{kept}{suffix}"))
            (directory / INDEX_FILE).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(describe_os_error(exc, directory)) from exc
    library = Library(directory, embedder, name=name)
    try:
        store = library.store
        for path, kind in found.roots:
            store.add_root(path, kind)
        if not found.roots and found.documents:
            # The list of added folders is gone but the documents are known: add them as files.
            for path in found.documents:
                if os.path.isfile(path):
                    store.add_root(path, "file")
        store.set_excluded(found.exclusions, True)
        kept_meta = {k: v for k, v in found.meta.items() if k in KEPT_META}
        if kept_meta:
            with store.transaction() as tx:
                store.set_meta(tx, **kept_meta)
        report = library.sync(progress, cancel)
        present = set(store.known_files())
        lost = tuple(sorted(p for p in found.documents if p not in present))
    finally:
        library.close()
    with contextlib.suppress(OSError):
        kept.chmod(kept.stat().st_mode & ~0o222)  # a record, not to be written again
    return RepairReport(
        kept=kept,
        roots=tuple(path for path, _ in found.roots),
        sync=report,
        lost=lost,
        unreadable=tuple(found.unreadable),
    )

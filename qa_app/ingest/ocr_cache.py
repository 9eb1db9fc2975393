"""A cache of OCR results by page, so a cancelled or killed run never OCRs a finished page again."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    content_hash TEXT NOT NULL,
    page INTEGER NOT NULL,
    engine TEXT NOT NULL,
    paragraphs TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (content_hash, page, engine)
);
"""


class OcrCache:
    """OCR text of pages, keyed by the SHA-256 of the bytes the page came from (a PDF, an image,
    an attachment), the 1-based page number and the OCR engine and settings that read it.

    A SQLite file of its own (apart from the library's database: filling it does not change the
    library). Each page is committed as soon as it is read. The cache only saves time: when
    its file cannot be opened or written, OCR runs as if it were empty (logged, never raised).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                db = sqlite3.connect(str(self.path), timeout=10, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                self._db = db
            except sqlite3.Error as exc:
                log.warning("%s: the OCR cache cannot be used (%s)", self.path, exc)
                self._broken = True
        return self._db

    def get(self, content_hash: str, page: int, engine: str) -> list[str] | None:
        """Return the paragraphs cached for this page, or None when it was not read yet."""
        with self._lock:
            db = self._connect()
            if db is None:
                return None
            try:
                row = db.execute(
                    "SELECT paragraphs FROM pages WHERE content_hash = ? AND page = ? "
                    "AND engine = ?",
                    (content_hash, page, engine),
                ).fetchone()
            except sqlite3.Error as exc:
                log.warning("%s: the OCR cache cannot be read (%s)", self.path, exc)
                return None
        if row is None:
            return None
        found = json.loads(row[0])
        return [str(p) for p in found] if isinstance(found, list) else None

    def put(self, content_hash: str, page: int, engine: str, paragraphs: list[str]) -> None:
        """Remember the paragraphs read from this page (committed at once)."""
        with self._lock:
            db = self._connect()
            if db is None:
                return
            try:
                with db:
                    db.execute(
                        "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?)",
                        (content_hash, page, engine, json.dumps(paragraphs), time.time()),
                    )
            except sqlite3.Error as exc:  # a full disk: OCR goes on, only uncached
                log.warning("%s: the OCR cache cannot be written (%s)", self.path, exc)

    def close(self) -> None:
        """Close the cache file (idempotent)."""
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

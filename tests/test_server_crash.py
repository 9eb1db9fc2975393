"""A writer killed at any moment loses nothing committed on the server; the library stays whole."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from server_kit import PgServer, unique_name
from test_crash import make_corpus

from qa_app.engine import Engine
from qa_app.index.locking import LibraryBusy
from qa_app.testing import FakeEmbedder

INDEXER = """
import sys, time
from qa_app.testing import FakeEmbedder
from qa_app.engine import Engine
import qa_app.index.indexing
qa_app.index.indexing.EMBED_BATCH = 16  # small batches so kills land inside embedding too

class SlowFake(FakeEmbedder):
    def encode(self, texts, **kw):
        time.sleep(0.01 * len(texts))
        return super().encode(texts, **kw)

with Engine(sys.argv[2], embedder=SlowFake(64), server=sys.argv[1]) as eng:
    eng.add([sys.argv[3]], progress=lambda p: print("tick", p.stage, p.done, flush=True))
print("finished", flush=True)
"""


def integrity(pg: PgServer, name: str) -> tuple[int, int, int]:
    """Check on the server that every document is whole; return (documents, passages, embedded)."""
    import psycopg

    with psycopg.connect(pg.socket_dsn) as conn:
        lib = conn.execute("SELECT id FROM qa_libraries WHERE name = %s", (name,)).fetchone()
        assert lib is not None
        orphans = conn.execute(
            "SELECT COUNT(*) FROM qa_chunks c LEFT JOIN qa_documents d ON d.id = c.doc_id "
            "WHERE c.library_id = %s AND d.id IS NULL",
            lib,
        ).fetchone()
        empty = conn.execute(
            "SELECT COUNT(*) FROM qa_documents d WHERE library_id = %s AND NOT EXISTS "
            "(SELECT 1 FROM qa_chunks c WHERE c.doc_id = d.id)",
            lib,
        ).fetchone()
        bad = conn.execute(
            "SELECT COUNT(*) FROM qa_chunks c JOIN qa_documents d ON d.id = c.doc_id WHERE "
            'c.library_id = %s AND substr(d.text, c.start + 1, c."end" - c.start) <> c.text',
            lib,
        ).fetchone()
        postings = conn.execute(
            "SELECT (SELECT count(*) FROM qa_terms WHERE library_id = %(l)s), "
            "(SELECT COALESCE(sum(length(tsv)), 0) FROM qa_chunks WHERE library_id = %(l)s), "
            "(SELECT count(*) FROM qa_terms t WHERE library_id = %(l)s AND NOT EXISTS "
            "(SELECT 1 FROM qa_chunks c WHERE c.id = t.chunk_id))",
            {"l": lib[0]},
        ).fetchone()
        assert orphans == (0,) and empty == (0,) and bad == (0,)
        assert postings is not None and postings[0] == postings[1] and postings[2] == 0, postings
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM qa_documents WHERE library_id = %(l)s), "
            "COUNT(*), COUNT(embedding) FROM qa_chunks WHERE library_id = %(l)s",
            {"l": lib[0]},
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])


@pytest.mark.parametrize("ticks_before_kill", [3, 30])
def test_sigkill_of_a_server_writer_loses_nothing_committed(
    pg_server: PgServer, tmp_path: Path, ticks_before_kill: int
) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 24)
    name = unique_name("crash")
    proc = subprocess.Popen(
        [sys.executable, "-c", INDEXER, pg_server.socket_dsn, name, str(corpus)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        if line.startswith("tick"):
            seen += 1
            if seen >= ticks_before_kill:
                break
        assert time.monotonic() < deadline
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    docs, passages, embedded = integrity(pg_server, name)
    assert docs < 24 or embedded < passages  # killed before the end

    with Engine(name, embedder=FakeEmbedder(64), server=pg_server.socket_dsn) as eng:
        committed = {d.path for d in eng.documents() if d.status != "failed"}
        assert len(committed) == docs
        if committed:
            assert eng.search("harbour master logged ship", k=5)
        report = eng.sync()  # the lock died with the writer: the next writer resumes at once
        assert report.ok and len(report.added) == 24 - docs
        assert {d.path for d in eng.documents()} >= committed
    docs_after, passages_after, embedded_after = integrity(pg_server, name)
    assert docs_after == 24 and embedded_after == passages_after >= passages


def test_a_second_writer_is_refused_with_the_owner(pg_server: PgServer, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 12)
    name = unique_name("busy")
    proc = subprocess.Popen(
        [sys.executable, "-c", INDEXER, pg_server.socket_dsn, name, str(corpus)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("tick"):
                break
        busy = rf"being updated by another qa-app process \(pid {proc.pid} on "
        with (
            Engine(name, embedder=FakeEmbedder(64), server=pg_server.socket_dsn) as eng,
            pytest.raises(LibraryBusy, match=busy),
        ):
            eng.sync()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

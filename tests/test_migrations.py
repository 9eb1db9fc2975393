"""The migration ledger: applied once by the writer, recorded, and old libraries kept whole."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_reading import cli_command, read_only, snapshot

from qa_app.index import migrations, schema
from qa_app.index.database import StoreError
from qa_app.index.library import Library
from qa_app.index.store import Store
from qa_app.testing import FakeEmbedder

FIXTURE = Path(__file__).parent / "fixtures" / "library_35b7a82"
OLD_DOCS = "/tmp/qa-old-docs"  # where the fixture's documents were (they are not needed)
NAMES = [name for name, _ in schema.MIGRATIONS]


def ledger(db_path: Path) -> list[tuple[str, float]]:
    db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return db.execute("SELECT name, applied_at FROM _migrations ORDER BY rowid").fetchall()
    finally:
        db.close()


def old_library(folder: Path) -> Path:
    """Copy the library made by commit 35b7a82 (before the ledger) to ``folder``."""
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("*.py"))
    return folder


def contents(library: Library) -> dict[str, Any]:
    """Everything a library holds that a migration must keep."""
    store = library.store
    state, ids, matrix = store.embeddings(library.embedder.dimension)
    query = library.embedder.encode(["harbour of Valdoria"])[0]
    return {
        "documents": [
            (d.path, d.attachment, d.status, d.chunks, d.error) for d in store.documents()
        ],
        "texts": {i: store.document(i).text for i in store.document_ids()},
        "passages": store.passages(ids.tolist()),
        "embeddings": (ids.tolist(), matrix.tobytes(), state.seq, state.mark, state.library),
        "roots": store.roots(),
        "exclusions": store.exclusions(),
        "failures": store.failures(),
        "attachment_failures": store.attachment_failures(),
        "counts": store.counts(),
        "keywords": store.keyword_search("harbour", 5),
        "dense": library.dense_search(query, 3),
        "library_id": store.meta()["library_id"],
    }


# -- the ledger itself ------------------------------------------------------------------------


def test_migrations_run_in_order_once_each_and_a_failed_one_leaves_nothing(
    tmp_path: Path,
) -> None:
    db = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    calls: list[str] = []

    def m001(c: sqlite3.Connection) -> None:
        calls.append("m001")
        c.execute("CREATE TABLE t (a INTEGER)")

    def m002(c: sqlite3.Connection) -> None:
        calls.append("m002")
        c.execute("ALTER TABLE t ADD COLUMN b TEXT")

    def m003(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half (x)")
        raise RuntimeError("stopped half-way")

    steps: list[migrations.Migration] = [("m001", m001), ("m002", m002)]
    assert migrations.migrate(db, steps) == ["m001", "m002"]
    assert migrations.migrate(db, steps) == [] and calls == ["m001", "m002"]
    assert [r[1] for r in db.execute("PRAGMA table_info(t)")] == ["a", "b"]
    with pytest.raises(RuntimeError, match="half-way"):
        migrations.migrate(db, [*steps, ("m003", m003)])
    assert migrations.applied(db) == ["m001", "m002"]  # m003: neither done nor recorded
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    assert not db.in_transaction
    assert migrations.unknown(["m001", "m009"], steps) == ["m009"]


def test_split_script_keeps_a_trigger_whole() -> None:
    statements = migrations.split_script(schema._VECTOR_TRIGGERS)
    assert len(statements) == 6
    assert all(s.endswith(";") for s in statements)
    assert sum("BEGIN INSERT" in s for s in statements) == 3


def test_a_new_library_records_each_migration_once_and_a_reopen_alters_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "library.db"
    Store(path, create=True).close()
    first = ledger(path)
    assert [name for name, _ in first] == NAMES
    assert schema.SCHEMA_VERSION == len(NAMES) == 8
    db = sqlite3.connect(path, isolation_level=None)
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    assert schema.create(db) == []  # what every writer open runs
    db.close()
    assert statements and not any(
        word in s.upper() for s in statements for word in ("ALTER", "CREATE", "INSERT", "BEGIN")
    ), statements
    store = Store(path)
    store.add_root("/somewhere", "folder")  # opens the writer
    store.close()
    assert ledger(path) == first


def test_a_library_changed_by_a_newer_app_is_read_but_not_written(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    store = Store(path, create=True)
    store.add_root("/docs", "folder")
    store.close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO _migrations VALUES ('m009_from_the_future', 0)")
    db.commit()
    db.close()
    store = Store(path)
    assert [r.path for r in store.roots()] == ["/docs"]
    with pytest.raises(StoreError, match="newer qa-app.*m009_from_the_future"):
        store.add_root("/more", "folder")
    store.close()


# -- a library made by 35b7a82, before the ledger ----------------------------------------------


def test_a_library_made_before_the_ledger_migrates_in_place_and_keeps_everything(
    tmp_path: Path,
) -> None:
    folder = old_library(tmp_path / "old")
    cache = folder / "vectors.faiss"
    cache_before = cache.read_bytes()
    library = Library(folder, FakeEmbedder(32), create=False)
    assert library.needs_rebuild is None and not library.notices  # an older schema: no rebuild
    before = contents(library)  # read through the reader, nothing migrated yet
    assert not library.store.writable
    # What the fixture holds, so that "kept" cannot mean "both empty".
    assert before["documents"] == [
        (f"{OLD_DOCS}/alpha.txt", None, "indexed", 1, None),
        (f"{OLD_DOCS}/broken.pdf", None, "failed", 0, before["failures"][f"{OLD_DOCS}/broken.pdf"].reason),
        (f"{OLD_DOCS}/gamma.txt", None, "excluded", 0, None),
        (f"{OLD_DOCS}/pump.eml", None, "indexed", 1, None),
        (f"{OLD_DOCS}/pump.eml", "broken.docx", "failed", 0, before["attachment_failures"][f"{OLD_DOCS}/pump.eml"][0]),
        (f"{OLD_DOCS}/pump.eml", "report.txt", "indexed", 1, None),
        (f"{OLD_DOCS}/sub/beta.md", None, "indexed", 1, None),
    ]  # fmt: skip
    assert [tuple(r) for r in before["roots"]] == [(OLD_DOCS, "folder")]
    assert before["exclusions"] == [f"{OLD_DOCS}/gamma.txt"]
    assert tuple(before["counts"]) == (4, 4, 0)
    assert len(before["embeddings"][0]) == 4 and before["dense"] and before["keywords"]
    assert any(p.attachment == "report.txt" for p in before["passages"].values())

    assert library.embed_pending() == 0  # a writing call: the writer opens and migrates
    assert library.store.writable
    assert [name for name, _ in ledger(folder / "library.db")] == NAMES
    assert contents(library) == before
    assert library.store.meta()["schema_version"] == str(schema.SCHEMA_VERSION)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["schema_version"] == schema.SCHEMA_VERSION
    assert library.vectors.rebuilds == 0 and cache.read_bytes() == cache_before
    library.close()

    again = Library(folder, FakeEmbedder(32), create=False)
    recorded = ledger(folder / "library.db")
    again.store.set_excluded([f"{OLD_DOCS}/sub"], True)  # another writer open
    assert ledger(folder / "library.db") == recorded  # recorded once, not applied again
    assert f"{OLD_DOCS}/sub" in again.store.exclusions()
    assert again.dense_search(FakeEmbedder(32).encode(["harbour"])[0], 1)
    assert again.vectors.rebuilds == 0
    again.close()


def test_a_library_made_before_the_ledger_reads_on_a_read_only_folder(
    tmp_path: Path, qa_home: Path
) -> None:
    folder = old_library(qa_home / "libraries" / "old")
    before = snapshot(folder)
    try:
        for argv, expect in (
            (["list", "--library", "old"], "report.txt"),
            (["search", "harbour", "--library", "old"], "Valdoria"),
        ):
            done = subprocess.run(
                read_only(folder, cli_command(*argv)), capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
            assert expect in done.stdout, done.stdout
    finally:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert snapshot(folder) == before  # reading wrote nothing: still no ledger
    db = sqlite3.connect(folder / "library.db")
    assert migrations.applied(db) == []
    db.close()


# -- a library of version 1 (before every migration), read without a writer ------------------


def as_version_1(db_path: Path) -> None:
    """Strip a library down to version 1: no later tables, columns, triggers or ledger."""
    db = sqlite3.connect(db_path)
    for sql in (
        "DROP TABLE _migrations", "DROP TABLE exclusions", "DROP TRIGGER chunks_vector_insert",
        "DROP TRIGGER chunks_vector_update", "DROP TRIGGER chunks_vector_delete",
        "DROP TABLE vector_log", "DROP INDEX documents_parent", "DROP INDEX failures_parent",
        "ALTER TABLE documents DROP COLUMN parent_id",
        "ALTER TABLE documents DROP COLUMN attachment",
        "ALTER TABLE documents DROP COLUMN left_out", "ALTER TABLE chunks DROP COLUMN ocr",
        "ALTER TABLE failures DROP COLUMN parent", "ALTER TABLE failures DROP COLUMN content_hash",
        "DELETE FROM meta WHERE key = 'library_id'",
    ):  # fmt: skip
        db.execute(sql)
    db.commit()
    db.close()


def test_a_version_1_library_reads_without_a_writer_and_sees_a_writer_migrate_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "library.db"
    store = Store(path, create=True)
    with store.transaction() as db:
        db.execute(
            "INSERT INTO documents(id, path, title, format, size, mtime, content_hash, pages, "
            "text, blocks, indexed_at) VALUES (1, '/d/a.txt', 'a', 'txt', 5, 1.0, 'h', NULL, "
            "'Harbour closed.', '[]', 1.0)"
        )
        db.execute(
            'INSERT INTO chunks(id, doc_id, ordinal, start, "end", text) '
            "VALUES (1, 1, 0, 0, 15, 'Harbour closed.')"
        )
        db.execute("INSERT INTO chunks_fts(rowid, text) VALUES (1, 'Harbour closed.')")
    store.record_failure("/d/bad.pdf", "corrupt", 3, 1.0)
    store.close()
    as_version_1(path)
    image = path.read_bytes()

    reader = Store(path)  # reading never writes: the library stays at version 1
    (doc, bad) = reader.documents()
    assert (doc.path, doc.attachment, doc.parent_id, doc.status, doc.left_out) == (
        "/d/a.txt", None, None, "pending", ()
    )  # fmt: skip
    assert (bad.path, bad.status, bad.error) == ("/d/bad.pdf", "failed", "corrupt")
    assert reader.passages([1])[1].ocr is False and reader.passages([1])[1].attachment is None
    assert list(reader.known_files()) == ["/d/a.txt"]
    assert reader.failures()["/d/bad.pdf"].content_hash is None
    assert reader.exclusions() == [] and reader.attachment_failures() == {}
    assert reader.keyword_search("harbour", 3)[0][0] == 1
    assert path.read_bytes() == image and not reader.writable

    writer = Store(path)  # another connection (another program) writes, so migrates
    writer.set_excluded(["/d/sub"], True)
    assert [name for name, _ in ledger(path)] == NAMES
    # The reader's views were for the old schema: it now reads the migrated tables.
    assert reader.exclusions() == ["/d/sub"]
    assert [d.path for d in reader.documents()] == ["/d/a.txt", "/d/bad.pdf", "/d/sub"]
    assert reader.passages([1])[1].ocr is False
    writer.close()
    reader.close()

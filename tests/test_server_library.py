"""The engine's behaviour, run against the local library and a team library on a real PostgreSQL.

Every test of the first part runs twice (``backend``: local, server) and asserts the same things,
so the server backend cannot drift from the local one; the second part is the server's own.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from server_kit import PgServer, unique_name

from qa_app.contracts import Scope
from qa_app.engine import Engine
from qa_app.index.locking import LibraryBusy
from qa_app.retrieval import fuse
from qa_app.testing import FakeEmbedder

Opener = Callable[..., Engine]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    write(
        folder, "alpha.txt", "The harbour of Valdoria was closed in March.\n\nShips waited outside."
    )
    write(folder, "sub/beta.md", "# Beta\n\nThe mayor of Valdoria is Ines Moreau.\n")
    write(folder, "notes.xyz", "not a supported format, silently skipped inside folders")
    return folder


@pytest.fixture(params=["local", "server"])
def opener(request: pytest.FixtureRequest) -> Opener:
    """Return open(dim=64, **kw) -> Engine for one library of this test, on either backend."""
    name = unique_name()
    server = request.getfixturevalue("pg_server").socket_dsn if request.param == "server" else None

    def open_engine(dim: int = 64, **kw: object) -> Engine:
        return Engine(name, embedder=FakeEmbedder(dim), server=server, **kw)  # type: ignore[arg-type]

    return open_engine


# -- the same behaviour on both backends ----------------------------------------------------------


def test_add_list_and_offsets(opener: Opener, docs: Path) -> None:
    with opener() as eng:
        report = eng.add([docs])
        assert report.ok
        assert sorted(Path(p).name for p in report.added) == ["alpha.txt", "beta.md"]
        infos = eng.documents()
        assert [Path(d.path).name for d in infos] == ["alpha.txt", "beta.md"]
        assert all(d.status == "indexed" and d.chunks >= 1 for d in infos)
        assert eng.folders() == [str(docs.resolve())]
        assert eng.pending() == 0
        for info in infos:
            text = eng.document_text(info.id)
            for p in eng.search("Valdoria", k=20):
                if p.doc_id == info.id:
                    assert text[p.start : p.end] == p.text
        with pytest.raises(KeyError):
            eng.document_text(10**9)


def test_search_fuses_dense_and_keyword(opener: Opener, docs: Path) -> None:
    with opener() as eng:
        eng.add([docs])
        hits = eng.search("mayor of Valdoria", k=5)
        assert hits[0].path.endswith("beta.md")
        assert hits[0].dense_rank is not None and hits[0].keyword_rank is not None
        assert hits[0].score >= hits[-1].score
        assert eng.search("zzzunknownword", k=5) == [] or all(
            p.keyword_rank is None for p in eng.search("zzzunknownword", k=5)
        )


def test_sync_sees_new_changed_and_deleted(opener: Opener, docs: Path) -> None:
    with opener() as eng:
        eng.add([docs])
        report = eng.sync()
        assert report.unchanged == 2 and not report.added and report.chunks_embedded == 0
        alpha = docs / "alpha.txt"
        alpha.write_text("The harbour reopened in May.", encoding="utf-8")
        os.utime(alpha, (1, 1))
        write(docs, "gamma.txt", "A new report about lighthouses.")
        (docs / "sub" / "beta.md").unlink()
        report = eng.sync()
        assert [Path(p).name for p in report.updated] == ["alpha.txt"]
        assert [Path(p).name for p in report.added] == ["gamma.txt"]
        assert [Path(p).name for p in report.removed] == ["beta.md"]
        assert eng.search("lighthouses", k=3)[0].path.endswith("gamma.txt")
        assert not any(p.path.endswith("beta.md") for p in eng.search("mayor", k=10))


def test_bad_files_are_reported_and_the_rest_kept(opener: Opener, docs: Path) -> None:
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with opener() as eng:
        report = eng.add([docs])
        assert [Path(f.path).name for f in report.failed] == ["broken.pdf"]
        statuses = {Path(d.path).name: d.status for d in eng.documents()}
        assert statuses == {"alpha.txt": "indexed", "beta.md": "indexed", "broken.pdf": "failed"}


def test_remove_and_exclude(opener: Opener, docs: Path) -> None:
    with opener() as eng:
        eng.add([docs])
        removed = eng.exclude([docs / "alpha.txt"])
        assert [Path(p).name for p in removed] == ["alpha.txt"]
        assert eng.exclusions() == [str(docs / "alpha.txt")]
        assert not eng.sync().added  # an exclusion stays out
        eng.include([docs / "alpha.txt"])
        assert [Path(p).name for p in eng.sync().added] == ["alpha.txt"]
        assert eng.remove([docs])
        assert eng.documents() == [] and eng.folders() == []


def test_text_that_is_not_plain_is_kept_exactly(opener: Opener, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    text = "Odd and \U0010ffff escape; naïve café 東京 — 'quotes' \"and\" %s %(x)s ;--"
    (folder / "odd.txt").write_text(text, encoding="utf-8")
    odd_name = os.fsdecode(b"caf\xe9.txt")  # not UTF-8: a lone surrogate in Python
    (folder / odd_name).write_text("Latin-1 named file about harbours.", encoding="utf-8")
    with opener() as eng:
        assert eng.add([folder]).ok
        docs = {d.path: d for d in eng.documents()}
        assert str(folder / odd_name) in docs
        stored = eng.document_text(docs[str(folder / "odd.txt")].id)
        assert "\U0010ffff" in stored and "東京" in stored
        assert eng.search("harbours", k=2)[0].path == str(folder / odd_name)
        assert eng.remove([folder / odd_name]) == [str(folder / odd_name)]


def test_scope_keeps_to_a_folder_and_a_format(opener: Opener, docs: Path) -> None:
    with opener() as eng:
        eng.add([docs])
        inside = eng.search("Valdoria", k=5, scope=Scope(folder=str(docs / "sub")))
        assert inside and all(p.path.endswith("beta.md") for p in inside)
        txt = eng.search("Valdoria", k=5, scope=Scope(formats=("txt",)))
        assert txt and all(p.path.endswith(".txt") for p in txt)
        assert eng.search("Valdoria", k=5, scope=Scope(formats=("pdf",))) == []


def test_model_change_is_noticed_and_rebuilt(opener: Opener, docs: Path) -> None:
    with opener() as eng:
        eng.add([docs])
    with opener(dim=32) as eng:
        assert eng.needs_rebuild == "model" and eng.notices
        assert eng.search("Valdoria", k=3)  # keyword only meanwhile
        report = eng.rebuild()
        assert report.chunks_embedded == 2 and eng.needs_rebuild is None
        assert eng.search("mayor of Valdoria", k=3)[0].dense_rank == 1


def test_cancel_keeps_finished_files_and_sync_resumes(opener: Opener, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for i in range(6):
        write(folder, f"f{i}.txt", f"Report number {i} about the harbour.")
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with opener() as eng:
        report = eng.add([folder], cancel=cancel)
        assert report.cancelled and 0 < len(report.added) < 6
        assert len(eng.sync().added) == 6 - len(report.added)
        assert len(eng.documents()) == 6


def test_one_writer_at_a_time(opener: Opener, docs: Path) -> None:
    with opener() as eng, opener() as other:
        eng.add([docs])
        with eng.library.writer():
            with pytest.raises(LibraryBusy, match="already being updated|being updated by"):
                other.sync()
            assert other.search("Valdoria", k=2)  # reading goes on
        assert other.sync().unchanged == 2


def test_ocr_setting_is_remembered(opener: Opener, docs: Path) -> None:
    with opener() as eng:
        eng.add([docs])
        assert eng.ocr
        eng.set_ocr(False)
    with opener() as eng:
        assert not eng.ocr


# -- the server's own ------------------------------------------------------------------------------


def server_engine(pg: PgServer, name: str | None = None, dim: int = 64) -> Engine:
    return Engine(name or unique_name(), embedder=FakeEmbedder(dim), server=pg.socket_dsn)


def test_one_query_fuses_as_the_local_fusion_does(pg_server: PgServer, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    for i in range(30):
        write(folder, f"d{i}.txt", f"Ship {i} reached the harbour of port {i % 7} in spring {i}.")
    with server_engine(pg_server) as eng:
        eng.add([folder])
        for query in ("harbour of port 3", "ship 12 spring", "reached"):
            ranked = eng.retriever.rank(query, 10)
            expected = fuse(ranked.dense, ranked.keyword, 10)
            got = eng.search(query, k=10)
            assert [p.chunk_id for p in got] == [r.chunk_id for r in expected]
            assert [p.score for p in got] == pytest.approx([r.score for r in expected])


def test_dense_ranking_uses_the_librarys_hnsw_index(pg_server: PgServer, docs: Path) -> None:
    from qa_app.server import ranking

    with server_engine(pg_server) as eng:
        eng.add([docs])
        store = eng.library.store
        conn = store.connections.reader()
        # A tiny table: the planner would rather scan and sort it. Forbid the scans and the sort
        # that do not need the HNSW index, so the plan shows whether that index can serve the query.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.execute(f"SET {setting} = off")
        try:
            vector = eng.embedder.encode(["mayor"])[0]
            args = {"depth": 10, "vector": ranking.vector_text(vector)}
            plan = conn.execute(
                b"EXPLAIN " + ranking._dense_sql(store.library_id, 64, "").as_bytes(conn), args
            ).fetchall()
            assert "qa_chunks_hnsw_" in "\n".join(r[0] for r in plan)
        finally:
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                conn.execute(f"RESET {setting}")


def test_libraries_on_one_server_are_apart(pg_server: PgServer, docs: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write(other, "x.txt", "Valdoria exports wool.")
    with server_engine(pg_server) as a, server_engine(pg_server) as b:
        a.add([docs])
        b.add([other])
        assert {Path(p.path).name for p in a.search("Valdoria", k=10)} == {"alpha.txt", "beta.md"}
        assert {Path(p.path).name for p in b.search("Valdoria", k=10)} == {"x.txt"}


def test_a_missing_library_is_named(pg_server: PgServer) -> None:
    from qa_app.index.database import StoreMissing

    with pytest.raises(StoreMissing, match="no library called 'nope-x' on postgresql://"):
        Engine("nope-x", embedder=FakeEmbedder(64), server=pg_server.socket_dsn, create=False)


def test_readers_never_wait_for_a_writer(pg_server: PgServer, docs: Path) -> None:
    name = unique_name()
    with server_engine(pg_server, name) as writer, server_engine(pg_server, name) as reader:
        writer.add([docs])
        entered, release = threading.Event(), threading.Event()

        def hold() -> None:  # a write transaction left open, holding row locks
            with writer.library.writer(), writer.library.store.transaction() as db:
                db.execute("UPDATE qa_chunks SET ocr = ocr WHERE library_id = %s", (
                    writer.library.store.library_id,))  # fmt: skip
                entered.set()
                release.wait(30)

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            assert entered.wait(10)
            started = time.monotonic()
            assert reader.search("Valdoria", k=3)
            assert len(reader.documents()) == 2
            assert time.monotonic() - started < 2
            with pytest.raises(LibraryBusy, match="already being updated in this program"):
                reader.sync()
        finally:
            release.set()
            thread.join(10)


def test_delete_a_team_library(pg_server: PgServer, docs: Path) -> None:
    from qa_app.server.manage import library_names

    name = unique_name()
    with server_engine(pg_server, name) as eng:
        eng.add([docs])
    assert name in library_names(pg_server.socket_dsn)
    Engine.delete_library(name, server=pg_server.socket_dsn)
    assert name not in library_names(pg_server.socket_dsn)
    with pytest.raises(KeyError):
        Engine.delete_library(name, server=pg_server.socket_dsn)


def test_a_new_local_schema_does_not_strand_a_team_library(
    pg_server: PgServer, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa_app.index.library

    name = unique_name()
    with server_engine(pg_server, name) as eng:
        eng.add([docs])
    monkeypatch.setattr(qa_app.index.library, "SCHEMA_VERSION", 999)
    with server_engine(pg_server, name) as eng:  # the server's tables follow their own ledger
        assert eng.needs_rebuild is None and len(eng.documents()) == 2


def test_the_migration_ledger_records_each_step_once(pg_server: PgServer) -> None:
    import psycopg

    from qa_app.server import schema

    with server_engine(pg_server):
        pass
    with psycopg.connect(pg_server.socket_dsn, autocommit=True) as conn:
        assert schema.migrate(conn, "test") == []  # applied already: nothing to do
        rows = conn.execute("SELECT version FROM qa_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [v for v, _, _ in schema.MIGRATIONS]


def test_a_server_written_by_a_newer_qa_app_is_refused(pg_server: PgServer) -> None:
    import psycopg

    from qa_app.server.settings import ServerError

    database = unique_name("newer").replace("-", "_")
    with psycopg.connect(pg_server.socket_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    dsn = pg_server.socket_dsn.replace("/postgres?", f"/{database}?")
    Engine("x", embedder=FakeEmbedder(8), server=dsn).close()  # creates the tables there
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO qa_migrations(version, name) VALUES (999, 'from the future')")
    with pytest.raises(ServerError, match="newer qa-app .schema 999"):
        Engine("x", embedder=FakeEmbedder(8), server=dsn)


# -- keyword ranking from postings ----------------------------------------------------------------


def _postings_whole(conn: object, lib: int) -> None:
    """Assert the library's postings are exactly its passages' lexemes (no more, no fewer)."""
    got = conn.execute(  # type: ignore[attr-defined]
        "SELECT (SELECT count(*) FROM qa_terms WHERE library_id = %(l)s), "
        "(SELECT COALESCE(sum(length(tsv)), 0) FROM qa_chunks WHERE library_id = %(l)s), "
        "(SELECT count(*) FROM qa_terms t WHERE library_id = %(l)s AND NOT EXISTS "
        "(SELECT 1 FROM qa_chunks c WHERE c.id = t.chunk_id))",
        {"l": lib},
    ).fetchone()
    assert got[0] == got[1] and got[2] == 0, got
    wrong = conn.execute(  # type: ignore[attr-defined]
        "SELECT count(*) FROM (SELECT lexeme, count(*) AS n FROM qa_terms WHERE library_id = %(l)s "
        "GROUP BY lexeme) t FULL JOIN (SELECT lexeme, df FROM qa_lexicon WHERE library_id = %(l)s "
        "AND df > 0) x USING (lexeme) WHERE t.n IS DISTINCT FROM x.df",
        {"l": lib},
    ).fetchone()
    assert wrong == (0,)  # each word's passage count is its postings'


def _bm25(conn: object, lib: int, query: str) -> dict[int, float]:
    """BM25 (k1 1.2, b 0.75, idf ln(1 + (N - df + .5) / (df + .5))) computed here, in Python,
    from each passage's tsvector: the reference the SQL ranking must match."""
    import math
    import re

    rows = conn.execute(  # type: ignore[attr-defined]
        "SELECT id, tsv::text FROM qa_chunks WHERE library_id = %s", (lib,)
    ).fetchall()
    (qtsv,) = conn.execute("SELECT to_tsvector('english', %s)::text", (query,)).fetchone()  # type: ignore[attr-defined]
    terms = set(re.findall(r"'((?:[^']|'')+)'", qtsv))
    vectors = {}
    for chunk_id, text in rows:
        vectors[chunk_id] = {
            m.group(1): len(m.group(2).split(",")) if m.group(2) else 1
            for m in re.finditer(r"'((?:[^']|'')+)'(?::([0-9A-D,]+))?", text)
        }
    n = len(vectors)
    avgdl = sum(len(v) for v in vectors.values()) / n
    scores: dict[int, float] = {}
    for term in terms:
        df = sum(term in v for v in vectors.values())
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for chunk_id, v in vectors.items():
            if term in v:
                tf = v[term]
                part = tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(v) / avgdl))
                scores[chunk_id] = scores.get(chunk_id, 0.0) + idf * part
    return scores


def test_keyword_ranking_is_bm25_from_the_postings(pg_server: PgServer, tmp_path: Path) -> None:
    from qa_app.server import ranking

    folder = tmp_path / "k"
    write(folder, "a.txt", "The harbour of the harbour town was closed. Harbour dues rose.")
    write(folder, "b.txt", "A long report on the town, its mills, its river and its harbour.")
    write(folder, "c.txt", "Valdoria's river floods the mills every spring.")
    write(folder, "d.txt", "Nothing here matches at all, not a single query word.")
    with server_engine(pg_server) as eng:
        eng.add([folder])
        store = eng.library.store
        conn = store.connections.reader()
        _postings_whole(conn, store.library_id)
        ranking._stats.clear()
        for query in ("harbour town", "river mills spring", "Valdoria", "harbour"):
            expected = _bm25(conn, store.library_id, query)
            got = dict(
                ranking.ranked_list(store.connections, store.library_id, query=query, depth=10)
            )
            assert got == pytest.approx(expected), query


def test_a_common_words_postings_are_read_by_their_head(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa_app.server import ranking

    folder = tmp_path / "h"
    # Twelve passages of one length say "report", some twice; one says it once beside a rare word.
    for i in range(12):
        twice = "report report" if i % 3 == 0 else f"report filed{i}"
        write(folder, f"r{i}.txt", f"{twice} on shipping lane {i} northward.")
    write(folder, "z.txt", "zeppelin report filed southward on lane z.")
    monkeypatch.setattr(ranking, "POSTINGS_HEAD", 4)
    with server_engine(pg_server) as eng:
        eng.add([folder])
        store = eng.library.store
        conn = store.connections.reader()
        ranking._stats.clear()
        exact = _bm25(conn, store.library_id, "report")
        best = sorted(exact, key=lambda i: (-exact[i], i))[:4]
        got = ranking.ranked_list(store.connections, store.library_id, query="report", depth=3)
        assert [i for i, _ in got] == best[:3]  # the head holds the best of a long list
        got = ranking.ranked_list(
            store.connections, store.library_id, query="zeppelin report", depth=3
        )
        names = {r.path for r in store.passages([got[0][0]]).values()}
        assert {Path(p).name for p in names} == {"z.txt"}  # a rare word's list is read whole
        # Its "report" posting is past the head; the pooled passage is scored again in full.
        exact = _bm25(conn, store.library_id, "zeppelin report")
        assert got[0][1] == pytest.approx(exact[got[0][0]])
        monkeypatch.setattr(ranking, "RESCORE", False)
        lib = store.library_id
        partial = ranking.ranked_list(store.connections, lib, query="zeppelin report", depth=3)
        assert partial[0][0] == got[0][0] and partial[0][1] < exact[got[0][0]] - 0.01


def test_postings_follow_every_write(pg_server: PgServer, docs: Path) -> None:
    with server_engine(pg_server) as eng:
        eng.add([docs])
        store = eng.library.store
        conn = store.connections.reader()
        _postings_whole(conn, store.library_id)
        (docs / "alpha.txt").write_text("The harbour reopened in May.", encoding="utf-8")
        os.utime(docs / "alpha.txt", (time.time() + 5, time.time() + 5))
        eng.sync()
        _postings_whole(conn, store.library_id)
        assert eng.search("reopened", k=3)[0].keyword_rank == 1
        eng.remove([str(docs / "sub")])
        _postings_whole(conn, store.library_id)
        count = "SELECT count(*) FROM qa_lexicon WHERE library_id = %s AND df <= 0"
        assert conn.execute(count, (store.library_id,)).fetchone() != (0,)  # "mayor", gone
        eng.rebuild()
        assert conn.execute(count, (store.library_id,)).fetchone() == (0,)
        lib, name = store.library_id, eng.name
    Engine.delete_library(name, server=pg_server.socket_dsn)
    import psycopg

    with psycopg.connect(pg_server.socket_dsn) as check:
        left = check.execute("SELECT count(*) FROM qa_terms WHERE library_id = %s", (lib,))
        assert left.fetchone() == (0,)


def test_a_server_from_before_the_postings_gets_them_on_open(
    pg_server: PgServer, docs: Path
) -> None:
    import psycopg

    database = unique_name("v1").replace("-", "_")
    with psycopg.connect(pg_server.socket_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    dsn = pg_server.socket_dsn.replace("/postgres?", f"/{database}?")
    with Engine("old", embedder=FakeEmbedder(64), server=dsn) as eng:
        eng.add([docs])
    with psycopg.connect(dsn, autocommit=True) as conn:  # as a server of schema 1 was
        conn.execute("DROP TABLE qa_terms, qa_lexicon")
        conn.execute("DROP FUNCTION qa_terms_added, qa_terms_removed CASCADE")
        conn.execute("CREATE INDEX qa_chunks_tsv ON qa_chunks USING gin (tsv)")
        conn.execute("DELETE FROM qa_migrations WHERE version > 1")
    with Engine("old", embedder=FakeEmbedder(64), server=dsn) as eng:
        hits = eng.search("Valdoria mayor", k=3)
        assert hits and hits[0].keyword_rank == 1 and Path(hits[0].path).name == "beta.md"
        store = eng.library.store
        _postings_whole(store.connections.reader(), store.library_id)
    with psycopg.connect(dsn) as conn:  # the full-text index the postings replace is gone
        assert conn.execute("SELECT to_regclass('qa_chunks_tsv')").fetchone() == (None,)


def test_a_large_add_refreshes_the_servers_statistics(
    pg_server: PgServer, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from qa_app.server import library

    def analyzed() -> dict[str, int]:
        with psycopg.connect(pg_server.socket_dsn) as conn:
            rows = conn.execute(
                "SELECT relname, analyze_count FROM pg_stat_user_tables "
                "WHERE relname IN ('qa_chunks', 'qa_terms', 'qa_lexicon')"
            ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    with server_engine(pg_server) as eng:
        before = analyzed()
        eng.add([docs])  # 2 passages: below the threshold, nothing to re-sample
        time.sleep(0.6)  # the statistics collector reports after at most half a second
        assert analyzed() == before
        monkeypatch.setattr(library, "ANALYZE_AFTER", 1)
        write(docs, "gamma.txt", "Gamma reports a third harbour.")
        eng.sync()
        time.sleep(0.6)
        after = analyzed()
    assert all(after[t] > before.get(t, 0) for t in ("qa_chunks", "qa_terms", "qa_lexicon"))

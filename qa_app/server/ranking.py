"""Ranking in the database: pgvector HNSW (cosine) and BM25 over full text, fused by RRF in one query."""

from __future__ import annotations

import re
import time
import weakref
from typing import TYPE_CHECKING, Any

from qa_app.index.schema import PassageRow
from qa_app.retrieval import RRF_K, Ranked, keyword_query
from qa_app.server.connection import Connections, translate_errors
from qa_app.server.reads import PASSAGE_COLUMNS, PASSAGE_JOINS, passage_row
from qa_app.server.schema import tf_part
from qa_app.server.writes import vector_text

if TYPE_CHECKING:
    import numpy as np
    import psycopg
    from psycopg import sql

    from qa_app.contracts import Scope

# How many postings of one query term a keyword search reads at most, best impact first.
POSTINGS_HEAD = 1000
RESCORE = True
POOL = 4  # times the depth asked for: the passages scored again from all their postings
STATS_SECONDS = 60.0
# How many candidates HNSW keeps while searching (pgvector's hnsw.ef_search, at most 1000):
# at least the depth asked for, since an index scan returns no more than this many rows.
MIN_EF_SEARCH = 100
MAX_EF_SEARCH = 1000
_NONE = "SELECT NULL::bigint AS id, NULL::bigint AS r, NULL::float8 AS score WHERE false"
_TERM = re.compile(r'"([^"]+)"')
_ef: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_stats: dict[tuple[int, int], tuple[float, int, float]] = {}


def _scope_filter(scope: Scope | None, args: dict[str, Any]) -> str:
    """Return an SQL condition on ``c.doc_id`` keeping the passages of documents in ``scope``."""
    if not scope:
        return ""
    parts = []
    if scope.folder:
        args["folder"] = scope.folder.rstrip("/\\") + ("\\" if "\\" in scope.folder else "/")
        parts.append("starts_with(s.scope_path, %(folder)s)")
    if scope.formats:
        args["formats"] = list(scope.formats)
        parts.append("s.suffix = ANY(%(formats)s)")
    return (
        " AND c.doc_id IN (SELECT s.id FROM qa_documents s WHERE s.library_id = c.library_id "
        f"AND {' AND '.join(parts)})"
    )


def _dense_sql(lib: int, dim: int, where: str) -> sql.Composed:
    from psycopg import sql

    # The library and dimension are written into the statement (they are our own integers): the
    # planner then matches the library's partial HNSW index. The query vector is bound.
    return sql.SQL(
        "SELECT id, row_number() OVER (ORDER BY dist, id) AS r, 1 - dist AS score FROM "
        "(SELECT c.id, c.embedding::vector({dim}) <=> %(vector)s::vector({dim}) AS dist "
        "FROM qa_chunks c WHERE c.library_id = {lib}" + where + " ORDER BY dist LIMIT %(depth)s) d"
    ).format(dim=sql.Literal(int(dim)), lib=sql.Literal(int(lib)))


def _keyword_sql(lib: int, where: str) -> sql.Composed:
    """Return BM25 (k1 1.2, b 0.75, as SQLite's FTS5) over the library's postings (qa_terms).

    The query's lexemes are those of to_tsvector('english') (stemmed, stopwords dropped); each
    one's document frequency is kept in qa_lexicon. Each lexeme contributes the head of its
    postings, best impact first, at most ``%(head)s`` of them: a rare term's list is read whole,
    and a common term's tail holds only the low scores of a low-idf word, so a search reads a
    bounded number of rows however large the library grows. The best ``%(pool)s`` passages of
    those heads are then scored again from all their postings of the query's lexemes (a
    passage found through a rare word gets its common words' share back), so the scores are
    BM25's own. A passage's length is its number of distinct lexemes. A scope is checked while
    a list is read, so a scoped search still gets its head of in-scope passages.
    """
    from psycopg import sql

    scoped = "JOIN qa_chunks c ON c.id = t.chunk_id " if where else ""
    head = (
        "WITH lex AS MATERIALIZED (SELECT DISTINCT u.lexeme FROM "
        "unnest(to_tsvector('english', %(words)s)) u), "
        "stats AS MATERIALIZED (SELECT lex.lexeme, "
        "ln(1 + (%(n)s::float8 - d.df + 0.5) / (d.df + 0.5)) AS idf FROM lex, LATERAL "
        "(SELECT x.df FROM qa_lexicon x WHERE x.library_id = {lib} "
        "AND x.lexeme = lex.lexeme) d WHERE d.df > 0), "
        "pool AS MATERIALIZED (SELECT p.chunk_id, sum(" + _part("p") + ") AS score "
        "FROM stats s CROSS JOIN LATERAL (SELECT t.chunk_id, t.tf, t.dl FROM qa_terms t "
        + scoped
        + "WHERE t.library_id = {lib} AND t.lexeme = s.lexeme"
        + where
        + " ORDER BY t.impact DESC, t.chunk_id LIMIT %(head)s) p "
        "GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT %(pool)s) "
    )
    if RESCORE:
        # Each pooled passage's score again, from all its postings of the query's lexemes.
        # Per pooled passage (LATERAL): its own few postings, read by the primary key; a join
        # of the whole pool would let the planner read every query word's entire list.
        body = (
            "SELECT o.chunk_id AS id, e.score FROM pool o CROSS JOIN LATERAL (SELECT sum("
            + _part("t")
            + ") AS score FROM stats s JOIN qa_terms t ON t.chunk_id = o.chunk_id AND "
            "t.lexeme = s.lexeme) e "
        )
    else:
        body = "SELECT o.chunk_id AS id, o.score FROM pool o "
    return sql.SQL(
        "SELECT id, row_number() OVER (ORDER BY score DESC, id) AS r, score FROM ("
        + head
        + body
        + "ORDER BY score DESC, id LIMIT %(depth)s) k"
    ).format(lib=sql.Literal(int(lib)))


def _part(alias: str) -> str:
    """Return SQL for one posting's share of a BM25 score (``s.idf``: its lexeme's idf)."""
    return "s.idf * " + tf_part(f"{alias}.tf", f"{alias}.dl", "%(avgdl)s::float8")


def _corpus(conns: Connections, lib: int) -> tuple[int, float]:
    """Return (passages, mean distinct lexemes per passage: all postings over passages) of a
    library, cached a minute:
    BM25's idf and length norm barely move in that time, and counting every search would cost
    a scan of the library."""
    key = (id(conns), lib)
    now = time.monotonic()
    hit = _stats.get(key)
    if hit is not None and now - hit[0] < STATS_SECONDS:
        return hit[1], hit[2]
    with translate_errors(conns.settings):
        row = (
            conns.reader()
            .execute(
                "SELECT n, COALESCE((SELECT sum(df) FROM qa_lexicon WHERE library_id = %(l)s) "
                "/ NULLIF(n, 0), 1) FROM (SELECT count(*) AS n FROM qa_chunks "
                "WHERE library_id = %(l)s) c",
                {"l": lib},
            )
            .fetchone()
        )
    n, mean = (int(row[0]), float(row[1]) or 1.0) if row else (0, 1.0)
    _stats[key] = (now, n, mean)
    return n, mean


def _keyword_args(conns: Connections, lib: int, query: str, args: dict[str, Any]) -> bool:
    """Put the keyword list's parameters into ``args``; return False when the query has no terms."""
    words = " ".join(_TERM.findall(keyword_query(query)))
    if not words:
        return False
    args["words"] = words
    args["head"] = max(POSTINGS_HEAD, int(args.get("depth", 0)))
    args["pool"] = POOL * int(args.get("depth", 0)) if RESCORE else int(args.get("depth", 0))
    args["n"], args["avgdl"] = _corpus(conns, lib)
    return True


def _tune(conn: psycopg.Connection[Any], depth: int) -> None:
    """Let HNSW return ``depth`` rows (ef_search), scanning on past filtered-out rows."""
    want = max(MIN_EF_SEARCH, min(MAX_EF_SEARCH, depth))
    if _ef.get(conn) == want:
        return
    conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(want),))
    if conn not in _ef:  # a scope filters rows out after the index: keep scanning for more
        conn.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', false)")
    _ef[conn] = want


def ranked_list(
    conns: Connections,
    lib: int,
    *,
    dim: int | None = None,
    vector: np.ndarray | None = None,
    query: str | None = None,
    depth: int,
    scope: Scope | None = None,
) -> list[tuple[int, float]]:
    """Return one list, (passage id, score) best first, ``depth`` deep: dense when ``vector``
    is given (cosine similarity), else keyword (BM25)."""
    args: dict[str, Any] = {"depth": depth}
    where = _scope_filter(scope, args)
    if vector is not None and dim is not None:
        args["vector"] = vector_text(vector)
        statement = _dense_sql(lib, dim, where)
    else:
        if not _keyword_args(conns, lib, query or "", args):
            return []
        statement = _keyword_sql(lib, where)
    conn = conns.reader()
    with translate_errors(conns.settings):
        if vector is not None:
            _tune(conn, depth)
        rows = conn.execute(statement, args).fetchall()
    return [(int(r[0]), float(r[2])) for r in rows]


def fused(
    conns: Connections,
    lib: int,
    *,
    dim: int | None,
    vector: np.ndarray | None,
    query: str,
    k: int,
    depth: int,
    scope: Scope | None = None,
) -> list[tuple[Ranked, PassageRow]]:
    """Return the top ``k`` passages by RRF of the dense and keyword lists (each ``depth``
    deep), with their rows: one statement, one round trip. No ``vector``: keyword only."""
    from psycopg import sql

    args: dict[str, Any] = {"depth": depth, "k": k}
    where = _scope_filter(scope, args)
    has_terms = _keyword_args(conns, lib, query, args)
    dense: sql.Composable = sql.SQL(_NONE)
    if vector is not None and dim is not None:
        args["vector"] = vector_text(vector)
        dense = _dense_sql(lib, dim, where)
    keyword = _keyword_sql(lib, where) if has_terms else sql.SQL(_NONE)
    statement = sql.SQL(
        "WITH dense AS MATERIALIZED ({dense}), keyword AS MATERIALIZED ({keyword}), "
        "fused AS (SELECT COALESCE(d.id, k.id) AS id, d.r AS dr, k.r AS kr, "
        "COALESCE(1.0::float8 / ({rrf} + d.r), 0) + COALESCE(1.0::float8 / ({rrf} + k.r), 0) "
        "AS score, LEAST(COALESCE(d.r, k.r), COALESCE(k.r, d.r)) AS best "
        "FROM dense d FULL JOIN keyword k ON k.id = d.id "
        "ORDER BY score DESC, best, id LIMIT %(k)s) "
        "SELECT f.id, f.score, f.dr, f.kr, " + PASSAGE_COLUMNS + " FROM fused f "
        "JOIN qa_chunks c ON c.id = f.id " + PASSAGE_JOINS + " ORDER BY f.score DESC, f.best, f.id"
    ).format(dense=dense, keyword=keyword, rrf=sql.Literal(RRF_K))
    conn = conns.reader()
    with translate_errors(conns.settings):
        if vector is not None:
            _tune(conn, depth)
        rows = conn.execute(statement, args).fetchall()
    return [
        (Ranked(int(r[0]), float(r[1]), r[2] and int(r[2]), r[3] and int(r[3])), passage_row(r[4:]))
        for r in rows
    ]

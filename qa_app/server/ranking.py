"""Ranking in the database: pgvector HNSW (cosine) and full-text lists, fused by RRF in one query."""

from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING, Any

from qa_app.index.schema import PassageRow
from qa_app.retrieval import RRF_K, Ranked, keyword_query
from qa_app.server.connection import Connections, translate_errors
from qa_app.server.reads import PASSAGE_COLUMNS, PASSAGE_JOINS, passage_row
from qa_app.server.writes import vector_text

if TYPE_CHECKING:
    import numpy as np
    import psycopg
    from psycopg import sql

    from qa_app.contracts import Scope

# ts_rank_cd normalisation 1: the cover density divided by 1 + log(passage length), so a long
# passage does not win by length alone (BM25's length normalisation, roughly).
RANK_NORMALISATION = 1
# How many candidates HNSW keeps while searching (pgvector's hnsw.ef_search, at most 1000):
# at least the depth asked for, since an index scan returns no more than this many rows.
MIN_EF_SEARCH = 100
MAX_EF_SEARCH = 1000
_NONE = "SELECT NULL::bigint AS id, NULL::bigint AS r, NULL::float8 AS score WHERE false"
_TERM = re.compile(r'"([^"]+)"')
_ef: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def tsquery_text(query: str) -> str:
    """Return a to_tsquery expression ORing the query's terms ("" when it has none); the
    terms are the local keyword search's own (stopwords dropped), each quoted."""
    terms = _TERM.findall(keyword_query(query))
    return " | ".join("'" + t.replace("'", "") + "'" for t in terms if t.replace("'", ""))


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
    from psycopg import sql

    return sql.SQL(
        "SELECT id, row_number() OVER (ORDER BY score DESC, id) AS r, score FROM "
        "(SELECT c.id, ts_rank_cd(c.tsv, q.q, {norm}) AS score FROM qa_chunks c, "
        "(SELECT to_tsquery('english', %(terms)s) AS q) q WHERE c.library_id = {lib} "
        "AND c.tsv @@ q.q" + where + " ORDER BY score DESC, c.id LIMIT %(depth)s) k"
    ).format(lib=sql.Literal(int(lib)), norm=sql.Literal(RANK_NORMALISATION))


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
    is given (cosine similarity), else keyword (ts_rank_cd)."""
    args: dict[str, Any] = {"depth": depth}
    where = _scope_filter(scope, args)
    if vector is not None and dim is not None:
        args["vector"] = vector_text(vector)
        statement = _dense_sql(lib, dim, where)
    else:
        args["terms"] = tsquery_text(query or "")
        if not args["terms"]:
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

    args: dict[str, Any] = {"depth": depth, "k": k, "terms": tsquery_text(query)}
    where = _scope_filter(scope, args)
    dense: sql.Composable = sql.SQL(_NONE)
    if vector is not None and dim is not None:
        args["vector"] = vector_text(vector)
        dense = _dense_sql(lib, dim, where)
    keyword = _keyword_sql(lib, where) if args["terms"] else sql.SQL(_NONE)
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

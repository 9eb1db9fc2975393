"""The server's tables, applied once each through a numbered migration ledger (qa_migrations)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa_app.server.connection import first_line
from qa_app.server.settings import ServerError

if TYPE_CHECKING:
    import psycopg

# BM25's parameters, the values SQLite's FTS5 uses (the local library's keyword ranking).
BM25_K1 = 1.2
BM25_B = 0.75
# The passage length (distinct lexemes) a posting's stored impact assumes: it only orders a
# term's postings, best first, so a search can read the head of a long list; every score is
# computed at search time from the posting's own counts and the library's mean length.
IMPACT_LENGTH = 48.0


def tf_part(tf: str, dl: str, mean: str) -> str:
    """Return SQL for BM25's term-frequency part: ``tf`` occurrences in a passage of ``dl``
    distinct lexemes, ``mean`` the mean length (each an SQL expression)."""
    return f"{tf} * {BM25_K1 + 1} / ({tf} + {BM25_K1} * ({1 - BM25_B} + {BM25_B} * {dl} / {mean}))"


def _postings(chunks: str) -> str:
    """Return SQL inserting the postings of the passages in the table ``chunks``."""
    return (
        "INSERT INTO qa_terms(chunk_id, lexeme, library_id, tf, dl, impact) "
        "SELECT c.id, u.lexeme, c.library_id, t.tf, length(c.tsv), "
        + tf_part("t.tf", "length(c.tsv)", str(IMPACT_LENGTH))
        + f" FROM {chunks} c CROSS JOIN LATERAL unnest(c.tsv) u CROSS JOIN LATERAL "
        "(SELECT COALESCE(array_length(u.positions, 1), 1) AS tf) t"
    )


# Every library of the database shares these tables, keyed by library_id: one server holds a
# team's libraries, and each writer's advisory lock names its own library.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "libraries, documents, passages with a full-text column and an embedding",
        """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE qa_libraries (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE qa_meta (
    library_id bigint NOT NULL REFERENCES qa_libraries(id) ON DELETE CASCADE,
    key text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (library_id, key)
);
CREATE TABLE qa_roots (
    library_id bigint NOT NULL REFERENCES qa_libraries(id) ON DELETE CASCADE,
    path text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('file', 'folder')),
    added double precision NOT NULL,
    PRIMARY KEY (library_id, path)
);
CREATE TABLE qa_exclusions (
    library_id bigint NOT NULL REFERENCES qa_libraries(id) ON DELETE CASCADE,
    path text NOT NULL,
    added double precision NOT NULL,
    PRIMARY KEY (library_id, path)
);
CREATE TABLE qa_failures (
    library_id bigint NOT NULL REFERENCES qa_libraries(id) ON DELETE CASCADE,
    path text NOT NULL,
    reason text NOT NULL,
    size bigint,
    mtime double precision,
    at double precision NOT NULL,
    content_hash text,
    parent text,
    PRIMARY KEY (library_id, path)
);
CREATE INDEX qa_failures_parent ON qa_failures (library_id, parent);
CREATE TABLE qa_documents (
    id bigserial PRIMARY KEY,
    library_id bigint NOT NULL REFERENCES qa_libraries(id) ON DELETE CASCADE,
    path text NOT NULL,
    title text NOT NULL,
    format text NOT NULL,
    size bigint NOT NULL,
    mtime double precision NOT NULL,
    content_hash text NOT NULL,
    pages integer,
    text text NOT NULL,
    blocks text NOT NULL,
    indexed_at double precision NOT NULL,
    parent_id bigint REFERENCES qa_documents(id) ON DELETE CASCADE,
    attachment text,
    left_out text,
    scope_path text NOT NULL,
    suffix text NOT NULL,
    UNIQUE (library_id, path)
);
CREATE INDEX qa_documents_parent ON qa_documents (parent_id);
CREATE TABLE qa_chunks (
    id bigserial PRIMARY KEY,
    library_id bigint NOT NULL REFERENCES qa_libraries(id) ON DELETE CASCADE,
    doc_id bigint NOT NULL REFERENCES qa_documents(id) ON DELETE CASCADE,
    ordinal integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    page integer,
    text text NOT NULL,
    ocr boolean NOT NULL DEFAULT false,
    embedding vector,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED
);
CREATE INDEX qa_chunks_doc ON qa_chunks (doc_id);
CREATE INDEX qa_chunks_pending ON qa_chunks (library_id, id) WHERE embedding IS NULL;
CREATE INDEX qa_chunks_tsv ON qa_chunks USING gin (tsv);
CREATE INDEX qa_chunks_library ON qa_chunks (library_id);
""",
    ),
    (
        2,
        "postings: each passage's lexemes with their counts, and each lexeme's passage count, "
        "kept by triggers, for BM25 (the GIN index over tsv is no longer read)",
        """
CREATE TABLE qa_terms (
    chunk_id bigint NOT NULL,
    lexeme text NOT NULL,
    library_id bigint NOT NULL,
    tf integer NOT NULL,
    dl integer NOT NULL,
    impact real NOT NULL,
    PRIMARY KEY (chunk_id, lexeme) INCLUDE (tf, dl)
);
CREATE INDEX qa_terms_impact ON qa_terms (library_id, lexeme, impact DESC, chunk_id)
    INCLUDE (tf, dl);
CREATE TABLE qa_lexicon (
    library_id bigint NOT NULL REFERENCES qa_libraries(id) ON DELETE CASCADE,
    lexeme text NOT NULL,
    df bigint NOT NULL,
    PRIMARY KEY (library_id, lexeme)
);
CREATE FUNCTION qa_terms_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH added AS ({postings_new} RETURNING library_id, lexeme)
    INSERT INTO qa_lexicon(library_id, lexeme, df)
    SELECT library_id, lexeme, count(*) FROM added GROUP BY library_id, lexeme
    ON CONFLICT (library_id, lexeme) DO UPDATE SET df = qa_lexicon.df + excluded.df;
    RETURN NULL;
END $$;
CREATE FUNCTION qa_terms_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (
        DELETE FROM qa_terms t USING old_chunks o WHERE t.chunk_id = o.id
        RETURNING t.library_id, t.lexeme
    )
    UPDATE qa_lexicon x SET df = x.df - g.n
    FROM (SELECT library_id, lexeme, count(*) AS n FROM gone GROUP BY library_id, lexeme) g
    WHERE x.library_id = g.library_id AND x.lexeme = g.lexeme;
    RETURN NULL;
END $$;
CREATE TRIGGER qa_chunks_terms_added AFTER INSERT ON qa_chunks
    REFERENCING NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION qa_terms_added();
CREATE TRIGGER qa_chunks_terms_removed AFTER DELETE ON qa_chunks
    REFERENCING OLD TABLE AS old_chunks FOR EACH STATEMENT EXECUTE FUNCTION qa_terms_removed();
{postings_all};
INSERT INTO qa_lexicon(library_id, lexeme, df)
SELECT library_id, lexeme, count(*) FROM qa_terms GROUP BY library_id, lexeme;
DROP INDEX IF EXISTS qa_chunks_tsv;
""".format(postings_new=_postings("new_chunks"), postings_all=_postings("qa_chunks")),
    ),
)
LATEST = MIGRATIONS[-1][0]
_LEDGER = """
CREATE TABLE IF NOT EXISTS qa_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_MIGRATION_LOCK = 0x71615F6D  # "qa_m": one migrator at a time, whoever else connects


def applied(conn: psycopg.Connection[Any]) -> int:
    """Return the newest migration applied on the server (0: none; the tables are not there)."""
    row = conn.execute("SELECT to_regclass('qa_migrations') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    found = conn.execute("SELECT COALESCE(MAX(version), 0) FROM qa_migrations").fetchone()
    return int(found[0]) if found else 0


def migrate(conn: psycopg.Connection[Any], where: str) -> list[int]:
    """Apply the migrations the server lacks, each in its own transaction, and record them in
    the ledger; return the versions applied. Raises ServerError when the server is newer than
    this app, or when pgvector is missing or may not be created by this user."""
    import psycopg

    done: list[int] = []
    if applied(conn) >= LATEST:
        return _check_not_newer(conn, where, done)
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(_LEDGER)
            have = applied(conn)
            for version, name, sql in MIGRATIONS:
                if version <= have:
                    continue
                conn.execute(sql.encode())
                conn.execute(
                    "INSERT INTO qa_migrations(version, name) VALUES (%s, %s)", (version, name)
                )
                done.append(version)
    except (psycopg.errors.FeatureNotSupported, psycopg.errors.UndefinedFile) as exc:
        raise ServerError(
            f"the server {where} has no pgvector extension ({first_line(exc)}); install "
            "pgvector on it (PostgreSQL 15 or newer)"
        ) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ServerError(
            f"the server {where} refused to create the team library's tables "
            f"({first_line(exc)}); ask its administrator to run 'CREATE EXTENSION vector' and "
            "grant CREATE on the database, or to run 'qa-app add --server' once as its owner"
        ) from None
    return _check_not_newer(conn, where, done)


def _check_not_newer(conn: psycopg.Connection[Any], where: str, done: list[int]) -> list[int]:
    have = applied(conn)
    if have > LATEST:
        raise ServerError(
            f"the server {where} holds team libraries of a newer qa-app (schema {have}, this "
            f"app knows {LATEST}); update qa-app"
        )
    return done


def vector_index_name(library_id: int, dimension: int) -> str:
    """Return the name of a library's HNSW index over embeddings of ``dimension``."""
    return f"qa_chunks_hnsw_{int(library_id)}_{int(dimension)}"


def create_vector_index(conn: psycopg.Connection[Any], library_id: int, dimension: int) -> None:
    """Create the library's HNSW (cosine) index over its embeddings, if it is not there.

    One partial index per library and dimension: a query names its library, so the planner
    reads only that library's graph (no filtering after the fact), and a model of another
    dimension gets an index of its own after a rebuild.
    """
    from psycopg import sql

    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON qa_chunks USING hnsw "
            "((embedding::vector({dim})) vector_cosine_ops) WHERE library_id = {lib}"
        ).format(
            name=sql.Identifier(vector_index_name(library_id, dimension)),
            dim=sql.Literal(int(dimension)),
            lib=sql.Literal(int(library_id)),
        )
    )


def drop_vector_indexes(conn: psycopg.Connection[Any], library_id: int) -> None:
    """Drop every HNSW index of a library (its embeddings are cleared, or it is deleted)."""
    from psycopg import sql

    prefix = f"qa_chunks_hnsw_{int(library_id)}_"
    for (name,) in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'qa_chunks' "
        "AND starts_with(indexname, %s)",
        (prefix,),
    ).fetchall():
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(name)))

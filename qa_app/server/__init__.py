"""A team library on a PostgreSQL server with pgvector: settings, schema, store, retrieval, lock."""

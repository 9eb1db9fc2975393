"""A library on disk: its folders, documents, passages, embeddings and vector index, and the writer lock."""

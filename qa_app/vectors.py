"""The FAISS vector index: a rebuildable cache of the library's embeddings, stamped with its generation."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# Below this many vectors an exact (flat) search is fast enough and loses nothing; above it an
# IVF index keeps latency flat as the library grows.
EXACT_LIMIT = 50_000
INDEX_FILE = "vectors.faiss"
STAMP_FILE = "vectors.json"


def choose_kind(count: int) -> str:
    """Return "flat" (exact) for small libraries and "ivf" (approximate) for large ones."""
    return "flat" if count < EXACT_LIMIT else "ivf"


def _ivf_lists(count: int) -> int:
    # ~4·sqrt(n) lists is the usual FAISS guidance for IVF at this scale.
    return max(64, min(8192, int(4 * count**0.5)))


def build_index(ids: np.ndarray, vectors: np.ndarray, dimension: int) -> Any:
    """Return a FAISS inner-product index over ``vectors`` with ``ids``, exact or IVF by size."""
    import faiss
    import numpy as np

    count = len(ids)
    index: Any
    if choose_kind(count) == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    else:
        nlist = _ivf_lists(count)
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(count, size=min(count, nlist * 64), replace=False)]
        index.train(np.ascontiguousarray(sample))
        index.nprobe = max(8, nlist // 16)
    if count:
        index.add_with_ids(np.ascontiguousarray(vectors), np.ascontiguousarray(ids))
    return index


class VectorCache:
    """Keeps the FAISS file in step with the store: missing, stale or damaged → rebuilt from SQLite."""

    def __init__(self, directory: Path, dimension: int, model_hash: str) -> None:
        self.directory = directory
        self.dimension = dimension
        self.model_hash = model_hash
        self._index: Any = None
        self._generation: int | None = None
        self._lock = threading.Lock()

    @property
    def index_path(self) -> Path:
        """Return the path of the saved FAISS index."""
        return self.directory / INDEX_FILE

    @property
    def stamp_path(self) -> Path:
        """Return the path of the stamp that says which generation the index holds."""
        return self.directory / STAMP_FILE

    def _stamp_matches(self, generation: int) -> bool:
        try:
            stamp = json.loads(self.stamp_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return bool(
            stamp.get("generation") == generation
            and stamp.get("dimension") == self.dimension
            and stamp.get("model_hash") == self.model_hash
        )

    def _load(self, generation: int) -> Any:
        import faiss

        if not self._stamp_matches(generation) or not self.index_path.is_file():
            return None
        try:
            index = faiss.read_index(str(self.index_path))
        except (RuntimeError, OSError) as exc:
            log.warning("%s is damaged (%s); rebuilding it from the library", self.index_path, exc)
            return None
        if index.d != self.dimension:
            return None
        return index

    def _save(self, index: Any, generation: int, count: int) -> None:
        import faiss

        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.index_path.with_suffix(".faiss.tmp")
        faiss.write_index(index, str(tmp))
        os.replace(tmp, self.index_path)
        stamp = {
            "generation": generation,
            "dimension": self.dimension,
            "model_hash": self.model_hash,
            "count": count,
            "kind": choose_kind(count),
        }
        tmp_stamp = self.stamp_path.with_suffix(".json.tmp")
        tmp_stamp.write_text(json.dumps(stamp), encoding="utf-8")
        os.replace(tmp_stamp, self.stamp_path)

    def get(
        self, generation: int, load_embeddings: Callable[[], tuple[np.ndarray, np.ndarray]]
    ) -> Any:
        """Return an index for ``generation``: from memory, from disk, or rebuilt and saved."""
        with self._lock:
            if self._index is not None and self._generation == generation:
                return self._index
            index = self._load(generation)
            if index is None:
                ids, vectors = load_embeddings()
                index = build_index(ids, vectors, self.dimension)
                try:
                    self._save(index, generation, len(ids))
                except OSError as exc:  # a read-only library still answers from memory
                    log.warning("could not save %s: %s", self.index_path, exc)
            self._index, self._generation = index, generation
            return index

    def invalidate(self) -> None:
        """Forget the in-memory index and delete the saved one."""
        with self._lock:
            self._index = self._generation = None
            for path in (self.index_path, self.stamp_path):
                path.unlink(missing_ok=True)


def search(index: Any, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Return up to ``k`` (chunk id, cosine similarity) best first for one normalised query vector."""
    import numpy as np

    if index.ntotal == 0 or k <= 0:
        return []
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

"""The FAISS vector index: a cache of the library's embeddings that grows with its change log."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast

if TYPE_CHECKING:
    import numpy as np

    from qa_app.index.schema import VectorChanges, VectorState

log = logging.getLogger(__name__)

# Below this many vectors an exact (flat) search is fast enough and loses nothing; above it an
# IVF index keeps latency flat as the library grows.
EXACT_LIMIT = 50_000
INDEX_FILE = "vectors.faiss"
FORMAT = 2  # one file: a JSON stamp line, then the serialised FAISS index
# An IVF index trained on n vectors is retrained once the library holds this many times more.
RETRAIN_GROWTH = 4
# The cache file is rewritten when this share of its vectors changed since it was saved.
SAVE_SHARE = 20


class FaissIndex(Protocol):
    """What the app uses of a FAISS index (faiss ships no type stubs)."""

    ntotal: int
    d: int

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def add_with_ids(self, x: np.ndarray, ids: np.ndarray) -> None: ...

    def remove_ids(self, ids: Any) -> int: ...


class EmbeddingSource(Protocol):
    """Where the cache reads embeddings from (the Store)."""

    def vector_state(self) -> VectorState: ...

    def vector_changes(self, since: int, limit: int) -> VectorChanges | None: ...

    def embeddings(self, dimension: int) -> tuple[VectorState, np.ndarray, np.ndarray]: ...


class Stamp(NamedTuple):
    """What a cached index holds: which embeddings, of which model, how it was built."""

    epoch: int
    seq: int
    kind: str
    trained_on: int


def choose_kind(count: int) -> str:
    """Return "flat" (exact) for small libraries and "ivf" (approximate) for large ones."""
    return "flat" if count < EXACT_LIMIT else "ivf"


def _ivf_lists(count: int) -> int:
    # ~4·sqrt(n) lists is the usual FAISS guidance for IVF at this scale.
    return max(64, min(8192, int(4 * count**0.5)))


def build_index(ids: np.ndarray, vectors: np.ndarray, dimension: int) -> FaissIndex:
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
    result: FaissIndex = index
    return result


def empty_index(dimension: int) -> FaissIndex:
    """Return an exact index with no vectors (dense search then finds nothing)."""
    import numpy as np

    return build_index(np.zeros(0, dtype=np.int64), np.zeros((0, dimension), np.float32), dimension)


class VectorCache:
    """Keeps a FAISS index in step with the store by applying its logged embedding changes.

    A missing, damaged, stale (other model, other epoch, changes no longer logged) file is
    rebuilt from SQLite; the exact↔IVF switch happens by size. Saving is best effort, so a
    read-only library still answers from memory.
    """

    def __init__(self, directory: Path, dimension: int, model_hash: str) -> None:
        self.directory = directory
        self.dimension = dimension
        self.model_hash = model_hash
        self._index: FaissIndex | None = None
        self._stamp: Stamp | None = None
        self._unsaved = 0
        self._lock = threading.Lock()
        self.rebuilds = 0  # full builds from SQLite in this process (for tests and benchmarks)

    @property
    def index_path(self) -> Path:
        """Return the path of the saved FAISS index (stamp included)."""
        return self.directory / INDEX_FILE

    def get(self, source: EmbeddingSource) -> FaissIndex:
        """Return an index holding every committed embedding of ``source``.

        The index is updated in place by later calls: a thread that searches while another
        may update should use ``search`` instead.
        """
        state = source.vector_state()
        with self._lock:
            return self._current(state, source)

    def search(self, source: EmbeddingSource, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Bring the index up to date and search it, safely beside other threads."""
        state = source.vector_state()
        with self._lock:
            return search(self._current(state, source), query, k)

    def _current(self, state: VectorState, source: EmbeddingSource) -> FaissIndex:
        """Return the index for ``state``: in memory, loaded, updated from the log, or rebuilt."""
        if self._index is None or self._stamp is None or self._stamp.epoch != state.epoch:
            self._index, self._stamp = self._load() or (None, None)
            self._unsaved = 0
        index, stamp = self._index, self._stamp
        if index is not None and stamp is not None and (stamp.epoch, stamp.seq) == state[:2]:
            return index
        updated = None
        if index is not None and stamp is not None and stamp.epoch == state.epoch:
            updated = self._apply(index, stamp, source)
        if updated is None:
            built_state, ids, vectors = source.embeddings(self.dimension)
            index = build_index(ids, vectors, self.dimension)
            stamp = Stamp(built_state.epoch, built_state.seq, choose_kind(len(ids)), len(ids))
            self.rebuilds += 1
            self._unsaved = max(1, len(ids))
        else:
            index, stamp = updated
        self._index, self._stamp = index, stamp
        if self._unsaved >= max(1000, index.ntotal // SAVE_SHARE) or updated is None:
            self._save(index, stamp)
        return index

    def _apply(
        self, index: FaissIndex, stamp: Stamp, source: EmbeddingSource
    ) -> tuple[FaissIndex, Stamp] | None:
        import numpy as np

        changes = source.vector_changes(stamp.seq, limit=max(1000, index.ntotal // 2))
        if changes is None:
            return None
        if changes.touched:
            index.remove_ids(np.asarray(changes.touched, dtype=np.int64))
        if changes.ids:
            matrix = np.frombuffer(b"".join(changes.blobs), dtype=np.float32)
            index.add_with_ids(
                matrix.reshape(len(changes.ids), self.dimension),
                np.asarray(changes.ids, dtype=np.int64),
            )
        count = index.ntotal
        if choose_kind(count) != stamp.kind or (
            stamp.kind == "ivf" and count > RETRAIN_GROWTH * stamp.trained_on
        ):
            return None  # crossed the exact/IVF line, or outgrew its training: build afresh
        self._unsaved += len(changes.touched)
        return index, Stamp(changes.state.epoch, changes.state.seq, stamp.kind, stamp.trained_on)

    def _load(self) -> tuple[FaissIndex, Stamp] | None:
        import faiss
        import numpy as np

        try:
            with open(self.index_path, "rb") as handle:
                header = json.loads(handle.readline())
                body = handle.read()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("%s is damaged (%s); rebuilding it from the library", self.index_path, exc)
            return None
        if not isinstance(header, dict) or (
            header.get("format") != FORMAT
            or header.get("dimension") != self.dimension
            or header.get("model_hash") != self.model_hash
        ):
            return None
        try:
            index: FaissIndex = faiss.deserialize_index(np.frombuffer(body, dtype=np.uint8))
            stamp = Stamp(
                int(header["epoch"]),
                int(header["seq"]),
                str(header["kind"]),
                int(header["trained_on"]),
            )
        except (RuntimeError, KeyError, TypeError, ValueError) as exc:
            log.warning("%s is damaged (%s); rebuilding it from the library", self.index_path, exc)
            return None
        if index.d != self.dimension:
            return None
        return index, stamp

    def _save(self, index: FaissIndex, stamp: Stamp) -> None:
        import faiss

        header = {
            "format": FORMAT,
            "dimension": self.dimension,
            "model_hash": self.model_hash,
            "count": index.ntotal,
            **stamp._asdict(),
        }
        tmp = self.index_path.with_name(f"{INDEX_FILE}.{os.getpid()}.tmp")
        try:
            body = faiss.serialize_index(cast(Any, index))
            with open(tmp, "wb") as handle:
                handle.write(json.dumps(header).encode() + b"\n")
                handle.write(body.tobytes())
            os.replace(tmp, self.index_path)
            self._unsaved = 0
        except OSError as exc:  # read-only or full: the index still serves from memory
            log.info("could not save %s: %s", self.index_path, exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)

    def invalidate(self) -> None:
        """Forget the in-memory index and delete the saved one."""
        with self._lock:
            self._index = self._stamp = None
            self.index_path.unlink(missing_ok=True)
            (self.directory / "vectors.json").unlink(missing_ok=True)  # format 1's stamp


def search(index: FaissIndex, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Return up to ``k`` (chunk id, cosine similarity) best first for one normalised query vector."""
    import numpy as np

    if index.ntotal == 0 or k <= 0:
        return []
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

"""The FAISS vector index: a cache of the library's embeddings that grows with its change log."""

from __future__ import annotations

import contextlib
import hashlib
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
# One file: a JSON stamp line, then the serialised FAISS index. Format 3 names the library,
# the last change's mark, the count and a checksum of the index; older files are rebuilt.
FORMAT = 3
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

    def vector_changes(
        self, since: int, limit: int, mark: int | None = None
    ) -> VectorChanges | None: ...

    def embeddings(self, dimension: int) -> tuple[VectorState, np.ndarray, np.ndarray]: ...

    def vector_mark(self, seq: int) -> int | None: ...


class Stamp(NamedTuple):
    """What a cached index holds: which library's embeddings, up to which change, how built."""

    epoch: int
    seq: int
    kind: str
    trained_on: int
    mark: int | None = None  # the random mark of change ``seq`` (tells two histories apart)
    library: str | None = None  # the id of the library it was built from

    def matches(self, state: VectorState) -> bool:
        """Return whether the index holds exactly the embeddings of ``state``."""
        return (self.library, self.epoch, self.seq, self.mark) == (
            state.library,
            state.epoch,
            state.seq,
            state.mark,
        )

    def mismatch(self, state: VectorState) -> str | None:
        """Return why the index cannot be brought to ``state`` by applying changes, or None."""
        if self.library != state.library:
            return "it was built for another library"
        if self.epoch != state.epoch:
            return "it was built from embeddings since cleared"
        if self.seq > state.seq:
            return "it is ahead of the database (restored from an older copy?)"
        return None


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

    The saved file proves what it holds: its stamp names the library (its id in library.db),
    the last change applied (sequence number and random mark), the count and a checksum of the
    index. A file that is missing, damaged, from another model or library, ahead of the database
    or on another history is rebuilt from SQLite; one that is behind catches up from the change
    log. The exact↔IVF switch happens by size. Saving is best effort, so a read-only library
    answers from an index rebuilt in memory, never from a file it cannot trust.
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
        if self._index is None or self._stamp is None or self._stamp.mismatch(state):
            self._index, self._stamp = self._load(state, source) or (None, None)
            self._unsaved = 0
        index, stamp = self._index, self._stamp
        if index is not None and stamp is not None and stamp.matches(state):
            return index
        updated = None
        if index is not None and stamp is not None and stamp.mismatch(state) is None:
            updated = self._apply(index, stamp, source)
        if updated is None:
            index, stamp = self._build(source)
        else:
            index, stamp = updated
        self._index, self._stamp = index, stamp
        if self._unsaved >= max(1000, index.ntotal // SAVE_SHARE) or updated is None:
            self._save(index, stamp)
        return index

    def _build(self, source: EmbeddingSource) -> tuple[FaissIndex, Stamp]:
        built_state, ids, vectors = source.embeddings(self.dimension)
        index = build_index(ids, vectors, self.dimension)
        stamp = Stamp(
            built_state.epoch,
            built_state.seq,
            choose_kind(len(ids)),
            len(ids),
            built_state.mark,
            built_state.library,
        )
        self.rebuilds += 1
        self._unsaved = max(1, len(ids))
        return index, stamp

    def rebuild(self, source: EmbeddingSource) -> FaissIndex:
        """Build the index afresh from ``source`` whatever the saved file says, and save it."""
        with self._lock:
            index, stamp = self._build(source)
            self._index, self._stamp = index, stamp
            self._save(index, stamp)
            return index

    def _apply(
        self, index: FaissIndex, stamp: Stamp, source: EmbeddingSource
    ) -> tuple[FaissIndex, Stamp] | None:
        import numpy as np

        changes = source.vector_changes(stamp.seq, max(1000, index.ntotal // 2), stamp.mark)
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
        state = changes.state
        return index, stamp._replace(
            epoch=state.epoch, seq=state.seq, mark=state.mark, library=state.library
        )

    def _load(self, state: VectorState, source: EmbeddingSource) -> tuple[FaissIndex, Stamp] | None:
        """Return the saved index if it proves it can serve ``state`` (as is, or by applying
        the changes logged since); None (it is rebuilt) if it is missing or cannot."""
        import faiss
        import numpy as np

        try:
            with open(self.index_path, "rb") as handle:
                header = json.loads(handle.readline())
                body = handle.read()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            return self._reject(f"it cannot be read ({exc})")
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            log.info("%s is from an older version; rebuilding it", self.index_path)
            return None
        if header.get("dimension") != self.dimension or header.get("model_hash") != self.model_hash:
            log.info("%s was built with another model; rebuilding it", self.index_path)
            return None
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            return self._reject("its contents do not match its checksum")
        try:
            index: FaissIndex = faiss.deserialize_index(np.frombuffer(body, dtype=np.uint8))
            mark = header["mark"]
            stamp = Stamp(
                int(header["epoch"]),
                int(header["seq"]),
                str(header["kind"]),
                int(header["trained_on"]),
                None if mark is None else int(mark),
                None if header["library"] is None else str(header["library"]),
            )
            count = int(header["count"])
        except (RuntimeError, KeyError, TypeError, ValueError) as exc:
            return self._reject(f"it cannot be read ({exc})")
        if index.d != self.dimension or index.ntotal != count:
            return self._reject("it holds another number of vectors than its stamp says")
        why = stamp.mismatch(state)
        logged = stamp.seq >= max(1, state.oldest)
        if why is None and logged and source.vector_mark(stamp.seq) != stamp.mark:
            # The same change numbers, other changes: a database restored and written since.
            why = "it follows another history of the database (restored from a copy?)"
        if why is not None:
            return self._reject(why)
        return index, stamp

    def _reject(self, why: str) -> tuple[FaissIndex, Stamp] | None:
        log.warning(
            "%s does not match the library (%s); rebuilt from the library", self.index_path, why
        )
        return None

    def _save(self, index: FaissIndex, stamp: Stamp) -> None:
        import faiss

        body = faiss.serialize_index(cast(Any, index)).tobytes()
        header = {
            "format": FORMAT,
            "dimension": self.dimension,
            "model_hash": self.model_hash,
            "count": index.ntotal,
            "sha256": hashlib.sha256(body).hexdigest(),
            **stamp._asdict(),
        }
        tmp = self.index_path.with_name(f"{INDEX_FILE}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as handle:
                handle.write(json.dumps(header).encode() + b"\n")
                handle.write(body)
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

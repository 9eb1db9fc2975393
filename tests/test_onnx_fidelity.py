"""The shipped ONNX Runtime models give the torch fp32 reference's results (stored fixture)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa_app.models import onnx_runtime as onnx_models
from qa_app.models.embedding import ModelError

FIXTURE = Path(__file__).parent / "fixtures" / "onnx_fidelity"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads((FIXTURE / "reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return np.load(FIXTURE / "vectors.npy")


def top10(passages: np.ndarray, queries: np.ndarray) -> list[list[int]]:
    return [list(np.argsort(-(passages @ q), kind="stable")[:10]) for q in queries]


def check_embeddings(encoder: object, reference: dict, vectors: np.ndarray) -> None:
    texts, queries = reference["texts"], reference["queries"]
    got = encoder.encode(texts + queries, batch_size=8)  # type: ignore[attr-defined]
    cosine = (got * vectors).sum(1)
    assert cosine.min() >= 0.9999, f"lowest cosine to fp32 {cosine.min():.6f}"
    n = len(texts)
    assert top10(got[:n], got[n:]) == top10(vectors[:n], vectors[n:])


@pytest.mark.model
def test_onnx_embeddings_match_the_torch_reference(reference: dict, vectors: np.ndarray) -> None:
    from qa_app.models.embedding import base_weights, verify_model

    encoder = onnx_models.OnnxSentenceEncoder(verify_model(), base_weights())
    check_embeddings(encoder, reference, vectors)


@pytest.mark.model
def test_torch_fallback_without_sentence_transformers_matches(
    reference: dict, vectors: np.ndarray
) -> None:
    from qa_app.models.embedding import verify_model
    from qa_app.models.torch_encoder import TorchSentenceEncoder

    check_embeddings(TorchSentenceEncoder(verify_model()), reference, vectors)


@pytest.mark.model
def test_onnx_reader_finds_the_reference_spans(reference: dict) -> None:
    from qa_app.reader.boundaries import exact
    from qa_app.reader.calibrator import question_kind
    from qa_app.reader.neural import load
    from qa_app.reader.spans import find_candidates

    loaded = load(backend="onnx", precision="fp32")
    assert isinstance(loaded.model, onnx_models.OnnxSpanModel)
    for item in reference["spans"]:
        passages = [reference["texts"][i] for i in item["passages"]]
        found = sorted(
            find_candidates(loaded, item["question"], passages), key=lambda c: -c.span_logit
        )
        # The references are the span model's own boundaries; the boundary rules written since
        # (qa_app.reader.boundaries) move some deterministically, so they are applied to both.
        kind = question_kind(item["question"])
        expected = [[p, *exact(passages[p], s, e, kind)] for p, s, e in item["top"]]
        assert [[c.passage_index, c.start, c.end] for c in found[:3]] == expected, item["question"]
        got = [c.span_logit for c in found[:3]]
        assert np.allclose(got, item["logits"], atol=2e-3), item["question"]


def best_answer(loaded: object, question: str, context: str) -> str:
    from qa_app.reader.spans import find_candidates

    found = [c for c in find_candidates(loaded, question, [context]) if c.end > c.start]
    best = max(found, key=lambda c: c.margin)
    return context[best.start : best.end]


@pytest.mark.model
def test_int8_reader_keeps_the_fp32_answers_on_dev_questions() -> None:
    """The shipped int8 reader: F1 within 0.5 of fp32 and nearly always the same answer."""
    from qa_app.evaluation.metrics import f1_score
    from qa_app.reader.neural import load

    items = json.loads((FIXTURE / "reader_dev.json").read_text(encoding="utf-8"))["items"]
    loaded = load(backend="onnx", precision="int8")
    assert loaded.model.precision == "int8"
    answers = [best_answer(loaded, i["question"], i["context"]) for i in items]
    f1_int8 = 100 * np.mean([f1_score(a, i["golds"]) for a, i in zip(answers, items, strict=True)])
    f1_fp32 = 100 * np.mean([f1_score(i["fp32"], i["golds"]) for i in items])
    same = sum(a == i["fp32"] for a, i in zip(answers, items, strict=True))
    assert abs(f1_int8 - f1_fp32) <= 0.5, (f1_int8, f1_fp32)
    assert same >= 0.85 * len(items), f"{same} of {len(items)} answers as fp32"


@pytest.mark.model
def test_int8_reader_finds_the_reference_spans_on_the_seeds(reference: dict) -> None:
    from qa_app.reader.neural import load
    from qa_app.reader.spans import find_candidates

    loaded = load(backend="onnx", precision="int8")
    same = 0
    for item in reference["spans"]:
        passages = [reference["texts"][i] for i in item["passages"]]
        found = sorted(
            find_candidates(loaded, item["question"], passages), key=lambda c: -c.span_logit
        )
        same += [found[0].passage_index, found[0].start, found[0].end] == item["top"][0]
        assert abs(found[0].span_logit - item["logits"][0]) < 0.75, item["question"]
    assert same >= len(reference["spans"]) - 2


def test_int8_weights_are_made_as_onnxruntime_makes_them() -> None:
    """qa_app.models.quantize gives onnxruntime.quantization's int8 arrays, bit for bit."""
    pytest.importorskip("onnx")
    from onnx import TensorProto
    from onnxruntime.quantization.quant_utils import quantize_data

    from qa_app.models.quantize import quantize_int8

    rng = np.random.default_rng(7)
    weights = rng.normal(0, 0.05, (64, 48)).astype(np.float32)
    weights[:, 3] = 0.0  # an all-zero channel gets scale 1
    weights[:, 5] = np.abs(weights[:, 5])  # a channel with no negative value
    weights[10, 7] = 0.9  # an outlier
    for axis in (0, 1):
        ours = quantize_int8(weights, axis)
        for channel in range(weights.shape[axis]):
            zero_point, scale, quantized = quantize_data(
                np.take(weights, channel, axis=axis), TensorProto.INT8, symmetric=True
            )
            assert ours["scale"][channel] == scale and ours["scale"].dtype == np.float32
            assert ours["zero_point"][channel] == zero_point == 0
            assert np.array_equal(np.take(ours["quantized"], channel, axis=axis), quantized)
    whole = quantize_int8(weights, None)
    zero_point, scale, quantized = quantize_data(weights, TensorProto.INT8, symmetric=True)
    assert whole["scale"] == scale and np.array_equal(whole["quantized"], quantized)


def test_int8_graph_is_recorded_as_quantized_from_the_reader_weights() -> None:
    record = onnx_models.read_record(onnx_models.INT8_READER)
    quantized = [i for i in record["initializers"] if i.get("quantize")]
    assert len(quantized) == 3 * 37  # 36 encoder matrices and the span head, three parts each
    assert {i["quantize"]["part"] for i in quantized} == {"quantized", "scale", "zero_point"}
    assert all(i["source"] == "reader" and i["transpose"] for i in quantized)


def test_reader_precision_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(onnx_models.PRECISION_ENV, raising=False)
    assert onnx_models.reader_precision() == "int8"  # the shipped default
    monkeypatch.setenv(onnx_models.PRECISION_ENV, "FP32")
    assert onnx_models.reader_precision() == "fp32"
    monkeypatch.setenv(onnx_models.PRECISION_ENV, "int4")
    with pytest.raises(ModelError, match="QA_APP_READER_PRECISION='int4'"):
        onnx_models.reader_precision()


@pytest.mark.model
def test_engine_answers_with_onnx_by_default() -> None:
    from qa_app.engine import Engine
    from qa_app.models.embedding import MiniLMEmbedder

    assert onnx_models.backend() == "onnx"
    with Engine() as engine:
        engine.ensure_ready()
        result = engine.ask("When did Russia receive the first shipment?")
        assert isinstance(engine.embedder, MiniLMEmbedder)
        assert isinstance(engine.embedder.model, onnx_models.OnnxSentenceEncoder)
    assert result.answer is not None and result.answer.text == "earlier this month"


def test_backend_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(onnx_models.BACKEND_ENV, "torch")
    assert onnx_models.backend() == "torch"
    monkeypatch.setenv(onnx_models.BACKEND_ENV, "ONNX")
    assert onnx_models.backend() == "onnx"
    monkeypatch.setenv(onnx_models.BACKEND_ENV, "gpu")
    with pytest.raises(ModelError, match="QA_APP_BACKEND='gpu'"):
        onnx_models.backend()


def test_damaged_graph_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "graphs"
    shutil.copytree(onnx_models.GRAPH_DIR, copy)
    graph = copy / "embedder.onnx"
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"embedder\.onnx: SHA-256 is .* damaged or replaced"):
        onnx_models.OnnxSession("embedder", {"base": {}}, copy)


def test_weights_that_do_not_fit_the_graph_are_refused() -> None:
    first = onnx_models.read_record("embedder")["initializers"][0]
    wrong = {first["key"]: np.zeros((2, 2), dtype=np.float32)}
    with pytest.raises(ModelError, match="the graph expects"):
        onnx_models.OnnxSession("embedder", {"base": wrong})
    with pytest.raises(ModelError, match="is not in the base file"):
        onnx_models.OnnxSession("embedder", {"base": {}})


def test_graphs_hold_no_weights() -> None:
    for kind in onnx_models.KINDS:
        record = onnx_models.read_record(kind)
        assert (onnx_models.GRAPH_DIR / record["file"]).stat().st_size < 1 << 20
        assert {i["source"] for i in record["initializers"]} <= {"base", "reader"}

"""The trained span reader: metadata and hash checks (fast) and the real shipped weights (model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_app.reader import neural
from qa_app.records import Passage

SEEDS = Path(__file__).resolve().parents[1] / "qa_app" / "seeds"


def _passages_from_seeds() -> list[Passage]:
    passages = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        start = 0
        for para in text.split("\n"):
            if para.strip():
                passages.append(
                    Passage(
                        len(passages),
                        0,
                        str(path),
                        path.stem,
                        None,
                        start,
                        start + len(para),
                        para,
                        1.0,
                    )
                )
            start += len(para) + 1
    return passages


def test_calibration_is_monotonic_and_bounded():
    cal = neural.MarginCalibration(scale=0.7, bias=-1.0)
    values = [cal(m) for m in (-1000.0, -5.0, 0.0, 2.0, 8.0, 1000.0)]
    assert values == sorted(values)
    assert all(0.0 <= v <= 1.0 for v in values)


def test_missing_metadata_names_the_file(tmp_path):
    with pytest.raises(neural.ReaderModelError, match="reader.json"):
        neural.read_meta(tmp_path)


def test_damaged_weights_are_refused_by_hash(tmp_path):
    (tmp_path / neural.WEIGHTS_FILE).write_bytes(b"not the weights")
    meta = {"weights_sha256": "0" * 64, "settings": {"max_len": 256, "stride": 128}}
    (tmp_path / neural.META_FILE).write_text(json.dumps(meta))
    with pytest.raises(neural.ReaderModelError, match="SHA-256"):
        neural.load(tmp_path)


def test_missing_weights_file_is_named(tmp_path):
    meta = {"weights_sha256": "0" * 64, "settings": {"max_len": 256, "stride": 128}}
    (tmp_path / neural.META_FILE).write_text(json.dumps(meta))
    assert not neural.weights_available(tmp_path)
    with pytest.raises(neural.ReaderModelError, match="reader.safetensors"):
        neural.NeuralReader(directory=tmp_path).read("Who?", [])


def test_sentence_around_holds_the_answer():
    text = "First one here. Russia received the first shipment earlier this month. Last one."
    start = text.index("earlier")
    s0, s1 = neural._sentence_around(text, start, start + len("earlier this month"))
    assert text[s0:s1].strip() == "Russia received the first shipment earlier this month."


needs_weights = pytest.mark.skipif(
    not neural.weights_available(),
    reason=f"the trained reader weights are not in {neural.resource_dir()} yet "
    "(train with training/train_reader.py, then training/export_reader.py)",
)


@pytest.mark.model
@needs_weights
def test_shipped_reader_answers_a_seed_question():
    reader = neural.NeuralReader()
    passages = _passages_from_seeds()
    spans = reader.read("When did Russia receive the first shipment?", passages, top_n=5)
    assert spans and len(spans) <= 5
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    best = spans[0]
    assert "earlier this month" in best.text
    assert best.score >= reader.threshold
    for span in spans:
        text = passages[span.passage_index].text
        assert 0.0 <= span.score <= 1.0
        assert text[span.start : span.end] == span.text
        assert span.sentence_start <= span.start < span.end <= span.sentence_end


@pytest.mark.model
@needs_weights
def test_shipped_reader_scores_are_per_passage_and_loaded_once():
    passages = _passages_from_seeds()
    question = "When did Russia receive the first shipment?"
    target = next(p for p in passages if "first shipment" in p.text)
    reader = neural.NeuralReader()
    alone = reader.read(question, [target], top_n=1)[0]
    together = reader.read(question, passages, top_n=1)[0]
    # No softmax across passages: other passages do not change this passage's score.
    assert together.text == alone.text
    assert together.score == pytest.approx(alone.score, abs=1e-4)
    assert neural.load() is neural.load()
    unrelated = [Passage(0, 0, "x", "x", None, 0, 40, "The cat sat on the mat all afternoon.", 1.0)]
    low = reader.read(question, unrelated, top_n=1)
    assert not low or low[0].score < reader.threshold


@pytest.mark.model
@needs_weights
def test_shipped_metadata_records_hashes_settings_and_metrics():
    meta = json.loads((neural.resource_dir() / neural.META_FILE).read_text())
    assert (neural.resource_dir() / neural.WEIGHTS_FILE).stat().st_size <= 25 * 1024 * 1024
    for key in ("weights_sha256", "base_model_sha256", "settings", "seed", "data", "training"):
        assert key in meta
    assert meta["data"]["train_sha256"]
    assert meta["calibration"]["fitted"]

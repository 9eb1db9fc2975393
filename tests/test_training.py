"""The reader training loop on a tiny random BERT: trains, checkpoints, resumes, exports."""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING))

import data as training_data  # noqa: E402

CONTEXTS = [
    "The river Avon flows through Bath. The city was founded by the Romans in 60 AD.",
    "Bristol is a port city. Its harbour was busy in the 18th century with ships from Africa.",
    "The museum opened in 1901 and holds paintings by Turner and Constable.",
]
QUESTIONS = [
    ("Who founded Bath?", "the Romans"),
    ("What kind of city is Bristol?", "a port city"),
    ("When was the museum opened?", "1901"),
]


def _squad_file(path: Path) -> Path:
    articles = []
    for a in range(4):
        paragraphs = []
        for c, (ctx, (q, ans)) in enumerate(zip(CONTEXTS, QUESTIONS, strict=True)):
            qa = {
                "id": f"t{a}-{c}",
                "question": q,
                "answers": [{"text": ans, "answer_start": ctx.index(ans)}],
            }
            paragraphs.append({"context": ctx, "qas": [qa]})
        articles.append({"title": f"Article {a}", "paragraphs": paragraphs})
    path.write_text(json.dumps({"version": "1.1", "data": articles}))
    return path


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT with the bundled tokenizer, saved to a folder."""
    from transformers import BertConfig, BertModel

    from qa_app.models.embedding import model_dir

    folder = tmp_path_factory.mktemp("tiny_bert")
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(model_dir() / name, folder / name)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    return folder


def _args(train: Path, run: Path, base: Path, *extra: str) -> list[str]:
    return [
        "--train", str(train), "--run", str(run), "--base-dir", str(base),
        "--max-len", "48", "--stride", "16", "--batch-size", "4", "--epochs", "2",
        "--heldout", "0.0", "--negative-ratio", "0.5", "--threads", "1", "--log-every", "1",
        "--checkpoint-minutes", "1000", *extra,
    ]  # fmt: skip


def _weights(run: Path) -> dict:
    import torch

    return torch.load(run / "checkpoint.pt", weights_only=False)["model"]


def test_train_checkpoint_and_resume_match_an_uninterrupted_run(tmp_path, tiny_bert):
    import torch
    from train_reader import main

    train = _squad_file(tmp_path / "train.json")
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert main(_args(train, whole, tiny_bert)) == 0
    assert main(_args(train, split, tiny_bert, "--stop-after-steps", "3")) == 0
    first = torch.load(split / "checkpoint.pt", weights_only=False)
    assert first["state"]["step"] == 3 and not first["state"].get("finished")
    assert main(_args(train, split, tiny_bert)) == 0
    assert "resumed at step 3" in (split / "log.txt").read_text()
    done = torch.load(split / "checkpoint.pt", weights_only=False)["state"]
    assert done["finished"] and done["epoch"] == 2
    a, b = _weights(whole), _weights(split)
    assert a.keys() == b.keys()
    assert not any(k.startswith("bert.embeddings.word_embeddings") for k in a)
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key


def test_resume_with_other_settings_is_refused(tmp_path, tiny_bert, capsys):
    from train_reader import main

    train = _squad_file(tmp_path / "train.json")
    run = tmp_path / "run"
    assert main(_args(train, run, tiny_bert, "--stop-after-steps", "1")) == 0
    assert main(_args(train, run, tiny_bert, "--lr", "0.5")) == 2
    assert "settings.json" in capsys.readouterr().err


def test_export_stores_only_the_delta_with_its_hash(tmp_path, tiny_bert):
    from export_reader import export
    from safetensors import safe_open
    from train_reader import main

    from qa_app.models.embedding import sha256_file

    train = _squad_file(tmp_path / "train.json")
    run = tmp_path / "run"
    assert main(_args(train, run, tiny_bert, "--stop-after-steps", "2")) == 0
    meta = export(run, tmp_path / "out")
    weights = tmp_path / "out" / "reader.safetensors"
    assert meta["weights_sha256"] == sha256_file(weights)
    assert meta["data"]["train_sha256"] == sha256_file(train)
    with safe_open(str(weights), "pt") as handle:
        keys = list(handle.keys())
        assert all(str(handle.get_tensor(k).dtype) == "torch.float16" for k in keys)
    assert "qa.weight" in keys and not any("word_embeddings" in k for k in keys)


def test_continued_training_starts_from_an_exported_reader(tmp_path, tiny_bert):
    import torch
    from export_reader import export
    from safetensors.torch import load_file
    from train_reader import main

    train = _squad_file(tmp_path / "train.json")
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(_args(train, first, tiny_bert, "--stop-after-steps", "2")) == 0
    exported = export(first, tmp_path / "exported")
    shipped = load_file(str(tmp_path / "exported" / "reader.safetensors"))
    # One step at lr 0 leaves the weights where they started: the exported reader, not the base.
    args = _args(train, second, tiny_bert, "--init-from", str(tmp_path / "exported"))
    assert main([*args, "--lr", "0", "--stop-after-steps", "1"]) == 0
    assert "initialised from" in (second / "log.txt").read_text()
    started = _weights(second)
    for key, value in shipped.items():
        assert torch.allclose(started[key].to(torch.float16), value), key
    meta = export(second, tmp_path / "again")
    lineage = meta["training"]["initialised_from"]
    assert lineage["weights_sha256"] == exported["weights_sha256"]


def test_export_without_checkpoint_names_the_file(tmp_path):
    from export_reader import export

    with pytest.raises(FileNotFoundError, match="checkpoint.pt"):
        export(tmp_path, tmp_path / "out")


def test_features_label_the_answer_tokens_or_cls():
    from transformers import AutoTokenizer

    from qa_app.models.embedding import model_dir

    tok = AutoTokenizer.from_pretrained(str(model_dir()), local_files_only=True)
    ctx = CONTEXTS[0]
    examples = [
        training_data.Example("a", "Who founded Bath?", ctx, ctx.index("the Romans"), "the Romans"),
        training_data.Example("b", "Who founded Bath?", CONTEXTS[2], -1, ""),
    ]
    feats = training_data.featurize(examples, tok, max_len=24, stride=8)
    assert len(feats) > 2  # the long passage is cut into overlapping windows
    spans = [
        tok.decode(ids[s : e + 1])
        for ids, s, e in zip(feats.input_ids, feats.starts, feats.ends, strict=True)
        if s
    ]
    assert spans and all(s == "the romans" for s in spans)
    assert any(s == 0 for s in feats.starts)  # windows without the answer point at CLS


def test_batches_cover_every_window_once_and_split_is_stable():
    lengths = [5, 9, 3, 7, 7, 2, 8, 1, 4, 6]
    batches = training_data.bucketed_batches(lengths, 3, seed=1, pool=2)
    assert sorted(i for b in batches for i in b) == list(range(10))
    assert batches == training_data.bucketed_batches(lengths, 3, seed=1, pool=2)
    articles = [{"title": f"T{i}", "paragraphs": []} for i in range(200)]
    train, heldout = training_data.split_articles(articles, 0.1)
    assert 5 <= len(heldout) <= 40 and len(train) + len(heldout) == 200
    assert training_data.split_articles(articles, 0.1) == (train, heldout)


def test_negatives_never_contain_the_answer():
    articles = json.loads(json.dumps({"data": []}))["data"]
    for a in range(3):
        paragraphs = [
            {
                "context": ctx,
                "qas": [
                    {
                        "id": f"{a}{c}",
                        "question": q,
                        "answers": [{"text": ans, "answer_start": ctx.index(ans)}],
                    }
                ],
            }
            for c, (ctx, (q, ans)) in enumerate(zip(CONTEXTS, QUESTIONS, strict=True))
        ]
        articles.append({"title": str(a), "paragraphs": paragraphs})
    examples = training_data.build_examples(articles, negative_ratio=1.0, seed=3)
    negatives = [e for e in examples if e.answer_start < 0]
    assert negatives
    gold = {q: ans for q, ans in QUESTIONS}
    assert all(gold[e.question].lower() not in e.context.lower() for e in negatives)


def test_swapped_question_names_something_the_passage_never_mentions():
    context = "Russia received the first shipment in 2024, the Treasury said."
    rng = random.Random(0)
    donors = ["Norway", "Chile", "Russia", "1999", "Treasury"]
    for _ in range(20):
        swapped = training_data.swapped_question(
            "When did Russia receive the first shipment?", context, donors, rng
        )
        assert swapped in (
            "When did Norway receive the first shipment?",
            "When did Chile receive the first shipment?",
        )
    # a number is swapped for a number, never for a name
    swapped = training_data.swapped_question("Who paid in 2024?", context, donors, rng)
    assert swapped == "Who paid in 1999?"
    # nothing of the question's names in the passage, or no donors: no swap
    assert training_data.swapped_question("Who is Ada?", context, donors, rng) is None
    assert training_data.swapped_question("When did Russia act?", context, [], rng) is None


def test_swap_ratio_adds_unanswerable_copies_and_zero_changes_nothing():
    ctx = "Paris is the capital of France, and Lyon is its third city."
    articles = [
        {
            "title": str(a),
            "paragraphs": [
                {
                    "context": ctx,
                    "qas": [
                        {
                            "id": f"{a}-{i}",
                            "question": "What is the capital of France?",
                            "answers": [{"text": "Paris", "answer_start": 0}],
                        }
                        for i in range(5)
                    ],
                }
            ],
        }
        for a in range(2)
    ]
    articles[1]["paragraphs"][0]["qas"][0]["question"] = "Which city of Spain and Chile?"
    plain = training_data.build_examples(articles, negative_ratio=0.5, seed=4)
    assert training_data.build_examples(articles, negative_ratio=0.5, seed=4, swap_ratio=0) == plain
    mixed = training_data.build_examples(articles, negative_ratio=0.5, seed=4, swap_ratio=1.0)
    swaps = [e for e in mixed if e.qid.endswith("-swap")]
    assert [e for e in mixed if not e.qid.endswith("-swap")] == plain
    # every question but the one naming only Spain and Chile, which the passage never mentions
    assert len(swaps) == 9
    for e in swaps:
        assert e.answer_start == -1 and e.context == ctx
        assert e.question in ("What is the capital of Spain?", "What is the capital of Chile?")


REPORT = (
    "Iran hosted a top Russian defence official last September. "
    "The official toured three missile bases near Tehran. "
    "Russia has sent dozens of military personnel to Iran for training. "
    "The White House said the talks were advancing."
)


def test_answerless_context_takes_out_the_answer_sentence_and_keeps_the_rest():
    start = REPORT.index("three")
    rest = training_data.answerless_context(REPORT, start, "three")
    assert rest == (
        "Iran hosted a top Russian defence official last September. "
        "Russia has sent dozens of military personnel to Iran for training. "
        "The White House said the talks were advancing."
    )
    # an answer said twice is still there without its sentence: no copy
    assert training_data.answerless_context(REPORT, REPORT.index("Iran"), "Iran") is None
    # too little left to learn from
    short = "It cost $5. Nothing else."
    assert training_data.answerless_context(short, 8, "$5") is None
    # an answer across two sentences takes both out
    longer = REPORT + " Sanctions on several Iranian airlines and shipping firms followed."
    rest = training_data.answerless_context(
        longer, REPORT.index("September"), "September. The official"
    )
    assert rest is not None and rest.startswith("Russia has sent dozens")
    assert "September" not in rest and rest.endswith("shipping firms followed.")


def test_drop_ratio_adds_answerless_copies_and_zero_changes_nothing():
    articles = [
        {
            "title": str(a),
            "paragraphs": [
                {
                    "context": REPORT,
                    "qas": [
                        {
                            "id": f"{a}-{i}",
                            "question": "How many missile bases did the official tour?",
                            "answers": [{"text": "three", "answer_start": REPORT.index("three")}],
                        }
                        for i in range(5)
                    ],
                }
            ],
        }
        for a in range(2)
    ]
    plain = training_data.build_examples(articles, negative_ratio=0.5, seed=4, swap_ratio=0.5)
    assert (
        training_data.build_examples(
            articles, negative_ratio=0.5, seed=4, swap_ratio=0.5, drop_ratio=0
        )
        == plain
    )
    mixed = training_data.build_examples(
        articles, negative_ratio=0.5, seed=4, swap_ratio=0.5, drop_ratio=1.0
    )
    drops = [e for e in mixed if e.qid.endswith("-drop")]
    # the other examples, swapped copies included, are exactly those without drop_ratio
    assert [e for e in mixed if not e.qid.endswith("-drop")] == plain
    assert len(drops) == 10
    for e in drops:
        assert e.answer_start == -1 and e.answer_text == ""
        assert e.question == "How many missile bases did the official tour?"
        assert "three" not in e.context and "dozens of military personnel" in e.context


def test_heldout_sets_add_near_miss_copies_without_changing_the_rest(tmp_path):
    import calibrate_reader

    train = _squad_file(tmp_path / "train.json")
    titles = ["Article 0", "Article 1"]
    items = calibrate_reader.heldout_sets(train, titles, 100, seed=3)
    assert len(items) == 6
    swaps = [it for it in items if it["swap"]]
    assert swaps, "the toy questions name Bath, Bristol: something can be swapped"
    for it in swaps:
        assert it["swap"] != it["q"]
        changed = set(it["swap"].split()) - set(it["q"].split())
        assert all(word.strip("?").lower() not in it["gold"].lower() for word in changed)
    # the toy paragraphs are too short to leave a passage once the answer's sentence is out
    assert all(it["drop"] is None for it in items)
    again = calibrate_reader.heldout_sets(train, titles, 100, seed=3)
    assert [(it["q"], it["negs"], it["swap"]) for it in again] == [
        (it["q"], it["negs"], it["swap"]) for it in items
    ]


def test_near_miss_copies_raise_the_threshold_only_when_asked(monkeypatch):
    """A reader that answers near-miss questions fairly confidently: the default threshold ignores
    them (and reports that it answers them); --near-miss chooses a threshold that refuses them."""
    import calibrate_reader

    rng = random.Random(0)
    gold_margin = {f"question {i}": rng.uniform(-1.0, 8.0) for i in range(80)}
    # Whether the gold reading is right grows with the margin, not a clean cut: a real fit.
    gold_right = {q: m + rng.uniform(-3.0, 3.0) > 2.0 for q, m in gold_margin.items()}

    def fake_best(_loaded, question, texts):
        out = []
        for text in texts:
            if question.startswith("swap"):
                m = 3.0
            elif text == "answerless paragraph":
                # half of them read confidently, half refused by any threshold
                m = 20.0 if int(question.split()[1]) % 2 else -20.0
            elif text == "gold paragraph":
                m = gold_margin[question]
            else:
                m = rng.uniform(-8.0, 0.0)
            right = text == "gold paragraph" and gold_right.get(question, False)
            out.append((m, "answer" if right else "something else"))
        return out

    monkeypatch.setattr(calibrate_reader, "best_per_passage", fake_best)
    items = [
        {
            "q": q,
            "gold": "gold paragraph",
            "negs": ["other paragraph"],
            "golds": ["answer"],
            "swap": "swap " + q,
            "drop": "answerless paragraph",
        }
        for q in gold_margin
    ]
    plain = calibrate_reader.calibrate(None, items)
    strict = calibrate_reader.calibrate(None, items, use_swaps=True)
    assert plain["calibration"]["scale"] > 0
    assert plain["heldout"]["near_miss_questions"] == 80
    assert plain["heldout"]["near_miss_in_threshold"] is False
    assert plain["heldout"]["near_miss_refused_at_threshold"] == 0.0
    assert strict["heldout"]["near_miss_refused_at_threshold"] == 100.0
    assert strict["threshold"] > plain["threshold"]
    for fitted in (plain, strict):
        assert fitted["heldout"]["answerless_passages"] == 80
        assert fitted["heldout"]["answerless_refused_at_threshold"] == 50.0


def test_calibrator_conditions_include_the_apps_own_retrieved_read() -> None:
    import train_calibrator

    row = {
        "q": "Who signed it?",
        "golds": ["Maria"],
        "texts": ["gold", "neg a", "neg b", "gold without answer"],
        "negs": 2,
        "has_drop": True,
        "spans": [],
        "swap_q": "Who signed the other?",
        "swap_spans": [{"passage_index": 0}],
        "ret_texts": ["neg x", "gold part", "neg y"],
        "ret_gold": [False, True, False],
        "ret_spans": [],
    }
    got = {c[0]: c for c in train_calibrator.conditions(row, random.Random(1))}
    assert set(got) == {
        "reader-only", "pooled", "negatives", "answerless", "near-miss",
        "retrieved", "retrieved-without-own",
    }  # fmt: skip
    assert got["retrieved"][2] == row["ret_texts"] and got["retrieved"][3] == [0, 1, 2]
    assert got["retrieved-without-own"][3] == [0, 2]  # the question's own paragraph taken out
    assert got["reader-only"][2] == row["texts"] and got["answerless"][3] == [3]
    # Unanswerable by construction: only the three made-up conditions; retrieved reads by F1.
    assert {"negatives", "answerless", "near-miss"} == train_calibrator.UNANSWERABLE
    weights = train_calibrator.CONDITION_WEIGHT
    answerable = sum(weights[c] for c in ("reader-only", "pooled", "retrieved"))
    others = sum(w for c, w in weights.items() if c not in ("reader-only", "pooled", "retrieved"))
    assert answerable / others == pytest.approx(4.0)  # the 4:1 prior
    no_retrieval = {**row, "ret_texts": [], "ret_gold": [], "ret_spans": []}
    assert "retrieved" not in {
        c[0] for c in train_calibrator.conditions(no_retrieval, random.Random(1))
    }

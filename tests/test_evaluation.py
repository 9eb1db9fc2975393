"""Evaluation: SQuAD metrics against hand-computed values and the official script, formats, gates, CLI."""

from __future__ import annotations

import argparse
import json
import math
import re
import string
import time
from collections import Counter
from pathlib import Path

import pytest

from qa_app.cli import eval_command as eval_cli
from qa_app.evaluation.formats import (
    EvalFormatError,
    EvalItem,
    beir_file_name,
    detect_format,
    load_eval_set,
    write_corpus,
)
from qa_app.evaluation.metrics import (
    answer_scores,
    contains_answer,
    evaluate,
    first_relevant_rank,
    ndcg,
    percentile,
    score_item,
    summarize,
)
from qa_app.evaluation.report import check_gates, format_table, parse_gate, write_report
from qa_app.records import Answer, Citation, Passage, Result, SyncReport
from qa_app.text_norm import exact_match, f1_score, normalize_answer

FIXTURES = Path(__file__).parent / "fixtures" / "eval"
REPO = Path(__file__).resolve().parents[1]
SHARED_SQUAD_DEV = REPO.parent / "shared" / "data" / "squad" / "dev-v1.1.json"


# -- the official SQuAD v1.1 evaluation script, verbatim in substance, as the oracle -------------


def _official_normalize(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def _official_f1(prediction, ground_truth):
    prediction_tokens = _official_normalize(prediction).split()
    ground_truth_tokens = _official_normalize(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def _official_em(prediction, ground_truth):
    return _official_normalize(prediction) == _official_normalize(ground_truth)


def _official_evaluate(dataset, predictions):
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                ground_truths = [x["text"] for x in qa["answers"]]
                prediction = predictions[qa["id"]]
                exact_match += max(_official_em(prediction, g) for g in ground_truths)
                f1 += max(_official_f1(prediction, g) for g in ground_truths)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def _hand_made_predictions(dataset) -> dict[str, str]:
    """Deterministic predictions of every kind: exact, padded, truncated, wrong, empty."""
    predictions = {}
    n = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                gold = qa["answers"][0]
                start, text = gold["answer_start"], gold["text"]
                kind = n % 6
                if kind == 0:
                    predictions[qa["id"]] = text
                elif kind == 1:  # a few words of context either side
                    predictions[qa["id"]] = context[max(0, start - 12) : start + len(text) + 9]
                elif kind == 2:
                    predictions[qa["id"]] = text.upper() + "."
                elif kind == 3:
                    predictions[qa["id"]] = text.split()[0] if text.split() else ""
                elif kind == 4:
                    predictions[qa["id"]] = context[:30]
                else:
                    predictions[qa["id"]] = ""
                n += 1
    return predictions


def _ours(path: Path, predictions: dict[str, str]) -> tuple[float, float]:
    evalset = load_eval_set(path)
    rows = [answer_scores(predictions[i.id] or None, i.answers) for i in evalset.items]
    return (
        100.0 * sum(r[0] for r in rows) / len(rows),
        100.0 * sum(r[1] for r in rows) / len(rows),
    )


# -- metrics ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The Denver Broncos", "denver broncos"),
        ("  an   apple a day ", "apple day"),
        ("A.B.C.", "abc"),  # punctuation goes before articles are matched
        ("Theater, the thesis", "theater thesis"),  # only whole-word articles
        ("Levi's Stadium!", "levis stadium"),
        ("“curly” quotes", "“curly” quotes"),  # string.punctuation is ASCII only, as in the script
        ("", ""),
    ],
)
def test_normalize_answer_matches_official(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected == _official_normalize(raw)


def test_exact_match_and_f1_hand_computed() -> None:
    assert exact_match("the Denver Broncos!", ["Denver Broncos"]) == 1.0
    assert exact_match("Broncos", ["Denver Broncos"]) == 0.0
    # pred tokens: cat sat on mat (4); gold: cat on mat (3); shared 3 -> P 3/4, R 1, F1 6/7
    assert f1_score("the cat sat on the mat", ["cat on mat"]) == pytest.approx(6 / 7)
    # repeated tokens count once per occurrence: pred a a b -> "b" only after articles go
    assert f1_score("x x y", ["x y y"]) == pytest.approx(2 / 3)
    assert f1_score("nothing shared", ["Denver"]) == 0.0
    assert f1_score("", ["Denver"]) == 0.0
    assert f1_score("Broncos", ["Denver", "Denver Broncos"]) == pytest.approx(2 / 3)  # the max


def test_answer_scores_max_over_golds_and_unanswerable() -> None:
    assert answer_scores("Broncos", ["Denver Broncos", "Broncos"]) == (1.0, 1.0)
    em, f1 = answer_scores("Denver", ["Denver Broncos", "the Broncos team"])
    assert em == 0.0 and f1 == pytest.approx(2 / 3)
    assert answer_scores(None, ["Denver Broncos"]) == (0.0, 0.0)
    assert answer_scores(None, []) == (1.0, 1.0)
    assert answer_scores("anything", []) == (0.0, 0.0)


def test_contains_answer_on_word_boundaries() -> None:
    assert contains_answer("It covered about 500 square miles.", ["500 square miles"])
    assert not contains_answer("It covered about 500 square miles.", ["5"])
    assert contains_answer("The Fath-360, a platform.", ["the Fath-360"])
    assert not contains_answer("text", ["the"])  # a gold that normalises to nothing never matches
    assert contains_answer("the supply of “hundreds” of missiles", ["hundreds"])
    assert contains_answer("a “two-way street.”", ["two-way street"])
    assert contains_answer("Russia’s Kursk region", ["Russia's Kursk region"])


def _passage(name: str, text: str, rank: int = 0) -> Passage:
    return Passage(rank, rank, f"/docs/{name}", name, None, 0, len(text), text, 1.0 / (rank + 1))


def test_ranks_recall_mrr_ndcg_hand_computed() -> None:
    passages = [
        _passage("a.txt", "nothing here", 0),
        _passage("b.txt", "the answer is Scheele", 1),
        _passage("a.txt", "Scheele again", 2),
        _passage("c.txt", "Scheele once more", 3),
    ]
    answer_only = EvalItem("1", "q?", ("Scheele",))
    assert first_relevant_rank(answer_only, passages) == 2
    # documents in order a (gain 1 via its 2nd passage), b (1), c (1); ideal = the 3 found
    assert ndcg(answer_only, passages) == pytest.approx(1.0)
    with_docs = EvalItem("2", "q?", ("Scheele",), docs=("c.txt", "z.txt"))
    assert first_relevant_rank(with_docs, passages) == 4
    # doc c is third of the distinct documents; ideal: two relevant documents at ranks 1-2
    assert ndcg(with_docs, passages) == pytest.approx((1 / 2) / (1 + 1 / math.log2(3)))
    graded = EvalItem("3", "q", relevance=(("b.txt", 2), ("c.txt", 1)), docs=("b.txt", "c.txt"))
    assert first_relevant_rank(graded, passages) == 2
    dcg = 3 / math.log2(3) + 1 / math.log2(4)
    assert ndcg(graded, passages) == pytest.approx(dcg / (3 + 1 / math.log2(3)))
    assert ndcg(graded, []) == 0.0


def test_recall_at_5_counts_only_the_first_five_passages() -> None:
    passages = [_passage(f"{i}.txt", "filler", i) for i in range(6)]
    passages.append(_passage("x.txt", "Scheele", 6))  # the relevant passage is 7th
    item = EvalItem("1", "q?", ("Scheele",))
    far = score_item(item, passages, 1.0, k=10)
    near = score_item(item, passages[4:], 1.0, k=10)  # now 3rd
    assert (far.rank, far.recall, near.rank) == (7, True, 3)
    summary = summarize([far, near])
    assert summary["recall"] == 1.0 and summary["recall_at_5"] == pytest.approx(0.5)


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)


def _result(question: str, answer: str | None, sentence: str, passages=(), score=0.9) -> Result:
    best = None
    if answer is not None:
        start = sentence.find(answer)
        citation = Citation(
            1, "/docs/a.txt", "a", None, start, start + len(answer), 0, len(sentence), sentence,
            0, len(sentence), sentence, score,
        )  # fmt: skip
        best = Answer(answer, score, (citation,))
    return Result(question, best, (), tuple(passages), "fake", 0.5)


def test_score_item_and_summary() -> None:
    passages = [_passage("a.txt", "Oxygen was found by Carl Wilhelm Scheele in 1773.", 0)]
    items = [
        EvalItem("1", "Who?", ("Carl Wilhelm Scheele",)),
        EvalItem("2", "When?", ("1773",)),
        EvalItem("3", "Price?", ()),
        EvalItem("4", "Where?", ("Uppsala",)),
    ]
    outcomes = [
        _result("Who?", "Scheele", "Oxygen was found by Carl Wilhelm Scheele in 1773.", passages),
        _result("When?", "Scheele in 1773", "Carl Wilhelm Scheele in 1773", passages),
        _result("Price?", None, "", passages),
        _result("Where?", "1773", "Oxygen was found in 1773.", passages),
    ]
    rows = [
        score_item(i, o, latency, k=10)
        for i, o, latency in zip(items, outcomes, [10, 20, 30, 40], strict=True)
    ]
    assert (rows[0].em, rows[0].sentence_ok, rows[0].rank) == (0.0, True, 1)
    assert rows[0].f1 == pytest.approx(0.5)  # "scheele" vs "carl wilhelm scheele": P 1, R 1/3
    assert rows[1].f1 == pytest.approx(0.5) and rows[1].sentence_ok  # P 1/3, R 1
    assert (rows[2].em, rows[2].f1, rows[2].sentence_ok, rows[2].rank) == (1.0, 1.0, None, None)
    assert (rows[3].sentence_ok, rows[3].rank, rows[3].recall) == (False, None, False)
    summary = summarize(rows)
    assert summary["questions"] == 4 and summary["answerable"] == 3
    assert summary["em"] == pytest.approx(1 / 4)
    assert summary["f1"] == pytest.approx((0.5 + 0.5 + 1 + 0) / 4)
    assert summary["hasans_f1"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert summary["noans"] == 1.0
    assert summary["sentence"] == pytest.approx(2 / 3)
    assert summary["recall"] == pytest.approx(2 / 3) and summary["mrr"] == pytest.approx(2 / 3)
    assert summary["recall_at_5"] == pytest.approx(2 / 3)  # both relevant ranks are 1
    assert summary["latency_p50_ms"] == pytest.approx(25)
    retrieval_only = score_item(items[0], passages, 5.0, k=10)
    assert retrieval_only.em is None and retrieval_only.rank == 1


def test_evaluate_times_each_question_and_stops_on_cancel() -> None:
    items = [EvalItem(str(i), f"q{i}", ("x",)) for i in range(5)]
    asked: list[str] = []

    def predict(item: EvalItem) -> Result:
        asked.append(item.id)
        time.sleep(0.002)
        return _result(item.question, "x", "x")

    done = evaluate(items, predict, k=3, cancel=lambda: len(asked) >= 3)
    assert done.cancelled and len(done.rows) == 3 and asked == ["0", "1", "2"]
    assert all(r.latency_ms >= 1.5 for r in done.rows)
    assert done.summary["em"] == 1.0


def test_metrics_match_official_script_on_fixture() -> None:
    dataset = json.loads((FIXTURES / "squad_v1.json").read_text())["data"]
    predictions = {
        "q1": "Broncos",
        "q2": "at Levi's Stadium",
        "q3": "eight",
        "q4": "",
        "q5": "half",
    }
    official = _official_evaluate(dataset, predictions)
    em, f1 = _ours(FIXTURES / "squad_v1.json", predictions)
    assert em == pytest.approx(official["exact_match"]) == 0.0
    # q1 2/3 (vs "Denver Broncos"), q2 max(2/3, 2*(2/3*2/5)... ) - trust the oracle for the rest
    assert f1 == pytest.approx(official["f1"])


@pytest.mark.skipif(not SHARED_SQUAD_DEV.is_file(), reason="shared SQuAD dev file not present")
def test_metrics_match_official_script_on_squad_dev() -> None:
    started = time.perf_counter()
    evalset = load_eval_set(SHARED_SQUAD_DEV)
    parse_seconds = time.perf_counter() - started
    assert len(evalset.items) == 10570
    assert len(evalset.corpus or {}) == 2067
    assert parse_seconds < 10, f"parsing dev-v1.1.json took {parse_seconds:.1f}s"
    dataset = json.loads(SHARED_SQUAD_DEV.read_text(encoding="utf-8"))["data"]
    predictions = _hand_made_predictions(dataset)
    official = _official_evaluate(dataset, predictions)
    em, f1 = _ours(SHARED_SQUAD_DEV, predictions)
    assert em == pytest.approx(official["exact_match"], abs=1e-9)
    assert f1 == pytest.approx(official["f1"], abs=1e-9)
    assert 20 < official["exact_match"] < 80  # the predictions really are a mix


# -- formats ------------------------------------------------------------------------------------


def test_detect_format() -> None:
    assert detect_format(FIXTURES / "squad_v1.json") == "squad"
    assert detect_format(FIXTURES / "questions.jsonl") == "jsonl"
    assert detect_format(FIXTURES / "questions.csv") == "csv"
    assert detect_format(FIXTURES / "beir") == "beir"


def test_detect_format_by_content(tmp_path: Path) -> None:
    jsonl = tmp_path / "set.txt"
    jsonl.write_text('{"question": "q?", "answers": []}\n')
    assert detect_format(jsonl) == "jsonl"
    squad = tmp_path / "squad.data"
    squad.write_text('{"data": []}')
    assert detect_format(squad) == "squad"
    with pytest.raises(EvalFormatError, match="no such file"):
        detect_format(tmp_path / "missing.jsonl")
    odd = tmp_path / "odd.txt"
    odd.write_text("hello")
    with pytest.raises(EvalFormatError, match="odd.txt: cannot tell the format"):
        detect_format(odd)


def test_parse_squad_v1() -> None:
    evalset = load_eval_set(FIXTURES / "squad_v1.json")
    assert evalset.format == "squad" and not evalset.retrieval_only and evalset.has_contexts
    assert [i.id for i in evalset.items] == ["q1", "q2", "q3", "q4", "q5"]
    assert evalset.items[0].answers == ("Denver Broncos", "The Denver Broncos")
    assert sorted(evalset.corpus or {}) == [
        "00000_Super_Bowl_50.txt",
        "00001_Oxygen.txt",
        "00002_Oxygen.txt",
    ]
    q5 = evalset.items[4]
    assert q5.docs == ("00002_Oxygen.txt",)
    assert q5.context == (evalset.corpus or {})["00002_Oxygen.txt"]
    assert len(evalset.file_hash) == 64


def test_parse_squad_v2_marks_unanswerable() -> None:
    items = load_eval_set(FIXTURES / "squad_v2.json").items
    assert items[0].answers == ("France",)
    assert items[1].answers == () and not items[1].answerable  # plausible_answers are ignored


def test_parse_jsonl() -> None:
    evalset = load_eval_set(FIXTURES / "questions.jsonl")
    assert evalset.corpus is None and evalset.format == "jsonl"
    assert [i.id for i in evalset.items] == ["j1", "j2", "q0003"]
    assert evalset.items[0].docs == ("oxygen.txt",)
    assert evalset.items[2].answers == () and evalset.items[2].docs == ()


def test_parse_csv() -> None:
    items = load_eval_set(FIXTURES / "questions.csv").items
    assert items[0].answers == ("Carl Wilhelm Scheele", "Scheele")
    assert items[1].question == "Which team won Super Bowl 50, the game?"
    assert items[2].answers == ()


def test_parse_beir() -> None:
    evalset = load_eval_set(FIXTURES / "beir")
    assert evalset.retrieval_only and evalset.format == "beir"
    assert [i.id for i in evalset.items] == ["1", "2"]  # only judged queries
    assert dict(evalset.items[0].relevance) == {"d1.txt": 2, "d2.txt": 1}
    assert dict(evalset.items[1].relevance) == {"d%2F3.txt": 1}  # grade 0 dropped; id made safe
    corpus = evalset.corpus or {}
    assert corpus["d1.txt"] == "Oxygen\n\nOxygen was discovered by Carl Wilhelm Scheele."
    assert corpus[beir_file_name("d/3")] == "Helium is a noble gas."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.jsonl",
            '{"question": "q", "answers": []}\nnot json\n',
            r"bad.jsonl, line 2: not valid",
        ),
        ("noans.jsonl", '{"question": "q"}\n', r"line 1: missing 'answers'"),
        ("types.jsonl", '{"question": "q", "answers": [1]}\n', r"'answers' must be a list"),
        ("dup.jsonl", '{"id": "a", "question": "q", "answers": []}\n' * 2, r"id a appears twice"),
        ("empty.jsonl", "\n\n", r"holds no questions"),
        ("nohead.csv", "what?,yes\n", r"'question,answer' header"),
        ("notsquad.json", '{"version": 1}', r"no top-level 'data'"),
        ("broken.json", '{"data": [', r"broken.json: not valid JSON"),
    ],
)
def test_format_errors_name_file_and_reason(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(EvalFormatError, match=message):
        load_eval_set(path)


def test_beir_folder_missing_files(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text("")
    with pytest.raises(EvalFormatError, match=r"missing queries.jsonl, qrels/test.tsv"):
        load_eval_set(tmp_path)


def test_write_corpus_is_idempotent(tmp_path: Path) -> None:
    folder = write_corpus({"a.txt": "alpha", "b.txt": "béta"}, tmp_path / "c")
    stamp = (folder / "a.txt").stat().st_mtime_ns
    write_corpus({"a.txt": "alpha", "b.txt": "béta"}, folder)
    assert (folder / "a.txt").stat().st_mtime_ns == stamp
    assert (folder / "b.txt").read_text(encoding="utf-8") == "béta"
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt"]


def test_seed_questions_are_well_formed() -> None:
    seeds = REPO / "qa_app" / "seeds"
    evalset = load_eval_set(seeds / "questions.jsonl")
    texts = {p.name: p.read_text(encoding="utf-8") for p in seeds.glob("*.txt")}
    assert len(evalset.items) >= 55
    assert sum(not i.answerable for i in evalset.items) >= 12
    for item in evalset.items:
        for doc in item.docs:
            assert any(a in texts[doc] for a in item.answers), (item.id, doc)
        # The app's own questions (s..) use exact substrings; the shared d.. set is copied as is.
        for answer in item.answers if item.id.startswith("s") else ():
            assert any(answer in t for t in texts.values()), (item.id, answer)
        if not item.answerable:
            assert not item.docs


# -- gates and report ----------------------------------------------------------------------------


def test_parse_gate() -> None:
    assert parse_gate("em=0.5") == ("em", ">=", 0.5)
    assert parse_gate("F1=60%") == ("f1", ">=", 0.6)
    assert parse_gate("ndcg@10=0.3") == ("ndcg", ">=", 0.3)
    for bad, message in [
        ("em", "METRIC=VALUE"),
        ("bleu=0.3", "unknown metric 'bleu'"),
        ("f1=high", "'high' is not a number"),
        ("f1=60", "fraction from 0 to 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_gate(bad)


def test_check_gates_names_each_failure() -> None:
    summary = {"em": 0.4, "f1": 0.7, "noans": None, "sentence": 0.95}
    gates = [("em", ">=", 0.5), ("f1", ">=", 0.6), ("noans", ">=", 0.8), ("sentence", ">=", 0.9)]
    failures = check_gates(summary, gates)
    assert failures[0].message == "em = 0.400 is below the required 0.500"
    assert failures[1].message.startswith("noans was not measured for this set")
    assert [f.reason for f in failures] == ["below", "unmeasured"]


def test_write_report(tmp_path: Path) -> None:
    item = EvalItem("1", "Who?", ("Kim",))
    evaluation = evaluate([item], lambda i: _result("Who?", "Kim", "Kim did."), k=10)
    path = write_report(tmp_path / "out" / "report.json", evaluation, {"k": 10, "library": "x"})
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["summary"]["em"] == 1.0 and report["settings"]["library"] == "x"
    row = report["questions"][0]
    assert row["gold"] == ["Kim"] and row["predicted"] == "Kim" and row["sentence_ok"] is True
    assert set(row) >= {"id", "question", "score", "em", "f1", "rank", "latency_ms"}


def test_format_table_is_aligned() -> None:
    summary = summarize(
        [score_item(EvalItem("1", "Who?", ("Kim",)), _result("Who?", "Kim", "Kim."), 3.0, 10)]
    )
    text = format_table(
        summary, {"file": "q.jsonl", "format": "jsonl", "k": 10, "library": "seeds"}
    )
    lines = text.splitlines()
    assert "library seeds" in lines[1] and "k 10" in lines[1]
    header = next(i for i, line in enumerate(lines) if line.startswith("metric"))
    values = [line for line in lines[header + 2 :] if line and not line.startswith("answered")]
    # the value column ends in the same place on every metric line
    ends = {line.index(" questions") for line in values if line.endswith("questions")}
    assert len(ends) == 1
    assert any(line.startswith("exact match") and "1.000" in line for line in values)


# -- the command, with fakes ---------------------------------------------------------------------

DOCS = {
    "oxygen.txt": "Oxygen is element 8.\n\nOxygen was discovered by Carl Wilhelm Scheele in 1773.",
    "football.txt": "Super Bowl 50 was a game.\n\nThe Denver Broncos won Super Bowl 50.",
}


class StubEngine:
    """Answers by word overlap: the passage sharing most words, its first capitalised run.

    Only what a run calls, with answers these tests can predict; the stand-in that behaves as the
    engine (tests/engine_contract.py) is tests/gui_fakes.FakeEngine.
    """

    libraries: dict[str, dict[str, str]] = {}

    def __init__(self, name: str | None, docs: dict[str, str] | None = None) -> None:
        self.name = name or "seeds"
        self.store = StubEngine.libraries.setdefault(self.name, dict(docs or {}))
        self.added: list[str] = []
        self.closed = False

    def ensure_ready(self, progress=None, cancel=None):
        return None

    def warm_up(self) -> None:
        pass

    def documents(self):
        return [type("Info", (), {"path": f"/lib/{n}", "status": "indexed"})() for n in self.store]

    def add(self, items, progress=None, cancel=None) -> SyncReport:
        for folder in items:
            for path in sorted(Path(folder).iterdir()):
                self.store[path.name] = path.read_text(encoding="utf-8")
                self.added.append(path.name)
        return SyncReport(added=tuple(self.added))

    def search(self, query: str, k: int = 10) -> list[Passage]:
        words = set(re.findall(r"\w+", query.lower()))
        passages = []
        for name, text in self.store.items():
            for part in text.split("\n\n"):
                overlap = len(words & set(re.findall(r"\w+", part.lower())))
                passages.append((overlap, name, part))
        passages.sort(key=lambda p: (-p[0], p[1]))
        return [_passage(n, t, r) for r, (o, n, t) in enumerate(passages[:k]) if o]

    def ask(self, question: str, k: int = 10, *, reader=None, threshold=None) -> Result:
        passages = self.search(question, k)
        answer = None
        if passages and "2024" not in question:
            top = passages[0].text
            found = re.search(r"(?:[A-Z][a-z]+ ){1,2}[A-Z][a-z]+", top)
            answer = found.group(0) if found else None
        sentence = passages[0].text if passages else ""
        result = _result(question, answer, sentence, passages)
        return Result(
            question, result.answer, (), result.passages, reader or "fake", threshold or 0.5
        )

    def close(self) -> None:
        self.closed = True


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qa-app")
    eval_cli.add_parser(parser.add_subparsers())
    return parser.parse_args(["eval", "--quiet", *argv])


@pytest.fixture
def fake_engines():
    StubEngine.libraries = {}
    opened: list[StubEngine] = []

    def factory(name, args):
        engine = StubEngine(name, DOCS if name in (None, "mine") else None)
        opened.append(engine)
        return engine

    factory.opened = opened  # type: ignore[attr-defined]
    return factory


def test_run_jsonl_end_to_end(fake_engines, tmp_path: Path, capsys) -> None:
    report = tmp_path / "r.json"
    args = _args(
        str(FIXTURES / "questions.jsonl"),
        "--report",
        str(report),
        "--fail-under",
        "em=0.6",
        "noans=1",
    )
    assert args.func is eval_cli.run
    assert eval_cli.run(args, open_engine=fake_engines) == 0
    out = capsys.readouterr()
    assert "exact match" in out.out and "recall@10" in out.out
    assert fake_engines.opened[0].closed
    data = json.loads(report.read_text())
    by_id = {row["id"]: row for row in data["questions"]}
    assert by_id["j1"]["predicted"] == "Carl Wilhelm Scheele" and by_id["j1"]["rank"] == 1
    assert by_id["j2"]["predicted"] == "The Denver Broncos" and by_id["j2"]["em"] == 1.0
    assert by_id["q0003"]["predicted"] is None and by_id["q0003"]["em"] == 1.0
    assert data["settings"]["library"] == "seeds" and data["settings"]["reader"] == "fake"
    assert data["settings"]["file_hash"] and data["settings"]["version"]
    assert data["summary"]["em"] == 1.0 and data["summary"]["sentence"] == 1.0


def test_run_fails_gates_with_exit_1(fake_engines, capsys) -> None:
    args = _args(
        str(FIXTURES / "questions.csv"),
        "--library",
        "mine",
        "--json",
        "--fail-under",
        "em=1.01%",
        "recall=0.99",
        "ndcg=1",
    )
    code = eval_cli.run(args, open_engine=fake_engines)
    out = capsys.readouterr()
    summary = json.loads(out.out)["summary"]
    assert summary["questions"] == 3
    assert code == 0  # every gate met: em 1.0 >= 0.0101, recall 1.0, ndcg 1.0
    args = _args(
        str(FIXTURES / "questions.csv"),
        "--library",
        "mine",
        "--limit",
        "1",
        "--fail-under",
        "noans=0.8",
        "f1=0.5",
        "em=1",
    )
    assert eval_cli.run(args, open_engine=fake_engines) == 1
    err = capsys.readouterr().err
    assert "FAILED: noans was not measured" in err and "eval failed: noans" in err


def test_bad_gate_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _args("q.jsonl", "--fail-under", "bleu=0.4")
    assert exit_info.value.code == 2
    assert "unknown metric 'bleu'" in capsys.readouterr().err


def test_run_bad_file_exit_2(tmp_path: Path, capsys) -> None:
    assert eval_cli.run(_args(str(tmp_path / "nope.jsonl"))) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err


def test_run_squad_builds_then_reuses_library(fake_engines, capsys) -> None:
    args = _args(str(FIXTURES / "squad_v1.json"), "--keep-library")
    assert eval_cli.run(args, open_engine=fake_engines) == 0
    first = fake_engines.opened[0]
    assert re.fullmatch(r"eval-squad_v1-[0-9a-f]{8}", first.name)
    assert sorted(first.added) == [
        "00000_Super_Bowl_50.txt",
        "00001_Oxygen.txt",
        "00002_Oxygen.txt",
    ]
    from qa_app import paths

    corpus = paths.home() / "tmp" / "eval"
    assert len(list(corpus.glob("squad-*/*.txt"))) == 3
    assert eval_cli.run(args, open_engine=fake_engines) == 0
    assert fake_engines.opened[1].name == first.name and fake_engines.opened[1].added == []
    out = capsys.readouterr().out
    assert "5 questions" in out and "has-answer F1" in out


def test_run_beir_is_retrieval_only(fake_engines, capsys) -> None:
    args = _args(str(FIXTURES / "beir"), "--json", "-k", "3")
    assert eval_cli.run(args, open_engine=fake_engines) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["em"] is None and summary["retrieval_judged"] == 2
    assert summary["recall"] == 1.0  # both queries share a word with a relevant abstract


def test_run_reader_only_uses_gold_paragraph(capsys) -> None:
    seen: list[str] = []

    def open_reader(args):
        def predict(item: EvalItem) -> Result:
            seen.append(item.context or "")
            word = (item.answers or ("",))[0]
            return _result(item.question, word or None, item.context or "")

        return predict

    args = _args(str(FIXTURES / "squad_v2.json"), "--reader-only", "--json")
    assert eval_cli.run(args, open_reader=open_reader) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["em"] == 1.0 and summary["noans"] == 1.0 and summary["recall"] is None
    assert len(seen) == 2 and seen[0].startswith("The Normans")


def test_reader_only_needs_contexts(capsys) -> None:
    assert eval_cli.run(_args(str(FIXTURES / "questions.jsonl"), "--reader-only")) == 2
    assert "--reader-only needs gold paragraphs" in capsys.readouterr().err


def test_help_lists_metric_names(capsys) -> None:
    with pytest.raises(SystemExit):
        _args("--help")
    text = capsys.readouterr().out
    for name in ("em", "f1", "noans", "sentence", "recall", "mrr", "ndcg", "latency"):
        assert re.search(rf"^\s+{name}\s", text, re.M), name


def test_cli_module_registers_eval() -> None:
    from qa_app.cli.commands import build_parser

    args = build_parser().parse_args(["eval", "q.jsonl", "--fail-under", "f1=0.6"])
    assert args.func is eval_cli.run and args.fail_under == [("f1", ">=", 0.6)]


# -- the real engine, over the fake embedder ------------------------------------------------------


def _real_engine(name, args):
    from qa_app.engine import Engine
    from qa_app.testing import FakeEmbedder

    return Engine(name, embedder=FakeEmbedder())


def test_real_engine_beir_library_is_deleted_unless_kept(capsys) -> None:
    from qa_app import paths
    from qa_app.engine import Engine

    args = _args(str(FIXTURES / "beir"), "-k", "3", "--json")
    assert eval_cli.run(args, open_engine=_real_engine) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["summary"]["recall"] == 1.0
    assert first["settings"]["library"].startswith("eval-beir-")
    assert Engine.libraries() == []  # built for the run, deleted after it
    assert not (paths.home() / "tmp" / "eval").exists() or not any(
        (paths.home() / "tmp" / "eval").iterdir()
    )

    args = _args(str(FIXTURES / "beir"), "-k", "3", "--json", "--keep-library")
    assert eval_cli.run(args, open_engine=_real_engine) == 0
    first = json.loads(capsys.readouterr().out)
    name = first["settings"]["library"]
    assert name in Engine.libraries() and name.startswith("eval-beir-")
    assert first["summary"]["recall"] == 1.0 and first["summary"]["retrieval_judged"] == 2
    with _real_engine(name, args) as engine:
        assert sorted(Path(d.path).name for d in engine.documents()) == [
            "d%2F3.txt",
            "d1.txt",
            "d2.txt",
        ]
    args.quiet = False
    assert eval_cli.run(args, open_engine=_real_engine) == 0
    assert "using library" in capsys.readouterr().err  # reused, not rebuilt


@pytest.mark.model  # loads the real reader (about 19 s)
def test_real_engine_jsonl_over_library(tmp_path: Path, capsys) -> None:
    pytest.importorskip("qa_app.answers")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    with _real_engine("evaltest", None) as engine:
        assert engine.add([docs]).ok
    questions = FIXTURES / "questions.jsonl"
    report = tmp_path / "report.json"
    args = _args(str(questions), "--library", "evaltest", "--report", str(report))
    assert eval_cli.run(args, open_engine=_real_engine) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [row["id"] for row in data["questions"]] == ["j1", "j2", "q0003"]
    assert data["settings"]["library"] == "evaltest" and data["settings"]["reader"]
    assert data["summary"]["recall"] == 1.0  # two small documents: every passage is retrieved
    assert data["summary"]["questions"] == 3
    assert "exact match" in capsys.readouterr().out

"""qa-app eval: gates in both directions, several files pooled, reader-only through assemble, plots."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from test_evaluation import FIXTURES, _args, fake_engines  # noqa: F401  (a fixture)

from qa_app.cli import eval_command as eval_cli
from qa_app.evaluation.formats import EvalItem
from qa_app.evaluation.metrics import ItemScore, summarize
from qa_app.evaluation.plots import plot_paths
from qa_app.evaluation.report import check_gates, failure_line, parse_gate
from qa_app.records import Passage, Span

JSONL = str(FIXTURES / "questions.jsonl")  # 3 questions: 2 answerable, 1 not
SQUAD1 = str(FIXTURES / "squad_v1.json")  # 5 answerable
SQUAD2 = str(FIXTURES / "squad_v2.json")  # 1 answerable, 1 not


# -- gates --------------------------------------------------------------------------------------


def test_gates_go_the_right_way() -> None:
    assert parse_gate("coverage@90=60%") == ("coverage_at_90", ">=", 0.6)
    assert parse_gate("coverage_at_80>=0.7", "<=") == ("coverage_at_80", ">=", 0.7)
    assert parse_gate("ece<=0.05") == ("ece", "<=", 0.05)
    assert parse_gate("ece=0.05", "<=") == ("ece", "<=", 0.05)
    assert parse_gate("em-aurc = 0.2", "<=") == ("em_aurc", "<=", 0.2)
    assert parse_gate("accuracy=0.9") == ("precision", ">=", 0.9)
    with pytest.raises(ValueError, match="ece should be low; gate it with --fail-over ece=X"):
        parse_gate("ece=0.05")
    with pytest.raises(ValueError, match="f1 should be high; gate it with --fail-under f1=X"):
        parse_gate("f1<=0.5")
    with pytest.raises(ValueError, match="METRIC=VALUE"):
        parse_gate("<=0.5")


def test_check_gates_both_ways_and_the_verdict() -> None:
    summary = {"ece": 0.07, "aurc": 0.04, "coverage_at_90": 0.5, "em": None, "f1": 0.4}
    gates = [
        ("ece", "<=", 0.05),
        ("aurc", "<=", 0.05),
        ("coverage_at_90", ">=", 0.6),
        ("em", ">=", 0.5),
        ("f1", ">=", 0.5),
    ]
    failures = check_gates(summary, gates)
    assert [(f.name, f.reason) for f in failures] == [
        ("ece", "above"),
        ("coverage_at_90", "below"),
        ("em", "unmeasured"),
        ("f1", "below"),
    ]
    assert failures[0].message == "ece = 0.070 is above the allowed 0.050"
    assert failure_line(failures) == (
        "eval failed: ece above the allowed maximum; coverage_at_90, f1 below the required "
        "minimum; em not measured for this set"
    )


def test_fail_over_and_selective_gates_on_a_run(fake_engines, capsys) -> None:  # noqa: F811
    # The fake engine answers j1 and j2 rightly at score 0.9 and finds nothing for q0003, so
    # ECE is |0.9 - 1| = 0.1 and two of the three questions are answered, all right.
    args = _args(JSONL, "--fail-under", "coverage@90=0.6", "--fail-over", "ece=0.05", "aurc=0")
    assert eval_cli.run(args, open_engine=fake_engines) == 1
    err = capsys.readouterr().err
    assert "FAILED: ece = 0.100 is above the allowed 0.050" in err
    assert "eval failed: ece above the allowed maximum" in err
    assert "coverage_at_90" not in err.split("eval failed")[1]  # 2/3 >= 0.6 passed
    args = _args(JSONL, "--fail-under", "coverage@90=0.6", "--fail-over", "ece<=0.11", "aurc=0")
    assert eval_cli.run(args, open_engine=fake_engines) == 0


def test_gate_of_the_wrong_direction_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _args(JSONL, "--fail-under", "ece=0.05")
    assert exit_info.value.code == 2
    assert "ece should be low; gate it with --fail-over" in capsys.readouterr().err


def test_beir_gate_on_em_says_only_not_measured(fake_engines, capsys) -> None:  # noqa: F811
    args = _args(str(FIXTURES / "beir"), "--fail-under", "em=0.5", "recall=0.5")
    assert eval_cli.run(args, open_engine=fake_engines) == 1
    err = capsys.readouterr().err
    assert "FAILED: em was not measured for this set" in err
    assert "eval failed: em not measured for this set" in err
    assert "below" not in err


def test_help_explains_selective_metrics_and_gates(capsys) -> None:
    with pytest.raises(SystemExit):
        _args("--help")
    text = " ".join(capsys.readouterr().out.split())
    for name in ("coverage_at_90", "em_coverage_at_80", "aurc", "ece", "precision", "refused"):
        assert f" {name} " in text, name
    assert "unanswerable) is wrong whenever it is answered" in text
    assert "the mean of risk over the sorted prefixes" in text
    assert "--fail-over NAME=X" in text and "--plot" in text


# -- several files in one call ------------------------------------------------------------------


def test_mixed_run_reports_each_file_and_pooled(fake_engines, tmp_path: Path, capsys) -> None:  # noqa: F811
    report = tmp_path / "mixed.json"
    args = _args(JSONL, SQUAD1, "--json", "--report", str(report))
    assert eval_cli.run(args, open_engine=fake_engines) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [f["summary"]["questions"] for f in printed["files"]] == [3, 5]
    assert printed["summary"]["questions"] == 8
    assert printed["settings"]["files"] == [JSONL, SQUAD1]
    assert printed["settings"]["format"] == "mixed: jsonl, squad"
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [row["file"] for row in data["questions"]] == [JSONL] * 3 + [SQUAD1] * 5
    # pooled = computed over all eight questions, not the mean of the two files' figures
    fields = set(ItemScore.__dataclass_fields__)
    rows = [
        ItemScore(**{k: tuple(v) if k == "gold" else v for k, v in q.items() if k in fields})
        for q in data["questions"]
    ]
    again = summarize(rows)
    for key in ("em", "f1", "coverage", "coverage_at_90", "aurc", "ece"):
        assert data["summary"][key] == pytest.approx(again[key]), key
    per_file = [f["summary"]["em"] for f in data["files"]]
    assert data["summary"]["em"] == pytest.approx((3 * per_file[0] + 5 * per_file[1]) / 8)
    assert data["summary"]["em"] != pytest.approx(sum(per_file) / 2)
    assert set(data["risk_coverage"]) == {"f1", "em"}
    assert all(set(f["risk_coverage"]) == {"f1", "em"} for f in data["files"])


def test_mixed_run_table_and_limit_per_file(fake_engines, capsys) -> None:  # noqa: F811
    args = _args(JSONL, SQUAD1, "--limit", "2")
    assert eval_cli.run(args, open_engine=fake_engines) == 0
    out = capsys.readouterr().out
    assert "questions.jsonl  (jsonl, 2 questions" in out
    assert "squad_v1.json  (squad, 2 questions" in out
    assert "all 2 files pooled  (mixed: jsonl, squad, 4 questions" in out


def test_bad_file_among_several_is_named_and_the_rest_runs(
    fake_engines,  # noqa: F811
    tmp_path: Path,
    capsys,
) -> None:
    missing = tmp_path / "nope.jsonl"
    assert eval_cli.run(_args(str(missing), JSONL), open_engine=fake_engines) == 2
    captured = capsys.readouterr()
    assert f"{missing}: no such file" in captured.err
    assert "going on with the other 1 file(s)" in captured.err
    assert "questions.jsonl  (jsonl, 3 questions" in captured.out


def test_reader_only_several_files_share_one_reader(capsys) -> None:
    opened: list[int] = []

    def open_reader(args):
        opened.append(1)
        from test_evaluation import _result

        def predict(item: EvalItem):
            word = (item.answers or ("",))[0]
            return _result(item.question, word or None, item.context or "")

        return predict

    args = _args(SQUAD1, SQUAD2, "--reader-only", "--json", "--limit", "4")
    assert eval_cli.run(args, open_reader=open_reader) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(opened) == 1
    assert [f["summary"]["questions"] for f in printed["files"]] == [4, 2]
    assert printed["summary"]["questions"] == 6 and printed["summary"]["em"] == 1.0


class _FakeReader:
    """Scores each question's first gold-like capitalised word by a fixed table."""

    name = "fake"
    threshold = 0.5

    def __init__(self, scores: dict[str, tuple[str, float]]) -> None:
        self.scores = scores

    def read(self, question: str, passages: list[Passage]) -> list[Span]:
        text, score = self.scores[question]
        start = passages[0].text.index(text)
        end = start + len(text)
        return [Span(0, start, end, text, score, 0, len(passages[0].text))]


def test_reader_only_goes_through_assemble(monkeypatch, tmp_path: Path, capsys) -> None:
    reader = _FakeReader(
        {
            "In what country is Normandy located?": ("France", 0.8),
            "Who gave their name to Normandy in the 1000's and 1100's": ("Normans", 0.3),
        }
    )
    monkeypatch.setattr("qa_app.reader.get_reader", lambda name, embedder: reader)
    monkeypatch.setattr("qa_app.models.embedding.MiniLMEmbedder", lambda: None)
    reader.scores["What is this?"] = ("warm-up", 0.1)  # the warm-up question
    report = tmp_path / "r.json"
    args = _args(SQUAD2, "--reader-only", "--report", str(report))
    monkeypatch.setenv("QA_APP_READER_PRECISION", "fp32")
    assert eval_cli.run(args) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["settings"]["threshold"] == 0.5 and data["settings"]["reader"] == "fake"
    assert data["settings"]["runtime"] == "onnx (reader fp32)"  # what the numbers were made on
    assert data["settings"]["calibrated"] is False  # no scorer: the reader's own scores
    rows = {row["id"]: row for row in data["questions"]}
    assert (rows["n1"]["predicted"], rows["n1"]["top"], rows["n1"]["top_score"]) == (
        "France",
        "France",
        0.8,
    )
    # refused at the reader's threshold 0.5, yet its top candidate is kept (and is wrong)
    assert rows["n2"]["predicted"] is None and rows["n2"]["top"] == "Normans"
    assert rows["n2"]["top_f1"] == 0.0 and data["summary"]["noans"] == 1.0
    assert data["summary"]["coverage"] == 0.5 and data["summary"]["precision"] == 1.0
    capsys.readouterr()
    args = _args(SQUAD2, "--reader-only", "--json", "--threshold", "0.2")
    assert eval_cli.run(args) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["noans"] == 0.0 and summary["coverage"] == 1.0  # the engine's threshold rule


def test_reader_only_scores_answers_like_the_engine(monkeypatch, tmp_path: Path) -> None:
    """A reader with a scorer (the calibrator) scores reader-only answers with it, as Engine.ask."""
    reader = _FakeReader(
        {
            "In what country is Normandy located?": ("France", 0.9),
            "Who gave their name to Normandy in the 1000's and 1100's": ("Normans", 0.9),
            "What is this?": ("warm-up", 0.9),
        }
    )
    seen: list[str] = []

    def scorer(question, group, others, passages):
        seen.append(group.text)
        return 0.7 if group.text == "France" else 0.2

    reader.scorer = lambda: scorer  # type: ignore[attr-defined]
    monkeypatch.setattr("qa_app.reader.get_reader", lambda name, embedder: reader)
    monkeypatch.setattr("qa_app.models.embedding.MiniLMEmbedder", lambda: None)
    report = tmp_path / "r.json"
    assert eval_cli.run(_args(SQUAD2, "--reader-only", "--report", str(report))) == 0
    data = json.loads(report.read_text())
    assert data["settings"]["calibrated"] is True
    rows = {row["id"]: row for row in data["questions"]}
    assert (rows["n1"]["predicted"], rows["n1"]["top_score"]) == ("France", 0.7)
    assert (rows["n2"]["predicted"], rows["n2"]["top_score"]) == (None, 0.2)  # below 0.5
    assert seen[-2:] == ["France", "Normans"]


# -- pictures -------------------------------------------------------------------------------------


def test_plot_paths_sit_beside_the_report() -> None:
    assert plot_paths("out/report.json") == (
        Path("out/report.risk_coverage.png"),
        Path("out/report.reliability.png"),
    )
    assert plot_paths("r")[0] == Path("r.risk_coverage.png")


def test_plot_needs_a_report(capsys) -> None:
    assert eval_cli.run(_args(JSONL, "--plot")) == 2
    assert "--plot draws next to the JSON report: give --report PATH" in capsys.readouterr().err


def test_plot_without_matplotlib_is_a_clear_error(monkeypatch, tmp_path: Path, capsys) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args):
        return None if name == "matplotlib" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    args = _args(JSONL, "--plot", "--report", str(tmp_path / "r.json"))
    assert eval_cli.run(args) == 2
    err = capsys.readouterr().err
    assert "--plot needs matplotlib" in err and "pip install 'qa-app[plot]'" in err
    assert not (tmp_path / "r.json").exists()  # refused before any question was asked


def test_plot_writes_two_pictures(fake_engines, tmp_path: Path, capsys) -> None:  # noqa: F811
    pytest.importorskip("matplotlib")
    report = tmp_path / "out" / "report.json"
    args = _args(JSONL, SQUAD1, "--report", str(report), "--plot")
    args.quiet = False
    assert eval_cli.run(args, open_engine=fake_engines) == 0
    curve, reliability = plot_paths(report)
    for picture in (curve, reliability):
        data = picture.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, picture
    assert f"plots written to {curve} and {reliability}" in capsys.readouterr().err


def test_eval_modules_do_not_import_the_cli() -> None:
    import ast

    import qa_app

    root = Path(qa_app.__file__).parent
    files = [root / "cli" / "eval_command.py", *sorted((root / "evaluation").glob("*.py"))]
    assert len(files) > 1, f"no evaluation modules under {root / 'evaluation'}"
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "qa_app.cli.commands" not in imported, path  # cli imports eval_cli: no circle back

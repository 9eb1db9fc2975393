"""A question or search scoped to a folder or a format: the engine, the retriever and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_app.cli import commands as cli
from qa_app.contracts import Scope
from qa_app.engine import Engine
from qa_app.testing import FakeEmbedder


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every Engine the CLI opens use the fast fake embedder."""
    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)


def two_cases(tmp_path: Path) -> Path:
    """Two case folders that both speak of the harbour, in text and Markdown files."""
    root = tmp_path / "cases"
    for case, captain in (("alpha", "Ahab"), ("beta", "Nemo")):
        folder = root / case
        folder.mkdir(parents=True)
        (folder / "log.txt").write_text(
            f"The harbour log of case {case} names Captain {captain}.", encoding="utf-8"
        )
        (folder / "notes.md").write_text(
            f"# Notes\n\nCase {case}: the harbour master met Captain {captain}.", encoding="utf-8"
        )
    return root


def test_search_and_ask_keep_to_their_scope(tmp_path: Path) -> None:
    root = two_cases(tmp_path)
    with Engine("scoped", embedder=FakeEmbedder(64)) as engine:
        engine.add([root])
        everything = engine.search("harbour captain", 10)
        assert {Path(p.path).parent.name for p in everything} == {"alpha", "beta"}
        alpha = Scope(folder=str(root / "alpha"))
        hits = engine.search("harbour captain", 10, scope=alpha)
        assert hits and all(Path(p.path).parent.name == "alpha" for p in hits)
        markdown = engine.search("harbour captain", 10, scope=Scope(formats=("md",)))
        assert markdown and all(p.path.endswith(".md") for p in markdown)
        both = Scope(folder=str(root / "beta"), formats=("txt",))
        [only] = engine.search("harbour captain", 10, scope=both)
        assert only.path == str(root / "beta" / "log.txt")
        result = engine.ask(
            "Which captain does the harbour log name?", scope=both, reader="sentence"
        )
        assert all(p.path == only.path for p in result.passages)
        assert engine.search("harbour", 10, scope=Scope(formats=("pdf",))) == []


def test_cli_in_and_type(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    root = two_cases(tmp_path)
    assert cli.main(["add", str(root), "--library", "c", "--quiet"]) == cli.EXIT_OK
    capsys.readouterr()
    argv = ["search", "harbour captain", "--library", "c", "--json"]
    assert cli.main([*argv, "--in", str(root / "alpha"), "--type", "md"]) == cli.EXIT_OK
    paths = {p["path"] for p in json.loads(capsys.readouterr().out)}
    assert paths == {str(root / "alpha" / "notes.md")}
    assert cli.main(["ask", "Who?", "--library", "c", "--in", str(root / "beta"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert all("/beta/" in p["path"] for p in data["passages"])
    assert cli.main(["search", "harbour", "--library", "c", "--in", str(tmp_path / "nope")]) == (
        cli.EXIT_USAGE
    )
    assert "no such folder" in capsys.readouterr().err
    assert cli.main(["search", "harbour", "--library", "c", "--type", "pdf"]) == cli.EXIT_OK
    assert "no passages found in PDF files" in capsys.readouterr().out

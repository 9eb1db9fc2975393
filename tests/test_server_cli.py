"""Every command on a team library: `--server` once, then the library's name is enough."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from server_kit import PgServer, unique_name

from qa_app.cli.commands import main
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


def test_commands_on_a_team_library(
    pg_server: PgServer,
    tmp_path: Path,
    fake_engine: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("The harbour of Valdoria was closed in March.", encoding="utf-8")
    (folder / "b.txt").write_text("The mayor of Valdoria is Ines Moreau.", encoding="utf-8")
    name = unique_name()
    assert main(["add", "--server", pg_server.socket_dsn, "-l", name, "-q", str(folder)]) == 0
    capsys.readouterr()

    assert main(["list", "-l", name, "--json"]) == 0  # the server is remembered by name
    docs = json.loads(capsys.readouterr().out)
    assert sorted(Path(d["path"]).name for d in docs) == ["a.txt", "b.txt"]
    assert main(["search", "-l", name, "--json", "mayor of Valdoria"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert Path(hits[0]["path"]).name == "b.txt"
    doc = next(d for d in docs if d["path"].endswith("a.txt"))
    assert main(["show", "-l", name, "--text", str(doc["id"])]) == 0
    assert capsys.readouterr().out == "The harbour of Valdoria was closed in March."
    assert main(["ask", "-l", name, "--reader", "sentence", "Who is the mayor?"]) == 0
    assert "Ines Moreau" in capsys.readouterr().out
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "Who is the mayor?", "answers": ["Ines Moreau"]}))
    assert main(["eval", "-q", "-l", name, "--reader", "sentence", "--json", str(questions)]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["questions"] == 1
    assert main(["sync", "-l", name]) == 0
    assert "unchanged 2" in capsys.readouterr().out
    assert main(["rebuild", "-l", name, "-q"]) == 0
    assert main(["remove", "-l", name, str(folder / "a.txt")]) == 0
    capsys.readouterr()
    assert main(["libraries"]) == 0
    out = capsys.readouterr().out
    assert f"{name}  (team library on postgresql://postgres@/postgres?host=" in out
    assert main(["--server", pg_server.socket_dsn, "libraries"]) == 0
    assert name in capsys.readouterr().out.split()

    seen: list[str] = []
    monkeypatch.setattr("qa_app.gui.app.no_display", lambda: "")
    monkeypatch.setattr("qa_app.gui.app.main", lambda argv: seen.append("gui") or 0)
    monkeypatch.setattr("qa_app.gui.settings.AppSettings", _Settings)
    other = unique_name()
    assert main(["gui", "--server", pg_server.socket_dsn, "-l", other]) == 0
    assert seen == ["gui"] and _Settings.opened == other
    with Engine(other) as eng:  # the window opens the library by its name: on the server
        assert eng.server is not None and eng.documents() == []


class _Settings:
    """The window's settings, recording the library it is told to open."""

    opened: str | None = None

    @property
    def library(self) -> str | None:
        return _Settings.opened

    @library.setter
    def library(self, name: str) -> None:
        _Settings.opened = name

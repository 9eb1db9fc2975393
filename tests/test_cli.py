"""The qa-app command over a library built with the fake embedder (fast) and the real model (marked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa_app import cli
from qa_app.embedding import FakeEmbedder
from qa_app.engine import Engine


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every Engine the CLI opens use the fast fake embedder."""
    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)


def folder_with(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_add_list_search_remove(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_with(tmp_path, **{"a.txt": "Owls hunt at night.", "b.txt": "Bees make honey."})
    assert cli.main(["add", str(folder), "--library", "t", "-q"]) == 0
    assert cli.main(["list", "--library", "t"]) == 0
    out = capsys.readouterr().out
    assert "a.txt" in out and "b.txt" in out and "2 documents" in out
    assert cli.main(["search", "honey bees", "--library", "t", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert Path(hits[0]["path"]).name == "b.txt"
    assert {"start", "end", "page", "score"} <= set(hits[0])
    assert cli.main(["remove", str(folder / "a.txt"), "--library", "t"]) == 0
    assert cli.main(["libraries"]) == 0
    assert "t" in capsys.readouterr().out.split()


def test_failed_files_set_exit_status_and_are_named(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_with(tmp_path, **{"good.txt": "Fine text here.", "empty.txt": ""})
    assert cli.main(["add", str(folder), "--library", "t"]) == cli.EXIT_FAILED_FILES
    err = capsys.readouterr().err
    assert "empty.txt" in err and "error:" in err


def test_sync_unchanged(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_with(tmp_path, **{"a.txt": "Owls hunt at night."})
    cli.main(["add", str(folder), "--library", "t", "-q"])
    capsys.readouterr()
    assert cli.main(["sync", "--library", "t"]) == 0
    assert "unchanged 1" in capsys.readouterr().out


def test_busy_library_is_a_clear_error(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_with(tmp_path, **{"a.txt": "Owls hunt at night."})
    with Engine("t", embedder=FakeEmbedder()) as eng, eng.library.writer():
        assert cli.main(["add", str(folder), "--library", "t"]) == cli.EXIT_BUSY
    assert "being updated" in capsys.readouterr().err


def test_bad_library_name(fake_engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--library", "../x"]) == cli.EXIT_USAGE
    assert "invalid library name" in capsys.readouterr().err


@pytest.mark.model
def test_search_first_shipment_on_seed_library() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "qa_app.cli", "search", "first shipment", "-k", "3"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert "004_71c8a87dcccb59d2.txt" in first
    assert "first shipment" in out.stdout


def test_damaged_reader_weights_are_an_error_message_not_a_crash(
    tmp_path: Path,
    fake_engine: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from qa_app.reader import neural

    damaged = tmp_path / "reader"
    damaged.mkdir()
    (damaged / neural.META_FILE).write_text(
        (neural.RESOURCE_DIR / neural.META_FILE).read_text(encoding="utf-8"), encoding="utf-8"
    )
    (damaged / neural.WEIGHTS_FILE).write_bytes(b"\0" * 1024)
    monkeypatch.setattr(neural, "RESOURCE_DIR", damaged)
    folder = folder_with(tmp_path, **{"a.txt": "The harbour opened in 1901."})
    assert cli.main(["add", str(folder), "--library", "t", "-q"]) == 0
    capsys.readouterr()
    code = cli.main(["ask", "When did the harbour open?", "--library", "t", "--reader", "neural"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.startswith("error: ") and "SHA-256" in err and "Traceback" not in err


def test_gui_command_passes_the_files_to_add_to_the_window(monkeypatch):
    import qa_app.gui.app

    seen: list[list[str]] = []
    monkeypatch.setattr(qa_app.gui.app, "main", lambda argv: seen.append(list(argv)) or 0)
    assert cli.main(["gui", "report.pdf", "notes"]) == 0
    assert cli.main([]) == 0  # no command opens the window too, with nothing to add
    assert seen == [["qa-app", "report.pdf", "notes"], ["qa-app"]]

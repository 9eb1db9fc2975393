"""The qa-app command over a library built with the fake embedder (fast) and the real model (marked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa_app.cli import commands as cli
from qa_app.engine import Engine
from qa_app.render import plural
from qa_app.testing import FakeEmbedder


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
        [sys.executable, "-m", "qa_app.cli.commands", "search", "first shipment", "-k", "3"],
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


# -- argument checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "x", "-k", "0"],
        ["search", "x", "-k", "-5"],
        ["ask", "x", "-k", "0"],
        ["ask", "x", "-k", "-5"],
        ["ask", "x", "--threshold", "2"],
        ["ask", "x", "--threshold", "-0.1"],
        ["ask", "x", "--threshold", "nan"],
        ["libraries", "--library", "x"],
        ["libraries", "-q"],
    ],
)
def test_meaningless_arguments_are_refused(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == cli.EXIT_USAGE
    assert "error:" in capsys.readouterr().err


def test_threshold_bounds_are_accepted() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["ask", "x", "--threshold", "0"]).threshold == 0.0
    assert parser.parse_args(["ask", "x", "--threshold", "1"]).threshold == 1.0
    assert parser.parse_args(["search", "x", "-k", "1"]).k == 1


def test_empty_search_is_an_error_like_an_empty_question(
    fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["search", "  ", "--library", "t"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == "error: the search query is empty\n"
    assert cli.main(["ask", "", "--library", "t"]) == cli.EXIT_USAGE
    assert "empty" in capsys.readouterr().err


def test_global_options_before_or_after_the_command(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_with(tmp_path, **{"a.txt": "The harbour of Valdoria opened in 1901."})
    assert cli.main(["--library", "before", "-q", "add", str(folder)]) == 0
    assert cli.main(["-l", "before", "list"]) == 0
    assert capsys.readouterr().out.endswith("1 document in library 'before'\n")
    assert cli.main(["list", "--library", "before"]) == 0
    assert capsys.readouterr().out.endswith("1 document in library 'before'\n")
    # Given after the command, it wins over the one before it.
    assert cli.main(["-l", "other", "list", "-l", "before", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    parser = cli.build_parser()
    assert parser.parse_args(["-q", "list"]).quiet is True
    assert parser.parse_args(["list"]).quiet is False
    assert parser.parse_args(["list"]).library is None


def test_counts_are_singular_for_one(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_with(tmp_path, **{"a.txt": "The harbour of Valdoria opened in 1901."})
    assert cli.main(["add", str(folder), "--library", "one"]) == 0
    out = capsys.readouterr().out
    assert "1 passage embedded" in out and "1 passages" not in out
    assert cli.main(["list", "--library", "one"]) == 0
    out = capsys.readouterr().out
    assert " 1 passage  " in out and "1 documents" not in out
    assert plural(1, "document") == "1 document"
    assert plural(0, "document") == "0 documents"
    assert plural(2, "passage") == "2 passages"


def test_library_names_may_use_letters_of_any_alphabet(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa_app import paths

    folder = folder_with(tmp_path, **{"a.txt": "The harbour of Valdoria opened in 1901."})
    assert cli.main(["add", str(folder), "--library", "Café", "-q"]) == 0
    assert cli.main(["list", "-l", "Cafe\u0301"]) == 0  # the same name, decomposed
    assert "in library" in capsys.readouterr().out
    assert cli.main(["libraries"]) == 0
    assert "Café" in capsys.readouterr().out.splitlines()
    assert paths.check_library_name("Отчёты 2024") == "Отчёты 2024"
    for bad in ("../x", "_x", "a/b", "x" * 65, " x"):
        with pytest.raises(ValueError, match=r"letters \(of any alphabet\), digits"):
            paths.check_library_name(bad)


def test_gui_takes_a_library(monkeypatch: pytest.MonkeyPatch) -> None:
    import qa_app.gui.app
    from qa_app.gui.settings import AppSettings

    opened: list[str | None] = []
    monkeypatch.setattr(
        qa_app.gui.app, "main", lambda argv: opened.append(AppSettings().library) or 0
    )
    assert cli.main(["gui", "--library", "reports"]) == 0
    assert cli.main(["--library", "notes"]) == 0
    assert opened == ["reports", "notes"]
    assert cli.main(["gui", "--library", "../x"]) == cli.EXIT_USAGE


def test_no_display_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import qa_app.gui.app

    monkeypatch.setattr(qa_app.gui.app, "main", lambda argv: pytest.fail("Qt was started"))
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main([]) == cli.EXIT_USAGE
    assert cli.main(["gui"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("error: no display to open the window on")


def test_no_display_check_in_a_real_process(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["QA_APP_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "qa_app.cli.commands"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux")
    assert out.returncode == cli.EXIT_USAGE
    assert out.stderr.startswith("error: no display") and out.stderr.count("\n") == 1


def test_show_prints_the_text_that_offsets_point_into(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Harbour news\n\nThe harbour of Valdoria opened in 1901, the port authority said."
    folder = folder_with(tmp_path, **{"a.txt": text})
    assert cli.main(["add", str(folder), "-l", "s", "-q"]) == 0
    capsys.readouterr()
    assert cli.main(["search", "Valdoria", "-l", "s", "--json"]) == 0
    passage = json.loads(capsys.readouterr().out)[0]
    assert cli.main(["show", str(passage["doc_id"]), "-l", "s", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["path"] == str(folder / "a.txt") and shown["id"] == passage["doc_id"]
    assert shown["text"][passage["start"] : passage["end"]] == passage["text"]
    assert cli.main(["show", str(folder / "a.txt"), "-l", "s", "--text"]) == 0
    assert capsys.readouterr().out == shown["text"]
    assert cli.main(["show", str(folder / "a.txt"), "-l", "s"]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("Harbour news\n")
        and "1 passage" in out
        and out.endswith(shown["text"] + "\n")
    )
    assert cli.main(["show", "nothing.txt", "-l", "s"]) == cli.EXIT_USAGE
    assert "no document 'nothing.txt'" in capsys.readouterr().err


@pytest.mark.model
def test_who_wrote_it_is_answered_from_a_byline_and_front_matter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "article.html").write_text(
        "<html><head><title>Harbour reopens</title></head><body><article>"
        "<h1>Harbour reopens after repairs</h1><p class='byline'>By Jane Smith</p>"
        "<p>The city harbour of Valdoria reopened on Monday after a week of repairs, the port "
        "authority said. Ships waiting offshore began to enter at dawn.</p></article></body></html>",
        encoding="utf-8",
    )
    (folder / "notes.md").write_text(
        "---\ntitle: Crane report\nauthor: Omar Haddad\n---\n"
        "# Crane report\n\nThe damaged crane on the east side was replaced in May.\n",
        encoding="utf-8",
    )
    assert cli.main(["add", str(folder), "-l", "authors", "-q"]) == 0
    capsys.readouterr()
    for question, who in [
        ("Who wrote the article about the harbour reopening?", "Jane Smith"),
        ("Who is the author of the crane report?", "Omar Haddad"),
    ]:
        assert cli.main(["ask", question, "-l", "authors", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        # The byline's text was kept and read: the best candidate is the author, whatever its
        # verdict (an answer, a possible answer, or the closest candidate of "not found").
        best = result["answer"] or result["possible_answer"] or result["closest"]
        assert best["text"] == who, result


def test_the_window_entry_point_without_a_display_is_a_one_line_error(tmp_path: Path) -> None:
    """`qa-app-gui` (the desktop launcher's entry) checks for a display before Qt starts."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["QA_APP_HOME"] = str(tmp_path)
    code = "import sys; from qa_app.gui.app import main; sys.exit(main(['qa-app-gui']))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 2
    assert out.stderr.startswith("qa-app-gui: no display") and out.stderr.count("\n") == 1


def test_eval_threshold_outside_zero_to_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["eval", "seeds/questions.jsonl", "--threshold", "2"])
    assert stopped.value.code == cli.EXIT_USAGE
    assert "--threshold: must be between 0 and 1" in capsys.readouterr().err

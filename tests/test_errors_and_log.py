"""One base class for the errors a person sees; anything else is a bug, told in one line with its
traceback in the rotating log file (which never fails the app)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from qa_app import logfile, paths
from qa_app.cli import commands as cli
from qa_app.cli.arguments import UsageError
from qa_app.errors import AlreadyExists, InvalidInput, NotFound, QaAppError
from qa_app.evaluation.formats import EvalFormatError
from qa_app.index.database import StoreDamaged, StoreError, StoreMissing
from qa_app.index.locking import LibraryBusy
from qa_app.index.reads import keyword_search
from qa_app.ingest.errors import IngestError
from qa_app.ingest.ocr import OcrUnavailable
from qa_app.models.weights import ModelError
from qa_app.reader.calibrator import CalibratorError
from qa_app.reader.neural import ReaderModelError
from qa_app.server.settings import ServerError

# Each error a person may be shown, with the builtin it derived from before (still caught by it).
USER_ERRORS: list[tuple[type[Exception], type[Exception]]] = [
    (StoreError, RuntimeError),
    (StoreMissing, RuntimeError),
    (StoreDamaged, RuntimeError),
    (ServerError, RuntimeError),
    (LibraryBusy, RuntimeError),
    (ModelError, RuntimeError),
    (ReaderModelError, RuntimeError),
    (CalibratorError, ValueError),
    (IngestError, Exception),
    (OcrUnavailable, RuntimeError),
    (EvalFormatError, ValueError),
    (UsageError, Exception),
    (InvalidInput, ValueError),
    (NotFound, KeyError),
    (AlreadyExists, FileExistsError),
]


@pytest.mark.parametrize(("error", "builtin"), USER_ERRORS, ids=lambda c: c.__name__)
def test_every_user_facing_error_derives_from_the_base_and_its_old_builtin(error, builtin) -> None:
    assert issubclass(error, QaAppError)
    assert issubclass(error, builtin)  # `except RuntimeError` and the like still catch it


def test_the_message_is_said_as_given() -> None:
    # KeyError's own str quotes its message ("'there is no library called x'").
    assert str(NotFound("there is no library called 'x'")) == "there is no library called 'x'"
    assert str(AlreadyExists("a library called 'x' already exists")).startswith("a library")
    assert str(IngestError("/a/b.pdf", "not a PDF")) == "/a/b.pdf: not a PDF"


def test_a_bad_library_name_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="invalid library name"):
        paths.check_library_name("../x")


def test_the_engine_and_the_readers_raise_the_user_facing_errors() -> None:
    from qa_app.engine import Engine
    from qa_app.reader import get_reader

    with pytest.raises(InvalidInput, match="unknown reader 'nope'"):
        get_reader("nope", None)  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="there is no library called 'nosuch'"):
        Engine.delete_library("nosuch")
    for name in ("a", "b"):
        paths.library_dir(name).mkdir(parents=True)
        (paths.library_dir(name) / "library.db").touch()
    with pytest.raises(AlreadyExists, match="a library called 'b' already exists"):
        Engine.rename_library("a", "b")
    with pytest.raises(NotFound):
        Engine.rename_library("c", "d")


def test_a_user_error_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--library", "../x"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: invalid library name '../x'")
    assert len(err.splitlines()) == 1
    assert cli.main(["list", "--library", "nosuch"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nosuch" in err and len(err.splitlines()) == 1


def test_an_operating_system_error_is_one_line_and_a_warning_in_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full_disk(args: object) -> int:
        raise OSError(28, "No space left on device", "/data/x")

    monkeypatch.setattr(cli, "cmd_list", full_disk)
    assert cli.main(["list"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == ["error: /data/x: No space left on device"]
    assert "WARNING qa_app.cli.commands" in logfile.log_file().read_text(encoding="utf-8")


def _raise_key_error(args: object) -> int:
    raise KeyError("x")


def test_a_bug_is_one_line_naming_the_log_with_the_traceback_in_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "cmd_list", _raise_key_error)
    assert cli.main(["list"]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    log = logfile.log_file()
    assert err.splitlines() == [
        f"error: an unexpected error (a bug in qa-app): KeyError: x; the details are in {log}"
    ]
    text = log.read_text(encoding="utf-8")
    assert "ERROR qa_app [" in text and "running 'qa-app list'" in text
    assert "Traceback (most recent call last)" in text and "_raise_key_error" in text


def test_without_a_log_folder_a_bug_prints_its_traceback_and_commands_still_work(
    qa_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (qa_home / "logs").write_text("not a folder")  # so nothing can be written under it
    assert cli.main(["libraries"]) == cli.EXIT_OK
    assert cli.main(["list", "--library", "../x"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "Logging error" not in err and len(err.splitlines()) == 2  # "no libraries", the error
    monkeypatch.setattr(cli, "cmd_list", _raise_key_error)
    assert cli.main(["list"]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert err.startswith("error: an unexpected error (a bug in qa-app): KeyError: x; no log file")
    assert "Traceback (most recent call last)" in err and "Logging error" not in err


def test_version_names_the_log_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert f"log file: {logfile.log_file()}" in out
    assert logfile.log_file().parent == paths.home() / "logs"


def test_warnings_are_logged_by_default_and_details_with_verbose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logfile.install()
    logging.getLogger("qa_app.test").info("a detail")
    logging.getLogger("qa_app.test").warning("a warning")
    text = logfile.log_file().read_text(encoding="utf-8")
    assert "a warning" in text and "a detail" not in text
    assert cli.main(["-v", "libraries"]) == cli.EXIT_OK
    logging.getLogger("qa_app.test").info("another detail")
    text = logfile.log_file().read_text(encoding="utf-8")
    assert "another detail" in text and "INFO qa_app.cli.commands" in text


@pytest.mark.parametrize(
    ("value", "level"),
    [("", logging.WARNING), ("error", logging.ERROR), ("DEBUG", 10), ("nonsense", 30), ("0", 10)],
)
def test_the_level_comes_from_the_environment(monkeypatch, value: str, level: int) -> None:
    monkeypatch.setenv(logfile.LEVEL_ENV, value)
    assert logfile.log_level() == level
    assert logfile.log_level(verbose=True) == logging.DEBUG


def test_document_text_in_a_log_line_is_data() -> None:
    logfile.install()
    name = "evil\x1b]52;c;aGk=\x07.txt\nERROR forged line"
    logging.getLogger("qa_app.test").warning("cannot read %s", name)
    lines = logfile.log_file().read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and "\x1b" not in lines[0] and "\x07" not in lines[0]
    assert "evil\\x1b]52;c;aGk=\\x07.txt\\x0aERROR forged line" in lines[0]


def test_the_log_rotates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logfile, "MAX_BYTES", 2_000)
    monkeypatch.setenv("QA_APP_HOME", str(paths.home() / "elsewhere"))  # a new handler
    logfile.install()
    for n in range(200):
        logging.getLogger("qa_app.test").warning("line %d %s", n, "x" * 50)
    files = sorted(p.name for p in logfile.log_file().parent.iterdir())
    assert files == ["qa-app.log", "qa-app.log.1", "qa-app.log.2", "qa-app.log.3"]
    assert all(p.stat().st_size <= 2_000 for p in logfile.log_file().parent.iterdir())
    assert "line 199 " in logfile.log_file().read_text(encoding="utf-8")


class _Database:
    def __init__(self, error: str) -> None:
        self.error = error

    def query(self, sql: str, args: object) -> list[tuple[int, float]]:
        raise sqlite3.OperationalError(self.error)


@pytest.mark.parametrize(
    "error",
    [
        'fts5: syntax error near ""',
        "unterminated string",
        "no such column: x",
        "unknown special query: ",
    ],
)
def test_a_match_expression_fts5_cannot_parse_finds_nothing(error: str) -> None:
    assert keyword_search(_Database(error), '"owls', 5) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error", ["no such table: chunks_fts", "database is locked", "disk I/O error"]
)
def test_other_search_errors_are_not_no_hits(error: str) -> None:
    with pytest.raises(sqlite3.OperationalError, match=error):
        keyword_search(_Database(error), '"owls"', 5)  # type: ignore[arg-type]

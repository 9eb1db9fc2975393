"""Full disks, locked and missing databases: one line that says what and where, exit status 2,
and the library still reads afterwards."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from qa_app.cli import commands as cli
from qa_app.engine import Engine
from qa_app.index import database
from qa_app.index import schema as store_schema
from qa_app.testing import FakeEmbedder


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)


def docs(folder: Path, n: int, word: str = "harbour") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{word}{i}.txt").write_text(
            f"The {word} master {i} logged the ships. " * 40, encoding="utf-8"
        )
    return folder


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_full_disk_is_one_line_exit_2_and_the_library_still_reads(
    tmp_path: Path,
    qa_home: Path,
    fake_engine: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["add", "-q", "--library", "lib", str(docs(tmp_path / "a", 3))]) == 0
    original = store_schema.create

    def full_disk(db: sqlite3.Connection) -> None:  # the database may not grow any more
        original(db)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(store_schema, "create", full_disk)
    capsys.readouterr()
    rc = cli.main(["add", "-q", "--library", "lib", str(docs(tmp_path / "b", 30, "lighthouse"))])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 2
    assert "disk is full" in line and str(qa_home / "libraries" / "lib") in line
    monkeypatch.setattr(store_schema, "create", original)

    assert cli.main(["list", "--library", "lib"]) == 0
    listed = capsys.readouterr().out
    assert "harbour0.txt" in listed and "lighthouse" not in listed
    assert cli.main(["search", "harbour master", "--library", "lib"]) == 0
    assert "harbour" in capsys.readouterr().out
    assert not list((qa_home / "libraries" / "lib").glob("*.tmp"))
    # Space is back: the same command finishes the work.
    assert cli.main(["add", "-q", "--library", "lib", str(tmp_path / "b")]) == 0


def test_a_full_disk_while_writing_the_manifest_leaves_no_temporary_file(
    tmp_path: Path,
    qa_home: Path,
    fake_engine: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import qa_app.index.library

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(qa_app.index.library.os, "fsync", no_space)
    rc = cli.main(["add", "-q", "--library", "lib", str(docs(tmp_path / "a", 2))])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 2 and "disk is full" in line
    folder = qa_home / "libraries" / "lib"
    assert not list(folder.glob("*.tmp")) and not (folder / "manifest.json").exists()
    monkeypatch.undo()
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        assert eng.documents() == []  # nothing was indexed, and opening did not fail


def test_a_locked_database_is_one_line_exit_2(
    tmp_path: Path,
    fake_engine: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["add", "-q", "--library", "lib", str(docs(tmp_path / "a", 2))]) == 0
    monkeypatch.setattr(database, "BUSY_TIMEOUT", 0.2)
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        other = sqlite3.connect(eng.library.store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program writing and not letting go
    try:
        capsys.readouterr()
        rc = cli.main(["add", "-q", "--library", "lib", str(docs(tmp_path / "b", 2, "owl"))])
        line = one_error_line(capsys.readouterr().err)
        assert rc == 2 and "locked" in line and "library.db" in line
        assert cli.main(["search", "harbour", "--library", "lib"]) == 0  # reads go on
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_missing_library_is_an_error_with_a_suggestion_except_for_add(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["add", "-q", "--library", "mine", str(docs(tmp_path / "a", 1))]) == 0
    for argv in (["list"], ["search", "harbour"], ["ask", "Who?"], ["sync"], ["remove", "x"]):
        capsys.readouterr()
        assert cli.main([*argv, "--library", "mnie"]) == 2
        line = one_error_line(capsys.readouterr().err)
        assert "no library called 'mnie'" in line and "did you mean 'mine'" in line
    assert "mnie" not in Engine.libraries()

"""A damaged library database is one line (damaged, where, what to do) from every command;
`qa-app repair` rebuilds it from its files and keeps the damaged file; a half-created one is
finished; ingestion never blames an input file for the database's fault."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from qa_app import engine as engine_module
from qa_app.cli import commands as cli
from qa_app.engine import Engine
from qa_app.index import writes
from qa_app.testing import FakeEmbedder


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)
    monkeypatch.setattr(engine_module, "MiniLMEmbedder", FakeEmbedder)


def docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    topics = ("harbour", "lighthouse", "orchard", "glacier")
    for i, topic in enumerate(topics):
        (folder / f"{topic}.txt").write_text(
            f"The {topic} keeper number {i} wrote the {topic} report at dawn. " * 30,
            encoding="utf-8",
        )
    return folder


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def control(capsys: pytest.CaptureFixture[str]) -> str:
    """The control question: the top passage for a query, as `search` prints it."""
    capsys.readouterr()
    assert cli.main(["search", "-q", "-l", "lib", "-k", "1", "orchard keeper report"]) == 0
    return capsys.readouterr().out.splitlines()[0]


def flip_header(db: Path) -> None:
    with open(db, "r+b") as handle:
        handle.write(b"\xff" * 16)


def truncate(db: Path) -> None:
    with open(db, "r+b") as handle:
        handle.truncate(db.stat().st_size * 2 // 3)


def scramble_pages(db: Path) -> None:
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for at in range(page, len(data), page):  # every page but the first (the schema)
        data[at : at + page] = bytes((7 * i + at) % 251 for i in range(page))
    db.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "header flipped": flip_header,
    "truncated": truncate,
    "malformed pages": scramble_pages,
}


def library_db(home: Path) -> Path:
    return home / "libraries" / "lib" / "library.db"


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_command_says_the_library_is_damaged_in_one_line(
    damage: str,
    tmp_path: Path,
    qa_home: Path,
    fake_engine: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = docs(tmp_path / "docs")
    assert cli.main(["add", "-q", "-l", "lib", str(folder)]) == 0
    DAMAGE[damage](library_db(qa_home))
    (folder / "new.txt").write_text("A new report about quarries.", encoding="utf-8")
    for argv in (["list"], ["search", "keeper"], ["ask", "Who wrote?"], ["sync"], ["add", str(folder)], ["show", "1"]):  # fmt: skip
        capsys.readouterr()
        assert cli.main([*argv, "-l", "lib"]) == 2, argv
        line = one_error_line(capsys.readouterr().err)
        assert "damaged" in line and str(library_db(qa_home)) in line, (argv, line)
        assert "qa-app repair --library lib" in line
        assert "new.txt" not in line  # the database's fault, not the file's


def test_repair_rebuilds_from_the_added_folders_and_keeps_the_damaged_file(
    tmp_path: Path, qa_home: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = docs(tmp_path / "docs")
    assert cli.main(["add", "-q", "-l", "lib", str(folder)]) == 0
    before = control(capsys)
    damaged = library_db(qa_home).read_bytes()
    flip_header(library_db(qa_home))
    flipped = library_db(qa_home).read_bytes()
    capsys.readouterr()
    assert cli.main(["repair", "-q", "-l", "lib"]) == 0
    out, err = capsys.readouterr()
    assert "recovered 1 added file or folder" in out and "Traceback" not in err
    kept = list(library_db(qa_home).parent.glob("library.db.damaged-*[0-9]"))
    assert len(kept) == 1 and kept[0].read_bytes() == flipped != damaged
    assert control(capsys) == before  # the library answers as it did
    assert cli.main(["list", "-l", "lib"]) == 0
    assert "4 documents" in capsys.readouterr().out


def test_repair_reports_what_could_not_be_recovered(
    tmp_path: Path, qa_home: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = docs(tmp_path / "docs")
    single = tmp_path / "single.txt"
    single.write_text("A lone report about the orchard keeper.", encoding="utf-8")
    assert cli.main(["add", "-q", "-l", "lib", str(folder), str(single)]) == 0
    single.unlink()  # its file is gone: it cannot come back
    (library_db(qa_home).parent / "roots.json").unlink()  # as in a library made before it
    scramble_pages(library_db(qa_home))
    capsys.readouterr()
    rc = cli.main(["repair", "-q", "-l", "lib"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert "could not be read from the damaged database" in err  # its tables are scrambled
    assert "add the library's files and folders again" in err
    assert list(library_db(qa_home).parent.glob("library.db.damaged-*"))
    assert cli.main(["list", "-l", "lib"]) == 0  # an empty library, but a working one
    assert cli.main(["add", "-q", "-l", "lib", str(folder)]) == 0


def test_a_half_created_library_is_finished_by_the_next_command(
    tmp_path: Path,
    qa_home: Path,
    fake_engine: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = library_db(qa_home)
    db.parent.mkdir(parents=True)
    db.write_bytes(b"")  # a disk that filled up while the library was being made
    assert cli.main(["list", "-l", "lib"]) == 0
    assert "0 documents" in capsys.readouterr().out
    assert cli.main(["add", "-q", "-l", "lib", str(docs(tmp_path / "docs"))]) == 0
    assert control(capsys).startswith(" 1. orchard")


def test_a_library_with_no_tables_is_finished_too(
    tmp_path: Path, qa_home: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    db = library_db(qa_home)
    db.parent.mkdir(parents=True)
    sqlite3.connect(db).execute("PRAGMA user_version = 1").connection.close()
    assert cli.main(["search", "-l", "lib", "anything"]) == 0
    assert cli.main(["add", "-q", "-l", "lib", str(docs(tmp_path / "docs"))]) == 0


def test_ingestion_never_blames_a_file_for_a_database_error(
    tmp_path: Path,
    qa_home: Path,
    fake_engine: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = docs(tmp_path / "docs")

    def broken(*args: object, **kw: object) -> int:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(writes, "put_document", broken)
    assert cli.main(["add", "-q", "-l", "lib", str(folder)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "damaged" in line and "library.db" in line and ".txt" not in line
    monkeypatch.undo()
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        assert not [d for d in eng.documents() if d.status == "failed"]  # no file blamed


@pytest.mark.parametrize("damage", [truncate, scramble_pages])
def test_repair_takes_the_added_folders_from_roots_json_when_the_database_lost_them(
    tmp_path: Path,
    qa_home: Path,
    fake_engine: None,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], None],
) -> None:
    folder = docs(tmp_path / "docs")
    assert cli.main(["add", "-q", "-l", "lib", str(folder)]) == 0
    assert cli.main(["remove", "-l", "lib", str(folder / "glacier.txt")]) == 0  # an exclusion
    before = control(capsys)
    roots = library_db(qa_home).parent / "roots.json"
    assert str(folder.resolve()) in roots.read_text(encoding="utf-8")
    damage(library_db(qa_home))
    capsys.readouterr()
    cli.main(["repair", "-q", "-l", "lib"])
    out, err = capsys.readouterr()
    assert "recovered 1 added file or folder" in out and "Traceback" not in err
    assert "add the library's files and folders again" not in err
    assert control(capsys) == before
    assert cli.main(["list", "-l", "lib"]) == 0
    listing = capsys.readouterr().out
    assert "3 documents" in listing and "excluded" in listing  # the exclusion came back too

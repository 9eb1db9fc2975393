"""Folder semantics: exclusions inside added folders, vanished files, failures not retried."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa_app.engine import Engine
from qa_app.testing import FakeEmbedder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    write(root / "a.txt", "Alpha report about owls.")
    write(root / "b.txt", "Beta report about bees.")
    write(root / "sub" / "c.txt", "Gamma report about cats.")
    return root.resolve()


def names(eng: Engine, status: str | None = None) -> set[str]:
    return {
        Path(d.path).name
        for d in eng.documents()
        if (status is None and d.status != "excluded") or d.status == status
    }


def test_removing_a_file_inside_an_added_folder_excludes_it_until_added_again(
    folder: Path,
) -> None:
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([folder])
        assert eng.remove([folder / "b.txt"]) == [str(folder / "b.txt")]
        assert names(eng) == {"a.txt", "c.txt"} and names(eng, "excluded") == {"b.txt"}
        report = eng.sync()
        assert not report.added and names(eng) == {"a.txt", "c.txt"}  # sync keeps it out
        assert all("bees" not in p.text for p in eng.search("bees"))
        again = eng.add([folder / "b.txt"])
        assert [Path(p).name for p in again.added] == ["b.txt"]
        assert eng.exclusions() == [] and names(eng) == {"a.txt", "b.txt", "c.txt"}
        assert not eng.sync().added and names(eng) == {"a.txt", "b.txt", "c.txt"}
        eng.remove([folder / "b.txt"])  # added explicitly, but still inside the folder
        assert not eng.sync().added and names(eng, "excluded") == {"b.txt"}


def test_removing_an_added_folder_removes_it_and_its_files(folder: Path, tmp_path: Path) -> None:
    other = write(tmp_path / "elsewhere" / "d.txt", "Delta report about dogs.")
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([folder, other])
        eng.remove([folder / "sub"])
        removed = eng.remove([folder])
        assert sorted(Path(p).name for p in removed) == ["a.txt", "b.txt"]
        assert eng.folders() == [] and eng.exclusions() == []
        assert names(eng) == {"d.txt"}
        assert not eng.sync().added


def test_a_vanished_file_is_dropped_by_sync_with_a_notice(tmp_path: Path) -> None:
    lone = write(tmp_path / "lone.txt", "A lone report about foxes.")
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([lone])
        lone.unlink()
        report = eng.sync()
        assert report.ok and not report.failed
        assert any("no longer exists" in n for n in report.notices)
        assert report.removed == (str(lone.resolve()),)
        assert eng.documents() == [] and eng.sync().ok


def test_a_failed_file_is_not_read_again_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa_app.ingest

    bad = write(tmp_path / "bad.txt", "")
    calls: list[str] = []
    original = qa_app.ingest.load

    def counting(path: str, *args: object, **kw: object) -> object:
        calls.append(path)
        return original(path, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(qa_app.ingest, "load", counting)
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        first = eng.add([bad])
        assert first.failed and len(calls) == 1
        failure = eng.library.store.failures()[str(bad.resolve())]
        assert failure.reason and failure.content_hash  # recorded with its reason and hash
        os.utime(bad, (50, 50))  # touched, same bytes
        assert eng.sync().failed and len(calls) == 1
        bad.write_text("Now it has words about badgers.", encoding="utf-8")
        os.utime(bad, (90, 90))
        fixed = eng.sync()
        assert fixed.ok and len(calls) == 2 and eng.search("badgers")


def test_an_unexpected_reader_crash_is_a_failure_of_that_file_only(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa_app.ingest

    original = qa_app.ingest.load

    def crashing(path: str, *args: object, **kw: object) -> object:
        if path.endswith("b.txt"):
            raise ValueError("string or blob too big")
        return original(path, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(qa_app.ingest, "load", crashing)
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        report = eng.add([folder])
        assert [Path(f.path).name for f in report.failed] == ["b.txt"]
        assert "too big" in report.failed[0].reason
        assert sorted(Path(p).name for p in report.added) == ["a.txt", "c.txt"]

"""The persisted library: add, sync, remove, failures, manifest checks, the FAISS cache, the lock."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from qa_app import paths
from qa_app.engine import Engine
from qa_app.index.library import Library
from qa_app.index.locking import LibraryBusy
from qa_app.testing import FakeEmbedder

SEEDS = Path(__file__).resolve().parent.parent / "qa_app" / "seeds"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    write(
        folder, "alpha.txt", "The harbour of Valdoria was closed in March.\n\nShips waited outside."
    )
    write(folder, "sub/beta.md", "# Beta\n\nThe mayor of Valdoria is Ines Moreau.\n")
    write(folder, "notes.xyz", "not a supported format, silently skipped inside folders")
    write(folder, ".hidden.txt", "hidden files are skipped")
    return folder


def engine(name: str = "test", dim: int = 64) -> Engine:
    return Engine(name, embedder=FakeEmbedder(dim))


def test_add_folder_indexes_supported_files_recursively(docs: Path) -> None:
    with engine() as eng:
        report = eng.add([docs])
        assert report.ok
        assert sorted(Path(p).name for p in report.added) == ["alpha.txt", "beta.md"]
        infos = eng.documents()
        assert [Path(d.path).name for d in infos] == ["alpha.txt", "beta.md"]
        assert all(d.status == "indexed" and d.chunks >= 1 for d in infos)
        assert eng.folders() == [str(docs.resolve())]
        assert eng.library.store.counts()[2] == 0  # nothing left to embed


def test_chunks_point_into_stored_text(docs: Path) -> None:
    with engine() as eng:
        eng.add([docs])
        texts = {info.id: eng.document_text(info.id) for info in eng.documents()}
        hits = eng.search("Valdoria", k=20)
        assert len(texts) == 2 and {p.doc_id for p in hits} == set(texts)  # both mention it
        for p in hits:
            assert texts[p.doc_id][p.start : p.end] == p.text


def test_sync_detects_new_changed_deleted_and_leaves_unchanged(docs: Path) -> None:
    with engine() as eng:
        eng.add([docs])
        before = {d.path: d.id for d in eng.documents()}
        generation = eng.library.store.generation()
        report = eng.sync()
        assert report.unchanged == 2 and not report.added and not report.updated
        assert report.chunks_embedded == 0
        assert eng.library.store.generation() == generation  # nothing rewritten

        alpha = docs / "alpha.txt"
        alpha.write_text("The harbour reopened in May.", encoding="utf-8")
        os.utime(alpha, (1, 1))  # a different mtime even on coarse clocks
        write(docs, "gamma.txt", "A new report about lighthouses.")
        (docs / "sub" / "beta.md").unlink()
        report = eng.sync()
        assert [Path(p).name for p in report.updated] == ["alpha.txt"]
        assert [Path(p).name for p in report.added] == ["gamma.txt"]
        assert [Path(p).name for p in report.removed] == ["beta.md"]
        after = {Path(d.path).name for d in eng.documents()}
        assert after == {"alpha.txt", "gamma.txt"}
        assert str(alpha.resolve()) in before
        hits = eng.search("harbour reopened May", k=3)
        assert hits and Path(hits[0].path).name == "alpha.txt"


def test_touched_but_identical_file_is_not_reembedded(docs: Path) -> None:
    with engine() as eng:
        eng.add([docs])
        os.utime(docs / "alpha.txt", (5, 5))
        report = eng.sync()
        assert report.unchanged == 2 and report.chunks_embedded == 0


def test_bad_files_are_reported_and_the_rest_indexed(tmp_path: Path, docs: Path) -> None:
    write(docs, "empty.txt", "")
    (docs / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    os.symlink(tmp_path / "missing.txt", docs / "dangling.txt")
    with engine() as eng:
        report = eng.add([docs])
        failed = {Path(f.path).name: f.reason for f in report.failed}
        assert set(failed) == {"empty.txt", "binary.txt", "broken.pdf", "dangling.txt"}
        assert all(reason for reason in failed.values())
        assert "link" in failed["dangling.txt"]
        assert sorted(Path(p).name for p in report.added) == ["alpha.txt", "beta.md"]
        listed = {Path(d.path).name: d for d in eng.documents()}
        assert listed["empty.txt"].status == "failed" and listed["empty.txt"].error
        assert eng.search("mayor Valdoria")  # the good files answer


def test_a_file_that_breaks_keeps_its_last_good_version(docs: Path) -> None:
    with engine() as eng:
        eng.add([docs])
        alpha = docs / "alpha.txt"
        alpha.write_bytes(b"")
        os.utime(alpha, (7, 7))
        report = eng.sync()
        assert [Path(f.path).name for f in report.failed] == ["alpha.txt"]
        info = {Path(d.path).name: d for d in eng.documents()}["alpha.txt"]
        assert info.status == "failed" and info.chunks >= 1  # still searchable
        assert any(Path(p.path).name == "alpha.txt" for p in eng.search("harbour Valdoria"))


def test_missing_paths_are_reported(tmp_path: Path) -> None:
    with engine() as eng:
        report = eng.add([tmp_path / "nope.txt"])
        assert report.failed and "no such file" in report.failed[0].reason


def test_remove_folder_and_file(docs: Path) -> None:
    with engine() as eng:
        eng.add([docs])
        removed = eng.remove([docs / "sub"])
        assert [Path(p).name for p in removed] == ["beta.md"]
        # sub/ lies inside the added folder: it is excluded, so sync does not bring it back
        assert eng.exclusions() == [str((docs / "sub").resolve())]
        assert not eng.sync().added
        assert {Path(d.path).name for d in eng.documents() if d.status != "excluded"} == {
            "alpha.txt"
        }
        eng.include([docs / "sub"])
        assert [Path(p).name for p in eng.sync().added] == ["beta.md"]
        eng.remove([docs])
        assert eng.documents() == []
        assert eng.folders() == [] and eng.exclusions() == []


def test_keyword_and_dense_results_fuse(docs: Path) -> None:
    with engine() as eng:
        eng.add([docs])
        hits = eng.search("Ines Moreau mayor", k=5)
        assert Path(hits[0].path).name == "beta.md"
        assert hits[0].keyword_rank == 1 and hits[0].dense_rank is not None
        assert all(h.keyword_rank is None for h in eng.search("zzzz qqqq", k=5))


def test_faiss_cache_rebuilt_when_missing_stale_or_damaged(docs: Path) -> None:
    with engine() as eng:
        eng.add([docs])
        first = [p.chunk_id for p in eng.search("harbour", k=3)]
        cache = eng.library.vectors
        assert cache.index_path.is_file()
    cache.index_path.write_bytes(b"garbage")  # damaged
    with engine() as eng:
        assert [p.chunk_id for p in eng.search("harbour", k=3)] == first
    cache.index_path.unlink()  # missing
    with engine() as eng:
        assert [p.chunk_id for p in eng.search("harbour", k=3)] == first
        write(docs, "delta.txt", "Lighthouse keepers in Valdoria went on strike.")
        eng.sync()  # stale: generation moved on
        assert any(Path(p.path).name == "delta.txt" for p in eng.search("lighthouse strike", k=3))


def test_progress_reports_files_then_passages(docs: Path) -> None:
    ticks = []
    with engine() as eng:
        eng.add([docs], progress=ticks.append)
        chunks = eng.library.store.counts()[1]
    index = [t for t in ticks if t.stage == "index"]
    embed = [t for t in ticks if t.stage == "embed"]
    assert [(t.done, t.total) for t in index] == [(0, 2), (1, 2), (2, 2)]
    assert embed and (embed[-1].done, embed[-1].total) == (chunks, chunks)
    assert ticks.index(embed[0]) > ticks.index(index[-1])  # the last vectors come after the files


def test_reembedding_after_a_model_change_reports_progress(docs: Path) -> None:
    with Engine("m", embedder=FakeEmbedder(64)) as eng:
        eng.add([docs])
        chunks = eng.library.store.counts()[1]
    ticks = []
    with Engine("m", embedder=FakeEmbedder(32)) as eng:
        eng.library.embed_pending(progress=ticks.append)
    assert [(t.stage, t.done, t.total) for t in ticks] == [
        ("embed", 0, chunks),
        ("embed", chunks, chunks),
    ]


def test_model_change_is_detected_and_embeddings_rebuilt(docs: Path) -> None:
    with Engine("m", embedder=FakeEmbedder(64)) as eng:
        eng.add([docs])
    with Engine("m", embedder=FakeEmbedder(32)) as eng:
        assert any("another model" in n for n in eng.notices)
        assert eng.needs_rebuild == "model"
        assert eng.pending() == 0  # opening wrote nothing
        hits = eng.search("harbour", k=3)  # keywords only until the rebuild
        assert hits and all(h.dense_rank is None for h in hits)
        report = eng.ensure_ready()
        assert report is not None and report.chunks_embedded > 0
        assert eng.needs_rebuild is None and eng.pending() == 0
        assert eng.search("harbour", k=1)[0].dense_rank is not None
    with Engine("m", embedder=FakeEmbedder(32)) as eng:
        assert eng.needs_rebuild is None and not eng.notices


def test_schema_mismatch_rebuilds_from_documents(docs: Path) -> None:
    with engine() as eng:
        eng.add([docs])
        db_path = eng.library.store.path
    con = sqlite3.connect(db_path)
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    before = db_path.read_bytes()
    with engine() as eng:
        assert any("incompatible" in n for n in eng.notices)
        assert eng.needs_rebuild == "schema"
        assert eng.documents() == [] and eng.search("harbour") == []
        assert db_path.read_bytes() == before  # reported on open, not rebuilt
        report = eng.rebuild()
        assert len(report.added) == 2 and report.chunks_embedded > 0
        assert len(eng.documents()) == 2


def test_manifest_describes_the_index(docs: Path) -> None:
    import json

    with engine() as eng:
        eng.add([docs])
        manifest = json.loads((eng.library.directory / "manifest.json").read_text())
    assert manifest["model_name"] == "fake-hash-embedder"
    assert manifest["dimension"] == 64
    assert "max_chars" in manifest["chunking"]


def test_one_writer_at_a_time(docs: Path) -> None:
    with engine() as eng, eng.library.writer(), pytest.raises(LibraryBusy, match="already"):
        eng.add([docs])


def test_cancel_keeps_finished_files_and_sync_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for i in range(6):
        write(folder, f"d{i}.txt", f"Document number {i} talks about topic {i} at length.")
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 4

    with engine() as eng:
        report = eng.add([folder], cancel=cancel)
        assert report.cancelled
        done = len(report.added)
        assert 0 < done < 6
        resumed = eng.sync()
        assert len(resumed.added) == 6 - done and resumed.unchanged == done


def test_libraries_rename_delete(docs: Path) -> None:
    with engine("one") as eng:
        eng.add([docs])
    assert Engine.libraries() == ["one"]
    Engine.rename_library("one", "two")
    assert Engine.libraries() == ["two"]
    with pytest.raises(FileExistsError):
        with engine("three"):
            pass
        Engine.rename_library("two", "three")
    Engine.delete_library("two")
    assert "two" not in Engine.libraries()
    with pytest.raises(ValueError):
        paths.library_dir("../escape")


def test_default_library_is_seeded_once(tmp_path: Path) -> None:
    with Engine(embedder=FakeEmbedder()) as eng:
        report = eng.ensure_ready()
        assert report is not None and len(report.added) == 5
        assert eng.ensure_ready() is None
        top = eng.search("first shipment", k=3)
        # The fake embedder's dense ranks are noise; the keyword side must still bring the passage.
        hits = [p for p in top if "first shipment" in p.text]
        assert hits and Path(hits[0].path).name == "004_71c8a87dcccb59d2.txt"
        assert hits[0].keyword_rank == 1


def test_library_dir_follows_qa_app_home(qa_home: Path) -> None:
    assert paths.library_dir("x") == qa_home / "libraries" / "x"
    lib = Library(paths.library_dir("x"), FakeEmbedder())
    lib.close()
    assert (qa_home / "libraries" / "x" / "library.db").is_file()
    shutil.rmtree(qa_home / "libraries")

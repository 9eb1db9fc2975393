"""The FAISS cache proves what it holds: a stamp ahead of the database, a file from another
library and flipped bytes in its id map are each repaired by the next command and by rebuild."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from qa_app.cli import commands as cli
from qa_app.engine import Engine
from qa_app.index import vectors
from qa_app.testing import FakeEmbedder


def words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice("bcdfghklmnprstvz") for _ in range(7)) for _ in range(n))


def write_docs(folder: Path, prefix: str, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{prefix}{i}.txt").write_text(words(rng, 60) + ".", encoding="utf-8")
    return folder


def own_top_hits(eng: Engine) -> tuple[int, int]:
    """Return (chunks that are their own top dense hit, chunks) over the whole library."""
    rows = eng.library.store._query("SELECT id, text FROM chunks")
    hits = 0
    for cid, text in rows:
        found = eng.library.dense_search(eng.embedder.encode([text])[0], 1)
        hits += bool(found) and found[0][0] == cid
    return hits, len(rows)


def saved_stamp_matches(eng: Engine) -> bool:
    cache = vectors.VectorCache(eng.library.directory, eng.embedder.dimension, "fake")
    state = eng.library.store.vector_state()
    loaded = cache._load(state, eng.library.store)
    return loaded is not None and loaded[1].matches(state)


def library_dir(home: Path, name: str) -> Path:
    return home / "libraries" / name


def copy_db(source: Path, target: Path) -> None:
    """Copy a live SQLite database consistently (as a user's backup would be)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()


def stamp_ahead(tmp_path: Path, home: Path) -> None:
    """The database is restored from an older copy (and written since); the cache is newer."""
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([write_docs(tmp_path / "a", "a", 5, 1)])
        eng.library.vector_index()
    old = tmp_path / "old.db"
    copy_db(library_dir(home, "lib") / "library.db", old)
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([write_docs(tmp_path / "b", "b", 10, 2)])
        eng.rebuild()  # the saved cache now holds a and b
    folder = library_dir(home, "lib")
    for suffix in ("-wal", "-shm"):
        Path(f"{folder / 'library.db'}{suffix}").unlink(missing_ok=True)
    shutil.copy(old, folder / "library.db")
    with Engine("lib", embedder=FakeEmbedder()) as eng:  # writing only: the cache is not read
        eng.add([write_docs(tmp_path / "c", "c", 10, 3)])


def from_another_library(tmp_path: Path, home: Path) -> None:
    for name, seed in (("lib", 1), ("other", 9)):
        with Engine(name, embedder=FakeEmbedder()) as eng:
            eng.add([write_docs(tmp_path / name, name, 8, seed)])
            eng.library.vector_index()
    shutil.copy(
        library_dir(home, "other") / "vectors.faiss", library_dir(home, "lib") / "vectors.faiss"
    )


def id_map_flipped(tmp_path: Path, home: Path) -> None:
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([write_docs(tmp_path / "a", "a", 8, 1)])
        count = eng.library.vector_index().ntotal
    path = library_dir(home, "lib") / "vectors.faiss"
    data = bytearray(path.read_bytes())
    # IndexIDMap2 ends with its id map (int64 each): swap the first two ids, a file that still
    # loads and answers, with wrong chunk ids.
    ids = len(data) - 8 * count
    first, second = data[ids : ids + 8], data[ids + 8 : ids + 16]
    assert first != second
    data[ids : ids + 8], data[ids + 8 : ids + 16] = second, first
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path, Path], None]] = {
    "stamp ahead": stamp_ahead,
    "another library": from_another_library,
    "id map flipped": id_map_flipped,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_the_next_command_repairs_a_cache_it_cannot_trust(
    damage: str, tmp_path: Path, qa_home: Path
) -> None:
    DAMAGE[damage](tmp_path, qa_home)
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        hits, total = own_top_hits(eng)
        assert hits == total and total > 0
        assert eng.library.vectors.rebuilds == 1
        assert saved_stamp_matches(eng)
    with Engine("lib", embedder=FakeEmbedder()) as eng:  # the repaired file is trusted again
        assert own_top_hits(eng)[0] == total and eng.library.vectors.rebuilds == 0


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_rebuild_repairs_it_too(damage: str, tmp_path: Path, qa_home: Path) -> None:
    DAMAGE[damage](tmp_path, qa_home)
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.rebuild()
        assert saved_stamp_matches(eng)
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        hits, total = own_top_hits(eng)
        assert hits == total and eng.library.vectors.rebuilds == 0


def test_rebuild_always_rebuilds_the_vector_cache(
    tmp_path: Path, qa_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)
    assert cli.main(["add", "-q", "-l", "lib", str(write_docs(tmp_path / "a", "a", 3, 1))]) == 0
    assert cli.main(["search", "-q", "-l", "lib", "anything"]) == 0
    path = library_dir(qa_home, "lib") / "vectors.faiss"
    before = json.loads(path.read_bytes().split(b"\n", 1)[0])
    path.write_bytes(b"")  # even a cache that looks current is replaced: here, an empty one
    built: list[int] = []
    rebuild = vectors.VectorCache.rebuild

    def counted(self: vectors.VectorCache, source: vectors.EmbeddingSource) -> object:
        built.append(1)
        return rebuild(self, source)

    monkeypatch.setattr(vectors.VectorCache, "rebuild", counted)
    assert cli.main(["rebuild", "-q", "-l", "lib"]) == 0
    after = json.loads(path.read_bytes().split(b"\n", 1)[0])
    assert built == [1]
    assert after["library"] == before["library"] and after["count"] == before["count"]


def test_the_stamp_names_the_library_and_what_it_holds(tmp_path: Path, qa_home: Path) -> None:
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([write_docs(tmp_path / "a", "a", 3, 1)])
        index = eng.library.vector_index()
        library_id = eng.library.store.meta()["library_id"]
        state = eng.library.store.vector_state()
    header = json.loads(
        (library_dir(qa_home, "lib") / "vectors.faiss").read_bytes().split(b"\n")[0]
    )
    assert header["library"] == library_id and len(library_id) == 32
    assert (header["seq"], header["mark"], header["count"]) == (state.seq, state.mark, index.ntotal)
    assert len(header["sha256"]) == 64


def test_an_old_library_gets_its_id_from_its_first_writer(tmp_path: Path, qa_home: Path) -> None:
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([write_docs(tmp_path / "a", "a", 2, 1)])
    db = sqlite3.connect(library_dir(qa_home, "lib") / "library.db")
    db.execute("DELETE FROM meta WHERE key = 'library_id'")  # as made before library ids
    db.execute("DROP TABLE _migrations")  # (and so before the migration ledger)
    db.commit()
    db.close()
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        assert "library_id" not in eng.library.store.meta()  # reading writes nothing
        assert own_top_hits(eng)[0] > 0
        eng.sync()
        assert len(eng.library.store.meta()["library_id"]) == 32
        assert own_top_hits(eng)[0] == own_top_hits(eng)[1]

"""The FAISS cache grows with the library instead of being rebuilt; embeddings are reused by text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa_app.engine import Engine
from qa_app.index import vectors
from qa_app.testing import FakeEmbedder


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the texts it encodes."""

    def __init__(self, dimension: int = 64) -> None:
        super().__init__(dimension)
        self.encoded: list[str] = []

    def encode(self, texts, **kw):  # type: ignore[no-untyped-def]
        self.encoded.extend(texts)
        return super().encode(texts, **kw)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def paragraphs(topic: str, n: int) -> str:
    return "\n\n".join(
        f"Paragraph {i} about {topic}: " + f"the {topic} number {i} was seen near the river. " * 6
        for i in range(n)
    )


def fresh_results(eng: Engine, query: str, k: int = 10) -> list[int]:
    _, ids, matrix = eng.library.store.embeddings(eng.embedder.dimension)
    index = vectors.build_index(ids, matrix, eng.embedder.dimension)
    return [i for i, _ in vectors.search(index, eng.embedder.encode([query])[0], k)]


def test_the_index_grows_and_shrinks_without_a_rebuild(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs / "owls.txt", paragraphs("owls", 4))
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([docs])
        cache = eng.library.vectors
        first = eng.library.vector_index().ntotal
        assert cache.rebuilds == 1
        write(docs / "bees.txt", paragraphs("bees", 3))
        eng.sync()
        grown = eng.library.vector_index()
        assert grown.ntotal > first and cache.rebuilds == 1  # added, not rebuilt
        assert [i for i, _ in vectors.search(grown, eng.embedder.encode(["bees"])[0], 10)] == (
            fresh_results(eng, "bees")
        )
        (docs / "owls.txt").unlink()
        eng.sync()
        shrunk = eng.library.vector_index()
        assert shrunk.ntotal == eng.library.store.counts().chunks and cache.rebuilds == 1
        assert fresh_results(eng, "owls") == [
            i for i, _ in vectors.search(shrunk, eng.embedder.encode(["owls"])[0], 10)
        ]
    with Engine("lib", embedder=FakeEmbedder()) as eng:  # another process: loads and catches up
        write(docs / "cats.txt", paragraphs("cats", 2))
        eng.sync()
        assert eng.library.vector_index().ntotal == eng.library.store.counts().chunks
        assert eng.library.vectors.rebuilds == 0


def test_a_damaged_or_foreign_file_is_rebuilt_from_sqlite(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs / "owls.txt", paragraphs("owls", 3))
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([docs])
        expected = fresh_results(eng, "owls")
        path = eng.library.vectors.index_path
        eng.library.vector_index()
    for damage in (b"garbage", b'{"format": 2}\nnot faiss', path.read_bytes()[:-100]):
        path.write_bytes(damage)
        with Engine("lib", embedder=FakeEmbedder()) as eng:
            index = eng.library.vector_index()
            assert eng.library.vectors.rebuilds == 1
            assert [i for i, _ in vectors.search(index, eng.embedder.encode(["owls"])[0], 10)] == (
                expected
            )


def test_exact_and_approximate_switch_by_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faiss

    monkeypatch.setattr(vectors, "EXACT_LIMIT", 70)
    docs = tmp_path / "docs"
    for i in range(8):
        write(docs / f"d{i}.txt", paragraphs(f"topic{i}", 10))
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([docs / "d0.txt"])
        assert isinstance(eng.library.vector_index(), faiss.IndexIDMap2)
        eng.add([docs])
        assert eng.library.store.counts().chunks >= 70
        index = eng.library.vector_index()
        assert isinstance(index, faiss.IndexIVFFlat)
        assert index.ntotal == eng.library.store.counts().chunks


def test_an_edited_file_re_embeds_only_its_changed_passages(tmp_path: Path) -> None:
    path = write(tmp_path / "docs" / "long.txt", paragraphs("herons", 8))
    embedder = CountingEmbedder()
    with Engine("lib", embedder=embedder) as eng:
        eng.add([path.parent])
        chunks = eng.library.store.counts().chunks
        assert chunks >= 4 and len(embedder.encoded) == chunks
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("Paragraph 5 about herons", "Paragraph 5 about storks"), encoding="utf-8"
        )
        os.utime(path, (99, 99))
        embedder.encoded.clear()
        report = eng.sync()
        assert [Path(p).name for p in report.updated] == ["long.txt"]
        assert len(embedder.encoded) == 1 and "storks" in embedder.encoded[0]
        assert report.chunks_embedded == 1 and eng.pending() == 0
        hits = eng.search("storks", k=3)
        assert hits and "storks" in hits[0].text
        assert eng.library.vector_index().ntotal == chunks


def test_changes_already_applied_are_harmless(tmp_path: Path) -> None:
    """Two processes may save the cache in either order; replaying changes is idempotent."""
    docs = tmp_path / "docs"
    write(docs / "owls.txt", paragraphs("owls", 3))
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([docs])
        cache = eng.library.vectors
        index = eng.library.vector_index()
        stamp = cache._stamp
        assert stamp is not None
        write(docs / "bees.txt", paragraphs("bees", 3))
        eng.sync()
        eng.library.vector_index()
        cache._stamp = stamp._replace(seq=0)  # pretend the index is older than it is
        replayed = eng.library.vector_index()
        assert replayed.ntotal == eng.library.store.counts().chunks
        assert replayed is index  # updated in place, not rebuilt
        assert cache.rebuilds == 1

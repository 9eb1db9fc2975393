"""The Retriever: dense and keyword lists over one library, fused; the engine's search is its search."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qa_app import retrieval, text_norm
from qa_app.engine import Engine
from qa_app.retrieval import MIN_DEPTH, Ranked, Retriever, keyword_query
from qa_app.testing import FakeEmbedder

SEEDS = Path(__file__).resolve().parent.parent / "qa_app" / "seeds"
QUESTION = "When did Russia receive the first shipment?"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    mp = pytest.MonkeyPatch()
    mp.setenv("QA_APP_HOME", str(tmp_path_factory.mktemp("home")))
    eng = Engine("retriever", embedder=FakeEmbedder(64))
    assert eng.add([SEEDS]).ok
    yield eng
    eng.close()
    mp.undo()


def test_depth_reads_each_list_at_least_fifty_deep_and_three_times_k() -> None:
    assert Retriever.depth(1) == MIN_DEPTH == 50
    assert Retriever.depth(40) == 120


def test_rank_fuses_both_lists(seeded: Engine) -> None:
    ranks = seeded.retriever.rank(QUESTION, 5)
    assert ranks.dense and ranks.keyword
    assert len(ranks.dense) <= 50 and len(ranks.keyword) <= 50
    assert len(ranks.fused) == 5
    dense, keyword = [c for c, _ in ranks.dense], [c for c, _ in ranks.keyword]
    for item in ranks.fused:
        assert item.dense_rank is None or dense[item.dense_rank - 1] == item.chunk_id
        assert item.keyword_rank is None or keyword[item.keyword_rank - 1] == item.chunk_id
        assert item.dense_rank or item.keyword_rank
    assert [r.score for r in ranks.fused] == sorted((r.score for r in ranks.fused), reverse=True)


def test_a_precomputed_vector_and_a_set_depth_give_the_same_ranking(seeded: Engine) -> None:
    vector = seeded.embedder.encode([QUESTION])[0]
    own = seeded.retriever.rank(QUESTION, 8, depth=20)
    given = seeded.retriever.rank(QUESTION, 8, depth=20, vector=vector)
    assert own == given and len(own.dense) == 20


def test_the_engine_searches_through_its_retriever(seeded: Engine) -> None:
    ranks = seeded.retriever.rank(QUESTION, 4)
    passages = seeded.search(QUESTION, 4)
    assert [p.chunk_id for p in passages] == [r.chunk_id for r in ranks.fused]
    assert [(p.dense_rank, p.keyword_rank) for p in passages] == [
        (r.dense_rank, r.keyword_rank) for r in ranks.fused
    ]
    assert all(p.text and p.path.endswith(".txt") for p in passages)


def test_passages_skip_chunks_that_are_gone(seeded: Engine) -> None:
    first = seeded.retriever.rank(QUESTION, 2).fused
    gone = Ranked(10**9, 1.0, 1, None)
    assert [p.chunk_id for p in seeded.retriever.passages([gone, *first])] == [
        r.chunk_id for r in first
    ]


def test_an_empty_library_returns_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_APP_HOME", str(tmp_path))
    with Engine("empty", embedder=FakeEmbedder(64)) as eng:
        ranks = eng.retriever.rank(QUESTION, 3)
        assert ranks.dense == [] and ranks.keyword == [] and ranks.fused == []
        assert eng.retriever.search("the of and") == []


def test_keyword_query_drops_the_cores_one_stopword_list() -> None:
    assert retrieval.STOPWORDS is text_norm.STOPWORDS  # one list, shared with the reader
    assert keyword_query("How many ships did Valdoria send?") == '"ships" OR "valdoria" OR "send"'
    assert keyword_query("Who is it?") == '"who" OR "is" OR "it"'  # only stopwords: search them all
    assert (
        keyword_query('say "x" OR y*') == '"say" OR "x" OR "y"'
    )  # never FTS5 syntax from the text
    assert keyword_query("?!") == ""

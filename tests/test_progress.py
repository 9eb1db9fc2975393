"""Progress that does not mislead: one stage at a time, each moving while its work happens."""

from __future__ import annotations

from pathlib import Path

import pytest

import qa_app.index.indexing
from qa_app.cli.console import ProgressBar
from qa_app.engine import Engine
from qa_app.records import Progress
from qa_app.testing import FakeEmbedder


def test_reading_ends_before_embedding_starts_and_embedding_moves_batch_by_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qa_app.index.indexing, "EMBED_BATCH", 3)
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(5):
        (folder / f"d{i}.txt").write_text(
            "\n\n".join(f"Part {j} of report {i}. " * 30 for j in range(2)), encoding="utf-8"
        )
    calls: list[int] = []
    ticks: list[Progress] = []

    class Watching(FakeEmbedder):
        def encode(self, texts, **kw):  # type: ignore[no-untyped-def]
            calls.append(len(ticks))  # how many ticks were given before this work began
            return super().encode(texts, **kw)

    with Engine("lib", embedder=Watching()) as eng:
        eng.add([folder], progress=ticks.append)
        total = eng.library.store.counts().chunks
    stages = [t.stage for t in ticks]
    assert stages == sorted(stages, key=["index", "embed"].index)  # one stage, then the next
    index = [(t.done, t.total) for t in ticks if t.stage == "index"]
    assert index == [(i, 5) for i in range(6)]
    embed = [t.done for t in ticks if t.stage == "embed"]
    assert embed[0] == 0 and embed[-1] == total
    assert embed == sorted(embed) and len(embed) == 1 + -(-total // 3)
    # Each batch is announced by the tick before it: the bar moves as the work happens.
    first_embed = stages.index("embed")
    assert calls == [first_embed + 1 + n for n in range(len(calls))]


def test_the_command_line_bar_counts_each_stage_from_its_own_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bar = ProgressBar()
    bar(Progress(0, 4, "index", "a.txt"))
    bar(Progress(4, 4, "index", ""))
    first = bar._bar
    bar(Progress(0, 100, "embed"))
    assert bar._bar is not first and bar._bar.n == 0 and bar._bar.total == 100
    bar(Progress(64, 100, "embed"))
    assert bar._bar.n == 64
    bar.close()
    err = capsys.readouterr().err
    assert "reading files" in err and "embedding" in err and "64/100" in err

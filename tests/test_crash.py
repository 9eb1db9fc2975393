"""A SIGKILL at any moment of indexing loses nothing committed; the library opens and answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa_app.engine import Engine
from qa_app.testing import FakeEmbedder

INDEXER = """
import sys, time
from qa_app.testing import FakeEmbedder
from qa_app.engine import Engine
import qa_app.index.indexing
qa_app.index.indexing.EMBED_BATCH = 16  # small batches so kills land inside embedding too

class SlowFake(FakeEmbedder):
    def encode(self, texts, **kw):
        time.sleep(0.01 * len(texts))
        return super().encode(texts, **kw)

with Engine("crash", embedder=SlowFake(64)) as eng:
    print("ready", flush=True)
    eng.add([sys.argv[1]], progress=lambda p: print("tick", p.done, flush=True))
print("finished", flush=True)
"""


def make_corpus(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        paras = [
            f"Report {i} paragraph {j}: the harbour master {i} logged ship {j} at dawn. " * 4
            for j in range(6)
        ]
        (folder / f"r{i:03}.txt").write_text("\n\n".join(paras), encoding="utf-8")


@pytest.mark.parametrize("ticks_before_kill", [1, 7, 19, 33])
def test_sigkill_during_indexing_loses_nothing_committed(
    tmp_path: Path, ticks_before_kill: int
) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 40)
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-c", INDEXER, str(corpus)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        if line.startswith("tick"):
            seen += 1
            if seen >= ticks_before_kill:
                break
        assert time.monotonic() < deadline
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    with Engine("crash", embedder=FakeEmbedder(64)) as eng:
        docs = [d for d in eng.documents() if d.status != "failed"]
        assert len(docs) < 40
        for info in docs:  # every committed document is whole
            text = eng.document_text(info.id)
            assert info.chunks > 0 and text
        if docs:
            assert eng.search("harbour master logged ship", k=5)
        committed = {d.path for d in docs}
        report = eng.sync()  # resumes: finishes pending embeddings, indexes the rest
        assert report.ok
        assert len(report.added) == 40 - len(committed)
        assert eng.library.store.counts()[0] == 40
        assert eng.library.store.counts()[2] == 0
        assert {d.path for d in eng.documents()} >= committed


RESUMER = """
import sys, time
from qa_app.testing import FakeEmbedder
from qa_app.engine import Engine
import qa_app.index.indexing
qa_app.index.indexing.EMBED_BATCH = 8

class SlowFake(FakeEmbedder):
    def encode(self, texts, **kw):
        time.sleep(0.05 * len(texts))
        return super().encode(texts, **kw)

started = time.monotonic()
with Engine("crash", embedder=SlowFake(64)) as eng:
    def tick(p):
        print(p.stage, p.done, p.total, round(time.monotonic() - started, 2), flush=True)
    eng.add([sys.argv[1]], progress=tick)
print("finished", flush=True)
"""


def committed(home: Path) -> tuple[set[str], set[int]]:
    """Return (document paths, ids of embedded passages) as committed in the library."""
    from qa_app.index.store import Store

    store = Store(home / "libraries" / "crash" / "library.db")
    try:
        docs = set(store.known_files())
        embedded = {
            int(r[0]) for r in store._query("SELECT id FROM chunks WHERE embedding IS NOT NULL")
        }
    finally:
        store.close()
    return docs, embedded


def test_repeated_kills_keep_progress_and_lose_nothing(tmp_path: Path, qa_home: Path) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 24)
    before: tuple[set[str], set[int]] = (set(), set())
    kills = 0
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", RESUMER, str(corpus)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        commits = 0
        finished = False
        for line in proc.stdout:
            if line.startswith("finished"):
                finished = True
                break
            stage, done, _total, at = line.split()
            if int(done) > 0:  # something of this run is committed
                commits += 1
                if commits == 1:
                    assert float(at) < 10, "a resumed run must start committing within seconds"
                if commits == 2:
                    break
        if finished:
            assert proc.wait(timeout=60) == 0
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
        docs, embedded = committed(qa_home)
        assert before[0] <= docs and before[1] <= embedded  # nothing committed is lost
        assert len(docs) + len(embedded) > len(before[0]) + len(before[1])  # progress kept
        before = (docs, embedded)
        started = time.monotonic()
        with Engine("crash", embedder=FakeEmbedder(64)) as eng:
            assert len([d for d in eng.documents() if d.status != "failed"]) == len(docs)
        assert time.monotonic() - started < 5  # listing after a kill does no work
    assert kills >= 3
    with Engine("crash", embedder=FakeEmbedder(64)) as eng:
        eng.sync()
        counts = eng.library.store.counts()
        assert counts.documents == 24 and counts.pending == 0
        docs, embedded = committed(qa_home)
        assert before[0] <= docs and before[1] <= embedded

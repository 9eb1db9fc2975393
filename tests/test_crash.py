"""A SIGKILL at any moment of indexing loses nothing committed; the library opens and answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa_app.embedding import FakeEmbedder
from qa_app.engine import Engine

INDEXER = """
import sys, time
from qa_app.embedding import FakeEmbedder
from qa_app.engine import Engine
import qa_app.library
qa_app.library.EMBED_BATCH = 16  # small batches so kills land inside embedding too

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

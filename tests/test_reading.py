"""Reading never writes: a read-only library folder reads, and searching goes on beside a writer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa_app.engine import Engine
from qa_app.testing import FakeEmbedder

# The CLI with the fast fake embedder (the real model is not what these tests are about).
CLI = """
import sys
from qa_app.cli import commands as cli
from qa_app.testing import FakeEmbedder
from qa_app.engine import Engine
original = Engine.__init__
def init(self, library=None, **kw):
    kw["embedder"] = FakeEmbedder()
    original(self, library, **kw)
Engine.__init__ = init
sys.exit(cli.main(sys.argv[1:]))
"""

READS = [
    ["list", "--library", "lib"],
    ["search", "harbour master", "--library", "lib"],
    ["ask", "Who logged the ships?", "--library", "lib", "--reader", "sentence"],
]


def make_docs(folder: Path, n: int = 6) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"r{i}.txt").write_text(
            f"The harbour master {i} logged the ships at dawn.\n\nReport {i} ends here.",
            encoding="utf-8",
        )
    return folder


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-c", CLI, *args]


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount --bind / /mnt 2>/dev/null || mount -t tmpfs x /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


def read_only(folder: Path, command: list[str]) -> list[str]:
    """Return ``command`` run so that ``folder`` is truly read-only for it.

    Root ignores permission bits, so as root the folder is bind-mounted read-only in a private
    mount namespace; otherwise its permission bits are cleared (restored by the caller).
    """
    if os.geteuid() != 0:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        return command
    if not _unshare_works():
        pytest.skip("running as root without unshare: cannot make a folder read-only")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    return ["unshare", "-rm", "sh", "-c", script, "sh", str(folder), *command]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file that holds data (SQLite's shared-memory file and an empty
    write-ahead log, which SQLite itself opens for readers, hold none)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
        and not p.name.endswith("-shm")
        and not (p.name.endswith("-wal") and p.stat().st_size == 0)
    }


@pytest.mark.parametrize("wal", ["closed cleanly", "writer still open"])
def test_a_read_only_library_folder_lists_searches_and_asks(
    tmp_path: Path, qa_home: Path, wal: str
) -> None:
    docs = make_docs(tmp_path / "docs")
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([docs])
        eng.search("harbour")  # the vector cache exists too
    folder = qa_home / "libraries" / "lib"
    holder = None
    if wal == "writer still open":  # committed pages still in library.db-wal, -shm present
        holder = Engine("lib", embedder=FakeEmbedder())
        holder.library.store.record_failure(str(docs / "x.txt"), "made up", 1, 1.0)
        assert Path(f"{folder / 'library.db'}-wal").stat().st_size > 0
    before = snapshot(folder)
    try:
        for argv in READS:
            done = subprocess.run(
                read_only(folder, cli_command(*argv)), capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, (argv, done.stderr)
            assert "Traceback" not in done.stderr
            if argv[0] == "list":
                assert "6 documents" in done.stdout
                if holder is not None:  # what the open writer committed is seen
                    assert "made up" in done.stdout
            if argv[0] == "search":
                assert "harbour master" in done.stdout
            if argv[0] == "ask":
                assert "logged" in done.stdout
    finally:
        if holder is not None:
            holder.close()
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    if holder is None:
        assert snapshot(folder) == before


def test_opening_and_reading_write_nothing_even_while_a_writer_holds_the_lock(
    tmp_path: Path, qa_home: Path
) -> None:
    docs = make_docs(tmp_path / "docs")
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([docs])
        eng.search("harbour")
    folder = qa_home / "libraries" / "lib"
    before = snapshot(folder)
    locker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from qa_app.index.locking import WriterLock\n"
            "from pathlib import Path\n"
            "with WriterLock(Path(sys.argv[1]), 'lib'):\n"
            "    print('held', flush=True); time.sleep(60)\n",
            str(folder / "write.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "held"
        for argv in READS:
            done = subprocess.run(cli_command(*argv), capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (argv, done.stderr)
        with Engine("lib", embedder=FakeEmbedder()) as eng:
            assert len(eng.documents()) == 6 and eng.search("harbour master")
    finally:
        locker.kill()
        locker.wait()
    after = snapshot(folder)
    after.pop("write.lock", None), before.pop("write.lock", None)
    assert after == before


INDEXER = """
import sys, time
from pathlib import Path
from qa_app.testing import FakeEmbedder
from qa_app.engine import Engine

release = Path(sys.argv[2])

class Held(FakeEmbedder):
    def encode(self, texts, **kw):  # embedding waits until the test has read
        deadline = time.monotonic() + 120
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().encode(texts, **kw)

with Engine("lib", embedder=Held()) as eng:
    eng.add([sys.argv[1]], progress=lambda p: print(p.stage, p.done, p.total, flush=True))
print("finished", flush=True)
"""


def test_search_in_one_process_while_add_runs_in_another(tmp_path: Path) -> None:
    docs = make_docs(tmp_path / "docs", 40)
    release = tmp_path / "release"
    writer = subprocess.Popen(
        [sys.executable, "-c", INDEXER, str(docs), str(release)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    for line in writer.stdout:  # files are read and committed; embedding has begun
        if line.startswith("embed 0 "):
            break
    try:
        results = [
            subprocess.run(cli_command(*argv), capture_output=True, text=True, timeout=120)
            for argv in READS[:2]
        ]
        assert writer.poll() is None  # the reads finished while the writer was still working
    finally:
        release.touch()
    rest = writer.stdout.read()
    assert writer.wait(timeout=120) == 0
    assert "finished" in rest
    for done in results:
        assert done.returncode == 0, done.stderr
    assert "harbour master" in results[1].stdout
    assert "not embedded yet" in results[1].stderr  # said, not waited for


def test_readers_in_one_process_do_not_wait_for_the_writer(tmp_path: Path) -> None:
    docs = make_docs(tmp_path / "docs")
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        eng.add([docs])
        store = eng.library.store
        entered, release = threading.Event(), threading.Event()

        def write() -> None:
            with store.transaction() as db:
                db.execute("UPDATE documents SET title = 'changing'")
                entered.set()
                release.wait(10)

        thread = threading.Thread(target=write)
        thread.start()
        assert entered.wait(5)
        started = time.monotonic()
        hits = eng.search("harbour master", k=3)
        titles = {d.title for d in eng.documents()}
        waited = time.monotonic() - started
        release.set()
        thread.join()
        assert hits and "changing" not in titles  # the committed state, at once
        assert waited < 2.0

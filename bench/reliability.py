"""Reliability figures: repeated SIGKILLs, a decompression bomb, a full disk, a read-only library.

Usage: python bench/reliability.py [--kills 10] [--data ../shared/data] [--work DIR]

Every check runs the app in child processes with QA_APP_HOME in a scratch folder. The kills use
the real embedding model; the other checks use the fake embedder (they are about files and disks).
The full disk is a real 2 MB tmpfs and the read-only library a real read-only bind mount when the
machine allows private mounts (``unshare -rm``); otherwise the disk is simulated with SQLite's
max_page_count and the folder made read-only with permission bits (not effective as root).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this tree's qa_app, not another install's

KILLED = """
import sys, time
from qa_app.engine import Engine
started = time.monotonic()
with Engine("kills") as eng:
    eng.add([sys.argv[1]], progress=lambda p: print(p.stage, p.done, round(time.monotonic() - started, 2), flush=True))
print("finished", flush=True)
"""

FAKE_CLI = """
import sys
from qa_app.cli import commands as cli
from qa_app.models.embedding import FakeEmbedder
from qa_app.engine import Engine
original = Engine.__init__
def init(self, library=None, **kw):
    kw["embedder"] = FakeEmbedder()
    original(self, library, **kw)
Engine.__init__ = init
if sys.argv[1] == "--max-pages":  # simulated full disk: the database may not grow
    from qa_app.index import schema as store_schema
    create = store_schema.create
    def full(db):
        create(db)
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    store_schema.create = full
    sys.argv.pop(1)
sys.exit(cli.main(sys.argv[1:]))
"""


def committed(db: Path) -> tuple[set[str], set[int]]:
    from qa_app.index.store import Store

    store = Store(db)
    try:
        docs = set(store.known_files())
        rows = store._query("SELECT id FROM chunks WHERE embedding IS NOT NULL")
        return docs, {int(r[0]) for r in rows}
    finally:
        store.close()


def write_corpus(folder: Path, data: Path | None, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    texts: list[str] = []
    dev = data / "squad" / "dev-v1.1.json" if data else None
    if dev and dev.is_file():
        for article in json.loads(dev.read_text(encoding="utf-8"))["data"]:
            texts += [p["context"] for p in article["paragraphs"]]
    while len(texts) < count:
        i = len(texts)
        texts.append(f"Report {i}: the harbour master logged ship {i} at dawn. " * 12)
    for i, text in enumerate(texts[:count]):
        (folder / f"p{i:04}.txt").write_text(text, encoding="utf-8")
    return folder


def bench_kills(work: Path, data: Path | None, kills: int, env: dict[str, str]) -> None:
    corpus = write_corpus(work / "kill-corpus", data, 300)
    db = Path(env["QA_APP_HOME"]) / "libraries" / "kills" / "library.db"
    rng = random.Random(0)
    before: tuple[set[str], set[int]] = (set(), set())
    lost = 0
    gains: list[int] = []
    first_commit: list[float] = []
    model_loaded: list[float] = []
    done_kills = 0
    while done_kills < kills:
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED, str(corpus)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert proc.stdout is not None
        deadline = None
        finished = False
        for line in proc.stdout:
            if line.startswith("finished"):
                finished = True
                break
            stage, done, at = line.split()
            if stage == "model":  # loading the model commits nothing; say how long it took
                if int(done) == 1:
                    model_loaded.append(float(at))
                continue
            if int(done) > 0 and deadline is None:
                first_commit.append(float(at))
                deadline = time.monotonic() + rng.uniform(0.5, 5.0)
            if deadline is not None and time.monotonic() >= deadline:
                break
        if finished:
            proc.wait()
            print(f"  the run finished by itself after {done_kills} kills")
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done_kills += 1
        docs, embedded = committed(db)
        lost += len(before[0] - docs) + len(before[1] - embedded)
        gains.append(len(docs) + len(embedded) - len(before[0]) - len(before[1]))
        before = (docs, embedded)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "qa_app.cli.commands", "--version"], capture_output=True, env=env
    )
    startup_s = time.monotonic() - started
    started = time.monotonic()
    listed = subprocess.run(
        [sys.executable, "-m", "qa_app.cli.commands", "list", "--library", "kills", "-q"],
        capture_output=True,
        text=True,
        env=env,
    )
    list_s = time.monotonic() - started
    print(
        f"kills: {done_kills} SIGKILLs of a real add (real model, 300 SQuAD paragraphs) -> "
        f"progress kept after {sum(g > 0 for g in gains)} of {len(gains)} kills "
        f"(committed items gained per run: median {statistics.median(gains) if gains else 0}), "
        f"{lost} committed items lost; first commit of each run after median "
        f"{statistics.median(first_commit):.1f}s (max {max(first_commit):.1f}s; runs that had to "
        f"load the model first: {len(model_loaded)}, model loaded after median "
        f"{statistics.median(model_loaded) if model_loaded else 0:.1f}s); "
        f"'list' after the last kill: {list_s:.1f}s, rc {listed.returncode} ('--version' takes "
        f"{startup_s:.1f}s); "
        f"committed: {len(before[0])} documents, {len(before[1])} passages embedded"
    )


def make_bomb(path: Path, expanded: int) -> None:
    """A .docx whose word/document.xml expands to ``expanded`` bytes, written in a stream."""
    para = b"<w:p><w:r><w:t>" + b"A" * 4000 + b"</w:t></w:r></w:p>"
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats'
            '-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            "</Relationships>",
        )
        with z.open("word/document.xml", "w", force_zip64=True) as out:
            out.write(head)
            written = len(head)
            block = para * 256
            while written < expanded:
                out.write(block)
                written += len(block)
            out.write(b"</w:body></w:document>")


def bench_bomb(work: Path, env: dict[str, str], cap_mb: int, timeout: float) -> None:
    folder = work / "bomb"
    folder.mkdir(parents=True, exist_ok=True)
    bomb = folder / "bomb.docx"
    make_bomb(bomb, 1_100_000_000)
    (folder / "fine.txt").write_text("An ordinary report about owls.", encoding="utf-8")

    def cap() -> None:  # keep a runaway child from taking the shared machine down
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (cap_mb * 2**20, cap_mb * 2**20))

    err_path = work / "bomb.err"
    started = time.monotonic()
    with open(err_path, "w", encoding="utf-8") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", FAKE_CLI, "add", "--library", "bomb", "-q", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=err_file,
            env=env,
            preexec_fn=cap,
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    state = (
        f"rc {proc.returncode}"
        if seconds < timeout
        else f"still running after {timeout:.0f}s (killed)"
    )
    err = err_path.read_text(encoding="utf-8", errors="replace")
    reason = next((line for line in err.splitlines() if "bomb.docx" in line), "")
    if not reason:
        reason = err.strip().splitlines()[-1] if err.strip() else "(no message)"
    print(
        f"bomb: {bomb.stat().st_size / 1e6:.1f} MB .docx expanding to 1.1 GB -> {state} in "
        f"{seconds:.1f}s, peak RSS {usage.ru_maxrss / 1024:.0f} MB (address-space cap {cap_mb} MB); "
        f"message: {reason.strip()[:240]}"
    )


def _private_mounts() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m x /mnt"], capture_output=True
    )
    return probe.returncode == 0


def bench_disk_full(work: Path, env: dict[str, str]) -> None:
    small = write_corpus(work / "full-small", None, 3)
    big = work / "full-big"
    big.mkdir(exist_ok=True)
    for i in range(300):
        (big / f"b{i}.txt").write_text(f"Lighthouse report {i}. " * 300, encoding="utf-8")
    py = sys.executable
    home = Path(env["QA_APP_HOME"]) / "full"
    steps = [
        ["add", "--library", "lib", "-q", str(small)],
        ["add", "--library", "lib", "-q", str(big)],
        ["list", "--library", "lib", "-q"],
        ["search", "harbour master", "--library", "lib", "-q"],
    ]
    if _private_mounts():
        how = "a real 2 MB tmpfs"
        lib = home / "libraries"
        script = f'mkdir -p "{lib}" && mount -t tmpfs -o size=2m tmpfs "{lib}"'
        for argv in steps:
            quoted = " ".join(f"'{a}'" for a in argv)
            script += f'; {py} -c "$FAKE_CLI" {quoted} >/dev/null 2>>"$LOG"; echo rc=$? >>"$LOG"'
        script += f'; echo tmp=$(ls "{lib}/lib" | grep -c \'[.]tmp$\') >>"$LOG"'
        log = work / "full.log"
        log.unlink(missing_ok=True)
        run_env = dict(env, QA_APP_HOME=str(home), FAKE_CLI=FAKE_CLI, LOG=str(log))
        subprocess.run(["unshare", "-rm", "sh", "-c", script], env=run_env, check=False)
        lines = log.read_text(encoding="utf-8").splitlines()
        rcs = [line for line in lines if line.startswith("rc=")]
        errors = [line for line in lines if line.startswith("error:")]
        tmp_left = next((line[4:] for line in lines if line.startswith("tmp=")), "?")
    else:
        how = "simulated (SQLite max_page_count)"
        run_env = dict(env, QA_APP_HOME=str(home))
        rcs, errors = [], []
        for n, argv in enumerate(steps):
            extra = ["--max-pages"] if n == 1 else []
            done = subprocess.run(
                [py, "-c", FAKE_CLI, *extra, *argv], capture_output=True, text=True, env=run_env
            )
            rcs.append(f"rc={done.returncode}")
            errors += [line for line in done.stderr.splitlines() if line.startswith("error:")]
        tmp_left = str(len(list((home / "libraries" / "lib").glob("*.tmp"))))
    print(
        f"disk full ({how}): add small {rcs[0]}, add big {rcs[1]}, then list {rcs[2]}, "
        f"search {rcs[3]}; message: {errors[0] if errors else '(none)'}; temporary files left: "
        f"{tmp_left}"
    )


def bench_read_only(work: Path, env: dict[str, str]) -> None:
    home = Path(env["QA_APP_HOME"]) / "ro"
    run_env = dict(env, QA_APP_HOME=str(home))
    docs = write_corpus(work / "ro-docs", None, 5)
    py = sys.executable
    subprocess.run(
        [py, "-c", FAKE_CLI, "add", "--library", "lib", "-q", str(docs)], env=run_env, check=True
    )
    folder = home / "libraries" / "lib"
    reads = [
        ["list", "--library", "lib", "-q"],
        ["search", "harbour master", "--library", "lib", "-q"],
        ["ask", "Who logged the ship?", "--library", "lib", "--reader", "sentence"],
    ]
    results = []
    if os.geteuid() == 0 and _private_mounts():
        how = "read-only bind mount"
        wrap = ["unshare", "-rm", "sh", "-c", 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"', "sh", str(folder)]  # fmt: skip
    else:
        how = "permission bits cleared"
        wrap = []
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
    for argv in reads:
        started = time.monotonic()
        done = subprocess.run(
            [*wrap, py, "-c", FAKE_CLI, *argv], capture_output=True, text=True, env=run_env
        )
        results.append(f"{argv[0]} rc {done.returncode} ({time.monotonic() - started:.1f}s)")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    print(f"read-only ({how}): " + ", ".join(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--data", type=Path, help="the shared data folder (SQuAD dev for kills)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temp dir)")
    parser.add_argument("--bomb-cap-mb", type=int, default=4000, help="child address-space cap")
    parser.add_argument("--bomb-timeout", type=float, default=300.0)
    parser.add_argument(
        "--only", nargs="*", choices=["kills", "bomb", "full", "ro"], help="run only these checks"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-reliability-"))
    env = dict(os.environ, QA_APP_HOME=str(work / "home"), PYTHONPATH=str(ROOT))
    only = set(args.only or ["kills", "bomb", "full", "ro"])
    print(f"work folder {work}; machine shared, timings indicative")
    if "ro" in only:
        bench_read_only(work, env)
    if "full" in only:
        bench_disk_full(work, env)
    if "bomb" in only:
        bench_bomb(work, env, args.bomb_cap_mb, args.bomb_timeout)
    if "kills" in only:
        bench_kills(work, args.data, args.kills, env)


if __name__ == "__main__":
    main()

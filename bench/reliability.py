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
import re
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
from qa_app.testing import FakeEmbedder
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


CASES_HELP = """
cases: each damaged, hostile or offline case of issue 25 run through the real command line (the
fake embedder) in child processes; a control query (the top passage of `search`) is compared
before the damage and after the repair.
offline: `add`, `ask` and `eval` with the real model, and the window (offscreen) for
--window-seconds, each in a network namespace without interfaces (unshare -rn) under
strace -f -e trace=connect,sendto,sendmsg; DNS lookups (port 53) and connects to non-local
addresses are counted. Needs util-linux and strace (apt-get install -y strace).
"""


def _cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", FAKE_CLI, *argv], capture_output=True, text=True, env=env
    )


def _control(env: dict[str, str]) -> str:
    done = _cli(env, "search", "-q", "-l", "lib", "-k", "1", "--json", "orchard keeper report")
    hits = json.loads(done.stdout) if done.returncode == 0 else []
    return f"{Path(hits[0]['path']).name}:{hits[0]['start']}" if hits else f"rc {done.returncode}"


def _first(text: str, *starts: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith(starts)]
    return lines[0][:150] if lines else "(no message)"


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, topic in enumerate(("harbour", "lighthouse", "orchard", "glacier")):
        (folder / f"{topic}.txt").write_text(
            f"The {topic} keeper number {i} wrote the {topic} report at dawn. " * 30,
            encoding="utf-8",
        )
    return folder


def _damage_db(db: Path, how: str) -> None:
    data = bytearray(db.read_bytes())
    if how == "header":
        data[:16] = b"\xff" * 16
    elif how == "truncated":
        data = data[: len(data) * 2 // 3]
    else:
        page = int.from_bytes(data[16:18], "big")
        for at in range(page, len(data), page):
            data[at : at + page] = bytes((7 * i + at) % 251 for i in range(page))
    db.write_bytes(bytes(data))


def _damage_cache(home: Path, how: str, env: dict[str, str], work: Path) -> None:
    folder = home / "libraries" / "lib"
    if how == "ahead":  # the database restored from an older copy, then written
        import sqlite3

        backup = work / "older.db"
        backup.unlink(missing_ok=True)
        src, dst = sqlite3.connect(folder / "library.db"), sqlite3.connect(backup)
        src.backup(dst)
        src.close()
        dst.close()
        extra = work / "extra"
        extra.mkdir(exist_ok=True)
        for i in range(10):
            (extra / f"x{i}.txt").write_text(f"Extra note {i} about quarries {i * 7}.", "utf-8")
        _cli(env, "add", "-q", "-l", "lib", str(extra))
        _cli(env, "rebuild", "-q", "-l", "lib")  # the saved cache now holds the extra notes
        for suffix in ("-wal", "-shm"):
            Path(f"{folder / 'library.db'}{suffix}").unlink(missing_ok=True)
        shutil.copy(backup, folder / "library.db")
        more = work / "more"
        more.mkdir(exist_ok=True)
        for i in range(10):
            (more / f"m{i}.txt").write_text(f"More about ferries {i} and tides {i * 3}.", "utf-8")
        _cli(env, "add", "-q", "-l", "lib", str(more))
    elif how == "other":
        other = _corpus(work / "other-docs")
        (other / "orchard.txt").write_text("Another library's orchard.", encoding="utf-8")
        _cli(env, "add", "-q", "-l", "other", str(other))
        _cli(env, "search", "-q", "-l", "other", "orchard")
        shutil.copy(home / "libraries" / "other" / "vectors.faiss", folder / "vectors.faiss")
    else:  # swap two ids of the id map (the file still loads)
        path = folder / "vectors.faiss"
        data = bytearray(path.read_bytes())
        count = json.loads(bytes(data).split(b"\n", 1)[0])["count"]
        at = len(data) - 8 * count
        data[at : at + 8], data[at + 8 : at + 16] = data[at + 8 : at + 16], data[at : at + 8]
        path.write_bytes(bytes(data))


def bench_cases(work: Path, env: dict[str, str]) -> None:
    rows: list[tuple[str, bool, str, str, str]] = []
    raw = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

    def fresh(name: str) -> tuple[dict[str, str], Path]:
        home = work / "cases" / name
        shutil.rmtree(home, ignore_errors=True)
        run_env = dict(env, QA_APP_HOME=str(home))
        _cli(run_env, "add", "-q", "-l", "lib", str(_corpus(work / "cases-docs")))
        return run_env, home

    for how, label in (("ahead", "vectors.faiss stamp ahead of library.db"),
                       ("other", "vectors.faiss from another library"),
                       ("flipped", "vectors.faiss id map bytes swapped")):  # fmt: skip
        run_env, home = fresh(f"cache-{how}")
        _cli(run_env, "search", "-q", "-l", "lib", "anything")  # the cache is saved
        before = _control(run_env)
        _damage_cache(home, how, run_env, work)
        done = _cli(run_env, "search", "-l", "lib", "-k", "1", "orchard keeper report")
        check = subprocess.run(
            [sys.executable, "-c", OWN_HITS], capture_output=True, text=True, env=run_env
        )
        after = _control(run_env)
        own = check.stdout.strip() or check.stderr.strip()[-100:]
        ok = (
            done.returncode == 0
            and before == after
            and own.startswith("own top hits: ")
            and (own.split(": ")[1].split(" of ")[0] == own.split(" of ")[1])
        )
        rows.append((label, ok, f"{_first(done.stderr, 'warning:')} [{own}]", str(done.returncode),
                     f"{before} / {after}"))  # fmt: skip
    for how, label in (("header", "library.db header flipped"), ("truncated", "library.db truncated"),
                       ("pages", "library.db pages malformed")):  # fmt: skip
        run_env, home = fresh(f"db-{how}")
        before = _control(run_env)
        _damage_db(home / "libraries" / "lib" / "library.db", how)
        statuses = [_cli(run_env, c, "-l", "lib", *a) for c, a in
                    (("list", []), ("search", ["keeper"]), ("ask", ["Who?"]), ("sync", []))]  # fmt: skip
        added = _cli(run_env, "add", "-l", "lib", str(work / "cases-docs"))
        one_line = all(
            len([x for x in d.stderr.splitlines() if x.startswith("error:")]) == 1
            and "Traceback" not in d.stderr
            and "damaged" in d.stderr
            for d in [*statuses, added]
        )
        repaired = _cli(run_env, "repair", "-q", "-l", "lib")
        after = _control(run_env)
        kept = list((home / "libraries" / "lib").glob("library.db.damaged-*[0-9]"))
        ok = one_line and all(d.returncode == 2 for d in statuses) and bool(kept)
        note = "" if before == after else " (repair could not read the added folder back)"
        rows.append((f"{label}: commands, then repair", ok and before == after,
                     f"{_first(statuses[0].stderr, 'error:')} | repair rc {repaired.returncode}: "
                     f"{_first(repaired.stdout + repaired.stderr, 'recovered', 'error:')}{note}",
                     "/".join(str(d.returncode) for d in [*statuses, added]), f"{before} / {after}"))  # fmt: skip
    home = work / "cases" / "half"
    shutil.rmtree(home, ignore_errors=True)
    (home / "libraries" / "lib").mkdir(parents=True)
    (home / "libraries" / "lib" / "library.db").write_bytes(b"")
    run_env = dict(env, QA_APP_HOME=str(home))
    listed = _cli(run_env, "list", "-l", "lib")
    _cli(run_env, "add", "-q", "-l", "lib", str(work / "cases-docs"))
    after = _control(run_env)
    rows.append(("0-byte library.db (disk full on creation)", listed.returncode == 0 and after.startswith("orchard"),
                 listed.stdout.strip().splitlines()[-1][:100] if listed.stdout else listed.stderr[:100],
                 str(listed.returncode), f"- / {after}"))  # fmt: skip

    run_env, home = fresh("names")
    before = _control(run_env)
    names = work / "cases-names"
    shutil.rmtree(names, ignore_errors=True)
    names.mkdir()
    (names / "\x1b]52;c;aGk=\x07\x1b[2J memo\n.txt").write_text("A memo about owls.", "utf-8")
    with open(os.fsencode(names) + b"/caf\xe9.txt", "wb") as handle:
        handle.write(b"The cafe served coffee.")
    (names / "zz.txt").write_text("The last file of the folder.", encoding="utf-8")
    added = _cli(run_env, "add", "-l", "lib", str(names))
    listed = _cli(run_env, "list", "-l", "lib")
    synced = _cli(run_env, "sync", "-q", "-l", "lib")
    removed = _cli(
        run_env, "remove", "-l", "lib", os.fsdecode(os.fsencode(names) + b"/caf\xe9.txt")
    )
    safe = not raw.search(listed.stdout + added.stdout + added.stderr.replace("\r", ""))
    rows.append(("hostile and Latin-1 file names (add, list, sync, remove)",
                 safe and added.returncode == 0 and "zz.txt" in listed.stdout and synced.returncode == 0 and removed.returncode == 0,
                 _first(listed.stdout, "indexed  txt       -     1 passage   " + str(names) + "/\\x1b"),
                 f"{added.returncode}/{listed.returncode}/{synced.returncode}/{removed.returncode}",
                 f"{before} / {_control(run_env)}"))  # fmt: skip
    question = os.fsdecode(b"Who served caf\xe9?")
    asked = _cli(run_env, "ask", "-l", "lib", "--reader", "sentence", question)
    refused = _cli(run_env, "ask", "-l", "lib", os.fsdecode(b"caf\x81"))
    rows.append(("questions that are not UTF-8 (Latin-1; undecodable)",
                 asked.returncode == 0 and refused.returncode == 2 and "Traceback" not in asked.stderr + refused.stderr,
                 f"{_first(asked.stderr, 'note:')} | {_first(refused.stderr, 'error:')}",
                 f"{asked.returncode}/{refused.returncode}", "-"))  # fmt: skip
    script = 'p=$0; s=$1; shift; "$p" -c "$s" "$@" | head -1'
    head = subprocess.run(["bash", "-o", "pipefail", "-c", script, sys.executable, FAKE_CLI,
                           "show", "-l", "lib", str(work / "cases-docs" / "orchard.txt")],
                          capture_output=True, text=True, env=run_env)  # fmt: skip
    rows.append(("qa-app show … | head -1", head.returncode == 0 and not head.stderr,
                 head.stderr.strip()[:100] or "(quiet)", str(head.returncode), "-"))  # fmt: skip
    gui_env = {k: v for k, v in env.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    probe = subprocess.run([sys.executable, "-m", "qa_app.cli.commands", "gui"],
                           capture_output=True, text=True, env=dict(gui_env, DISPLAY=":99"), timeout=120)  # fmt: skip
    missing = "apt-get install" in probe.stderr
    rows.append(("window without Qt's xcb libraries" + ("" if missing else " (all installed here)"),
                 not missing or probe.returncode != 134, probe.stderr.strip()[:160], str(probe.returncode), "-"))  # fmt: skip
    print("| case | ✓ | message | exit status | control before / after |")
    print("|---|---|---|---|---|")
    for label, ok, message, status, control in rows:
        message = message.replace("|", "\\|")
        print(f"| {label} | {'✓' if ok else '✗'} | {message} | {status} | {control} |")


OWN_HITS = """
import numpy as np
from qa_app.engine import Engine
from qa_app.testing import FakeEmbedder
# Each passage's text must find, as its top dense hit, a chunk whose stored embedding gives the
# score reported (the id map is right) and equals its own (repeated passages may tie).
with Engine("lib", embedder=FakeEmbedder()) as eng:
    _, ids, matrix = eng.library.store.embeddings(eng.embedder.dimension)
    stored = dict(zip(ids.tolist(), matrix))
    rows = eng.library.store._query("SELECT id, text FROM chunks")
    hits = 0
    for cid, text in rows:
        query = eng.embedder.encode([text])[0]
        found = eng.library.dense_search(query, 1)
        if found and found[0][0] in stored:
            hits += abs(float(stored[found[0][0]] @ query) - found[0][1]) < 1e-4 and found[0][1] > 0.9999
    print(f"own top hits: {hits} of {len(rows)}")
"""


def bench_offline(work: Path, env: dict[str, str], window_seconds: float) -> None:
    if shutil.which("unshare") is None or shutil.which("strace") is None:
        print("offline: skipped (needs unshare and strace: apt-get install -y strace)")
        return
    home = work / "offline"
    shutil.rmtree(home, ignore_errors=True)
    run_env = {k: v for k, v in env.items() if not k.startswith("HF_")}
    run_env["QA_APP_HOME"] = str(home)
    seeds = ROOT / "qa_app" / "seeds"
    steps = [
        ("add", ["add", "-q", "-l", "offline", str(seeds)]),
        ("ask", ["ask", "-l", "offline", "When did Russia receive the first shipment?"]),
        ("eval", ["eval", "-q", "-l", "offline", str(seeds / "questions.jsonl")]),
        ("window", ["gui"]),
    ]
    for name, argv in steps:
        trace = work / f"offline-{name}.trace"
        command = ["unshare", "-rn", "strace", "-f", "-qq", "-o", str(trace), "-e",
                   "trace=connect,sendto,sendmsg", "-e", "signal=none",
                   sys.executable, "-m", "qa_app.cli.commands", *argv]  # fmt: skip
        step_env = dict(run_env, QT_QPA_PLATFORM="offscreen") if name == "window" else run_env
        started = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=step_env,
                                  timeout=window_seconds if name == "window" else 1800)  # fmt: skip
            status = str(done.returncode)
        except subprocess.TimeoutExpired:
            status = f"ran {window_seconds:.0f}s, stopped"
        if not trace.exists():
            print(f"offline {name}: status {status}; no trace written (strace could not run)")
            continue
        lines = trace.read_text(encoding="utf-8", errors="replace").splitlines()
        calls = [line for line in lines if re.search(r"\b(connect|sendto|sendmsg)\(", line)]
        dns = [line for line in calls if "htons(53)" in line]
        inet = [line for line in calls if "AF_INET" in line and "htons(53)" not in line]
        print(f"offline {name}: status {status} in {time.monotonic() - started:.0f}s; traced socket "
              f"calls {len(calls)}, DNS lookups {len(dns)}, connects/sends to IP addresses {len(inet)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__ + CASES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--data", type=Path, help="the shared data folder (SQuAD dev for kills)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temp dir)")
    parser.add_argument("--bomb-cap-mb", type=int, default=4000, help="child address-space cap")
    parser.add_argument("--bomb-timeout", type=float, default=300.0)
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["kills", "bomb", "full", "ro", "cases", "offline"],
        help="run only these checks",
    )
    parser.add_argument("--window-seconds", type=float, default=60.0)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-reliability-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QA_APP_HOME=str(work / "home"), PYTHONPATH=str(ROOT))
    only = set(args.only or ["kills", "bomb", "full", "ro", "cases", "offline"])
    print(f"work folder {work}; machine shared, timings indicative")
    if "cases" in only:
        bench_cases(work, env)
    if "offline" in only:
        bench_offline(work, env, args.window_seconds)
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

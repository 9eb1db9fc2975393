"""Smoke test of the built app: offline CLI answer, offline window answer, install script, timings.

Usage (after `python packaging/build.py`):
    python packaging/smoke_test.py                      # the newest dist/qa-app-*-linux-*.tar.gz
    python packaging/smoke_test.py --folder dist/qa-app # an unpacked folder instead
    python packaging/smoke_test.py --only cli-search    # one check while other parts are unfinished
Every binary runs with no network (a fresh network namespace via `unshare -rn`, which holds only a
loopback device) and QA_APP_HOME in a temporary folder. Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import x11_hidden  # noqa: E402  (this script's folder) the window with system X11 libraries hidden
import xcb_libs  # noqa: E402  Qt's X11 libraries the bundle carries

import qa_app  # noqa: E402  identity only

QUESTION = "When did Russia receive the first shipment?"
EXPECTED = "earlier this month"
SEARCH = "first shipment"
SEARCH_EXPECTED = "004_71c8a87dcccb59d2.txt"
CHECKS = (
    "netns", "size", "cli-version", "cli-search", "cli-ask", "cli-reader", "cli-torch",
    "cli-formats", "gui", "gui-x11", "install",
)  # fmt: skip
# The Linux .tar.gz must stay under 250 MB: 235.6 MiB (247.1 MB) since torch stays out of it.
MAX_ARCHIVE_BYTES = 250_000_000
READER = "neural"  # the trained reader, the app's default
# One fact per supported format besides .txt; each must be indexed and the HTML one answered.
FORMATS_QUESTION = "When was the lighthouse at Port Ellery finished?"
FORMATS_EXPECTED = "1923"
# Only a scanned (image-only) PDF page says this: answering it proves OCR ran inside the bundle.
OCR_QUESTION = "How much diesel does the storage tank at the north depot hold?"
OCR_EXPECTED = "5,000 litres"


@dataclass
class Outcome:
    """What the checks found: failures and timings, printed at the end."""

    failures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    passed: int = 0

    def check(self, ok: bool, name: str, detail: str = "") -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")
        if ok:
            self.passed += 1
        else:
            self.failures.append(name)
        return ok


def offline_prefix() -> list[str]:
    """Return the command prefix that runs a program with no network; raise SystemExit if none works."""
    for prefix in (["unshare", "-rn"], ["unshare", "-n"]):
        if shutil.which(prefix[0]) is None:
            break
        try:
            devices = subprocess.run(
                [*prefix, "cat", "/proc/net/dev"], capture_output=True, text=True, timeout=20
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        names = {line.split(":")[0].strip() for line in devices.stdout.splitlines() if ":" in line}
        if devices.returncode == 0 and names == {"lo"}:
            return prefix
    raise SystemExit(
        "cannot block the network: `unshare -rn` (user + network namespace) is not available here; "
        "run on a Linux machine that allows unprivileged namespaces, or as root"
    )


def run(
    command: list[str], env: dict[str, str], timeout: float, label: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a command offline; return the finished process and its wall time in seconds."""
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        done = subprocess.CompletedProcess(command, 124, out, f"timed out after {timeout:.0f}s")
    elapsed = time.monotonic() - started
    print(f"  {label}: exit {done.returncode} in {elapsed:.2f}s")
    return done, elapsed


def tail(done: subprocess.CompletedProcess[str], lines: int = 25) -> str:
    text = (done.stdout or "") + (done.stderr or "")
    return "\n" + "\n".join(text.splitlines()[-lines:])


def find_archive() -> Path:
    archives = sorted(
        (ROOT / "dist").glob(f"{qa_app.APP_NAME}-*-linux-*.tar.gz"), key=lambda p: p.stat().st_mtime
    )
    if not archives:
        raise SystemExit("no dist/*.tar.gz: build first with `python packaging/build.py`")
    return archives[-1]


def unpack(archive: Path, into: Path) -> Path:
    """Unpack the archive as an analyst would and return the app folder inside it."""
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")
    folders = [p for p in into.iterdir() if p.is_dir()]
    if len(folders) != 1:
        raise SystemExit(f"{archive}: expected one top folder, found {[p.name for p in folders]}")
    return folders[0]


def check_cli(
    folder: Path, env: dict[str, str], prefix: list[str], wanted: set[str], out: Outcome
) -> None:
    cli = str(folder / qa_app.APP_NAME)
    if "cli-version" in wanted:
        done, seconds = run([*prefix, cli, "--version"], env, 120, "qa-app --version (cold)")
        out.timings["CLI cold start (qa-app --version, first run)"] = seconds
        out.check(
            done.returncode == 0 and qa_app.__version__ in done.stdout, "cli-version", tail(done)
        )
        done, seconds = run([*prefix, cli, "--version"], env, 120, "qa-app --version (warm)")
        out.timings["CLI warm start (qa-app --version)"] = seconds
    if "cli-search" in wanted:
        done, seconds = run(
            [*prefix, cli, "search", SEARCH, "-k", "3"],
            env,
            600,
            "qa-app search (builds the seed library)",
        )
        out.timings["qa-app search, first run (builds the seed library)"] = seconds
        ok = done.returncode == 0 and SEARCH_EXPECTED in done.stdout
        out.check(ok, "cli-search", tail(done))
    if "cli-ask" in wanted:
        done, seconds = run([*prefix, cli, "ask", QUESTION], env, 600, "qa-app ask")
        out.timings["qa-app ask (library ready, models cold)"] = seconds
        ok = done.returncode == 0 and EXPECTED in done.stdout
        if ok:
            print("  " + "\n  ".join(done.stdout.strip().splitlines()[:3]))
        out.check(ok, "cli-ask", tail(done))


def check_reader(folder: Path, env: dict[str, str], prefix: list[str], out: Outcome) -> None:
    """The bundled app answers with the trained reader, and refuses damaged reader weights."""
    cli = str(folder / qa_app.APP_NAME)
    done, seconds = run([*prefix, cli, "ask", "--json", QUESTION], env, 600, "qa-app ask --json")
    out.timings["qa-app ask --json"] = seconds
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = {}
    reader, answer = result.get("reader"), (result.get("answer") or {}).get("text", "")
    print(f"  reader {reader!r}, answer {answer!r}")
    ok = done.returncode == 0 and reader == READER and EXPECTED in answer
    out.check(ok, f"cli-reader (answers with the {READER} reader)", tail(done))

    # A copy of the app (hard links) whose reader weights differ in one byte: the SHA-256 check in
    # reader.json must stop it instead of answering with wrong weights.
    weights = Path("_internal") / "qa_app" / "resources" / "reader" / "reader.safetensors"
    if not (folder / weights).is_file():
        out.check(False, "cli-reader (weights hash)", f"{folder / weights} is missing")
        return
    with tempfile.TemporaryDirectory(prefix="qa-app-damaged-") as tmp:
        damaged = Path(tmp) / folder.name
        shutil.copytree(folder, damaged, symlinks=True, copy_function=_link_or_copy)
        data = bytearray((folder / weights).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (damaged / weights).unlink()  # a hard link to the original: never write through it
        (damaged / weights).write_bytes(bytes(data))
        done, _ = run(
            [*prefix, str(damaged / qa_app.APP_NAME), "ask", QUESTION],
            env,
            600,
            "qa-app ask with damaged reader weights",
        )
    text = (done.stdout or "") + (done.stderr or "")
    ok = done.returncode != 0 and "SHA-256" in text and EXPECTED not in (done.stdout or "")
    out.check(ok, "cli-reader (damaged weights refused)", tail(done))


def check_no_torch(folder: Path, env: dict[str, str], prefix: list[str], out: Outcome) -> None:
    """The bundle carries no torch: QA_APP_BACKEND=torch is refused in one line, no traceback."""
    cli = str(folder / qa_app.APP_NAME)
    done, _ = run(
        [*prefix, cli, "ask", QUESTION],
        dict(env, QA_APP_BACKEND="torch"),
        300,
        "QA_APP_BACKEND=torch",
    )
    errors = [line for line in (done.stderr or "").splitlines() if line.startswith("error:")]
    ok = done.returncode == 2 and len(errors) == 1 and "Traceback" not in (done.stderr or "")
    ok = ok and "unset QA_APP_BACKEND" in errors[0]
    if ok:
        print(f"  {errors[0]}")
    out.check(ok, "cli-torch (QA_APP_BACKEND=torch refused in one line)", tail(done))
    internal = folder / "_internal"
    carried = [
        name
        for name in ("torch", "transformers", "sentence_transformers")
        if (internal / name).exists()
    ]
    # Their folders (torch's libraries, transformers' kept sources) were in the bundle before.
    out.check(not carried, "cli-torch (no torch stack folders inside)", f"carries {carried}")


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _pdf(lines: list[str]) -> bytes:
    """Return a one-page PDF (Helvetica, Latin-1) showing the lines."""
    text = "\n".join(f"({line}) Tj T*" for line in lines)
    stream = f"BT\n/F1 11 Tf\n14 TL\n72 740 Td\n{text}\nET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def write_format_samples(folder: Path) -> list[str]:
    """Write one small document per format into folder; return the formats written.

    The .docx needs python-docx (a qa-app dependency) and the AES-encrypted .pdf pypdf with
    cryptography (dev dependencies, present wherever it was built with '.[dev]'); without them the
    .docx is left out and the .pdf is not encrypted.
    """
    folder.mkdir(parents=True)
    (folder / "harbour.html").write_text(
        "<!DOCTYPE html><html><head><title>Harbour report | Example News</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/about'>About</a></nav><article><h1>Harbour report</h1>"
        "<p>The new lighthouse at Port Ellery was finished in the spring of 1923 after two years "
        "of work by the harbour board.</p><p>Its lamp could be seen from twenty-two nautical "
        "miles away on a clear night, according to the board's annual report.</p></article>"
        "<footer>Copyright Example News</footer></body></html>",
        encoding="utf-8",
    )
    (folder / "notes.md").write_text(
        "# Ferry notes\n\nThe *night ferry* to Kellen Island stopped running in **1988**.\n",
        encoding="utf-8",
    )
    made = ["html", "md"]
    try:
        import docx  # python-docx

        document = docx.Document()
        document.add_heading("Mill history", level=1)
        document.add_paragraph("The Ashby paper mill closed its doors in the winter of 1957.")
        document.save(str(folder / "mill.docx"))
        made.append("docx")
    except ImportError as exc:
        print(f"  note: no .docx sample ({exc})")
    try:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(
            clone_from=PdfReader(io.BytesIO(_pdf(["The Orme tunnel opened in 1898."])))
        )
        writer.encrypt("", "owner", algorithm="AES-256")  # opens without a password, needs AES
        with open(folder / "tunnel.pdf", "wb") as handle:
            writer.write(handle)
        made.append("pdf")
    except ImportError as exc:
        (folder / "tunnel.pdf").write_bytes(_pdf(["The Orme tunnel opened in 1898."]))
        made.append("pdf")
        print(f"  note: the .pdf sample is not encrypted ({exc})")
    # One file of every other format (e-mail, slides, spreadsheets, OpenDocument, RTF, e-books,
    # images and scanned PDFs for OCR), written by the tests' own writers.
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.formats import write_every_format

    write_every_format(folder / "every-format")
    return made + sorted({_format(p) for p in (folder / "every-format").iterdir()})


def _format(path: Path) -> str:
    from qa_app.ingest import FORMATS

    return FORMATS[path.suffix.lower()]


def check_formats(folder: Path, env: dict[str, str], prefix: list[str], out: Outcome) -> None:
    """Every file format the app reads is read inside the bundle (each has its own libraries)."""
    cli = str(folder / qa_app.APP_NAME)
    with tempfile.TemporaryDirectory(prefix="qa-app-formats-") as tmp:
        docs = Path(tmp) / "docs"
        made = write_format_samples(docs)
        done, seconds = run(
            [*prefix, cli, "add", "-q", "-l", "formats", str(docs)], env, 600, "qa-app add"
        )
        out.timings["qa-app add (one file per format)"] = seconds
        if not out.check(done.returncode == 0, "cli-formats (add)", tail(done)):
            return
        done, _ = run([*prefix, cli, "list", "--json", "-l", "formats"], env, 300, "qa-app list")
        try:
            listed = json.loads(done.stdout)
        except ValueError:
            listed = []
        indexed = sorted({d["format"] for d in listed if d.get("status") == "indexed"})
        failed = {d.get("path"): d.get("error") for d in listed if d.get("status") != "indexed"}
        files = sum(1 for p in docs.rglob("*") if p.is_file())
        print(f"  indexed formats: {', '.join(indexed)} ({len(listed)} of {files} files)")
        ok = done.returncode == 0 and indexed == sorted(set(made)) and not failed
        ok = ok and len(listed) == files
        out.check(ok, "cli-formats (every format indexed)", f"made {made}, failed {failed}")
        done, _ = run(
            [*prefix, cli, "ask", "-l", "formats", FORMATS_QUESTION], env, 600, "qa-app ask (html)"
        )
        ok = done.returncode == 0 and FORMATS_EXPECTED in done.stdout
        out.check(ok, "cli-formats (answer from the HTML file)", tail(done))
        done, _ = run(
            [*prefix, cli, "ask", "-l", "formats", OCR_QUESTION], env, 600, "qa-app ask (scan)"
        )
        ok = done.returncode == 0 and OCR_EXPECTED in done.stdout and "scan.pdf" in done.stdout
        out.check(ok, "cli-formats (answer from a scanned page, by OCR)", tail(done))


def check_gui(folder: Path, env: dict[str, str], prefix: list[str], out: Outcome) -> None:
    gui_env = dict(env)
    gui_env.update(
        QT_QPA_PLATFORM="offscreen",
        QA_APP_SMOKE_QUESTION=QUESTION,
        QA_APP_SMOKE_EXPECT=EXPECTED,
        QA_APP_SMOKE_FAIL_ON="Could not answer",  # the window's heading when asking failed
        QA_APP_SMOKE_TIMEOUT="240",
    )
    gui_env["QA_APP_SMOKE_T0"] = repr(time.time())
    done, seconds = run(
        [*prefix, str(folder / f"{qa_app.APP_NAME}-gui")], gui_env, 300, "qa-app-gui"
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("SMOKE-")]
    for line in lines:
        print("  " + line)
    for line in lines:
        word = line.split()[0]
        if word in ("SMOKE-WINDOW-SHOWN", "SMOKE-ANSWER"):
            what = "window shown" if word == "SMOKE-WINDOW-SHOWN" else "answer shown"
            out.timings[f"GUI: {what} (from launch)"] = float(line.split()[1].rstrip("s"))
    out.timings["GUI: whole run, launch to clean exit"] = seconds
    answered = any(line.startswith("SMOKE-ANSWER") and EXPECTED in line for line in lines)
    out.check(done.returncode == 0 and answered, "gui", tail(done, 40))


def check_gui_x11(folder: Path, env: dict[str, str], prefix: list[str], out: Outcome) -> None:
    """The window on X11 starts from the bundle's own Qt X11 libraries, the system's hidden.

    The proof (x11_hidden.py): in a private mount namespace every system copy is covered by an
    empty file and the window answers on a private X server. Without bind mounts or Xvfb it falls
    back, saying why, to ldd: with the bundle's folder on the search path (as the bootloader sets
    it) each library resolves inside the bundle.
    """
    internal = folder / "_internal"
    absent = [name for name in xcb_libs.BUNDLED if not (internal / name).is_file()]
    if not out.check(not absent, "gui-x11 (Qt's X11 libraries inside)", f"missing {absent}"):
        return
    size = sum((internal / name).stat().st_size for name in xcb_libs.BUNDLED)
    print(f"  bundled: {', '.join(xcb_libs.BUNDLED)} ({size / 1024:.0f} KiB)")
    qpa = internal / "PySide6" / xcb_libs.XCB_QPA
    if not out.check(qpa.is_file(), "gui-x11 (Qt's X11 integration inside)", f"no {qpa}"):
        return
    mprefix, reason = x11_hidden.why_not(prefix)
    if mprefix is None:
        print(f"  cannot run the window with the system's X11 libraries hidden: {reason}")
        print("  falling back to ldd with the bundle's folder on the search path")
        wrong = x11_hidden.ldd_fallback(qpa, internal, env)
        out.check(not wrong, "gui-x11 (ldd: each resolves inside the bundle)", f"{wrong}")
        return
    gui_env = dict(
        env,
        QA_APP_SMOKE_QUESTION=QUESTION,
        QA_APP_SMOKE_EXPECT=EXPECTED,
        QA_APP_SMOKE_FAIL_ON="Could not answer",
        QA_APP_SMOKE_TIMEOUT="240",
        QA_APP_SMOKE_T0=repr(time.time()),
    )
    gui = folder / f"{qa_app.APP_NAME}-gui"
    seen = x11_hidden.run_hidden(mprefix, internal, qpa, gui, gui_env, 300)
    print(f"  qa-app-gui on X11, system X11 libraries hidden: exit {seen.done.returncode}")
    print(f"  covered with an empty file: {', '.join(seen.hidden) or 'nothing (none installed)'}")
    # The control: without the bundle's folder the loader gets only the hidden (empty) copies.
    usable = [name for name, path in xcb_libs.parse_ldd(seen.ldd_system).items() if path]
    errors = [line.strip() for line in seen.ldd_system.splitlines() if "error" in line]
    print(f"  ldd without the bundle's folder: {(errors or [seen.ldd_system.strip()])[0][:300]}")
    ok = seen.hid_all and not usable
    out.check(ok, "gui-x11 (system copies hidden)", f"still usable: {usable}" + tail(seen.done))
    wrong = x11_hidden.outside(xcb_libs.parse_ldd(seen.ldd_bundle), internal)
    out.check(not wrong, "gui-x11 (ldd: each resolves inside the bundle)", f"{wrong}")
    lines = [
        line
        for line in (seen.done.stdout or "").splitlines()
        if line.startswith(("SMOKE-", "X11-DISPLAY"))
    ]
    for line in lines:
        print("  " + line)
    out.timings["GUI on X11, system X11 libraries hidden: launch to clean exit"] = seen.seconds
    answered = any(line.startswith("SMOKE-ANSWER") and EXPECTED in line for line in lines)
    ok = seen.done.returncode == 0 and answered
    out.check(ok, "gui-x11 (the window answers on X11)", tail(seen.done, 40))


def check_install(folder: Path, prefix: list[str], out: Outcome) -> None:
    """Run install.sh with HOME in a temporary folder; check what it placed and that it runs."""
    with tempfile.TemporaryDirectory(prefix="qa-app-home-") as home:
        env = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        done, _ = run(["sh", str(folder / "install.sh")], env, 300, "install.sh")
        if not out.check(done.returncode == 0, "install (script)", tail(done)):
            return
        local = Path(home) / ".local"
        desktop = local / "share" / "applications" / f"{qa_app.APP_ID}.desktop"
        entry = dict(
            line.split("=", 1)
            for line in (desktop.read_text().splitlines() if desktop.is_file() else [])
            if "=" in line
        )
        icon = (
            local / "share" / "icons" / "hicolor" / "256x256" / "apps" / f"{entry.get('Icon')}.png"
        )
        launchers = [local / "bin" / qa_app.APP_NAME, local / "bin" / f"{qa_app.APP_NAME}-gui"]
        placed = [desktop, icon, *launchers]
        missing = [str(p) for p in placed if not p.is_file()]
        gui = f"{local}/lib/{qa_app.APP_NAME}/{qa_app.APP_NAME}-gui"
        ok = not missing and entry.get("Exec", "").startswith(f'"{gui}"')
        out.check(ok, "install (files placed)", f"missing {missing}, Exec={entry.get('Exec')!r}")
        run_env = dict(env, QA_APP_HOME=str(Path(home) / "data"))
        done, _ = run(
            [*prefix, str(launchers[0]), "--version"], run_env, 120, "~/.local/bin/qa-app"
        )
        out.check(
            done.returncode == 0 and qa_app.__version__ in done.stdout,
            "install (launcher runs)",
            tail(done),
        )
        done, _ = run(
            ["sh", str(folder / "install.sh"), "--uninstall"], env, 120, "install.sh --uninstall"
        )
        gone = (
            not any(p.exists() for p in placed) and not (local / "lib" / qa_app.APP_NAME).exists()
        )
        out.check(done.returncode == 0 and gone, "install (uninstall)", tail(done))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the built qa-app (offline).")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--archive", type=Path, help="the .tar.gz to test (default: newest in dist/)"
    )
    source.add_argument("--folder", type=Path, help="an unpacked app folder to test instead")
    parser.add_argument("--only", nargs="+", choices=CHECKS, help="run only these checks")
    parser.add_argument("--skip", nargs="+", choices=CHECKS, default=[], help="leave these out")
    args = parser.parse_args(argv)
    wanted = set(args.only or CHECKS) - set(args.skip)
    out = Outcome()
    prefix = offline_prefix()
    out.check(True, "netns", "")
    print(f"  offline via: {' '.join(prefix)} (network namespace with only a loopback device)")

    with tempfile.TemporaryDirectory(prefix="qa-app-smoke-") as tmp:
        if args.folder:
            folder = args.folder.resolve()
        else:
            archive = (args.archive or find_archive()).resolve()
            if "size" in wanted:
                size = archive.stat().st_size
                print(f"  archive {size / 2**20:.1f} MiB ({size / 1e6:.1f} MB)")
                out.check(
                    size < MAX_ARCHIVE_BYTES,
                    "size",
                    f"{archive.name} is {size / 1e6:.1f} MB, over {MAX_ARCHIVE_BYTES / 1e6:.0f} MB",
                )
            print(f"unpacking {archive}")
            folder = unpack(archive, Path(tmp) / "unpacked")
        # A clean environment: no venv, no PYTHONPATH, nothing from the build machine's Python.
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path(tmp) / "home"),
            "QA_APP_HOME": str(Path(tmp) / "qa-app-home"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }
        Path(env["HOME"]).mkdir()
        check_cli(folder, env, prefix, wanted, out)
        if "cli-reader" in wanted:
            check_reader(folder, env, prefix, out)
        if "cli-torch" in wanted:
            check_no_torch(folder, env, prefix, out)
        if "cli-formats" in wanted:
            check_formats(folder, env, prefix, out)
        if "gui" in wanted:
            check_gui(folder, env, prefix, out)
        if "gui-x11" in wanted:
            check_gui_x11(folder, env, prefix, out)
        if "install" in wanted:
            if (folder / "install.sh").is_file():
                check_install(folder, prefix, out)
            else:
                out.check(False, "install", f"{folder}/install.sh is missing")

    print("\ntimings:")
    for name, seconds in out.timings.items():
        print(f"  {seconds:7.2f}s  {name}")
    print(f"\n{out.passed} passed, {len(out.failures)} failed")
    return 1 if out.failures else 0


if __name__ == "__main__":
    sys.exit(main())

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

import qa_app  # noqa: E402  identity only

QUESTION = "When did Russia receive the first shipment?"
EXPECTED = "earlier this month"
SEARCH = "first shipment"
SEARCH_EXPECTED = "004_71c8a87dcccb59d2.txt"
CHECKS = ("netns", "cli-version", "cli-search", "cli-ask", "gui", "install")


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
        if "gui" in wanted:
            check_gui(folder, env, prefix, out)
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
